// No nativeMessaging permission: what the browser offers for native
// messaging here is nothing at all.
const api = globalThis.browser ?? globalThis.chrome;
globalThis.nativeAPI = {
  connectNative: typeof api.runtime.connectNative,
  sendNativeMessage: typeof api.runtime.sendNativeMessage,
};
