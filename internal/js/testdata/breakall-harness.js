// Runs the bridge in a fresh node:vm context that stands for a content-script
// world, then the breakall fixture's script, which breaks every builtin of
// that context after start-up, and checks that the bridge still reports and
// obeys: the fixture's own port, a port the extension accepts, messages both
// ways, Go's commands (post, connect, listen, frames with a promise of the
// broken realm), listener exceptions, the frame id in the hello, and that it left no
// visible marks.
//
// The fake extension APIs, WebSocket, EventTarget and MessageEvent are made
// in this (the harness's) context, as a browser's native ones are outside
// the realm's JavaScript: breaking the realm's builtins does not break
// them. Usage: node breakall-harness.js BRIDGE.js BREAKALL.js
"use strict";
const fs = require("fs");
const vm = require("vm");

const [bridgePath, breakallPath] = process.argv.slice(2);
const failures = [];
process.on("uncaughtException", (e) => {
  console.error("FAIL\n" + failures.concat(["the harness stopped: " + (e && e.stack || e)]).join("\n"));
  process.exit(1);
});
const check = (ok, what) => { if (!ok) failures.push(what); };

// ---- fakes, in the harness's own context --------------------------------
const wsListeners = new Map(); // FakeWS instance -> {type: [fn]}
class FakeEventTarget {
  addEventListener(type, fn) {
    if (!wsListeners.has(this)) wsListeners.set(this, {});
    const m = wsListeners.get(this);
    (m[type] ||= []).push(fn);
  }
}
let sock = null;
const sent = [];
class FakeWS extends FakeEventTarget {
  constructor(url) { super(); this.url = url; sock = this; }
  send(s) { sent.push(s); }
}
const eventData = new WeakMap();
class FakeMessageEvent {
  constructor(type, init) { eventData.set(this, init.data); }
  get data() { return eventData.get(this); }
}
const fireWS = (type, ev) => { for (const fn of (wsListeners.get(sock) || {})[type] || []) fn(ev); };
const fromGo = (obj) => fireWS("message", new FakeMessageEvent("message", { data: JSON.stringify(obj) }));

const thrown = [];
function fakeEvent() {
  const ls = [];
  return {
    addListener(f) { if (!ls.includes(f)) ls.push(f); },
    removeListener(f) { const i = ls.indexOf(f); if (i >= 0) ls.splice(i, 1); },
    hasListener(f) { return ls.includes(f); },
    fire(...args) {
      const out = [];
      for (const f of ls.slice()) {
        try { out.push(f(...args)); } catch (e) { thrown.push(e); }
      }
      return out;
    },
    count() { return ls.length; },
  };
}
function fakePort(name, sender) {
  const port = {
    name, sender, posted: [], disconnected: false,
    onMessage: fakeEvent(), onDisconnect: fakeEvent(),
    postMessage(m) { port.posted.push(m); },
    disconnect() { port.disconnected = true; },
  };
  return port;
}
const ports = [];
let ctxPromise = null; // the realm's own Promise, for API results
const chrome = {
  runtime: {
    id: "abcdefghijklmnopabcdefghijklmnop",
    getURL: (p) => "chrome-extension://abcdefghijklmnopabcdefghijklmnop" + (p[0] === "/" ? p : "/" + p),
    getFrameId: () => 3,
    connect(...args) {
      const info = args[args.length - 1] || {};
      const p = fakePort(info.name || "", undefined);
      p.connectArgs = args;
      ports.push(p);
      return p;
    },
    onConnect: fakeEvent(), onConnectExternal: fakeEvent(),
    onMessage: fakeEvent(), onMessageExternal: fakeEvent(),
  },
  webNavigation: {
    getAllFrames: (q) => new ctxPromise((resolve) => resolve([{ frameId: 0, parentFrameId: -1, url: "http://example.test/#" + q.tabId }])),
  },
};
const globalListeners = [];
const fakeConsole = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
const sandbox = {
  chrome,
  WebSocket: FakeWS,
  EventTarget: FakeEventTarget,
  MessageEvent: FakeMessageEvent,
  crypto: { getRandomValues(a) { for (let i = 0; i < a.length; i++) a[i] = (i * 37 + 11) & 255; return a; } },
  console: fakeConsole,
  setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask,
  URL,
  location: { href: "http://example.test/page.html", protocol: "http:" },
  addEventListener(type, fn) { globalListeners.push([type, fn]); },
  window: {},
};
const ctx = vm.createContext(sandbox);
ctxPromise = vm.runInContext("Promise", ctx);

// ---- the bridge starts, then the extension ------------------------------
vm.runInContext(fs.readFileSync(bridgePath, "utf8"), ctx, { filename: "chrome-extension://abcdefghijklmnopabcdefghijklmnop/__extbridge/content.js" });
check(sock !== null, "the bridge opened no WebSocket");
fireWS("open", {});
const frames = () => {
  const out = [];
  for (const s of sent.splice(0)) for (const line of s.split("\n")) out.push(JSON.parse(line));
  return out;
};
let seq = 100;
// flush asks the bridge for what it holds; its reply comes after them.
const flush = () => { fromGo({ c: "flush", i: ++seq }); return frames(); };
const first = frames();
check(first.length >= 1 && first[0].t === "hello" && first[0].realm === "content" && first[0].frame === 3, "no hello first, with the frame id: " + JSON.stringify(first));

// An extension listener registered before the breakage, that throws or
// returns a value, with what it needs saved first.
vm.runInContext(`
  const E = Error;
  chrome.runtime.onMessage.addListener(function (m) {
    if (m === "throw") throw new E("listener threw");
    if (m === "throw a string") throw "a thrown string";
    return m === "keep" ? true : undefined;
  });
`, ctx, { filename: "extension-listener.js" });
vm.runInContext(fs.readFileSync(breakallPath, "utf8"), ctx, { filename: "breakall.js" });
const brokenCount = vm.runInContext("globalThis.brokenCount", ctx);
check(brokenCount > 250, "breakall replaced only " + brokenCount + " members");

let fs1 = flush();
const own = ports.find((p) => p.name === "breakall-cs");
check(!!own, "breakall opened no port");
const openOwn = fs1.find((f) => f.t === "open" && f.name === "breakall-cs");
check(openOwn && openOwn.how === "runtime.connect", "no open frame for breakall-cs: " + JSON.stringify(fs1));
check(fs1.some((f) => f.t === "log" && /^breakall: content replaced \d+ builtin members/.test(f.text)), "no log frame of breakall's count");
check(fs1.some((f) => f.t === "out" && openOwn && f.p === openOwn.p && f.d.broken === brokenCount), "no out frame of breakall's post");
check(own && own.posted.length === 1 && own.posted[0].broken === brokenCount, "breakall's post did not reach the port");

// The background's echo arrives on the fixture's own port.
own.onMessage.fire({ echo: "hi" }, own);
fs1 = flush();
check(fs1.some((f) => f.t === "msg" && f.p === openOwn.p && f.d.echo === "hi"), "no msg frame on breakall-cs");

// A message the bridge cannot serialise (its toJSON throws) is reported as
// lost, and nothing throws into the browser's dispatch.
const thrownBefore = thrown.length;
own.onMessage.fire(vm.runInContext("({toJSON() { throw new TypeError('no JSON'); }})", ctx), own);
fs1 = flush();
check(thrown.length === thrownBefore, "the bridge's own listener threw: " + thrown.slice(thrownBefore));
check(fs1.some((f) => f.t === "log" && f.level === "error" && f.text.includes("could not serialise a msg event")), "no log of the lost event: " + JSON.stringify(fs1));

// A port the extension accepts, after the breakage.
const incoming = fakePort("from-bg", { id: chrome.runtime.id });
chrome.runtime.onConnect.fire(incoming);
incoming.onMessage.fire("ping", incoming);
fs1 = flush();
const openIn = fs1.find((f) => f.t === "open" && f.name === "from-bg");
check(openIn && openIn.how === "onConnect" && openIn.sender && openIn.sender.id === chrome.runtime.id, "no open frame for the accepted port: " + JSON.stringify(fs1));
check(fs1.some((f) => f.t === "msg" && openIn && f.p === openIn.p && f.d === "ping"), "no msg frame on the accepted port");
check(fs1.some((f) => f.t === "out" && openIn && f.p === openIn.p && f.d.echo === "ping"), "no out frame of the extension's echo");
check(incoming.posted.length === 1 && incoming.posted[0].echo === "ping", "the extension's echo was not posted");

// Go posts as the extension's own port, and disconnects it.
fromGo({ c: "post", p: openOwn.p, d: "from Go" });
check(own.posted[own.posted.length - 1] === "from Go", "Go's post did not reach the port");
fromGo({ c: "disc", p: openIn.p });
check(incoming.disconnected, "Go's disconnect did not reach the port");

// Go's runtime.connect: an inherited field (an "ext" the extension put on
// Object.prototype) must not turn it into a connect to another extension.
const ctxObjectProto = Object.getPrototypeOf(vm.runInContext("({})", ctx));
Object.defineProperty(ctxObjectProto, "ext", { value: "another-extension", configurable: true });
Object.defineProperty(ctxObjectProto, "frame", { value: 99, configurable: true });
fromGo({ c: "connect", i: 1, a: { name: "go" } });
fs1 = flush();
const goPort = ports[ports.length - 1];
check(goPort.name === "go" && goPort.connectArgs.length === 1, "Go's connect took inherited fields: " + JSON.stringify(goPort.connectArgs));
const r1 = fs1.find((f) => f.t === "r" && f.i === 1);
check(r1 && typeof r1.ok === "number", "no reply to connect: " + JSON.stringify(fs1));
check(fs1.some((f) => f.t === "open" && f.name === "go" && f.go === true && f.target === undefined), "no open frame of Go's port");
goPort.onMessage.fire("to Go", goPort);
fs1 = flush();
check(fs1.some((f) => f.t === "msg" && f.p === r1.ok && f.d === "to Go"), "no msg frame on Go's port");
delete ctxObjectProto.ext;
delete ctxObjectProto.frame;

// Go listens: the next port goes to it too.
fromGo({ c: "listen", i: 2, a: { l: 7 } });
const next = fakePort("to-go-listener", { id: chrome.runtime.id });
chrome.runtime.onConnect.fire(next);
fs1 = flush();
const openNext = fs1.find((f) => f.t === "open" && f.name === "to-go-listener");
check(fs1.some((f) => f.t === "r" && f.i === 2), "no reply to listen");
check(openNext && fs1.some((f) => f.t === "acc" && f.l === 7 && f.p === openNext.p), "no acc frame: " + JSON.stringify(fs1));
fromGo({ c: "unlisten", i: 3, a: { l: 7 } });
check(chrome.runtime.onConnect.count() === 1, "unlisten left " + chrome.runtime.onConnect.count() + " listeners");

// Listener exceptions become log frames and are rethrown; return values
// pass through.
const before = thrown.length;
const res = chrome.runtime.onMessage.fire("keep");
check(res.length === 1 && res[0] === true, "the listener's return value was lost: " + JSON.stringify(res));
chrome.runtime.onMessage.fire("throw");
chrome.runtime.onMessage.fire("throw a string");
check(thrown.length === before + 2, "the listener's exceptions were not rethrown");
fs1 = flush();
const logs = fs1.filter((f) => f.t === "log" && f.level === "uncaught").map((f) => f.text);
check(logs.some((t) => t.startsWith("Error in event handler: Error: listener threw")), "no log of the thrown error: " + JSON.stringify(logs));
check(logs.some((t) => t === "Error in event handler: a thrown string"), "no log of the thrown string: " + JSON.stringify(logs));
check(!logs.some((t) => t.includes("__extbridge/")), "the bridge's own frames are in the stack: " + JSON.stringify(logs));

// A command whose API answers with a promise of the broken realm.
fromGo({ c: "frames", i: 4, a: { tab: 5 } });
setImmediate(() => {
  fs1 = flush();
  const r4 = fs1.find((f) => f.t === "r" && f.i === 4);
  check(r4 && r4.ok && r4.ok.length === 1 && r4.ok[0].url === "http://example.test/#5", "no reply to frames: " + JSON.stringify(fs1));
  check(!fs1.some((f) => f.t === "log" && f.level === "unhandledrejection"), "an unhandled rejection: " + JSON.stringify(fs1));

  // No marks: nothing enumerable on the global, the events or the ports.
  const g = vm.runInContext("globalThis", ctx);
  check(!Object.keys(g).some((k) => k.includes("extbridge")), "an enumerable mark on the global");
  for (const o of [chrome.runtime.onConnect, chrome.runtime.onMessage, own, own.onMessage, incoming.onMessage]) {
    check(!Reflect.ownKeys(o).some((k) => String(k).includes("extbridge") || String(k).includes("Wrapped")), "a mark on " + Object.keys(o));
  }
  const mark = Object.getOwnPropertyDescriptor(g, "__extbridge");
  check(mark && !mark.enumerable && !mark.configurable && !mark.writable && mark.value.json(new Map()) === "{}", "the realm mark is not fixed and hidden");
  check(Object.getOwnPropertyDescriptor(chrome.runtime, "connect").enumerable === true, "the wrapped connect lost its attributes");

  // What a driver's Eval awaits: the bridge's settle, with the realm's
  // Promise and JSON broken. Its promises are observed with the harness's
  // own then.
  const settle = mark.value.settle;
  const then = (p, ok, err) => Promise.prototype.then.call(p, ok, err);
  const rejected = vm.runInContext("new TypeError('nope')", ctx);
  const pending = [
    then(settle(vm.runInContext("({a: [1, 2]})", ctx)), (s) => check(s === '{"a":[1,2]}', "settle of a value gave " + s)),
    then(settle(new ctxPromise((resolve) => resolve(undefined))), (s) => check(s === "null", "settle of undefined gave " + s)),
    then(settle(new ctxPromise((resolve, reject) => reject(rejected))),
      (s) => check(false, "settle of a rejection resolved " + s), (e) => check(e === "TypeError: nope", "settle of a rejection gave " + e)),
  ];
  Promise.all(pending).then(finish, (e) => { check(false, "settle: " + e); finish(); });
});

function finish() {
  if (failures.length) {
    console.error("FAIL\n" + failures.join("\n"));
    process.exit(1);
  }
  console.log("ok: breakall replaced " + brokenCount + " members; the bridge kept working");
}
