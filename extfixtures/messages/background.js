// background.js — answers each one-off message according to its kind:
//   sync     sendResponse({farewell: "goodbye", from: sender.url}) at once
//   async    sendResponse({late: true}) 20 ms later (returns true)
//   promise  returns a promise of {promised: true}
//   none     no answer at all
//   throw    throws Error("the listener threw")
//   fn       answers with a function, which no message can carry
// Anything else gets no answer. askTab(tabId, msg, frameId) sends a message
// to a tab's content scripts and resolves with the answer or the error's
// message; globalThis.received lists what arrived.
const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];
api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  globalThis.received.push({msg, from: sender.url});
  switch (msg && msg.kind) {
    case "sync":
      sendResponse({farewell: "goodbye", from: sender.url});
      return false;
    case "async":
      setTimeout(() => sendResponse({late: true}), 20);
      return true;
    case "promise":
      return Promise.resolve({promised: true});
    case "throw":
      throw new Error("the listener threw");
    case "fn":
      sendResponse(() => 1);
      return false;
  }
  return false;
});
api.runtime.onMessageExternal.addListener((msg, sender, sendResponse) => {
  sendResponse({external: true, from: sender.id, msg});
});
globalThis.askTab = (tabId, msg, frameId) => {
  const options = frameId === undefined ? {} : {frameId};
  return api.tabs.sendMessage(tabId, msg, options).then((r) => ({response: r}), (e) => ({error: e.message}));
};
