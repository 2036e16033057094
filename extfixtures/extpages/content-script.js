// content-script.js — reports the user's clicks and key presses on the page
// to the background over its own port "input-cs", with isTrusted, and
// echoes what tabs.connect ports send it.
const api = globalThis.browser ?? globalThis.chrome;
const port = api.runtime.connect({name: "input-cs"});
document.addEventListener("click", (e) => {
  port.postMessage({click: e.target.id || e.target.localName, trusted: e.isTrusted});
}, true);
document.addEventListener("keydown", (e) => {
  port.postMessage({key: e.key, trusted: e.isTrusted});
}, true);
api.runtime.onConnect.addListener((p) => {
  p.onMessage.addListener((m) => p.postMessage({echo: m, in: location.href}));
});
