// The background echoes every message back on the port it came from, like
// extfixtures/echo, and counts nothing: benchmarks want the port's own cost.
const api = globalThis.browser ?? globalThis.chrome;
api.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((msg) => port.postMessage(msg));
});
