// Content script a of two on the same pages: connects to the background
// with its own port name and logs what it receives. Both scripts share one
// isolated world, so this one keeps its names in a block and shares
// globalThis.received with the other.
//
// Observable state: globalThis.received lists {port, msg} for every message
// either content script received.

{
  const api = globalThis.browser ?? globalThis.chrome;
  globalThis.received ??= [];

  const myPort = api.runtime.connect({name: "port-from-cs-a"});
  myPort.postMessage({greeting: "hello from content script a"});

  myPort.onMessage.addListener((m) => {
    globalThis.received.push({port: myPort.name, msg: m});
    console.log("In content script a, received message from background script: ");
    console.log(m.greeting);
  });
}
