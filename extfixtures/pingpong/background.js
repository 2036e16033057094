// background-script.js — MDN's runtime.connect / runtime.onConnect /
// runtime.Port example. Runs as a Chromium service worker and as a Firefox
// event page.
//
// Observable state: globalThis.received lists {port, msg} for every message
// this realm received. A headless browser has no toolbar to click, so tests
// call buttonClicked() to do what a click on the action does.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

let portFromCS;

function connected(p) {
  portFromCS = p;
  portFromCS.postMessage({greeting: "hi there content script!"});
  portFromCS.onMessage.addListener((m) => {
    globalThis.received.push({port: p.name, msg: m});
    console.log("In background script, received message from content script");
    console.log(m.greeting);
  });
}

api.runtime.onConnect.addListener(connected);

function buttonClicked() {
  portFromCS.postMessage({greeting: "they clicked the button!"});
}

(api.action ?? api.browserAction).onClicked.addListener(buttonClicked);
