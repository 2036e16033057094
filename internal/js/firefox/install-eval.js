/* Loads a process script into every content process (the extension process
   included). It evaluates the code eval.js sends, where the extension's
   content security policy, which forbids eval, does not apply:
   - the background: in the event page's own global, with the Debugger API
     (Debugger.Object.executeInGlobal, what the DevTools console does), so
     the code runs as if the page ran it: top-level declarations become the
     page's globals and errors thrown later by its callbacks are the page's
     uncaught errors. The page is a debuggee only during the call;
   - an extension page (a tab, a popup): like the background, in the
     page's own global, optionally only if the bridge realm there has the
     id the caller gives;
   - a content-script world: Cu.evalInSandbox in the content script's own
     global (a sandbox), found by the id of the bridge that runs in it;
   - "locate": the id of the bridge in the extension's content-script
     sandbox of a frame's document, or null (no code runs).
   Both hand the value to the same serializer in the realm: the bridge's own
   settle (which uses only what the bridge captured at start-up, so a realm
   whose Promise or JSON the extension broke still answers), else the
   realm's: a promise is awaited, then the value is JSON-encoded as the
   bridge does it (undefined becomes null, a BigInt its decimal string, a
   cycle null).

   Called with BiDi script.callFunction in the chrome scope of the browser
   window (Firefox runs with --remote-allow-system-access). */
() => {
  const child = () => {
    const ser = "(v) => globalThis.__extbridge?.settle ? globalThis.__extbridge.settle(v) : Promise.resolve(v).then((v) => { if (v === undefined) return 'null'; " +
      "const b = globalThis.__extbridge; if (b && b.json) return b.json(v) ?? 'null'; " +
      "try { return JSON.stringify(v) ?? 'null'; } catch (e) { const seen = new WeakSet(); " +
      "return JSON.stringify(v, (k, x) => { if (typeof x === 'bigint') return x.toString(); " +
      "if (x && typeof x === 'object') { if (seen.has(x)) return null; seen.add(x); } return x; }) ?? 'null'; } }, " +
      "(e) => { throw (e instanceof Error || (e && e.message !== undefined)) ? String(e.name || 'Error') + ': ' + String(e.message) : String(e); })";
    let Debugger;
    const inPage = (w, code) => {
      if (!Debugger) {
        const sb = Cu.Sandbox(Services.scriptSecurityManager.getSystemPrincipal(), {freshCompartment: true});
        ChromeUtils.importESModule("resource://gre/modules/jsdebugger.sys.mjs").addDebuggerToGlobal(sb);
        Debugger = sb.Debugger;
      }
      const dbg = new Debugger();
      try {
        const g = dbg.addDebuggee(w);
        let c = g.executeInGlobal(code, {url: "extbridge-eval"});
        if (!c) throw new Error("the evaluation was terminated");
        c = "throw" in c ? g.executeInGlobalWithBindings("Promise.reject(e)", {e: c.throw}) : c;
        c = g.executeInGlobalWithBindings("(" + ser + ")(v)", {v: c.return});
        if (!c || !("return" in c)) throw new Error("failed to serialize the value");
        return c.return.unsafeDereference();
      } finally {
        dbg.removeAllDebuggees();
      }
    };
    Services.cpmm.addMessageListener("extbridge:eval", (m) => {
      const d = m.data;
      const reply = (r) => Services.cpmm.sendAsyncMessage("extbridge:evalr", Object.assign({id: d.id}, r));
      let run;
      try {
        if (d.kind === "background") {
          const bc = BrowsingContext.get(d.bc);
          const w = bc && bc.window;
          if (!w) return; // not in this process
          run = () => inPage(w, d.code);
        } else if (d.kind === "locate") {
          const bc = BrowsingContext.get(d.bc);
          const w = bc && bc.window;
          if (!w) return reply({skip: true});
          const {ExtensionContent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionContent.sys.mjs");
          const sb = ExtensionContent.getContextByExtensionId(d.ext, w)?.sandbox;
          let id = null;
          try { id = sb ? Cu.evalInSandbox("globalThis.__extbridge?.id ?? null", sb) : null; } catch (e) { /* not ours */ }
          return reply({ok: JSON.stringify(typeof id === "string" ? id : null)});
        } else if (d.kind === "page") {
          const bc = BrowsingContext.get(d.bc);
          const w = bc && bc.window;
          if (!w) return reply({skip: true});
          if (d.realm) {
            let id;
            try { id = w.wrappedJSObject.__extbridge?.id; } catch (e) { /* not ours */ }
            if (id !== d.realm) return reply({skip: true});
          }
          run = () => inPage(w, d.code);
        } else {
          const {ExtensionContent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionContent.sys.mjs");
          const sb = ExtensionContent.getAllContentScriptGlobals().find((s) => {
            try { return Cu.evalInSandbox("globalThis.__extbridge?.id", s) === d.realm; } catch (e) { return false; }
          });
          if (!sb) return reply({gone: "the content-script world is gone (its page was closed or navigated)"});
          run = () => {
            let v;
            try {
              v = Cu.evalInSandbox(d.code, sb, undefined, "extbridge-eval", 1);
            } catch (e) {
              v = Cu.evalInSandbox("(e) => Promise.reject(e)", sb)(e);
            }
            return Cu.evalInSandbox(ser, sb)(v);
          };
        }
      } catch (e) {
        return reply({gone: String(e)});
      }
      try {
        run().then((s) => reply({ok: s}), (e) => reply({err: String(e)}));
      } catch (e) {
        reply({gone: String(e)});
      }
    });
  };
  Services.ppmm.loadProcessScript("data:,(" + encodeURIComponent(child.toString()) + ")()", true);
  return null;
}
