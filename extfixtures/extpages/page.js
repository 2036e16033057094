// page.js — the extension page's own code: it marks that it ran, opens its
// own port "from-page" to the background and greets it, and echoes what
// connects to it.
const api = globalThis.browser ?? globalThis.chrome;
globalThis.ran = "page";
const port = api.runtime.connect({name: "from-page"});
port.postMessage({hello: "page"});
api.runtime.onConnect.addListener((p) => {
  p.onMessage.addListener((m) => p.postMessage({echo: m, in: "page"}));
});
