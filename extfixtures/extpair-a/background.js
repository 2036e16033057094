// Extension-to-extension messaging, the connecting side. The id of
// extpair-b: its gecko id in Firefox, and in Chromium the id its manifest
// key gives it.
const api = globalThis.browser ?? globalThis.chrome;
const OTHER = typeof api.runtime.getBrowserInfo === "function" // Firefox only
  ? "extpair-b@extbridge.test"
  : "hjhhkammjjggaakjdldmdmgjaippijjl";
globalThis.OTHER = OTHER;
globalThis.replies = [];

// A port opened at the very top of the background, at start-up: the bridge
// must report it although no Go code is running yet.
const startup = api.runtime.connect(OTHER, {name: "from-a-at-startup"});
startup.onMessage.addListener((m) => globalThis.replies.push(m));
startup.onDisconnect.addListener(() => { globalThis.startupEnded = true; });
startup.postMessage({hello: "from a at startup"});

// connectToB opens a new port to extpair-b and posts one message on it.
function connectToB(name, msg) {
  const port = api.runtime.connect(OTHER, {name});
  port.onMessage.addListener((m) => globalThis.replies.push(m));
  port.postMessage(msg);
  return name;
}
globalThis.connectToB = connectToB;
