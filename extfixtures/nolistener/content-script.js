// A content script that registers NO runtime.onConnect listener, so
// tabs.connect to its tab finds no receiving end. It opens no port by itself;
// tests call tryConnect(name) to connect to the (listener-less) background.
//
// Observable state: globalThis.received lists {port, msg} for any message
// (there should be none); tryConnect resolves to {port, error} once the port
// is disconnected, error being the lastError message ("" if none).

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

globalThis.tryConnect = (name = "port-from-cs") => new Promise((resolve) => {
  const port = api.runtime.connect({name});
  port.onMessage.addListener((m) => {
    globalThis.received.push({port: port.name, msg: m});
  });
  port.onDisconnect.addListener((p) => {
    const error = p.error ?? api.runtime.lastError;
    const result = {port: port.name, error: error ? error.message : ""};
    console.log(`In content script, ${name} disconnected: ${result.error}`);
    resolve(result);
  });
});
