// MDN's runtime.Port example "Connecting to native applications", as
// written, with the namespace and the action of Manifest V3 so that it runs
// as a Chromium service worker and a Firefox event page.

const api = globalThis.browser ?? globalThis.chrome;

/*
On startup, connect to the "ping_pong" app.
*/
var port = api.runtime.connectNative("ping_pong");

/*
Listen for messages from the app.
*/
port.onMessage.addListener((response) => {
  console.log("Received: " + response);
});

/*
On a click on the browser action, send the app a message.
*/
(api.action ?? api.browserAction).onClicked.addListener(() => {
  console.log("Sending:  ping");
  port.postMessage("ping");
});
