// breakall: one script for every realm of the extension (the background,
// every frame's content script, page.html). It registers its listeners,
// opens its own port (the content script as "breakall-cs", the page as
// "breakall-page"), then breaks every builtin a bridge might use: it walks
// the prototypes and statics of those builtins and replaces every
// configurable own method and accessor it finds (string and symbol keys)
// with one that throws. After that its own code uses only what it saved
// before, and its ports.
//
// Echo: every end it holds answers each message m with {echo: m, realm}
// unless m is itself an echo (an object with an "echo" key). In the
// background, {cmd: "open", path} also opens the extension's page path in a
// new tab, and {cmd: "close", tab} closes that tab.
//
// Observable state: globalThis.brokenCount is how many members it replaced,
// globalThis.brokenKept how many it found but left (see keep below); it
// logs "breakall: <realm> replaced N builtin members (K kept)" and the
// content script and page post {realm, broken: N} on their own port.

const api = globalThis.browser ?? globalThis.chrome;

(() => {
  const G = globalThis;
  const realm = typeof document !== "undefined" && document.documentElement &&
    document.documentElement.getAttribute("data-breakall") === "page" ? "page" :
    typeof location !== "undefined" && !location.protocol.endsWith("-extension:") ? "content" : "background";

  // What it needs after breaking everything, saved first.
  const rApply = Reflect.apply;
  const log = console.log.bind(console);
  const tabs = api.tabs;
  const tabsCreate = tabs && tabs.create, tabsRemove = tabs && tabs.remove;
  const getURL = api.runtime.getURL;
  const isEcho = (m) => m !== null && typeof m === "object" && "echo" in m;

  const echo = (port) => {
    port.onMessage.addListener((m) => {
      if (isEcho(m)) return;
      if (realm === "background" && m !== null && typeof m === "object") {
        if (m.cmd === "open") rApply(tabsCreate, tabs, [{url: rApply(getURL, api.runtime, [m.path])}]);
        if (m.cmd === "close") rApply(tabsRemove, tabs, [m.tab]);
      }
      port.postMessage({echo: m, realm});
    });
  };
  if (realm !== "page") api.runtime.onConnect.addListener(echo); // pages would receive the content scripts' ports too
  let own = null;
  if (realm !== "background") {
    own = api.runtime.connect({name: "breakall-" + (realm === "content" ? "cs" : "page")});
    echo(own);
  }

  const counts = breakAll();
  G.brokenCount = counts.replaced;
  G.brokenKept = counts.kept;
  log("breakall: " + realm + " replaced " + counts.replaced + " builtin members (" + counts.kept + " kept)");
  if (own) own.postMessage({realm, broken: counts.replaced});

  // breakAll replaces every configurable own method and accessor of the
  // builtins below with a thrower and returns how many it replaced and kept.
  function breakAll() {
    const names = Object.getOwnPropertyNames, symbols = Object.getOwnPropertySymbols;
    const describe = Object.getOwnPropertyDescriptor, define = Object.defineProperty, protoOf = Object.getPrototypeOf;
    const Str = String, TypeErr = TypeError;

    const targets = [];
    const globals = ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "structuredClone"];
    const add = (label, obj) => {
      if (obj !== null && obj !== undefined && (typeof obj === "object" || typeof obj === "function")) {
        targets[targets.length] = {label, obj};
        if (label.indexOf(".") < 0 && label[0] !== "%") globals[globals.length] = label; // a global's name
      }
    };
    const addClass = (label, ctor) => {
      if (typeof ctor !== "function") return;
      add(label, ctor);
      add(label + ".prototype", ctor.prototype);
    };
    addClass("Object", Object);
    add("Reflect", Reflect);
    add("Function.prototype", Function.prototype);
    addClass("Array", Array);
    const arrayIter = protoOf([][Symbol.iterator]());
    add("%ArrayIteratorPrototype%", arrayIter);
    add("%IteratorPrototype%", protoOf(arrayIter));
    addClass("Map", Map);
    add("%MapIteratorPrototype%", protoOf(new Map()[Symbol.iterator]()));
    addClass("Set", Set);
    add("%SetIteratorPrototype%", protoOf(new Set()[Symbol.iterator]()));
    addClass("WeakMap", WeakMap);
    addClass("WeakSet", WeakSet);
    addClass("Promise", Promise);
    add("JSON", JSON);
    addClass("String", String);
    add("%StringIteratorPrototype%", protoOf(""[Symbol.iterator]()));
    addClass("Number", Number);
    add("Math", Math);
    addClass("Symbol", Symbol);
    addClass("Error", Error);
    addClass("WebSocket", G.WebSocket);
    addClass("EventTarget", G.EventTarget);
    addClass("Event", G.Event);
    addClass("MessageEvent", G.MessageEvent);
    addClass("ErrorEvent", G.ErrorEvent);
    addClass("PromiseRejectionEvent", G.PromiseRejectionEvent);
    add("crypto", G.crypto);
    addClass("Crypto", G.Crypto);
    add("console", G.console);

    // keep says which members stay: the ones whose replacement would stop
    // the browser itself from delivering events to the realm (none known).
    const keep = () => false;

    let replaced = 0, kept = 0;
    const thrower = (what) => function () { throw new TypeErr("breakall: " + what + " is broken"); };
    const replace = (obj, key, label) => {
      const d = describe(obj, key);
      if (!d || !d.configurable) return;
      if (keep(label)) { kept++; return; }
      if (d.get || d.set) {
        define(obj, key, {get: thrower(label + " (get)"), set: thrower(label + " (set)"), enumerable: d.enumerable, configurable: true});
      } else if (typeof d.value === "function") {
        define(obj, key, {value: thrower(label), writable: d.writable, enumerable: d.enumerable, configurable: true});
      } else {
        return;
      }
      replaced++;
    };
    for (let t = 0; t < targets.length; t++) {
      const {label, obj} = targets[t];
      const ns = names(obj), ss = symbols(obj);
      for (let i = 0; i < ns.length; i++) replace(obj, ns[i], label + "." + ns[i]);
      for (let i = 0; i < ss.length; i++) replace(obj, ss[i], label + "[" + Str(ss[i]) + "]");
    }
    // The timers are the global's own (or, in a Firefox content script,
    // its window's): replace them on the global, as zone.js does; and the
    // global bindings of the builtins walked above (globalThis.Map,
    // globalThis.JSON, …), as a polyfill that swaps a constructor does.
    for (let i = 0; i < globals.length; i++) {
      const k = globals[i];
      if (!(k in G)) continue;
      const d = describe(G, k);
      if (d && !d.configurable) continue;
      if (keep("globalThis." + k)) { kept++; continue; }
      define(G, k, {value: thrower("globalThis." + k), writable: true, enumerable: d ? d.enumerable : true, configurable: true});
      replaced++;
    }
    return {replaced, kept};
  }
})();
