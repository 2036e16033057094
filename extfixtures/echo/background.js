// The background accepts every port and echoes each message back on it:
// port.postMessage(msg). The message {cmd: "disconnect"} makes it call
// port.disconnect() instead. Used for round trips and benchmarks, so it logs
// connections, not messages.
//
// Observable state: globalThis.received lists {port, msg} for the first
// 1000 messages; globalThis.receivedCount counts them all.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];
globalThis.receivedCount = 0;

api.runtime.onConnect.addListener((port) => {
  console.log(`echo: background accepted port ${JSON.stringify(port.name)}`);
  port.onMessage.addListener((msg) => {
    globalThis.receivedCount++;
    if (globalThis.received.length < 1000) {
      globalThis.received.push({port: port.name, msg});
    }
    if (msg && msg.cmd === "disconnect") {
      port.disconnect();
      return;
    }
    port.postMessage(msg);
  });
});
