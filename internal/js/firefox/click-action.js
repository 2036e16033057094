/* Selects the tab and does what a click on the extension's toolbar button
   does (there is no toolbar widget to click in headless mode).

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
(extID, context) => {
  const {NavigableManager} = ChromeUtils.importESModule("chrome://remote/content/shared/NavigableManager.sys.mjs");
  const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
  const policy = WebExtensionPolicy.getByID(extID);
  if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
  for (const win of Services.wm.getEnumerator("navigator:browser"))
    for (const tab of win.gBrowser.tabs) {
      if (NavigableManager.getIdForBrowser(tab.linkedBrowser) !== context) continue;
      const action = ExtensionParent.apiManager.global.browserActionFor?.(policy.extension);
      if (!action) throw new Error("the extension has no action (browser_action or action in its manifest)");
      win.gBrowser.selectedTab = tab;
      action.triggerAction(win);
      return null;
    }
  throw new Error("the tab is gone");
}
