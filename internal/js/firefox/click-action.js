/* Selects the tab and does what a click on the extension's toolbar button
   does (there is no toolbar widget to click in headless mode): its action
   or browser_action, else its page_action (the button in the address bar),
   which must be shown in that tab, as a user could not click it otherwise.

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
      const global = ExtensionParent.apiManager.global;
      const action = global.browserActionFor?.(policy.extension);
      const pageAction = action ? null : global.pageActionFor?.(policy.extension);
      if (!action && !pageAction) throw new Error("the extension has no action (action, browser_action or page_action in its manifest)");
      win.gBrowser.selectedTab = tab;
      if (pageAction) {
        const shown = pageAction.action ? pageAction.action.isShownForTab(tab) : true;
        if (!shown) throw new Error("its page_action is not shown in this tab (the extension shows it with pageAction.show or show_matches)");
        pageAction.triggerAction(win);
        return null;
      }
      action.triggerAction(win);
      return null;
    }
  throw new Error("the tab is gone");
}
