// extbridge bridge script. It runs first in every realm of an instrumented
// extension (service worker or background page, content scripts, extension
// pages), wraps the port APIs so every live port gets a mirror id, and reports
// every port event to the Go process over a loopback WebSocket.
//
// The Go side replaces the CONFIG placeholder with {url, token, ext, realm}.
// The script must run as a classic script and as a module, so it uses no
// import/export and touches only globalThis.
//
// Extension code that runs after the bridge may replace or break any builtin
// (zone.js and core-js patch Promise, EventTarget, WebSocket and timers; a
// buggy or hostile extension may replace Array, Map, JSON, Function.prototype
// methods and iterators). So the bridge takes everything it uses from the
// realm once, at the top, before any extension code runs, as uncurried
// functions (as Node's primordials do), and the code after that calls only
// those:
//   - no method lookups on builtins or their prototypes after start-up: a
//     call is `mapGet(m, k)`, never `m.get(k)`;
//   - no iteration protocol: no for…of, no spread, no array destructuring,
//     no Array.from; loops over indices, arrays grown with a[a.length] = v;
//   - no implicit conversions of objects (String(obj), template literals on
//     objects, `"" + obj`): str() converts, with captured functions only;
//   - no await and no async functions, no Promise.resolve: a promise is
//     observed with the captured then, after giving it an own `constructor`
//     of undefined so that then's species lookup finds nothing replaceable;
//   - no instanceof: brands come from the captured Object.prototype.toString;
//   - property descriptors are null-prototype objects, so no inherited
//     `get`/`set`/`value` can change their meaning;
//   - event handlers are added with the captured addEventListener and event
//     fields read with the captured getters (MessageEvent's data, …).
// Reading the extension APIs' own objects (chrome.runtime, a port's name,
// onMessage, …) is not protected: those are the browser's, not builtins.
(() => {
  "use strict";
  const CFG = /*EXTBRIDGE_CONFIG*/ null;
  const G = globalThis;
  // The realm's mark: a fixed, non-configurable, non-enumerable global of
  // this world (an isolated world's globals are invisible to the page). A
  // string key, not Symbol.for, which extension code may replace.
  const KEY = "__extbridge";
  if (!CFG || G[KEY]) return; // one bridge per world

  // ---- primordials: everything the bridge uses, taken before any extension code
  const FP = Function.prototype;
  const uncurry = FP.bind.bind(FP.call); // uncurry(f)(self, a, b) is f.call(self, a, b)
  const apply = uncurry(FP.apply); // apply(f, self, args)
  const O = Object;
  const defineProperty = O.defineProperty;
  const getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  const freeze = O.freeze;
  const hasOwn = uncurry(O.prototype.hasOwnProperty);
  const objectToString = uncurry(O.prototype.toString);
  const StringCtor = String;
  const ErrorCtor = Error;
  const errorToString = uncurry(ErrorCtor.prototype.toString);
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const isArray = Array.isArray;
  const MapCtor = Map;
  const mapGet = uncurry(Map.prototype.get);
  const mapSet = uncurry(Map.prototype.set);
  const mapDelete = uncurry(Map.prototype.delete);
  const mapForEach = uncurry(Map.prototype.forEach);
  const WeakMapCtor = WeakMap;
  const weakMapGet = uncurry(WeakMap.prototype.get);
  const weakMapSet = uncurry(WeakMap.prototype.set);
  const WeakSetCtor = WeakSet;
  const weakSetAdd = uncurry(WeakSet.prototype.add);
  const weakSetHas = uncurry(WeakSet.prototype.has);
  const startsWith = uncurry(StringCtor.prototype.startsWith);
  const strSlice = uncurry(StringCtor.prototype.slice);
  const strIndexOf = uncurry(StringCtor.prototype.indexOf);
  const PromiseCtor = Promise;
  const promiseThen = uncurry(Promise.prototype.then);
  const setT = G.setTimeout;
  const clearT = G.clearTimeout;
  const WS = G.WebSocket;
  const ET = G.EventTarget && G.EventTarget.prototype;
  const addEventListener = ET && typeof ET.addEventListener === "function" ? uncurry(ET.addEventListener) : null;
  // getter returns the uncurried getter of an accessor, or null.
  const getter = (ctor, name) => {
    const proto = ctor && ctor.prototype;
    const d = proto ? getOwnPropertyDescriptor(proto, name) : undefined;
    return d && typeof d.get === "function" ? uncurry(d.get) : null;
  };
  const wsSend = WS ? uncurry(WS.prototype.send) : null;
  const StorageProto = G.Storage && G.Storage.prototype;
  const storageGet = StorageProto ? uncurry(StorageProto.getItem) : null;
  const storageSet = StorageProto ? uncurry(StorageProto.setItem) : null;
  const storageRemove = StorageProto ? uncurry(StorageProto.removeItem) : null;
  const wsClose = WS ? uncurry(WS.prototype.close) : null;
  const persisted = getter(G.PageTransitionEvent, "persisted");
  const msgData = getter(G.MessageEvent, "data");
  const errEvMessage = getter(G.ErrorEvent, "message");
  const errEvFilename = getter(G.ErrorEvent, "filename");
  const errEvLineno = getter(G.ErrorEvent, "lineno");
  const errEvError = getter(G.ErrorEvent, "error");
  const rejReason = getter(G.PromiseRejectionEvent, "reason");
  const stackGet = getter(ErrorCtor, "stack"); // Firefox: an accessor on Error.prototype; V8: an own property
  const con = G.console;
  // The global's own addEventListener, called on the global: in a Firefox
  // content script the global is a sandbox that forwards it to the window.
  const gAdd = typeof G.addEventListener === "function" ? G.addEventListener : null;
  const onGlobal = (type, fn, capture) => apply(gAdd, G, [type, fn, capture]);

  const chromeNS = G.chrome && G.chrome.runtime ? G.chrome : null;
  const browserNS = G.browser && G.browser.runtime ? G.browser : null;
  const api = browserNS || chromeNS;
  // Firefox (its browser.runtime has getBrowserInfo); Chromium 156 has a
  // browser namespace too.
  const isFirefox = !!(browserNS && typeof browserNS.runtime.getBrowserInfo === "function");
  if (!api || typeof WS !== "function" || !addEventListener || !msgData) return;

  // Start-up code, before any extension code, may still use the realm as it is.
  const realmId = (() => {
    const rand = new Uint8Array(16);
    G.crypto.getRandomValues(rand);
    const hex = "0123456789abcdef";
    let s = "";
    for (let i = 0; i < 16; i++) s += hex[rand[i] >> 4] + hex[rand[i] & 15];
    return s;
  })();

  // push appends to an array without Array.prototype.push.
  const push = (arr, v) => { arr[arr.length] = v; };
  // own reads a field of a command Go sent: only the object's own, never one
  // the extension put on Object.prototype.
  const own = (o, k) => (o !== null && typeof o === "object" && hasOwn(o, k) ? o[k] : undefined);

  // str turns any value into text without calling anything the extension
  // can replace: primitives convert by themselves, errors through the
  // captured Error.prototype.toString, objects as JSON.
  function str(v) {
    if (typeof v === "string") return v;
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return StringCtor(v);
    try {
      if (isErrorish(v)) return errorToString(v);
    } catch (e) { /* fall through */ }
    try {
      const s = stringify(v);
      if (typeof s === "string") return s;
    } catch (e) { /* fall through */ }
    try { return objectToString(v); } catch (e) { return "[object]"; }
  }
  function isErrorish(v) {
    if (v === null || typeof v !== "object") return false;
    const tag = objectToString(v);
    return tag === "[object Error]" || tag === "[object DOMException]";
  }
  function stackOf(err) {
    try {
      const s = stackGet && !hasOwn(err, "stack") ? stackGet(err) : err.stack;
      return typeof s === "string" ? s : "";
    } catch (e) {
      return "";
    }
  }
  // An error as "Name: message" and its stack: Chrome's stack starts with
  // that line, Firefox's stack has only the frames.
  function errText(err) {
    let head;
    try { head = errorToString(err); } catch (e) { head = str(err); }
    const st = stackOf(err);
    return !st || startsWith(st, head) ? (st || head) : head + "\n" + st;
  }
  // thrownText describes whatever was thrown.
  const thrownText = (e) => (isErrorish(e) ? errText(e) : str(e));
  // messageOf is an error's message, or the value itself as text.
  function messageOf(e) {
    if (e !== null && typeof e === "object") {
      try {
        const m = e.message;
        if (m !== undefined && m !== null && m !== "") return str(m);
      } catch (x) { /* fall through */ }
    }
    return str(e);
  }

  // ---- the wire -----------------------------------------------------------
  let ws = null;
  let isOpen = false;
  let backlog = [];
  function sendRaw(s) {
    if (isOpen) {
      try { wsSend(ws, s); } catch (e) { /* closed under us */ }
    } else {
      push(backlog, s); // the hello sends it (a background arms Go's listeners before the wire exists)
    }
  }
  // Events wait in `pending` and leave together, one frame of events
  // separated by newlines (JSON.stringify never writes a raw newline).
  // Events Go waits for (replies, traffic on ports Go holds) flush at once;
  // the rest (the extension's own ports, its console) wait, so a busy
  // extension pays one send per batch, not one per message, and nothing is
  // sent on its own critical path: up to FLUSH_MS while Go watches the
  // extension (a "watch" command), else up to FLUSH_IDLE_MS, and at most
  // FLUSH_MAX events or FLUSH_BYTES characters. Every flush sends all that
  // is pending, so the realm's order is kept.
  const FLUSH_MS = 4, FLUSH_IDLE_MS = 50, FLUSH_MAX = 4096, FLUSH_BYTES = 1 << 20;
  // pending is a string being built, not an array: joining needs no builtin.
  let pending = "";
  let pendingCount = 0;
  let timer = null;
  let watched = false;
  function flush() {
    if (timer !== null) { clearT(timer); timer = null; }
    if (pendingCount === 0) return;
    const frame = pending;
    pending = "";
    pendingCount = 0;
    sendRaw(frame);
  }
  function send(obj, urgent) {
    let s;
    try {
      s = safeStringify(obj);
    } catch (e) {
      // A value whose toJSON throws (one the extension replaced): the event
      // is lost, and says so, rather than throwing into the browser.
      try {
        s = stringify({ t: "log", level: "error", text: "extbridge: could not serialise a " + str(obj.t) + " event: " + messageOf(e) });
      } catch (e2) {
        return;
      }
    }
    if (typeof s !== "string") return;
    pending = pendingCount === 0 ? s : pending + "\n" + s;
    pendingCount++;
    if (urgent || pendingCount >= FLUSH_MAX || pending.length >= FLUSH_BYTES) {
      flush();
    } else if (timer === null) {
      timer = setT(flush, watched ? FLUSH_MS : FLUSH_IDLE_MS);
    }
  }
  // JSON with a fallback for values JSON cannot hold: a BigInt becomes its
  // decimal string, a cycle becomes null. Chrome never lets such values into a
  // port (it serialises with JSON); Firefox's structured clone does.
  function safeStringify(obj) {
    try {
      return stringify(obj);
    } catch (e) {
      const seen = new WeakSetCtor();
      return stringify(obj, function (k, v) {
        if (typeof v === "bigint") return StringCtor(v);
        if (v && typeof v === "object") {
          if (weakSetHas(seen, v)) return null;
          weakSetAdd(seen, v);
        }
        return v;
      });
    }
  }

  let topFrame = true;
  try { topFrame = G.top === G.self; } catch (e) { topFrame = false; }
  let href = "";
  try { href = StringCtor(G.location && G.location.href); } catch (e) { /* none */ }

  // Where the realm is, when it knows it before its hello leaves: a page
  // holds its hello until tabs.getCurrent answers (at most HOLD_MS), so that
  // every event of it carries its tab; what it learns later goes in a where
  // frame.
  const HOLD_MS = 500;
  let helloTab, helloFrame;
  let holdHello = false, wireOpen = false, helloSent = false;
  function sayHello() {
    if (helloSent || !wireOpen) return;
    helloSent = true;
    const hello = {
      t: "hello", token: CFG.token, ext: CFG.ext, realm: CFG.realm, id: realmId,
      url: href, top: topFrame, rid: api.runtime.id,
    };
    if (armedIds.length) hello.armed = armedIds;
    if (typeof helloTab === "number") hello.tab = helloTab;
    if (typeof helloFrame === "number") hello.frame = helloFrame;
    const b = backlog;
    backlog = [];
    try { wsSend(ws, stringify(hello)); } catch (e) { /* closed under us */ }
    for (let i = 0; i < b.length; i++) {
      try { wsSend(ws, b[i]); } catch (e) { /* closed under us */ }
    }
    isOpen = true;
  }

  function openWire() {
    helloSent = false;
    wireOpen = false;
    isOpen = false;
    try {
      ws = new WS(CFG.url);
    } catch (e) {
      return;
    }
    addEventListener(ws, "open", () => {
      wireOpen = true;
      if (!holdHello) sayHello();
    });
    addEventListener(ws, "message", (ev) => {
      let cmd;
      try { cmd = parse(msgData(ev)); } catch (e) { return; }
      if (isArray(cmd)) {
        for (let i = 0; i < cmd.length; i++) handle(cmd[i]);
      } else {
        handle(cmd);
      }
    });
    addEventListener(ws, "close", () => { isOpen = false; });
  }

  // ---- replacing the extension's APIs --------------------------------------
  // defineValue replaces obj[key] with value, keeping the original
  // property's enumerable and configurable attributes (and writable, for a
  // data property); a property that was inherited or an accessor becomes
  // what an assignment would make, writable.
  function defineValue(obj, key, value) {
    let d;
    try { d = getOwnPropertyDescriptor(obj, key); } catch (e) { d = undefined; }
    const desc = { __proto__: null, value, writable: true, enumerable: true, configurable: true };
    if (d) {
      desc.enumerable = !!d.enumerable;
      desc.configurable = !!d.configurable;
      if (hasOwn(d, "writable")) desc.writable = !!d.writable;
    }
    try {
      defineProperty(obj, key, desc);
    } catch (e) {
      try { obj[key] = value; } catch (e2) { /* leave it */ }
    }
  }

  // ---- exceptions in the extension's listeners -----------------------------
  // Both browsers catch what a listener throws and print it themselves
  // (Chromium "Error in event handler: …", Firefox the error), so it never
  // reaches the realm's error event. The wrappers report it, then rethrow.
  const reported = new WeakSetCtor();
  // A thrown primitive cannot go into a WeakSet: Firefox also fires the
  // realm's error event for one, at once, so the last one is remembered
  // until the next task.
  let thrownPrimitive = null;
  const clip = (s) => (s.length > 8192 ? strSlice(s, 0, 8192) + "…" : s);
  // dropBridgeFrames removes the wrapper's own frames from a stack.
  function dropBridgeFrames(s) {
    if (strIndexOf(s, "/__extbridge/") < 0) return s;
    let out = "", first = true;
    for (let from = 0; from <= s.length;) {
      let nl = strIndexOf(s, "\n", from);
      if (nl < 0) nl = s.length;
      const line = strSlice(s, from, nl);
      if (strIndexOf(line, "/__extbridge/") < 0) {
        out += first ? line : "\n" + line;
        first = false;
      }
      from = nl + 1;
    }
    return out;
  }
  function reportListenerError(e) {
    try {
      if (e !== null && (typeof e === "object" || typeof e === "function")) {
        if (weakSetHas(reported, e)) return;
        weakSetAdd(reported, e);
      } else {
        const slot = { v: e };
        thrownPrimitive = slot;
        setT(() => { if (thrownPrimitive === slot) thrownPrimitive = null; }, 0);
      }
      let text = dropBridgeFrames(thrownText(e));
      while (text.length > 0 && text[text.length - 1] === "\n") text = strSlice(text, 0, text.length - 1);
      send({ t: "log", level: "uncaught", text: clip("Error in event handler: " + text) });
    } catch (x) { /* never break the extension */ }
  }

  // wrapEvent makes the extension's listeners of an event go through a
  // wrapper that reports what they throw (and rethrows it), and, for a
  // runtime.onConnect-like event, first gives the port (the first argument)
  // its mirror: the same port reaches all listeners, so it gets one mirror.
  // The wrapper keeps the listener's `this`, arguments and return value
  // (onMessage's `return true` or promise). Which events are wrapped is
  // remembered in a WeakSet, not on the event.
  const wrappedEvents = new WeakSetCtor();
  function wrapEvent(event, how) {
    if (!event || (typeof event !== "object" && typeof event !== "function")) return;
    if (weakSetHas(wrappedEvents, event)) return;
    const add = event.addListener, remove = event.removeListener, has = event.hasListener;
    if (typeof add !== "function") return;
    weakSetAdd(wrappedEvents, event);
    const wrappers = new MapCtor();
    const wrapperFor = (fn) => {
      let w = mapGet(wrappers, fn);
      if (!w) {
        w = function () {
          if (how === "onMessage" || how === "onMessageExternal") return delivered(fn, this, arguments, how);
          if (how) {
            try {
              const rec = track(arguments[0], how);
              rec.own = true; // the extension's own listener has it too
              if (earlyPorts !== null) push(earlyPorts, rec);
            } catch (e) { /* never break the extension */ }
          }
          try {
            return apply(fn, this, arguments);
          } catch (e) {
            reportListenerError(e);
            throw e;
          }
        };
        mapSet(wrappers, fn, w);
      }
      return w;
    };
    const withFirst = (args, first) => {
      const out = [first];
      for (let i = 1; i < args.length; i++) out[i] = args[i];
      return out;
    };
    defineValue(event, "addListener", function (fn) {
      if (typeof fn !== "function") return apply(add, event, arguments);
      return apply(add, event, withFirst(arguments, wrapperFor(fn)));
    });
    if (typeof remove === "function") {
      defineValue(event, "removeListener", function (fn) {
        const w = mapGet(wrappers, fn);
        if (!w) return apply(remove, event, arguments);
        mapDelete(wrappers, fn);
        return apply(remove, event, withFirst(arguments, w));
      });
    }
    if (typeof has === "function") {
      defineValue(event, "hasListener", function (fn) {
        const w = mapGet(wrappers, fn);
        return apply(has, event, withFirst(arguments, w || fn));
      });
    }
  }

  // ---- one-off messages ---------------------------------------------------
  // Every runtime.sendMessage and tabs.sendMessage the extension makes, and
  // every message its onMessage / onMessageExternal listeners get, is a
  // "send" event with an id of this realm, and its answer a "resp" event with
  // the same id: the response, its failure (the browser's text), or none.
  // The extension gets exactly what the browser gives: the same arguments go
  // to the browser, a callback is called as it would be, and a promise
  // settles as the browser's does.
  let nextMsg = 1;
  function respEvent(s, v) {
    if (v === undefined) send({ t: "resp", s, nr: true });
    else send({ t: "resp", s, d: v });
  }
  function lastErrorText() {
    const le = chromeNS && chromeNS.runtime.lastError;
    return le && le.message ? str(le.message) : "";
  }
  // sendWatched calls fn (sendMessage) with the extension's arguments,
  // reporting the message and its answer.
  let sending = 0; // sendWatched calls in progress: one namespace may call another
  function sendWatched(fn, self, args, how) {
    if (sending > 0) return apply(fn, self, args);
    sending++;
    try {
      return sendWatchedOnce(fn, self, args, how);
    } finally {
      sending--;
    }
  }
  function sendWatchedOnce(fn, self, args, how) {
    let s = 0;
    let cb = -1; // the index of a callback, if there is one
    try {
      let n = args.length;
      if (n > 0 && typeof args[n - 1] === "function") { cb = n - 1; n--; }
      const ev = { t: "send", s: 0, how, d: null };
      if (how === "tabs.sendMessage") {
        if (typeof args[0] === "number" && args[0] % 1 === 0) ev.tab = args[0];
        ev.d = args[1];
      } else if (how === "runtime.sendNativeMessage") { // (application, message, …)
        ev.target = hostName(args[0]);
        ev.d = args[1];
      } else if (n >= 2 && (typeof args[0] === "string" || args[0] === null || args[0] === undefined)) {
        if (typeof args[0] === "string") ev.target = args[0]; // runtime.sendMessage(extensionId, message, …)
        ev.d = args[1];
      } else {
        ev.d = args[0];
      }
      if (ev.d === undefined) ev.d = null;
      s = ev.s = nextMsg++;
      send(ev);
    } catch (e) { s = 0; }
    if (!s) return apply(fn, self, args);
    if (cb >= 0) {
      const orig = args[cb];
      const a = [];
      for (let i = 0; i < args.length; i++) a[i] = args[i];
      a[cb] = function (resp) {
        try {
          const le = lastErrorText();
          if (le) send({ t: "resp", s, e: le }); else respEvent(s, resp);
        } catch (e) { /* keep going */ }
        return apply(orig, this, arguments);
      };
      return apply(fn, self, a);
    }
    let r;
    try {
      r = apply(fn, self, args);
    } catch (e) {
      send({ t: "resp", s, e: messageOf(e) });
      throw e;
    }
    if (r === null || (typeof r !== "object" && typeof r !== "function")) return r;
    try {
      return promiseThen(r, (v) => { respEvent(s, v); return v; }, (e) => { send({ t: "resp", s, e: messageOf(e) }); throw e; });
    } catch (e) {
      return r; // not a promise we can observe
    }
  }
  // answered remembers, per dispatch of a message, whether a listener
  // answered it: the listeners of one message share its sendResponse.
  const answered = new WeakMapCtor();
  function markAnswered(sendResponse) {
    if (typeof sendResponse === "function") weakMapSet(answered, sendResponse, true);
  }
  // delivered calls an extension's onMessage listener, reporting the
  // message, and its answer: a sendResponse call or the promise it returns.
  function delivered(fn, self, args, how) {
    let s = 0;
    const sendResponse = args[2];
    try {
      s = nextMsg++;
      const ev = { t: "send", s, how, d: args[0] === undefined ? null : args[0] };
      if (args[1]) ev.sender = args[1];
      send(ev);
    } catch (e) { s = 0; }
    const a = [];
    for (let i = 0; i < args.length; i++) a[i] = args[i];
    if (s && typeof sendResponse === "function") {
      a[2] = function (v) {
        try { respEvent(s, v); markAnswered(sendResponse); } catch (e) { /* keep going */ }
        return apply(sendResponse, this, arguments);
      };
    }
    let r;
    try {
      r = apply(fn, self, a);
    } catch (e) {
      reportListenerError(e);
      if (s) send({ t: "resp", s, e: messageOf(e) });
      throw e;
    }
    if (s && r !== null && typeof r === "object") {
      let thenable = false;
      try { thenable = typeof r.then === "function"; } catch (e) { /* not one */ }
      if (thenable) {
        try {
          promiseThen(r, (v) => { respEvent(s, v); markAnswered(sendResponse); }, (e) => {
            send({ t: "resp", s, e: messageOf(e) });
            // Chromium reports a listener's rejected promise as unhandled;
            // observing it here must not hide that.
            if (!isFirefox) send({ t: "log", level: "unhandledrejection", text: clip(isErrorish(e) ? errText(e) : str(e)) });
          });
        } catch (e) { /* not a promise we can observe */ }
      }
    }
    return r;
  }

  // ---- port mirrors -------------------------------------------------------
  let nextId = 1;
  const byId = new MapCtor();
  const mirrors = new WeakMapCtor();

  function errorOf(port) {
    // Firefox sets port.error; Chrome sets runtime.lastError during onDisconnect.
    const pe = port.error;
    if (pe && pe.message) return str(pe.message);
    const le = chromeNS && chromeNS.runtime.lastError;
    if (le && le.message) return str(le.message);
    return "";
  }

  // track gives a port its mirror id (once) and reports every event on it.
  // extra: {target, tab, go, name} for the open frame (name: a native
  // port's host, where port.name is "").
  function track(port, how, extra) {
    let rec = weakMapGet(mirrors, port);
    if (rec) return rec;
    const origPost = port.postMessage;
    const origDisc = port.disconnect;
    rec = {
      id: nextId++, port, open: true, go: false, how,
      post: (m) => apply(origPost, port, [m]),
      disc: () => apply(origDisc, port, []),
    };
    weakMapSet(mirrors, port, rec);
    mapSet(byId, rec.id, rec);
    const ev = { t: "open", p: rec.id, how, name: port.name };
    if (port.sender) ev.sender = port.sender;
    if (extra) {
      if (extra.target !== undefined) ev.target = extra.target;
      // A tab id, only if it is one: Go reads it as an integer.
      if (typeof extra.tab === "number" && extra.tab % 1 === 0) ev.tab = extra.tab;
      if (extra.go) ev.go = true;
      if (typeof extra.name === "string") ev.name = extra.name;
    }
    rec.go = !!(extra && extra.go); // Go holds this end: its events are urgent
    send(ev, rec.go);
    const onMsg = port.onMessage, onDisc = port.onDisconnect;
    apply(onMsg.addListener, onMsg, [(m) => {
      if (rec.open) send({ t: "msg", p: rec.id, d: m === undefined ? null : m }, rec.go);
    }]);
    apply(onDisc.addListener, onDisc, [() => {
      if (!rec.open) return;
      rec.open = false;
      mapDelete(byId, rec.id);
      send({ t: "disc", p: rec.id, e: errorOf(port) }, rec.go);
    }]);
    if (rec.go) return rec; // a port Go opened: the extension never sees it
    // What the extension's own listeners on the port throw is reported.
    try { wrapEvent(onMsg, null); wrapEvent(onDisc, null); } catch (e) { /* keep going */ }
    // The extension's own calls on the port are reported too.
    defineValue(port, "postMessage", function (m) {
      const r = apply(origPost, port, arguments);
      if (rec.open) send({ t: "out", p: rec.id, d: m === undefined ? null : m });
      return r;
    });
    defineValue(port, "disconnect", function () {
      const r = apply(origDisc, port, arguments);
      if (rec.open) {
        rec.open = false;
        mapDelete(byId, rec.id);
        send({ t: "disc", p: rec.id, e: "", self: true });
      }
      return r;
    });
    return rec;
  }

  const real = { __proto__: null };
  function wrapNamespace(ns) {
    if (!ns) return;
    const rt = ns.runtime;
    if (rt && typeof rt.connect === "function") {
      const connect = rt.connect;
      if (!real.connect) real.connect = (args) => apply(connect, rt, args);
      defineValue(rt, "connect", function () {
        const port = apply(connect, rt, arguments);
        try {
          const extId = typeof arguments[0] === "string" ? arguments[0] : "";
          track(port, "runtime.connect", extId ? { __proto__: null, target: extId } : undefined);
        } catch (e) { /* never break the extension */ }
        return port;
      });
    }
    if (rt) {
      wrapEvent(rt.onConnect, "onConnect");
      wrapEvent(rt.onConnectExternal, "onConnectExternal");
      wrapEvent(rt.onMessage, "onMessage");
      wrapEvent(rt.onMessageExternal, "onMessageExternal");
    }
    if (rt && typeof rt.sendMessage === "function") {
      const fn = rt.sendMessage;
      defineValue(rt, "sendMessage", function () { return sendWatched(fn, rt, arguments, "runtime.sendMessage"); });
    }
    if (rt) wrapNative(rt);
    const tabs = ns.tabs;
    if (tabs && typeof tabs.sendMessage === "function") {
      const fn = tabs.sendMessage;
      defineValue(tabs, "sendMessage", function () { return sendWatched(fn, tabs, arguments, "tabs.sendMessage"); });
    }
    if (tabs && typeof tabs.connect === "function") {
      const tconnect = tabs.connect;
      if (!real.tabsConnect) real.tabsConnect = (args) => apply(tconnect, tabs, args);
      defineValue(tabs, "connect", function () {
        const port = apply(tconnect, tabs, arguments);
        try { track(port, "tabs.connect", { __proto__: null, tab: arguments[0] }); } catch (e) { /* keep going */ }
        return port;
      });
    }
  }
  // ---- native messaging ---------------------------------------------------
  // wrapNative reports the realm's native ports and one-off native messages.
  // runtime.connectNative and sendNativeMessage exist only with the
  // nativeMessaging permission (and not in Chromium's content scripts);
  // where they are missing nothing is added. A connectNative the browser
  // refuses (it throws) is reported as nothing: no port left the realm; a
  // sendNativeMessage is reported as the one-off messages are (above), a
  // throw as its failed response. A native port's name is the host's name
  // even where the browser's port.name is "" (Chromium).
  function hostName(app) {
    if (typeof app === "string") return app;
    if (app !== null && typeof app === "object" && typeof app.application === "string") return app.application;
    return str(app);
  }
  function wrapNative(rt) {
    const cn = rt.connectNative;
    if (typeof cn === "function") {
      if (!real.connectNative) real.connectNative = (args) => apply(cn, rt, args);
      defineValue(rt, "connectNative", function () {
        const port = apply(cn, rt, arguments);
        try { track(port, "runtime.connectNative", { __proto__: null, name: hostName(arguments[0]) }); } catch (e) { /* never break the extension */ }
        return port;
      });
    }
    const snm = rt.sendNativeMessage;
    if (typeof snm === "function") {
      defineValue(rt, "sendNativeMessage", function () { return sendWatched(snm, rt, arguments, "runtime.sendNativeMessage"); });
    }
  }

  // Keep the real addListener functions for the Go listeners before wrapping.
  const evAdd = { __proto__: null };
  const evNames = ["onConnect", "onConnectExternal", "onMessage", "onMessageExternal"];
  const namespaces = [browserNS, chromeNS];
  for (let n = 0; n < namespaces.length; n++) {
    const ns = namespaces[n];
    if (!ns || !ns.runtime) continue;
    for (let i = 0; i < evNames.length; i++) {
      const k = evNames[i];
      const ev = ns.runtime[k];
      if (ev && !evAdd[k]) evAdd[k] = { ev, add: ev.addListener, remove: ev.removeListener };
    }
  }
  // And the real sendMessage functions, for Go's own sends.
  const realSend = { __proto__: null };
  {
    const ns = isFirefox ? browserNS : chromeNS;
    if (ns && ns.runtime && typeof ns.runtime.sendMessage === "function") realSend.runtime = { obj: ns.runtime, fn: ns.runtime.sendMessage };
    if (ns && ns.tabs && typeof ns.tabs.sendMessage === "function") realSend.tabs = { obj: ns.tabs, fn: ns.tabs.sendMessage };
  }
  wrapNamespace(browserNS);
  if (chromeNS !== browserNS) wrapNamespace(chromeNS);

  // ---- promises, without the realm's Promise methods ----------------------
  // whenDone calls ok(value) once v settles, or fail(error). v's own
  // `constructor` is set to undefined so that the captured then, whose
  // species lookup reads it, makes a plain promise whatever the extension
  // did to Promise.prototype.constructor or Promise[Symbol.species]. A
  // value that is not a promise is ok at once. ok and fail return nothing, so
  // the promise then makes resolves without looking anything up.
  function whenDone(v, ok, fail) {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) { ok(v); return; }
    try {
      defineProperty(v, "constructor", { __proto__: null, value: undefined, configurable: true, writable: true });
    } catch (e) { /* not ours to change: then still works on a promise */ }
    try {
      promiseThen(v, (x) => { ok(x); }, (e) => { fail(e); });
    } catch (e) {
      ok(v); // not a promise
    }
  }
  // callAPI calls an extension API function and observes its promise (chrome.*
  // in Chromium returns promises in MV3; browser.* always does).
  function callAPI(ns, fn, args, ok, fail) {
    let v;
    try { v = apply(fn, ns, args); } catch (e) { fail(e); return; }
    whenDone(v, ok, fail);
  }

  // ---- commands from Go ---------------------------------------------------
  const goListeners = new MapCtor(); // Go's listeners in this realm: id → [{e, fn}]
  const goKinds = new MapCtor(); // id → "c" (onConnect) or "m" (onMessage), for keepArmed
  const inbox = new MapCtor(); // messages Go's onMessage listeners got, by id, until Go responds

  // goListen adds Go's runtime.onConnect and onConnectExternal listeners
  // with id l: each port they get is reported as accepted by l.
  function goListen(l) {
    const fns = [];
    const names = ["onConnect", "onConnectExternal"];
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      const e = evAdd[k];
      if (!e) continue;
      const fn = (port) => {
        const rec = track(port, k);
        rec.go = true;
        send({ t: "acc", l, p: rec.id }, true);
      };
      apply(e.add, e.ev, [fn]);
      push(fns, { e, fn });
    }
    mapSet(goListeners, l, fns);
    mapSet(goKinds, l, "c");
  }

  // goOnMessage adds Go's runtime.onMessage and onMessageExternal listeners
  // with id l. They keep the channel open for Go's Respond: they return
  // true, as a listener that answers later with sendResponse does, in both
  // browsers (a returned promise would win over the extension's own
  // sendResponse in Firefox). So the first answer wins, whoever gives it.
  function goOnMessage(l) {
    const fns = [];
    const names = ["onMessage", "onMessageExternal"];
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      const e = evAdd[k];
      if (!e) continue;
      const fn = (msg, sender, sendResponse) => {
        const m = nextMsg++;
        mapSet(inbox, m, sendResponse);
        send({ t: "inbox", l, m, d: msg === undefined ? null : msg, sender, ext: k === "onMessageExternal" }, true);
        return true;
      };
      apply(e.add, e.ev, [fn]);
      push(fns, { e, fn });
    }
    mapSet(goListeners, l, fns);
    mapSet(goKinds, l, "m");
  }

  // ---- Go's background listeners outlive the background -------------------
  // A background that stops takes Go's listeners with it; the next one must
  // have them before the extension's first event, as the browser delivers
  // that event (the connection or message that woke it) only to listeners
  // added by then. Where the realm has synchronous storage (Firefox's event
  // page: localStorage), it keeps their ids there and adds them again at
  // once, saying so in its hello. Elsewhere (Chromium's service worker) Go
  // adds them again as soon as the bridge connects, and the ports the
  // extension's own listeners received meanwhile are reported to them too
  // (replayEarly), as the browser gives a port to every listener.
  const ARM_KEY = "__extbridge_listeners";
  let store = null;
  if (CFG.realm === "background" && storageGet) {
    try { store = G.localStorage || null; } catch (e) { store = null; }
  }
  function keepArmed() {
    if (!store) return;
    try {
      const ids = [];
      mapForEach(goKinds, (k, l) => { push(ids, { l, k }); });
      if (ids.length === 0) storageRemove(store, ARM_KEY);
      else storageSet(store, ARM_KEY, stringify(ids));
    } catch (e) { /* storage full or gone: Go adds them again after the hello */ }
  }
  const armedIds = [];
  if (store) {
    try {
      const raw = storageGet(store, ARM_KEY);
      const list = typeof raw === "string" ? parse(raw) : null;
      if (isArray(list)) {
        for (let i = 0; i < list.length; i++) {
          const x = list[i];
          const l = own(x, "l"), k = own(x, "k");
          if (typeof l !== "number" || mapGet(goListeners, l)) continue;
          if (k === "c") goListen(l); else if (k === "m") goOnMessage(l); else continue;
          push(armedIds, l);
        }
      }
    } catch (e) { /* nothing kept */ }
  }
  // earlyPorts are the ports the extension's own onConnect listeners got
  // since the realm started, until EARLY_MS later: Go's listeners added
  // again after that get them too.
  const EARLY_MS = 10000;
  let earlyPorts = CFG.realm === "background" ? [] : null;
  if (earlyPorts !== null) setT(() => { earlyPorts = null; }, EARLY_MS);
  function replayEarly(l) {
    if (earlyPorts === null) return;
    const ports = earlyPorts;
    for (let i = 0; i < ports.length; i++) {
      const rec = ports[i];
      if (!rec.open) continue;
      rec.go = true;
      send({ t: "acc", l, p: rec.id }, true);
    }
  }
  const scripting = () => (browserNS && browserNS.scripting) || (chromeNS && chromeNS.scripting);

  function reply(i, ok, err) {
    if (err !== undefined) send({ t: "r", i, err: messageOf(err) }, true);
    else send({ t: "r", i, ok: ok === undefined ? null : ok }, true);
  }

  // run carries out a command and answers with done(ok) or fail(err), now or
  // later.
  function run(c, a, done, fail) {
    switch (c) {
      case "connect": {
        const info = {};
        const name = own(a, "name"), ext = own(a, "ext");
        if (name !== undefined) info.name = name;
        if (own(a, "tls")) info.includeTlsChannelId = true;
        const port = ext ? real.connect([ext, info]) : real.connect([info]);
        done(track(port, "runtime.connect", ext ? { __proto__: null, target: ext, go: true } : { __proto__: null, go: true }).id);
        return;
      }
      case "cnative": {
        if (!real.connectNative) throw new ErrorCtor("runtime.connectNative is not available in this realm (it needs the nativeMessaging permission, and Chromium has none in content scripts)");
        const host = own(a, "host");
        done(track(real.connectNative([host]), "runtime.connectNative", { __proto__: null, name: host, go: true }).id);
        return;
      }
      case "tconnect": {
        if (!real.tabsConnect) throw new ErrorCtor("tabs.connect is not available in this realm");
        const info = {};
        const name = own(a, "name"), frame = own(a, "frame"), tab = own(a, "tab");
        if (name !== undefined) info.name = name;
        if (frame !== undefined && frame !== null) info.frameId = frame;
        done(track(real.tabsConnect([tab, info]), "tabs.connect", { __proto__: null, tab, go: true }).id);
        return;
      }
      case "listen": {
        const l = own(a, "l");
        if (!mapGet(goListeners, l)) goListen(l);
        if (own(a, "replay")) replayEarly(l);
        keepArmed();
        done(null);
        return;
      }
      case "unlisten":
      case "offmessage": {
        const l = own(a, "l");
        const fns = mapGet(goListeners, l);
        if (fns) {
          for (let i = 0; i < fns.length; i++) apply(fns[i].e.remove, fns[i].e.ev, [fns[i].fn]);
        }
        mapDelete(goListeners, l);
        mapDelete(goKinds, l);
        keepArmed();
        done(null);
        return;
      }
      case "realm": {
        // Which bridge realm runs in this tab and frame? Reads the mirror of
        // the isolated world the extension's content scripts share, and
        // injects the bridge there first when the page predates it.
        const sc = scripting();
        if (!sc) throw new ErrorCtor("the scripting API is not available");
        const tab = own(a, "tab"), frame = own(a, "frame");
        const target = { tabId: tab, frameIds: [frame] };
        const probe = () => { const b = globalThis.__extbridge; return b ? b.id : null; };
        const idOf = (res) => (res && res[0] ? res[0].result : null);
        const missing = () => new ErrorCtor("no content-script world in tab " + str(tab) + " frame " + str(frame));
        callAPI(sc, sc.executeScript, [{ target, func: probe }], (res) => {
          const id = idOf(res);
          if (id) { done(id); return; }
          callAPI(sc, sc.executeScript, [{ target, files: ["__extbridge/content.js"] }], () => {
            callAPI(sc, sc.executeScript, [{ target, func: probe }], (res2) => {
              const id2 = idOf(res2);
              if (id2) done(id2); else fail(missing());
            }, fail);
          }, fail);
        }, fail);
        return;
      }
      case "frames": {
        const wn = (browserNS && browserNS.webNavigation) || chromeNS.webNavigation;
        const tab = own(a, "tab");
        callAPI(wn, wn.getAllFrames, [{ tabId: tab }], (frames) => {
          if (!frames) { fail(new ErrorCtor("no tab with id " + str(tab))); return; }
          const out = [];
          for (let i = 0; i < frames.length; i++) {
            const f = frames[i];
            push(out, { id: f.frameId, parent: f.parentFrameId, url: f.url });
          }
          done(out);
        }, fail);
        return;
      }
      case "targets": {
        const d = chromeNS && chromeNS.debugger;
        if (!d) throw new ErrorCtor("the debugger API is not available");
        callAPI(d, d.getTargets, [], (list) => {
          const out = [];
          for (let i = 0; i < list.length; i++) {
            const x = list[i];
            if (x.tabId !== undefined) push(out, { id: x.id, tab: x.tabId });
          }
          done(out);
        }, fail);
        return;
      }
      case "send":
      case "tsend": {
        // Go sends as the realm's code would, with the browser's own
        // functions (not the wrapped ones: Go's sends are not the
        // extension's). Chromium is called with a callback, the form whose
        // lastError says "The message port closed before a response was
        // received." when nobody answers; Firefox with its promise. An
        // explicit extension id (null for this extension) keeps a string
        // message from being taken for one.
        const tabsSend = c === "tsend";
        const target = tabsSend ? realSend.tabs : realSend.runtime;
        if (!target) throw new ErrorCtor((tabsSend ? "tabs" : "runtime") + ".sendMessage is not available in this realm");
        const obj = target.obj, fn = target.fn;
        const msg = own(a, "msg");
        const args = [];
        if (tabsSend) {
          push(args, own(a, "tab"));
          push(args, msg);
          const frame = own(a, "frame");
          push(args, frame === undefined || frame === null ? {} : { frameId: frame });
        } else {
          const ext = own(a, "ext");
          push(args, ext ? ext : null);
          push(args, msg);
        }
        const ok = (v) => done(v === undefined ? {} : { v });
        const failed = (e) => done({ e: messageOf(e) });
        if (isFirefox) {
          callAPI(obj, fn, args, ok, failed);
          return;
        }
        push(args, (v) => {
          const le = lastErrorText();
          if (le) done({ e: le }); else ok(v);
        });
        try { apply(fn, obj, args); } catch (e) { failed(e); }
        return;
      }
      case "onmessage": {
        const l = own(a, "l");
        if (!mapGet(goListeners, l)) goOnMessage(l);
        keepArmed();
        done(null);
        return;
      }
      case "respond": {
        const m = own(a, "m");
        const sendResponse = mapGet(inbox, m);
        mapDelete(inbox, m);
        if (typeof sendResponse !== "function" || weakMapGet(answered, sendResponse)) { done(false); return; }
        markAnswered(sendResponse);
        apply(sendResponse, undefined, [own(a, "d")]);
        done(true);
        return;
      }
      case "flush":
        // Nothing to do: the reply flushes what is pending ahead of it.
        done(null);
        return;
      default:
        throw new ErrorCtor("unknown command " + str(c));
    }
  }

  function handle(cmd) {
    if (cmd === null || typeof cmd !== "object") return;
    // Port traffic takes the fast path: no promise, no reply.
    const c = own(cmd, "c");
    if (c === "post") {
      const p = own(cmd, "p");
      const rec = mapGet(byId, p);
      if (!rec) { send({ t: "perr", p, e: "Attempting to use a disconnected port object" }, true); return; }
      try { rec.post(own(cmd, "d")); } catch (e) { send({ t: "perr", p, e: messageOf(e) }, true); }
      return;
    }
    if (c === "watch") { // Go opened its first Watch, or closed its last
      watched = !!own(cmd, "on");
      flush();
      return;
    }
    if (c === "disc" || c === "release") {
      const rec = mapGet(byId, own(cmd, "p"));
      if (!rec) return;
      // release: a Go listener that no longer exists got the port (it was
      // closed while the port was on its way, or added again from storage
      // by a background that started after Go closed it). The port stays
      // the extension's if its own listener got it too, and is
      // disconnected otherwise, as the browser does a port no listener took.
      if (c === "release" && rec.own) { rec.go = false; return; }
      rec.open = false;
      mapDelete(byId, rec.id);
      try { rec.disc(); } catch (e) { /* already gone */ }
      return;
    }
    const i = own(cmd, "i");
    let answered = false;
    const done = (v) => { if (!answered) { answered = true; reply(i, v); } };
    const fail = (e) => { if (!answered) { answered = true; reply(i, undefined, e === undefined ? "undefined" : e); } };
    try {
      run(c, own(cmd, "a") || { __proto__: null }, done, fail);
    } catch (e) {
      fail(e);
    }
  }

  // ---- console output and uncaught errors of the extension's code --------
  const fmtArg = (a) => {
    if (typeof a === "string") return a;
    if (isErrorish(a)) return errText(a);
    try { const s = safeStringify(a); return s === undefined ? str(a) : s; } catch (e) { return str(a); }
  };
  if (con) {
    const levels = ["log", "info", "warn", "error", "debug"];
    for (let n = 0; n < levels.length; n++) {
      const level = levels[n];
      const orig = con[level];
      if (typeof orig !== "function") continue;
      defineValue(con, level, function () {
        try {
          let text = "";
          for (let i = 0; i < arguments.length; i++) text += (i ? " " : "") + fmtArg(arguments[i]);
          send({ t: "log", level, text: clip(text) });
        } catch (e) { /* keep logging */ }
        return apply(orig, con, arguments);
      });
    }
  }
  if (gAdd) {
    let own = "";
    try { own = new G.URL(api.runtime.getURL("/")).origin; } catch (e) { /* none */ }
    // In a content-script world the window also sees the page's errors:
    // keep only those from the extension's own files.
    onGlobal("error", (e) => {
      try {
        const file = errEvFilename ? errEvFilename(e) : "";
        if (CFG.realm === "content" && !(file && own && startsWith(str(file), own))) return;
        const err = errEvError ? errEvError(e) : undefined;
        // A listener's exception, reported already.
        if (err !== null && (typeof err === "object" || typeof err === "function")) {
          if (weakSetHas(reported, err)) return;
        } else if (thrownPrimitive && thrownPrimitive.v === err) {
          thrownPrimitive = null;
          return;
        }
        const text = err && stackOf(err) ? errText(err) : str(errEvMessage ? errEvMessage(e) : "");
        send({ t: "log", level: "uncaught", text: clip(text + (file ? " (" + str(file) + ":" + str(errEvLineno ? errEvLineno(e) : 0) + ")" : "")) });
      } catch (x) { /* keep going */ }
    });
    onGlobal("unhandledrejection", (e) => {
      if (CFG.realm === "content") return; // the page's promises are not the extension's
      try {
        const r = rejReason ? rejReason(e) : undefined;
        send({ t: "log", level: "unhandledrejection", text: clip(isErrorish(r) || (r && stackOf(r)) ? errText(r) : str(r)) });
      } catch (x) { /* keep going */ }
    });
    // A page that goes away sends what is pending first. One that goes into
    // the back/forward cache also leaves the wire, so that Go ends its
    // realm and its ports (the browser disconnects the extension's ports of
    // a cached page), and comes back as the same realm if it is restored.
    onGlobal("pagehide", (e) => {
      flush();
      try {
        if (persisted && persisted(e) && ws && wsClose) { isOpen = false; wsClose(ws); ws = null; }
      } catch (x) { /* keep going */ }
    }, true);
    onGlobal("pageshow", (e) => {
      try {
        if (persisted && persisted(e) && !ws) openWire();
      } catch (x) { /* keep going */ }
    }, true);
  }

  // settle(v) is what a driver's Eval needs from a realm whose Promise,
  // JSON and String may be broken: a promise (of the realm's own Promise)
  // of v's JSON once v settles ("null" for undefined), or rejected with
  // "Name: message" (or the value as text) if v rejects.
  function settle(v) {
    return new PromiseCtor((resolve, reject) => {
      whenDone(v, (x) => {
        let s;
        try { s = x === undefined ? "null" : safeStringify(x); } catch (e) { reject(thrownHead(e)); return; }
        resolve(typeof s === "string" ? s : "null");
      }, (e) => { reject(thrownHead(e)); });
    });
  }
  function thrownHead(e) {
    if (e !== null && typeof e === "object") {
      let name = "Error";
      try { if (e.name) name = str(e.name); } catch (x) { /* keep Error */ }
      try { if (isErrorish(e) || e.message !== undefined) return name + ": " + str(e.message); } catch (x) { /* fall through */ }
    }
    return str(e);
  }

  // json is the bridge's own serialiser and settle its own awaiting, for
  // drivers that evaluate code in the realm and must not trust the realm's
  // JSON or Promise.
  defineProperty(G, KEY, { __proto__: null, value: freeze({ __proto__: null, id: realmId, json: safeStringify, settle }), enumerable: false, writable: false, configurable: false });

  // ---- where the realm is --------------------------------------------------
  // A realm tells Go its tab and frame as soon as it learns them, in its
  // hello or else in a where frame: an extension page from tabs.getCurrent
  // (no tab outside a tab, as in a popup) and, in Firefox,
  // runtime.getFrameId(window); a content script only its frame, in Firefox.
  function learned(tab) {
    if (typeof tab === "number") helloTab = tab;
    if (!helloSent && holdHello) {
      holdHello = false;
      sayHello();
    } else if (helloSent && typeof tab === "number") {
      send({ t: "where", tab });
    }
  }
  if (CFG.realm === "page" || CFG.realm === "content") {
    try {
      const rt = api.runtime;
      if (typeof rt.getFrameId === "function" && typeof G.window === "object") {
        const f = rt.getFrameId(G.window);
        if (typeof f === "number" && f >= 0) helloFrame = f;
      }
    } catch (e) { /* not known */ }
    const tabsNS = api.tabs;
    if (CFG.realm === "page" && tabsNS && typeof tabsNS.getCurrent === "function") {
      holdHello = true;
      let answered = false;
      callAPI(tabsNS, tabsNS.getCurrent, [], (tab) => {
        answered = true;
        learned(tab && typeof tab.id === "number" ? tab.id : undefined);
      }, () => { answered = true; learned(undefined); });
      if (!answered) setT(() => { if (holdHello) learned(undefined); }, HOLD_MS);
    }
  }
  openWire();
})();
