// popup.js — the extension page's own code: it marks that it ran, opens its
// own port "from-popup" to the background and greets it, and echoes what
// connects to it.
const api = globalThis.browser ?? globalThis.chrome;
globalThis.ran = "popup";
const port = api.runtime.connect({name: "from-popup"});
port.postMessage({hello: "popup"});
api.runtime.onConnect.addListener((p) => {
  p.onMessage.addListener((m) => p.postMessage({echo: m, in: "popup"}));
});
