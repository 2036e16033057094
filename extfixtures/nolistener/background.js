// A background that registers NO runtime.onConnect listener: a port opened
// to it disconnects at once with "Could not establish connection. Receiving
// end does not exist."
//
// Observable state: globalThis.received stays empty.

const api = globalThis.browser ?? globalThis.chrome;
globalThis.received = [];

console.log(`nolistener background started (${api.runtime.id}); no runtime.onConnect listener`);
