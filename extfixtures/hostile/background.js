// A hostile background: it replaces runtime.connect and tabs.connect with
// its own wrappers (as analytics or polyfill code does), replaces the
// globals a bridge might use after startup, and throws in every listener.
// Each listener first echoes the message back, so a test can see that the
// port still works: port.postMessage(msg), then throw.
//
// Observable state: globalThis.hostile counts the calls of its own
// wrappers ({connects, tabsConnects, thrown}).

const api = globalThis.browser ?? globalThis.chrome;
const state = {connects: 0, tabsConnects: 0, thrown: 0};
globalThis.hostile = state;

// Its own connect wrappers, installed after the bridge's.
const realConnect = api.runtime.connect;
api.runtime.connect = function (...args) {
  state.connects++;
  return realConnect.apply(this, args);
};
const realTabsConnect = api.tabs.connect;
api.tabs.connect = function (...args) {
  state.tabsConnects++;
  return realTabsConnect.apply(this, args);
};

api.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((msg) => {
    port.postMessage(msg);
    state.thrown++;
    throw new Error("hostile: onMessage throws");
  });
  port.onDisconnect.addListener(() => {
    state.thrown++;
    throw new Error("hostile: onDisconnect throws");
  });
  state.thrown++;
  throw new Error("hostile: onConnect throws");
});
api.runtime.onConnect.addListener(() => {
  throw "hostile: a second listener throws a string";
});
// A one-off message from a content script: send one back to its tab, then
// throw.
api.runtime.onMessage.addListener((msg, sender) => {
  state.thrown++;
  if (sender.tab) {
    Promise.resolve(api.tabs.sendMessage(sender.tab.id, {greeting: "a one-off from the hostile background"})).catch(() => {});
  }
  throw new Error("hostile: runtime.onMessage throws");
});

// Globals a bridge might touch later, replaced by throwing stand-ins.
const boom = (what) => function () { throw new Error("hostile: " + what); };
globalThis.WebSocket = boom("WebSocket");
JSON.stringify = boom("JSON.stringify");
JSON.parse = boom("JSON.parse");
Object.assign = boom("Object.assign");
Symbol.for = boom("Symbol.for");
Array.from = boom("Array.from");
Array.prototype.splice = boom("Array.prototype.splice");
