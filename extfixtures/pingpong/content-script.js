// content-script.js — MDN's runtime.connect example: connects to the
// background script, logs what it gets, and posts a message on every click
// on the page.
//
// Observable state: globalThis.received lists {port, msg} for every message
// this content script received.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

let myPort = api.runtime.connect({name: "port-from-cs"});
myPort.postMessage({greeting: "hello from content script"});

myPort.onMessage.addListener((m) => {
  globalThis.received.push({port: myPort.name, msg: m});
  console.log("In content script, received message from background script: ");
  console.log(m.greeting);
});

document.body.addEventListener("click", () => {
  myPort.postMessage({greeting: "they clicked the page!"});
});
