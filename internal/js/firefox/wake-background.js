/* Starts the extension's event page if it is not running.

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
async (extID) => {
  const policy = WebExtensionPolicy.getByID(extID);
  if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
  const ext = policy.extension;
  if (typeof ext.wakeupBackground === "function") await ext.wakeupBackground();
  else if (typeof ext.promiseBackgroundStarted === "function") await ext.promiseBackgroundStarted();
  return null;
}
