/* Maps a BiDi top-level browsing context id to its tabs.Tab id (-1 before
   any extension loaded the tabs API, -2 for no such tab).

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
(context) => {
  const {NavigableManager} = ChromeUtils.importESModule("chrome://remote/content/shared/NavigableManager.sys.mjs");
  const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
  const tt = ExtensionParent.apiManager.global.tabTracker;
  for (const win of Services.wm.getEnumerator("navigator:browser"))
    for (const tab of win.gBrowser.tabs)
      if (NavigableManager.getIdForBrowser(tab.linkedBrowser) === context)
        return tt ? tt.getId(tab) : -1;
  return -2;
}
