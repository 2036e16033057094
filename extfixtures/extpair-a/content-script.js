// Runs at document_start: opens a port to its own background before the
// page has parsed, so a watch must see it from the first instruction.
const api = globalThis.browser ?? globalThis.chrome;
const early = api.runtime.connect({name: "a-document-start"});
early.postMessage({at: "document_start", readyState: document.readyState});
