// The other end of MDN's tabs.connect example, in every frame: accept the
// background's port, record what arrives, and answer each message with the
// frame's address so a test can tell which frames answered.
//
// Observable state: globalThis.received lists {port, sender, msg} for every
// message this frame's content script received.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

api.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((m) => {
    globalThis.received.push({port: port.name, sender: port.sender, msg: m});
    console.log(`In content script (${location.href}), received message from background script: `);
    console.log(m.greeting);
    port.postMessage({greeting: "hi from content script", frame: location.href});
  });
});
