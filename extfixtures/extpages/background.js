// background.js — answers every port: each message comes back as
// {echo: msg, from: sender.url}, so a test sees who the browser says sent it.
const api = globalThis.browser ?? globalThis.chrome;
api.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((m) => {
    port.postMessage({echo: m, from: port.sender && port.sender.url});
    console.log("extpages background got", JSON.stringify(m), "from", port.sender && port.sender.url);
  });
});
