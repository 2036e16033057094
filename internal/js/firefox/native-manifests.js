/* Points Firefox's per-user native-messaging folder at dir: Firefox then
   reads host manifests from dir/native-messaging-hosts/<name>.json instead
   of $HOME/.mozilla/native-messaging-hosts/. NativeManifests.sys.mjs takes
   the folder from the directory service key XREUserNativeManifests and
   captures it on its first lookup, so this runs before any extension is
   installed. Returns the folder Firefox now has, for the caller to check.

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
(dir) => {
  const f = Cc["@mozilla.org/file/local;1"].createInstance(Ci.nsIFile);
  f.initWithPath(dir);
  try { Services.dirsvc.undefine("XREUserNativeManifests"); } catch (e) { /* not defined yet */ }
  Services.dirsvc.set("XREUserNativeManifests", f);
  return Services.dirsvc.get("XREUserNativeManifests", Ci.nsIFile).path;
}
