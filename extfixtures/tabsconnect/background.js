// MDN's tabs.connect example: on a click on the action, connect to the
// active tab of the current window and send a greeting. tabs.connect without
// a frameId reaches the content script of every frame, so every frame
// answers on the same port.
//
// Observable state: globalThis.received lists {port, msg} for every answer.
// A headless browser has no toolbar to click, so tests call buttonClicked()
// (it returns a promise that settles once the greeting is sent).

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

function connectToTab(tabs) {
  if (tabs.length > 0) {
    let examplePort = api.tabs.connect(
      tabs[0].id,
      {name: "tabs-connect-example"}
    );
    examplePort.onMessage.addListener((m) => {
      globalThis.received.push({port: examplePort.name, msg: m});
      console.log(`In background script, received ${m.greeting} from ${m.frame}`);
    });
    examplePort.postMessage({greeting: "Hi from background script"});
  }
}

function onError(error) {
  console.log(`Error: ${error}`);
}

function buttonClicked() {
  let gettingActive = api.tabs.query({
    currentWindow: true, active: true
  });
  return gettingActive.then(connectToTab, onError);
}

(api.action ?? api.browserAction).onClicked.addListener(buttonClicked);
