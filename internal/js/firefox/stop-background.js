/* Terminates the extension's event page as Firefox does when it is idle;
   returns true, without stopping it, for a persistent background page.

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
async (extID) => {
  const policy = WebExtensionPolicy.getByID(extID);
  if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
  const ext = policy.extension;
  if (ext.persistentBackground) return true;
  await ext.terminateBackground({ignoreDevToolsAttached: true});
  return false;
}
