package driver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/internal/bidi"
	ffproc "github.com/extbridge/extbridge/internal/firefox"
)

// firefox drives Firefox over WebDriver BiDi.
//
// It starts Firefox with --remote-allow-system-access, which lets BiDi run
// scripts in the browser's own chrome window. extbridge uses that for what
// neither BiDi nor the WebExtension APIs offer: the exact tabs.Tab id of a
// BiDi browsing context, clicking an action, stopping and waking the event
// page, and Eval. The extensions keep Firefox's default process model
// (extensions.webextensions.remote: they run in their own process) and the
// event page keeps its real idle timeout: when Firefox suspends it, its
// bridge disconnects, and the next call that needs it wakes it again.
type firefox struct {
	b    *Browser
	proc *ffproc.Process
	conn *bidi.Conn

	stop    chan struct{}
	watcher sync.WaitGroup

	closeOnce sync.Once

	mu         sync.Mutex
	chromeCtxt string // the BiDi context of the browser window's chrome document
}

// launchFirefox starts Firefox, installs every instrumented extension with
// its moz-extension UUID pinned, and prepares the chrome-scope helpers.
func launchFirefox(ctx context.Context, b *Browser, bin string, opts Options, dirs []string) (browserImpl, error) {
	uuids := make(map[string]string, len(b.exts))
	for _, e := range b.exts {
		uuids[e.ID()] = newUUID()
	}
	args := append([]string{"--remote-allow-system-access"}, opts.Args...)
	proc, err := ffproc.Launch(ctx, ffproc.Options{
		BinaryPath:     bin,
		Headful:        opts.Headful,
		Args:           args,
		Stderr:         opts.Stderr,
		ExtensionUUIDs: uuids,
		Env:            []string{fmt.Sprintf("%s=%d", OwnerEnv, os.Getpid())},
		TempDir:        b.root,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to launch Firefox: %w", err)
	}
	f := &firefox{b: b, proc: proc, conn: proc.BiDi(), stop: make(chan struct{})}
	// When the browser goes away by itself, every port says so.
	f.watcher.Add(1)
	go func() {
		defer f.watcher.Done()
		select {
		case <-proc.Exited():
		case <-f.conn.Done():
		case <-f.stop:
			return
		}
		select {
		case <-f.stop:
			return // Close killed it
		default:
		}
		b.hub.Shutdown(errors.New("the browser process exited"))
	}()
	if _, err := f.chromeCall(ctx, installEvalJS); err != nil {
		f.close()
		return nil, fmt.Errorf("failed to launch Firefox: failed to set up the chrome-scope helpers (--remote-allow-system-access): %w", err)
	}
	for i, e := range b.exts {
		id, err := proc.InstallExtension(ctx, dirs[i])
		if err != nil {
			f.close()
			return nil, fmt.Errorf("failed to load %s: %w", e.Name(), err)
		}
		if id != e.ID() {
			f.close()
			return nil, fmt.Errorf("failed to load %s: Firefox installed it as %q, want %q", e.Name(), id, e.ID())
		}
	}
	return f, nil
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func (f *firefox) close() error {
	var err error
	f.closeOnce.Do(func() {
		close(f.stop)
		err = f.proc.Close()
		f.watcher.Wait()
	})
	return err
}

// Alive returns an error once the browser no longer runs or answers. The
// Hub asks when a realm's wire breaks, to tell a dead browser from a dead
// realm.
func (f *firefox) Alive(ctx context.Context) error {
	select {
	case <-f.proc.Exited():
		return errors.New("the browser process exited")
	case <-f.conn.Done():
		return fmt.Errorf("the BiDi connection is gone: %w", f.conn.Err())
	default:
	}
	_, err := bidi.Call[json.RawMessage](ctx, f.conn, "session.status", nil)
	return err
}

// screenshot captures the visible part of the tab as a PNG.
func (f *firefox) screenshot(ctx context.Context, t *Tab) ([]byte, error) {
	return f.conn.BrowsingContextCaptureScreenshot(ctx, bidi.ScreenshotParams{Context: t.handle})
}

// chromeContext returns the BiDi context of a browser window's chrome
// document, where system-access scripts run.
func (f *firefox) chromeContext(ctx context.Context, refresh bool) (string, error) {
	f.mu.Lock()
	id := f.chromeCtxt
	f.mu.Unlock()
	if id != "" && !refresh {
		return id, nil
	}
	r, err := bidi.Call[struct {
		Contexts []bidi.ContextInfo `json:"contexts"`
	}](ctx, f.conn, "browsingContext.getTree", map[string]any{"moz:scope": "chrome", "maxDepth": 0})
	if err != nil {
		return "", fmt.Errorf("failed to find the browser window: %w", err)
	}
	for _, c := range r.Contexts {
		if c.URL == "chrome://browser/content/browser.xhtml" {
			f.mu.Lock()
			f.chromeCtxt = c.Context
			f.mu.Unlock()
			return c.Context, nil
		}
	}
	return "", errors.New("failed to find the browser window: no chrome://browser/content/browser.xhtml context")
}

// chromeCall calls the JavaScript function fn with args in the browser
// window's chrome scope and awaits its result.
func (f *firefox) chromeCall(ctx context.Context, fn string, args ...any) (bidi.RemoteValue, error) {
	params := bidi.CallFunctionParams{FunctionDeclaration: fn, AwaitPromise: true}
	for _, a := range args {
		v, err := bidi.LocalValueOf(a)
		if err != nil {
			return bidi.RemoteValue{}, err
		}
		params.Arguments = append(params.Arguments, v)
	}
	for attempt := 0; ; attempt++ {
		id, err := f.chromeContext(ctx, attempt > 0)
		if err != nil {
			return bidi.RemoteValue{}, err
		}
		params.Target = bidi.Target{Context: id}
		v, err := f.conn.ScriptCallFunction(ctx, params)
		var be *bidi.Error
		if attempt == 0 && errors.As(err, &be) && be.Code == "no such frame" {
			continue // the window went away; find the current one
		}
		return v, err
	}
}

// chromeJSON calls fn like chromeCall and decodes its result into out.
func (f *firefox) chromeJSON(ctx context.Context, out any, fn string, args ...any) error {
	v, err := f.chromeCall(ctx, fn, args...)
	if err != nil {
		var se *bidi.ScriptError
		if errors.As(err, &se) {
			return errors.New(strings.TrimPrefix(se.Text, "Error: "))
		}
		return err
	}
	if out == nil {
		return nil
	}
	return v.Decode(out)
}

// tabIDJS maps a BiDi top-level context id to its tabs.Tab id (-1 before
// any extension loaded the tabs API, -2 for no such tab).
const tabIDJS = `(context) => {
  const {NavigableManager} = ChromeUtils.importESModule("chrome://remote/content/shared/NavigableManager.sys.mjs");
  const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
  const tt = ExtensionParent.apiManager.global.tabTracker;
  for (const win of Services.wm.getEnumerator("navigator:browser"))
    for (const tab of win.gBrowser.tabs)
      if (NavigableManager.getIdForBrowser(tab.linkedBrowser) === context)
        return tt ? tt.getId(tab) : -1;
  return -2;
}`

func (f *firefox) newTab(ctx context.Context, url string) (*Tab, error) {
	id, err := f.conn.BrowsingContextCreate(ctx, bidi.CreateParams{Type: "tab"})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Tab, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.conn.BrowsingContextClose(cctx, id)
		return nil, err
	}
	if _, err := f.conn.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: id, URL: url, Wait: "complete"}); err != nil {
		return fail(err)
	}
	var tabID int
	if err := f.chromeJSON(ctx, &tabID, tabIDJS, id); err != nil {
		return fail(fmt.Errorf("failed to learn the tab id: %w", err))
	}
	if tabID == -2 {
		return fail(errors.New("failed to learn the tab id: the browser has no tab for the new context"))
	}
	return &Tab{b: f.b, id: tabID, handle: id}, nil
}

func (f *firefox) closeTab(ctx context.Context, t *Tab) error {
	err := f.conn.BrowsingContextClose(ctx, t.handle)
	var be *bidi.Error
	if errors.As(err, &be) && be.Code == "no such frame" {
		return nil // closed already
	}
	if err != nil {
		return fmt.Errorf("failed to close tab %d: %w", t.id, err)
	}
	return nil
}

// clickActionJS selects the tab and does what a click on the extension's
// toolbar button does (there is no toolbar widget to click in headless mode).
const clickActionJS = `(extID, context) => {
  const {NavigableManager} = ChromeUtils.importESModule("chrome://remote/content/shared/NavigableManager.sys.mjs");
  const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
  const policy = WebExtensionPolicy.getByID(extID);
  if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
  for (const win of Services.wm.getEnumerator("navigator:browser"))
    for (const tab of win.gBrowser.tabs) {
      if (NavigableManager.getIdForBrowser(tab.linkedBrowser) !== context) continue;
      const action = ExtensionParent.apiManager.global.browserActionFor?.(policy.extension);
      if (!action) throw new Error("the extension has no action (browser_action or action in its manifest)");
      win.gBrowser.selectedTab = tab;
      action.triggerAction(win);
      return null;
    }
  throw new Error("the tab is gone");
}`

func (f *firefox) clickAction(ctx context.Context, e *bridge.Extension, t *Tab) error {
	return f.chromeJSON(ctx, nil, clickActionJS, e.ID(), t.handle)
}

// StopBackground terminates the extension's event page as Firefox does when
// it is idle. A persistent background page (Manifest V2 without
// "persistent": false) never stops in Firefox: that is errors.ErrUnsupported.
func (f *firefox) StopBackground(ctx context.Context, e *bridge.Extension) error {
	var persistent bool
	err := f.chromeJSON(ctx, &persistent, `async (extID) => {
  const policy = WebExtensionPolicy.getByID(extID);
  if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
  const ext = policy.extension;
  if (ext.persistentBackground) return true;
  await ext.terminateBackground({ignoreDevToolsAttached: true});
  return false;
}`, e.ID())
	if err == nil && persistent {
		return fmt.Errorf("a persistent background page does not stop in Firefox: %w", errors.ErrUnsupported)
	}
	return err
}

// WakeBackground starts the extension's event page if it is not running.
func (f *firefox) WakeBackground(ctx context.Context, e *bridge.Extension) error {
	return f.chromeJSON(ctx, nil, `async (extID) => {
  const policy = WebExtensionPolicy.getByID(extID);
  if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
  const ext = policy.extension;
  if (typeof ext.wakeupBackground === "function") await ext.wakeupBackground();
  else if (typeof ext.promiseBackgroundStarted === "function") await ext.promiseBackgroundStarted();
  return null;
}`, e.ID())
}

// installEvalJS loads a process script into every content process (the
// extension process included). It evaluates the code evalJS sends, where the
// extension's content security policy, which forbids eval, does not apply:
//   - the background: in the event page's own global, with the Debugger API
//     (Debugger.Object.executeInGlobal, what the DevTools console does), so
//     the code runs as if the page ran it: top-level declarations become the
//     page's globals and errors thrown later by its callbacks are the page's
//     uncaught errors. The page is a debuggee only during the call;
//   - a content-script world: Cu.evalInSandbox in the content script's own
//     global (a sandbox), found by the id of the bridge that runs in it.
//
// Both hand the value to the same serializer in the realm: a promise is
// awaited, then the value is JSON-encoded as the bridge does it (undefined
// becomes null, a BigInt its decimal string, a cycle null).
const installEvalJS = `() => {
  const child = () => {
    const ser = "(v) => Promise.resolve(v).then((v) => { if (v === undefined) return 'null'; " +
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
}`

// evalJS sends code to the process of a browsing context and waits for the
// answer of the process script installEvalJS loaded.
const evalJS = `async (extID, kind, tabID, frameID, realm, code, timeoutMs) => {
  let bc;
  if (kind === "background") {
    const policy = WebExtensionPolicy.getByID(extID);
    if (!policy || !policy.extension) throw new Error("the extension " + extID + " is not running");
    const ext = policy.extension;
    const find = () => {
      for (const v of ext.views)
        if (v.viewType === "background" && v.xulBrowser) bc = v.xulBrowser.browsingContext;
    };
    find();
    if (!bc && typeof ext.wakeupBackground === "function") {
      // Stopped since the caller saw it: the background is whichever runs now.
      await ext.wakeupBackground();
      find();
    }
    if (!bc) throw new Error("the background is not running");
  } else {
    const {ExtensionParent} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
    const tt = ExtensionParent.apiManager.global.tabTracker;
    let tab;
    try { tab = tt.getTab(tabID); } catch (e) { throw new Error("no tab with id " + tabID); }
    const top = tab.linkedBrowser.browsingContext;
    bc = frameID === 0 ? top : BrowsingContext.get(frameID);
    if (!bc || bc.top !== top) throw new Error("no frame with id " + frameID + " in tab " + tabID);
  }
  const proc = bc.currentWindowGlobal?.domProcess;
  if (!proc) throw new Error("the frame has no document");
  let mm;
  for (let i = 0; i < Services.ppmm.childCount; i++) {
    const m = Services.ppmm.getChildAt(i);
    if (m.osPid === proc.osPid) mm = m;
  }
  if (!mm) throw new Error("the process of the frame is gone");
  const id = Services.uuid.generateUUID().toString();
  return await new Promise((resolve, reject) => {
    const done = (f) => { Services.ppmm.removeMessageListener("extbridge:evalr", l); clearTimeout(timer); f(); };
    const l = {receiveMessage(m) {
      if (m.data.id !== id) return;
      if (m.data.gone !== undefined) done(() => reject(new Error(m.data.gone)));
      else done(() => m.data.err !== undefined ? resolve({err: m.data.err}) : resolve({ok: m.data.ok}));
    }};
    const timer = setTimeout(() => done(() => reject(new Error("no answer from the realm"))), timeoutMs);
    Services.ppmm.addMessageListener("extbridge:evalr", l);
    mm.sendAsyncMessage("extbridge:eval", {id, kind, bc: bc.id, realm, code});
  });
}`

// Eval evaluates js in the extension's event page or in a content-script
// world, through a process script in the realm's process (see
// installEvalJS): Firefox applies the extension's content security policy to
// eval in both, and BiDi does not reach extension realms.
func (f *firefox) Eval(ctx context.Context, e *bridge.Extension, realm string, tabID, frameID int, realmID, js string) (json.RawMessage, error) {
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d) + time.Second
	}
	var r struct {
		OK  *string `json:"ok"`
		Err *string `json:"err"`
	}
	if err := f.chromeJSON(ctx, &r, evalJS, e.ID(), realm, tabID, frameID, realmID, js, max(timeout.Milliseconds(), 1)); err != nil {
		return nil, err
	}
	if r.Err != nil {
		return nil, fmt.Errorf("the code threw: %s", *r.Err)
	}
	if r.OK == nil {
		return json.RawMessage("null"), nil
	}
	return json.RawMessage(*r.OK), nil
}
