// MDN's "multiple content scripts" pattern: store each connection by tab.
// MDN keeps one port per tab (ports[p.sender.tab.id] = p); here each tab
// keeps an array, so that both content scripts of a page stay reachable.
//
// Observable state: globalThis.received lists {port, msg} for every message;
// globalThis.ports is the per-tab table. A headless browser has no toolbar
// to click, so tests call buttonClicked() to broadcast.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

// MDN uses a sparse array (ports[tabId]); Chromium's tab ids are around
// 2^31, so forEach over such an array walks billions of holes and takes
// seconds. A Map keeps the pattern and stays fast.
var ports = new Map();
globalThis.ports = ports;

function connected(p) {
  const tabId = p.sender.tab.id;
  if (!ports.has(tabId)) {
    ports.set(tabId, []);
  }
  ports.get(tabId).push(p);
  p.onMessage.addListener((m) => {
    globalThis.received.push({port: p.name, msg: m});
    console.log(`In background script, received message on ${p.name} from tab ${tabId}`);
    console.log(m.greeting);
  });
  p.onDisconnect.addListener(() => {
    const list = ports.get(tabId) ?? [];
    const i = list.indexOf(p);
    if (i >= 0) {
      list.splice(i, 1);
    }
    if (list.length === 0) {
      ports.delete(tabId);
    }
  });
}

api.runtime.onConnect.addListener(connected);

function buttonClicked() {
  ports.forEach((list) => {
    list.forEach((p) => {
      p.postMessage({greeting: "they clicked the button!"});
    });
  });
}

(api.action ?? api.browserAction).onClicked.addListener(buttonClicked);
