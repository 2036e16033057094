// Extension-to-extension messaging, the receiving side: every port from
// another extension arrives on runtime.onConnectExternal; each message is
// echoed back as {echo: msg, from: sender.id}.
//
// Observable state: globalThis.external lists {name, from} per connection.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.external = [];

api.runtime.onConnectExternal.addListener((port) => {
  globalThis.external.push({name: port.name, from: port.sender.id});
  console.log(`extpair-b: ${port.sender.id} connected as ${JSON.stringify(port.name)}`);
  port.onMessage.addListener((msg) => {
    port.postMessage({echo: msg, from: port.sender.id});
  });
});
