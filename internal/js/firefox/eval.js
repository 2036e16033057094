/* Sends code to the process of a browsing context and waits for the answer
   of the process script install-eval.js loaded. kind is "background",
   "content" (tabID, frameID and the bridge realm's id), "page" (an
   extension page: its tab, or -1 to look through the extension's popups
   and other views for the bridge realm realm) or "locate" (no code: the
   id of the bridge realm in the extension's content-script world of the
   tab's top frame, or null).

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
async (extID, kind, tabID, frameID, realm, code, timeoutMs) => {
  const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
  const tt = ExtensionParent.apiManager.global.tabTracker;
  const tabTop = () => {
    let tab;
    try { tab = tt.getTab(tabID); } catch (e) { throw new Error("no tab with id " + tabID); }
    return tab.linkedBrowser.browsingContext;
  };
  const extension = () => {
    const policy = WebExtensionPolicy.getByID(extID);
    if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
    return policy.extension;
  };
  // The browsing contexts to try, in order: the realm is in one of them.
  let bcs = [];
  if (kind === "background") {
    const ext = extension();
    const find = () => {
      for (const v of ext.views)
        if (v.viewType === "background" && v.xulBrowser) bcs = [v.xulBrowser.browsingContext];
    };
    find();
    if (!bcs.length && typeof ext.wakeupBackground === "function") {
      // Stopped since the caller saw it: the background is whichever runs now.
      await ext.wakeupBackground();
      find();
    }
    if (!bcs.length) throw new Error("the background is not running");
  } else if (kind === "page") {
    // An extension page: the top frame of a tab, or one of the extension's
    // other views (a popup, a sidebar) when the tab is not known.
    if (tabID >= 0) bcs = [tabTop()];
    else for (const v of extension().views)
      if (v.viewType !== "background" && v.xulBrowser) bcs.push(v.xulBrowser.browsingContext);
    if (!bcs.length) throw new Error("the extension has no page open");
  } else if (kind === "locate") {
    bcs = [tabTop()];
  } else {
    const top = tabTop();
    const bc = frameID === 0 ? top : BrowsingContext.get(frameID);
    if (!bc || bc.top !== top) throw new Error("no frame with id " + frameID + " in tab " + tabID);
    bcs = [bc];
  }
  const ask = (bc) => {
    const proc = bc.currentWindowGlobal?.domProcess;
    if (!proc) throw new Error("the frame has no document");
    let mm;
    for (let i = 0; i < Services.ppmm.childCount; i++) {
      const m = Services.ppmm.getChildAt(i);
      if (m.osPid === proc.osPid) mm = m;
    }
    if (!mm) throw new Error("the process of the frame is gone");
    const id = Services.uuid.generateUUID().toString();
    return new Promise((resolve, reject) => {
      const done = (f) => { Services.ppmm.removeMessageListener("extbridge:evalr", l); clearTimeout(timer); f(); };
      const l = {receiveMessage(m) {
        if (m.data.id !== id) return;
        if (m.data.gone !== undefined) done(() => reject(new Error(m.data.gone)));
        else if (m.data.skip) done(() => resolve(null));
        else done(() => m.data.err !== undefined ? resolve({err: m.data.err}) : resolve({ok: m.data.ok}));
      }};
      const timer = setTimeout(() => done(() => reject(new Error("no answer from the realm"))), timeoutMs);
      Services.ppmm.addMessageListener("extbridge:evalr", l);
      mm.sendAsyncMessage("extbridge:eval", {id, kind, bc: bc.id, realm, code, ext: extID});
    });
  };
  for (const bc of bcs) {
    const r = await ask(bc);
    if (r) return r;
  }
  throw new Error("the page is gone (it was closed or navigated)");
}
