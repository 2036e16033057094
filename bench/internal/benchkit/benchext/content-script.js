// Every frame's content script echoes every message back on its port (for
// ports the background opens with tabs.connect, as the Puppeteer peer does).
const api = globalThis.browser ?? globalThis.chrome;
api.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((msg) => port.postMessage(msg));
});
