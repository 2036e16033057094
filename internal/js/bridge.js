// extbridge bridge script. It runs first in every realm of an instrumented
// extension (service worker or background page, content scripts, extension
// pages), wraps the port APIs so every live port gets a mirror id, and reports
// every port event to the Go process over a loopback WebSocket.
//
// The Go side replaces the CONFIG placeholder with {url, token, ext, realm}.
// The script must run as a classic script and as a module, so it uses no
// import/export and touches only globalThis.
(() => {
  "use strict";
  const CFG = /*EXTBRIDGE_CONFIG*/ null;
  const G = globalThis;
  // The realm's mark: a fixed, non-configurable global of this world (an
  // isolated world's globals are invisible to the page). A string key, not
  // Symbol.for, which extension code may replace.
  const KEY = "__extbridge";
  if (!CFG || G[KEY]) return; // one bridge per world

  // Keep our own references: extension code that runs later may replace any
  // of these globals, and a hostile page shares nothing with an isolated world.
  const WS = G.WebSocket;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const fnApply = Function.prototype.call.bind(Function.prototype.apply);
  const wm = new WeakMap();
  const wmGet = WeakMap.prototype.get, wmSet = WeakMap.prototype.set;
  // Extension code may replace these after startup too.
  const assign = Object.assign;
  const arrPush = Array.prototype.push, arrSplice = Array.prototype.splice, arrJoin = Array.prototype.join;
  const getMirror = (port) => fnApply(wmGet, wm, [port]);
  const setMirror = (port, rec) => fnApply(wmSet, wm, [port, rec]);
  const chromeNS = G.chrome && G.chrome.runtime ? G.chrome : null;
  const browserNS = G.browser && G.browser.runtime ? G.browser : null;
  const api = browserNS || chromeNS;
  if (!api || typeof WS !== "function") return;

  const rand = new Uint8Array(16);
  G.crypto.getRandomValues(rand);
  const realmId = Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("");

  // ---- the wire -----------------------------------------------------------
  let ws = null;
  let isOpen = false;
  const backlog = [];
  function sendRaw(s) {
    if (isOpen) {
      try { ws.send(s); } catch (e) { /* closed under us */ }
    } else if (ws) {
      fnApply(arrPush, backlog, [s]);
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
  const setT = G.setTimeout, clearT = G.clearTimeout;
  const pending = [];
  let pendingBytes = 0;
  let timer = null;
  let watched = false;
  function flush() {
    if (timer !== null) { clearT(timer); timer = null; }
    if (pending.length === 0) return;
    const frame = pending.length === 1 ? pending[0] : fnApply(arrJoin, pending, ["\n"]);
    pending.length = 0;
    pendingBytes = 0;
    sendRaw(frame);
  }
  function send(obj, urgent) {
    const s = safeStringify(obj);
    fnApply(arrPush, pending, [s]);
    pendingBytes += s.length;
    if (urgent || pending.length >= FLUSH_MAX || pendingBytes >= FLUSH_BYTES) {
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
      const seen = new WeakSet();
      return stringify(obj, function (k, v) {
        if (typeof v === "bigint") return v.toString();
        if (v && typeof v === "object") {
          if (seen.has(v)) return null;
          seen.add(v);
        }
        return v;
      });
    }
  }

  let topFrame = true;
  try { topFrame = G.top === G.self; } catch (e) { topFrame = false; }
  let href = "";
  try { href = String(G.location && G.location.href); } catch (e) { /* none */ }

  function openWire() {
    try {
      ws = new WS(CFG.url);
    } catch (e) {
      return;
    }
    backlog.unshift(stringify({
      t: "hello", token: CFG.token, ext: CFG.ext, realm: CFG.realm, id: realmId,
      url: href, top: topFrame, rid: api.runtime.id,
    }));
    ws.onopen = () => {
      isOpen = true;
      for (const s of fnApply(arrSplice, backlog, [0])) ws.send(s);
    };
    ws.onmessage = (ev) => {
      let cmd;
      try { cmd = parse(ev.data); } catch (e) { return; }
      if (Array.isArray(cmd)) { for (const c of cmd) handle(c); } else handle(cmd);
    };
    ws.onclose = () => { isOpen = false; };
  }

  // ---- port mirrors -------------------------------------------------------
  let nextId = 1;
  const byId = new Map();

  function errorOf(port) {
    // Firefox sets port.error; Chrome sets runtime.lastError during onDisconnect.
    if (port.error && port.error.message) return String(port.error.message);
    const le = chromeNS && chromeNS.runtime.lastError;
    if (le && le.message) return String(le.message);
    return "";
  }

  // track gives a port its mirror id (once) and reports every event on it.
  function track(port, how, extra) {
    let rec = getMirror(port);
    if (rec) return rec;
    const origPost = port.postMessage;
    const origDisc = port.disconnect;
    rec = {
      id: nextId++, port, open: true,
      post: (m) => fnApply(origPost, port, [m]),
      disc: () => fnApply(origDisc, port, []),
    };
    setMirror(port, rec);
    byId.set(rec.id, rec);
    const ev = { t: "open", p: rec.id, how, name: port.name };
    if (port.sender) ev.sender = port.sender;
    if (extra) assign(ev, extra);
    rec.go = !!(extra && extra.go); // Go holds this end: its events are urgent
    send(ev, rec.go);
    port.onMessage.addListener((m) => {
      if (rec.open) send({ t: "msg", p: rec.id, d: m === undefined ? null : m }, rec.go);
    });
    port.onDisconnect.addListener(() => {
      if (!rec.open) return;
      rec.open = false;
      byId.delete(rec.id);
      send({ t: "disc", p: rec.id, e: errorOf(port) }, rec.go);
    });
    // The extension's own calls on the port are reported too.
    try {
      port.postMessage = function (m) {
        const r = fnApply(origPost, port, [m]);
        if (rec.open) send({ t: "out", p: rec.id, d: m === undefined ? null : m });
        return r;
      };
      port.disconnect = function () {
        const r = fnApply(origDisc, port, []);
        if (rec.open) {
          rec.open = false;
          byId.delete(rec.id);
          send({ t: "disc", p: rec.id, e: "", self: true });
        }
        return r;
      };
    } catch (e) { /* a frozen port: events are still reported */ }
    return rec;
  }

  // ---- wrapping the extension's APIs ---------------------------------------
  function defineValue(obj, key, value) {
    try {
      Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: true });
    } catch (e) {
      try { obj[key] = value; } catch (e2) { /* leave it */ }
    }
  }

  // wrapEvent makes every listener of a runtime.onConnect-like event see its
  // port through track first. The same port reaches all listeners, so it gets
  // one mirror.
  function wrapEvent(event, how) {
    if (!event || event.__extbridgeWrapped) return;
    const add = event.addListener, remove = event.removeListener, has = event.hasListener;
    const wrappers = new Map();
    const wrapperFor = (fn) => {
      let w = wrappers.get(fn);
      if (!w) {
        w = function (port, ...rest) {
          try { track(port, how); } catch (e) { /* never break the extension */ }
          return fnApply(fn, this, [port, ...rest]);
        };
        wrappers.set(fn, w);
      }
      return w;
    };
    defineValue(event, "addListener", function (fn, ...rest) {
      if (typeof fn !== "function") return fnApply(add, event, [fn, ...rest]);
      return fnApply(add, event, [wrapperFor(fn), ...rest]);
    });
    defineValue(event, "removeListener", function (fn) {
      const w = wrappers.get(fn);
      if (!w) return fnApply(remove, event, [fn]);
      wrappers.delete(fn);
      return fnApply(remove, event, [w]);
    });
    defineValue(event, "hasListener", function (fn) {
      const w = wrappers.get(fn);
      return fnApply(has, event, [w || fn]);
    });
    defineValue(event, "__extbridgeWrapped", true);
  }

  const real = {};
  function wrapNamespace(ns) {
    if (!ns) return;
    const rt = ns.runtime;
    if (rt && typeof rt.connect === "function") {
      const connect = rt.connect;
      if (!real.connect) real.connect = (...a) => fnApply(connect, rt, a);
      defineValue(rt, "connect", function (...args) {
        const port = fnApply(connect, rt, args);
        try {
          const extId = typeof args[0] === "string" ? args[0] : "";
          track(port, "runtime.connect", extId ? { target: extId } : undefined);
        } catch (e) { /* never break the extension */ }
        return port;
      });
    }
    if (rt) {
      wrapEvent(rt.onConnect, "onConnect");
      wrapEvent(rt.onConnectExternal, "onConnectExternal");
    }
    if (rt) wrapNative(rt);
    const tabs = ns.tabs;
    if (tabs && typeof tabs.connect === "function") {
      const tconnect = tabs.connect;
      if (!real.tabsConnect) real.tabsConnect = (...a) => fnApply(tconnect, tabs, a);
      defineValue(tabs, "connect", function (...args) {
        const port = fnApply(tconnect, tabs, args);
        try { track(port, "tabs.connect", { tab: args[0] }); } catch (e) { /* keep going */ }
        return port;
      });
    }
  }
  // ---- native messaging ---------------------------------------------------
  // wrapNative reports the realm's native ports and one-off native messages.
  // runtime.connectNative and sendNativeMessage exist only with the
  // nativeMessaging permission (and not in Chromium's content scripts);
  // where they are missing nothing is added. A call the browser refuses
  // (it throws) is reported as nothing: no port or message left the realm.
  // A native port's name is the host's name even where the browser's
  // port.name is "" (Chromium).
  let nextNativeSend = 1; // the ids of sendNativeMessage's send/resp frames
  const thenP = Promise.prototype.then;
  function hostName(app) {
    if (typeof app === "string") return app;
    if (app && typeof app === "object" && typeof app.application === "string") return app.application;
    return String(app);
  }
  function wrapNative(rt) {
    const cn = rt.connectNative;
    if (typeof cn === "function") {
      if (!real.connectNative) real.connectNative = (args) => fnApply(cn, rt, args);
      defineValue(rt, "connectNative", function () {
        const port = fnApply(cn, rt, arguments);
        try { track(port, "runtime.connectNative", { name: hostName(arguments[0]) }); } catch (e) { /* never break the extension */ }
        return port;
      });
    }
    const snm = rt.sendNativeMessage;
    if (typeof snm !== "function") return;
    defineValue(rt, "sendNativeMessage", function () {
      const args = [];
      for (let i = 0; i < arguments.length; i++) args[i] = arguments[i];
      const id = nextNativeSend++;
      const resp = (f) => { f.t = "resp"; f.s = id; send(f); };
      const failed = (e) => resp({ e: String(e && e.message !== undefined ? e.message : e) });
      const answered = (v) => resp(v === undefined ? { nr: true } : { d: v });
      // The callback form (chrome.*): report before the extension's
      // callback runs, with runtime.lastError as the browser set it.
      const cb = args.length > 2 && typeof args[args.length - 1] === "function" ? args[args.length - 1] : null;
      if (cb) {
        args[args.length - 1] = function (v) {
          try {
            const le = chromeNS && chromeNS.runtime.lastError;
            if (le) failed(le); else answered(v);
          } catch (e) { /* never break the extension */ }
          return fnApply(cb, this, arguments);
        };
      }
      const r = fnApply(snm, rt, args);
      try {
        const ev = { t: "send", s: id, how: "runtime.sendNativeMessage", d: args[1] === undefined ? null : args[1], target: hostName(args[0]) };
        send(ev);
      } catch (e) { /* keep going */ }
      if (cb || !r || typeof r.then !== "function") return r;
      // The promise form: the caller gets a promise that settles as the
      // browser's does, one step later, so a rejection nobody handles is
      // still reported as unhandled.
      return fnApply(thenP, r, [(v) => { answered(v); return v; }, (e) => { failed(e); throw e; }]);
    });
  }

  // Keep the real addListener functions for the Go listeners before wrapping.
  const evAdd = {};
  for (const ns of [browserNS, chromeNS]) {
    if (!ns || !ns.runtime) continue;
    for (const k of ["onConnect", "onConnectExternal"]) {
      const ev = ns.runtime[k];
      if (ev && !evAdd[k]) evAdd[k] = { ev, add: ev.addListener, remove: ev.removeListener };
    }
  }
  wrapNamespace(browserNS);
  if (chromeNS !== browserNS) wrapNamespace(chromeNS);

  // ---- commands from Go ---------------------------------------------------
  const goListeners = new Map();
  const scripting = () => (browserNS && browserNS.scripting) || (chromeNS && chromeNS.scripting);
  const call = (ns, fn, args) => {
    // chrome.* in Chromium returns promises in MV3; browser.* always does.
    return Promise.resolve(fnApply(fn, ns, args));
  };

  function reply(i, ok, err) {
    if (err !== undefined) send({ t: "r", i, err: String(err && err.message ? err.message : err) }, true);
    else send({ t: "r", i, ok: ok === undefined ? null : ok }, true);
  }

  async function run(c, a) {
    switch (c) {
      case "connect": {
        const info = {};
        if (a.name !== undefined) info.name = a.name;
        if (a.tls) info.includeTlsChannelId = true;
        const port = a.ext ? real.connect(a.ext, info) : real.connect(info);
        return track(port, "runtime.connect", a.ext ? { target: a.ext, go: true } : { go: true }).id;
      }
      case "cnative": {
        if (!real.connectNative) throw new Error("runtime.connectNative is not available in this realm (it needs the nativeMessaging permission, and Chromium has none in content scripts)");
        return track(real.connectNative([a.host]), "runtime.connectNative", { name: a.host, go: true }).id;
      }
      case "tconnect": {
        if (!real.tabsConnect) throw new Error("tabs.connect is not available in this realm");
        const info = {};
        if (a.name !== undefined) info.name = a.name;
        if (a.frame !== undefined && a.frame !== null) info.frameId = a.frame;
        return track(real.tabsConnect(a.tab, info), "tabs.connect", { tab: a.tab, go: true }).id;
      }
      case "listen": {
        const l = a.l;
        const fns = [];
        for (const k of ["onConnect", "onConnectExternal"]) {
          const e = evAdd[k];
          if (!e) continue;
          const fn = (port) => {
            const rec = track(port, k);
            rec.go = true;
            send({ t: "acc", l, p: rec.id }, true);
          };
          fnApply(e.add, e.ev, [fn]);
          fns.push([e, fn]);
        }
        goListeners.set(l, fns);
        return null;
      }
      case "unlisten": {
        for (const [e, fn] of goListeners.get(a.l) || []) fnApply(e.remove, e.ev, [fn]);
        goListeners.delete(a.l);
        return null;
      }
      case "realm": {
        // Which bridge realm runs in this tab and frame? Reads the mirror of
        // the isolated world the extension's content scripts share, and
        // injects the bridge there first when the page predates it.
        const sc = scripting();
        if (!sc) throw new Error("the scripting API is not available");
        const target = { tabId: a.tab, frameIds: [a.frame] };
        const probe = () => { const b = globalThis.__extbridge; return b ? b.id : null; };
        let res = await call(sc, sc.executeScript, [{ target, func: probe }]);
        let id = res && res[0] ? res[0].result : null;
        if (!id) {
          await call(sc, sc.executeScript, [{ target, files: ["__extbridge/content.js"] }]);
          res = await call(sc, sc.executeScript, [{ target, func: probe }]);
          id = res && res[0] ? res[0].result : null;
        }
        if (!id) throw new Error(`no content-script world in tab ${a.tab} frame ${a.frame}`);
        return id;
      }
      case "frames": {
        const wn = (browserNS && browserNS.webNavigation) || chromeNS.webNavigation;
        const frames = await call(wn, wn.getAllFrames, [{ tabId: a.tab }]);
        if (!frames) throw new Error(`no tab with id ${a.tab}`);
        return frames.map((f) => ({ id: f.frameId, parent: f.parentFrameId, url: f.url }));
      }
      case "targets": {
        const d = chromeNS && chromeNS.debugger;
        if (!d) throw new Error("the debugger API is not available");
        const list = await call(d, d.getTargets, []);
        return list.filter((x) => x.tabId !== undefined).map((x) => ({ id: x.id, tab: x.tabId }));
      }
      case "flush":
        // Nothing to do: the reply flushes what is pending ahead of it.
        return null;
      default:
        throw new Error(`unknown command ${c}`);
    }
  }

  function handle(cmd) {
    // Port traffic takes the fast path: no promise, no reply.
    if (cmd.c === "post") {
      const rec = byId.get(cmd.p);
      if (!rec) { send({ t: "perr", p: cmd.p, e: "Attempting to use a disconnected port object" }, true); return; }
      try { rec.post(cmd.d); } catch (e) { send({ t: "perr", p: cmd.p, e: String(e && e.message ? e.message : e) }, true); }
      return;
    }
    if (cmd.c === "watch") { // Go opened its first Watch, or closed its last
      watched = !!cmd.on;
      flush();
      return;
    }
    if (cmd.c === "disc") {
      const rec = byId.get(cmd.p);
      if (!rec) return;
      rec.open = false;
      byId.delete(rec.id);
      try { rec.disc(); } catch (e) { /* already gone */ }
      return;
    }
    let p;
    try {
      p = Promise.resolve(run(cmd.c, cmd.a || {}));
    } catch (e) {
      reply(cmd.i, undefined, e);
      return;
    }
    p.then((v) => reply(cmd.i, v), (e) => reply(cmd.i, undefined, e === undefined ? "undefined" : e));
  }

  // ---- console output and uncaught errors of the extension's code --------
  // An error as "Name: message" and its stack: Chrome's stack starts with
  // that line, Firefox's stack has only the frames.
  const errText = (err) => {
    const head = String(err), st = err && err.stack ? String(err.stack) : "";
    return !st || st.startsWith(head) ? (st || head) : head + "\n" + st;
  };
  const fmtArg = (a) => {
    if (typeof a === "string") return a;
    if (a instanceof Error) return errText(a);
    try { const s = safeStringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); }
  };
  const clip = (s) => (s.length > 8192 ? s.slice(0, 8192) + "…" : s);
  const con = G.console;
  if (con) {
    for (const level of ["log", "info", "warn", "error", "debug"]) {
      const orig = con[level];
      if (typeof orig !== "function") continue;
      defineValue(con, level, function (...args) {
        try { send({ t: "log", level, text: clip(args.map(fmtArg).join(" ")) }); } catch (e) { /* keep logging */ }
        return fnApply(orig, con, args);
      });
    }
  }
  if (typeof G.addEventListener === "function") {
    let own = "";
    try { own = new URL(api.runtime.getURL("/")).origin; } catch (e) { /* none */ }
    // In a content-script world the window also sees the page's errors:
    // keep only those from the extension's own files.
    G.addEventListener("error", (e) => {
      if (CFG.realm === "content" && !(e.filename && own && String(e.filename).startsWith(own))) return;
      send({ t: "log", level: "uncaught", text: clip((e.error && e.error.stack ? errText(e.error) : String(e.message)) + (e.filename ? ` (${e.filename}:${e.lineno})` : "")) });
    });
    G.addEventListener("unhandledrejection", (e) => {
      if (CFG.realm === "content") return; // the page's promises are not the extension's
      const r = e.reason;
      send({ t: "log", level: "unhandledrejection", text: clip(r && r.stack ? errText(r) : String(r)) });
    });
  }

  // A page that goes away sends what is pending first.
  if (typeof G.addEventListener === "function") G.addEventListener("pagehide", flush, true);

  // json is the bridge's own serialiser, for drivers that evaluate code in
  // the realm and must not trust the realm's JSON.
  Object.defineProperty(G, KEY, { value: Object.freeze({ id: realmId, json: safeStringify }), enumerable: false, writable: false, configurable: false });
  openWire();
})();
