// content-script.js — sends {kind: "sync", greeting: "hello from the
// content script"} at start and logs the answer; answers tabs.sendMessage
// messages addressed {to: "cs"} with {in: location.href}, and leaves the
// others unanswered.
const api = globalThis.browser ?? globalThis.chrome;
if (window === window.top) {
  api.runtime.sendMessage({kind: "sync", greeting: "hello from the content script"}).then(
    (r) => console.log("the background answered", JSON.stringify(r)),
    (e) => console.log("the background did not answer:", e.message));
}
api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (msg && msg.to === "cs") sendResponse({in: location.href});
  return false;
});
