/* Sends code to the process of a browsing context and waits for the answer
   of the process script install-eval.js loaded.

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
async (extID, kind, tabID, frameID, realm, code, timeoutMs) => {
  let bc;
  if (kind === "background") {
    const policy = WebExtensionPolicy.getByID(extID);
    if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
    const ext = policy.extension;
    const find = () => {
      for (const v of ext.views)
        if (v.viewType === "background" && v.xulBrowser) bc = v.xulBrowser.browsingContext;
    };
    find();
    if (!bc && typeof ext.wakeupBackground === "function") {
      // Stopped since the caller saw it: the background is whichever runs now.
      await ext.wakeupBackground();
      find();
    }
    if (!bc) throw new Error("the background is not running");
  } else {
    const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
    const tt = ExtensionParent.apiManager.global.tabTracker;
    let tab;
    try { tab = tt.getTab(tabID); } catch (e) { throw new Error("no tab with id " + tabID); }
    const top = tab.linkedBrowser.browsingContext;
    bc = frameID === 0 ? top : BrowsingContext.get(frameID);
    if (!bc || bc.top !== top) throw new Error("no frame with id " + frameID + " in tab " + tabID);
  }
  const proc = bc.currentWindowGlobal?.domProcess;
  if (!proc) throw new Error("the frame has no document");
  let mm;
  for (let i = 0; i < Services.ppmm.childCount; i++) {
    const m = Services.ppmm.getChildAt(i);
    if (m.osPid === proc.osPid) mm = m;
  }
  if (!mm) throw new Error("the process of the frame is gone");
  const id = Services.uuid.generateUUID().toString();
  return await new Promise((resolve, reject) => {
    const done = (f) => { Services.ppmm.removeMessageListener("extbridge:evalr", l); clearTimeout(timer); f(); };
    const l = {receiveMessage(m) {
      if (m.data.id !== id) return;
      if (m.data.gone !== undefined) done(() => reject(new Error(m.data.gone)));
      else done(() => m.data.err !== undefined ? resolve({err: m.data.err}) : resolve({ok: m.data.ok}));
    }};
    const timer = setTimeout(() => done(() => reject(new Error("no answer from the realm"))), timeoutMs);
    Services.ppmm.addMessageListener("extbridge:evalr", l);
    mm.sendAsyncMessage("extbridge:eval", {id, kind, bc: bc.id, realm, code});
  });
}
