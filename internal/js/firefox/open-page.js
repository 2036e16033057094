/* Opens url (a page of an extension) in a new tab and resolves, with the
   tab's BiDi browsing context id, once the page has loaded. BiDi refuses to
   navigate a tab to moz-extension:// URLs, so the tab is opened the way the
   browser's own UI opens one.

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
async (url) => {
  const {NavigableManager} = ChromeUtils.importESModule("chrome://remote/content/shared/NavigableManager.sys.mjs");
  const win = Services.wm.getMostRecentWindow("navigator:browser");
  if (!win) throw new Error("no browser window");
  const tab = win.gBrowser.addTab(url, {triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal()});
  const browser = tab.linkedBrowser;
  const {STATE_STOP, STATE_IS_WINDOW} = Ci.nsIWebProgressListener;
  await new Promise((resolve) => {
    const listener = {
      onStateChange(webProgress, request, flags) {
        if (!webProgress.isTopLevel || !(flags & STATE_STOP) || !(flags & STATE_IS_WINDOW)) return;
        if (!browser.currentURI || browser.currentURI.spec === "about:blank") return; // the tab's first, empty document
        browser.removeProgressListener(listener);
        resolve();
      },
      QueryInterface: ChromeUtils.generateQI(["nsIWebProgressListener", "nsISupportsWeakReference"]),
    };
    browser.addProgressListener(listener, Ci.nsIWebProgress.NOTIFY_STATE_WINDOW);
  });
  return NavigableManager.getIdForBrowser(browser);
}
