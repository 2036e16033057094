// A hostile content script: it replaces runtime.connect with its own
// wrapper, connects through it as "hostile-cs", sends a one-off message
// (the background answers with one to the tab), throws in its listeners,
// and replaces the globals a bridge might use. Its onConnect listener
// echoes each message (port.postMessage(msg)) and then throws.

const api = globalThis.browser ?? globalThis.chrome;
const realConnect = api.runtime.connect;
api.runtime.connect = function (...args) {
  return realConnect.apply(this, args);
};

api.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((msg) => {
    port.postMessage(msg);
    throw new Error("hostile: content onMessage throws");
  });
  throw new Error("hostile: content onConnect throws");
});

api.runtime.onMessage.addListener(() => {
  throw new Error("hostile: content runtime.onMessage throws");
});

const port = api.runtime.connect({name: "hostile-cs"});
port.onMessage.addListener(() => {
  throw new Error("hostile: content port onMessage throws");
});
port.postMessage({greeting: "from the hostile content script"});
Promise.resolve(api.runtime.sendMessage({greeting: "a one-off from the hostile content script"})).catch(() => {});

const boom = (what) => function () { throw new Error("hostile: " + what); };
globalThis.WebSocket = boom("WebSocket");
JSON.stringify = boom("JSON.stringify");
JSON.parse = boom("JSON.parse");
Object.assign = boom("Object.assign");
Array.from = boom("Array.from");
