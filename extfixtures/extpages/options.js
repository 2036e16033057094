// options.js — the extension page's own code: it marks that it ran, opens its
// own port "from-options" to the background and greets it, and echoes what
// connects to it.
const api = globalThis.browser ?? globalThis.chrome;
globalThis.ran = "options";
const port = api.runtime.connect({name: "from-options"});
port.postMessage({hello: "options"});
api.runtime.onConnect.addListener((p) => {
  p.onMessage.addListener((m) => p.postMessage({echo: m, in: "options"}));
});
