package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	cdpext "github.com/chromedp/cdproto/extensions"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/extbridge/extbridge/bridge"
)

// chromium drives Chromium over the DevTools protocol with chromedp.
type chromium struct {
	b           *Browser
	allocCancel context.CancelFunc
	browserCtx  context.Context
	cancel      context.CancelFunc
	stop        chan struct{}
	watcher     sync.WaitGroup

	mu       sync.Mutex
	sessions map[target.ID]*cdpSession // attached for Eval
	tabMu    sync.Mutex                // NewTab: one tab created at a time
}

// cdpSession is a target attached for Eval, with the execution contexts it
// has seen.
type cdpSession struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	contexts map[runtime.ExecutionContextID]isolatedWorld
}

// isolatedWorld is an isolated execution context a session saw.
type isolatedWorld struct {
	origin, uniqueID string
}

// ChromiumFlags are the flags every Chromium launch gets: quiet on a closed
// network, no first-run UI, no sandbox (extbridge may run as root), and
// extensions enabled (chromedp's defaults disable them). They are exported
// for tools that start a comparable browser without extbridge, such as the
// benchmarks' floor.
func ChromiumFlags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-hang-monitor", true),
		chromedp.Flag("disable-ipc-flooding-protection", true),
		chromedp.Flag("disable-popup-blocking", true),
		chromedp.Flag("disable-prompt-on-repost", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "Translate,DisableLoadExtensionCommandLineSwitch,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("enable-unsafe-extension-debugging", true),
	}
}

func launchChromium(ctx context.Context, b *Browser, bin string, opts Options, dirs []string) (*chromium, error) {
	profile := filepath.Join(b.root, "profile")
	if err := os.Mkdir(profile, 0o700); err != nil {
		return nil, fmt.Errorf("failed to make a profile folder: %w", err)
	}
	aopts := append(ChromiumFlags(), chromedp.ExecPath(bin), chromedp.UserDataDir(profile),
		chromedp.Env(fmt.Sprintf("%s=%d", OwnerEnv, os.Getpid())))
	if !opts.Headful {
		aopts = append(aopts, chromedp.Headless)
	}
	if len(dirs) > 0 {
		aopts = append(aopts, chromedp.Flag("load-extension", strings.Join(dirs, ",")))
	}
	for _, a := range opts.Args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if hasValue {
			aopts = append(aopts, chromedp.Flag(name, value))
		} else {
			aopts = append(aopts, chromedp.Flag(name, true))
		}
	}
	out := opts.Stderr
	if out == nil {
		out = io.Discard
	}
	aopts = append(aopts, chromedp.CombinedOutput(out))

	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), aopts...)
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	c := &chromium{
		b:           b,
		allocCancel: allocCancel,
		browserCtx:  browserCtx,
		cancel:      cancel,
		stop:        make(chan struct{}),
		sessions:    make(map[target.ID]*cdpSession),
	}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx) }()
	select {
	case err := <-started:
		if err != nil {
			c.close()
			return nil, fmt.Errorf("failed to start Chromium (%s): %w", bin, err)
		}
	case <-ctx.Done():
		c.close()
		<-started
		return nil, fmt.Errorf("failed to start Chromium: %w", ctx.Err())
	}
	// When the browser goes away by itself, every port says so.
	lost := chromedp.FromContext(browserCtx).Browser.LostConnection
	c.watcher.Add(1)
	go func() {
		defer c.watcher.Done()
		select {
		case <-lost:
			b.hub.Shutdown(errors.New("the browser process exited"))
		case <-c.stop:
		}
	}()
	if err := c.ensureLoaded(ctx, dirs); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// ensureLoaded loads the extensions over CDP when the browser ignored
// --load-extension (branded Chrome 137 and later).
func (c *chromium) ensureLoaded(ctx context.Context, dirs []string) error {
	if len(dirs) == 0 {
		return nil
	}
	res, err := chromedp.CallBrowser(c.browserCtx, cdpext.GetExtensions, cdp.Empty{})
	if err != nil {
		return nil // an older browser without the domain: --load-extension is all there is
	}
	loaded := map[string]bool{}
	for _, e := range res.Extensions {
		loaded[filepath.Clean(e.Path)] = true
	}
	for i, e := range c.b.exts {
		if loaded[filepath.Clean(dirs[i])] {
			continue
		}
		if _, err := chromedp.CallBrowser(withDeadline(c.browserCtx, ctx), cdpext.LoadUnpacked, cdpext.LoadUnpackedParams{Path: dirs[i]}); err != nil {
			return fmt.Errorf("failed to load %s: the browser ignored --load-extension and Extensions.loadUnpacked failed (branded Chrome 137+ needs --enable-unsafe-extension-debugging; use Chromium): %w", e.Name(), err)
		}
	}
	return nil
}

func (c *chromium) close() error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	c.mu.Lock()
	sessions := c.sessions
	c.sessions = map[target.ID]*cdpSession{}
	c.mu.Unlock()
	for _, s := range sessions {
		s.cancel()
	}
	tctx, tcancel := context.WithTimeout(c.browserCtx, 10*time.Second)
	_ = chromedp.Cancel(tctx)
	tcancel()
	c.cancel()
	c.allocCancel() // kills what is left and waits for the process
	c.watcher.Wait()
	return nil
}

// Alive returns an error once the browser no longer answers. The Hub asks
// when a realm's wire breaks, to tell a dead browser from a dead realm.
func (c *chromium) Alive(ctx context.Context) error {
	_, err := chromedp.CallBrowser(withDeadline(c.browserCtx, ctx), cdpbrowser.GetVersion, cdp.Empty{})
	return err
}

// WakeBackground starts the extension's service worker.
func (c *chromium) WakeBackground(ctx context.Context, e *bridge.Extension) error {
	cctx := withDeadline(c.browserCtx, ctx)
	if _, err := chromedp.Call(cctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		return err
	}
	_, err := chromedp.Call(cctx, serviceworker.StartWorker,
		serviceworker.StartWorkerParams{ScopeURL: "chrome-extension://" + e.ID() + "/"})
	return err
}

// StopBackground terminates the extension's service worker.
func (c *chromium) StopBackground(ctx context.Context, e *bridge.Extension) error {
	tid, err := c.workerTarget(ctx, e)
	if err != nil {
		return nil // not running: nothing to stop
	}
	_, err = chromedp.CallBrowser(withDeadline(c.browserCtx, ctx), target.CloseTarget, target.CloseTargetParams{TargetID: tid})
	return err
}

// start runs the first chromedp action on tabCtx, which creates or attaches
// its target. chromedp ties the target's lifetime to the context of that
// first run, so it must be tabCtx itself; ctx only bounds the wait, and
// cancels tabCtx if it ends first.
func start(tabCtx context.Context, cancel context.CancelFunc, ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tabCtx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cancel()
		<-done
		return ctx.Err()
	}
}

// quiet turns off the network events chromedp enables on every target it
// attaches: extbridge uses none, and with them on, every frame the bridge
// sends from a page also becomes a DevTools event that the browser encodes
// and Go decodes. A worker target has no Network domain; the error is moot.
//
// This matters beyond speed: chromedp queues a target's events, and a flood
// of them (a load test sends hundreds of thousands of frames) can stall the
// whole CDP connection, after which no tab opens and no worker wakes. The
// Log domain repeats the console, which the bridge already reports.
func quiet(ctx context.Context) {
	_, _ = chromedp.Call(ctx, network.Disable, cdp.Empty{})
	_, _ = chromedp.Call(ctx, cdplog.Disable, cdp.Empty{})
}

// quietTab also turns off, on a tab's own session, the domains chromedp
// enables for its DOM queries: the driver only navigates, captures and
// closes the tab (Page), and a page with heavy DOM churn or console spam
// would otherwise flood the connection the same way. Eval uses sessions of
// its own, which keep Runtime.
func quietTab(ctx context.Context) {
	_, _ = chromedp.Call(ctx, runtime.Disable, cdp.Empty{})
	_, _ = chromedp.Call(ctx, css.Disable, cdp.Empty{})
	_, _ = chromedp.Call(ctx, dom.Disable, cdp.Empty{})
}

// withDeadline returns a child of the chromedp context parent that also ends
// when ctx ends, so a chromedp call is bounded by the caller's context.
func withDeadline(parent, ctx context.Context) context.Context {
	child, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(ctx, cancel)
	context.AfterFunc(child, func() { stop() })
	return child
}

// Eval runs js through CDP: Manifest V3 forbids eval inside the extension.
func (c *chromium) Eval(ctx context.Context, e *bridge.Extension, realm string, tabID, frameID int, realmID, js string) (json.RawMessage, error) {
	if realm == "background" {
		// A service worker's target survives a stop and a start, but a
		// session attached to it goes stale, so each Eval attaches anew.
		tid, err := c.workerTarget(ctx, e)
		if err != nil {
			return nil, err
		}
		s, err := c.attach(ctx, tid)
		if err != nil {
			return nil, err
		}
		defer s.cancel()
		return s.eval(ctx, 0, js)
	}
	tid, err := c.tabTarget(ctx, e, tabID)
	if err != nil {
		return nil, err
	}
	s, err := c.session(ctx, tid)
	if err != nil {
		return nil, err
	}
	origin := "chrome-extension://" + e.ID()
	s.mu.Lock()
	var ids []runtime.ExecutionContextID
	for id, w := range s.contexts {
		if w.origin == origin {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		raw, err := s.eval(ctx, id, `(() => { const b = globalThis.__extbridge; return b ? b.id : null; })()`)
		if err != nil {
			continue
		}
		var got string
		if json.Unmarshal(raw, &got) == nil && got == realmID {
			return s.eval(ctx, id, js)
		}
	}
	return nil, fmt.Errorf("the content-script world of tab %d frame %d is not reachable over CDP (cross-site frames run in their own process)", tabID, frameID)
}

// workerTarget finds the extension's service worker target.
func (c *chromium) workerTarget(ctx context.Context, e *bridge.Extension) (target.ID, error) {
	res, err := chromedp.CallBrowser(withDeadline(c.browserCtx, ctx), target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return "", err
	}
	prefix := "chrome-extension://" + e.ID() + "/"
	for _, t := range res.TargetInfos {
		if (t.Type == "service_worker" || t.Type == "background_page") && strings.HasPrefix(t.URL, prefix) {
			return t.TargetID, nil
		}
	}
	return "", errors.New("the background is not running")
}

// debuggerTarget is a page target as chrome.debugger.getTargets lists it:
// its CDP target id and the tab id the extension sees.
type debuggerTarget struct {
	ID  target.ID `json:"id"`
	Tab int       `json:"tab"`
}

// debuggerTargets asks the background of e for chrome.debugger.getTargets,
// the one place where CDP target ids and extension tab ids meet.
func debuggerTargets(ctx context.Context, e *bridge.Extension) ([]debuggerTarget, error) {
	var list []debuggerTarget
	err := e.Command(ctx, "targets", nil, &list)
	return list, err
}

// tabTarget maps a tab id to its CDP target.
func (c *chromium) tabTarget(ctx context.Context, e *bridge.Extension, tabID int) (target.ID, error) {
	list, err := debuggerTargets(ctx, e)
	if err != nil {
		return "", err
	}
	for _, t := range list {
		if t.Tab == tabID {
			return t.ID, nil
		}
	}
	return "", fmt.Errorf("no tab with id %d", tabID)
}

// session attaches to a target for Eval, once.
func (c *chromium) session(ctx context.Context, id target.ID) (*cdpSession, error) {
	c.mu.Lock()
	s := c.sessions[id]
	c.mu.Unlock()
	if s != nil && s.ctx.Err() == nil {
		if ch, err := chromedp.Detached(s.ctx); err == nil {
			select {
			case <-ch:
			default:
				return s, nil
			}
		}
	}
	s, err := c.attach(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.sessions[id]; old != nil {
		old.cancel()
	}
	c.sessions[id] = s
	c.mu.Unlock()
	return s, nil
}

// attach attaches a new session to a target, tracking its isolated worlds.
func (c *chromium) attach(ctx context.Context, id target.ID) (*cdpSession, error) {
	s := &cdpSession{contexts: make(map[runtime.ExecutionContextID]isolatedWorld)}
	s.ctx, s.cancel = chromedp.NewContext(c.browserCtx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel(),
		chromedp.WithListener(func(ev any) {
			switch ev := ev.(type) {
			case *runtime.EventExecutionContextCreated:
				var aux struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(ev.Context.AuxData, &aux)
				if aux.Type == "isolated" {
					s.mu.Lock()
					s.contexts[ev.Context.ID] = isolatedWorld{ev.Context.Origin, ev.Context.UniqueID}
					s.mu.Unlock()
				}
			case *runtime.EventExecutionContextDestroyed:
				s.mu.Lock()
				for id, w := range s.contexts {
					if w.uniqueID == ev.ExecutionContextUniqueID {
						delete(s.contexts, id)
					}
				}
				s.mu.Unlock()
			case *runtime.EventExecutionContextsCleared:
				s.mu.Lock()
				clear(s.contexts)
				s.mu.Unlock()
			}
		}))
	if err := start(s.ctx, s.cancel, ctx); err != nil {
		s.cancel()
		return nil, fmt.Errorf("failed to attach to target %s: %w", id, err)
	}
	quiet(withDeadline(s.ctx, ctx))
	return s, nil
}

func (s *cdpSession) eval(ctx context.Context, contextID runtime.ExecutionContextID, js string) (json.RawMessage, error) {
	t := true
	res, err := chromedp.Call(withDeadline(s.ctx, ctx), runtime.Evaluate, runtime.EvaluateParams{
		Expression:    js,
		ContextID:     contextID,
		AwaitPromise:  &t,
		ReturnByValue: &t,
	})
	if err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		msg := res.ExceptionDetails.Text
		if ex := res.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
			msg = ex.Description
		}
		return nil, fmt.Errorf("the code threw: %s", msg)
	}
	if res.Result == nil || len(res.Result.Value) == 0 {
		return json.RawMessage("null"), nil
	}
	return json.RawMessage(res.Result.Value), nil
}

// chromiumTab is the CDP side of a Tab.
type chromiumTab struct {
	ctx       context.Context
	cancel    context.CancelFunc
	tabTarget target.ID // the "tab" target that holds the page
}

func (c *chromium) newTab(ctx context.Context, url string) (*Tab, error) {
	// CDP links a page to its tab target nowhere, so tabs are created one
	// at a time and the tab target that appears is the new one.
	c.tabMu.Lock()
	before, err := c.tabTargets(ctx)
	if err != nil {
		c.tabMu.Unlock()
		return nil, err
	}
	tabCtx, cancel := chromedp.NewContext(c.browserCtx)
	if err := start(tabCtx, cancel, ctx); err != nil {
		c.tabMu.Unlock()
		cancel()
		return nil, err
	}
	quiet(withDeadline(tabCtx, ctx))
	quietTab(withDeadline(tabCtx, ctx))
	after, err := c.tabTargets(ctx)
	c.tabMu.Unlock()
	if err != nil {
		cancel()
		return nil, err
	}
	ct := &chromiumTab{ctx: tabCtx, cancel: cancel}
	for id := range after {
		if !before[id] {
			if ct.tabTarget != "" { // more than one: another tab opened meanwhile
				ct.tabTarget = ""
				break
			}
			ct.tabTarget = id
		}
	}
	if err := chromedp.Do(withDeadline(tabCtx, ctx), chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, err
	}
	tid := chromedp.FromContext(tabCtx).Target.TargetID
	t := &Tab{b: c.b, id: -1, handle: string(tid), extra: ct}
	if e := c.b.anyBackground(); e != nil {
		list, err := debuggerTargets(ctx, e)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("failed to learn the tab id: %w", err)
		}
		for _, x := range list {
			if x.ID == tid {
				t.id = x.Tab
			}
		}
		if t.id < 0 {
			cancel()
			return nil, errors.New("failed to learn the tab id: chrome.debugger.getTargets does not list the tab")
		}
	}
	return t, nil
}

func (c *chromium) closeTab(ctx context.Context, t *Tab) error {
	ct := t.extra.(*chromiumTab)
	tctx, cancel := context.WithCancel(ct.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if err := chromedp.Cancel(tctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("failed to close tab %d: %w", t.id, err)
	}
	return nil
}

func (c *chromium) clickAction(ctx context.Context, e *bridge.Extension, t *Tab) error {
	ct := t.extra.(*chromiumTab)
	if ct.tabTarget == "" {
		return errors.New("the tab target of this tab is unknown")
	}
	_, err := chromedp.CallBrowser(withDeadline(c.browserCtx, ctx), cdpext.TriggerAction,
		cdpext.TriggerActionParams{ID: e.ID(), TargetID: string(ct.tabTarget)})
	return err
}

// tabTargets lists the ids of the "tab" targets, the parents of the page
// targets that Extensions.triggerAction wants.
func (c *chromium) tabTargets(ctx context.Context) (map[target.ID]bool, error) {
	res, err := chromedp.CallBrowser(withDeadline(c.browserCtx, ctx), target.GetTargets,
		target.GetTargetsParams{Filter: target.Filter{{Type: "tab"}}})
	if err != nil {
		return nil, err
	}
	out := make(map[target.ID]bool, len(res.TargetInfos))
	for _, x := range res.TargetInfos {
		out[x.TargetID] = true
	}
	return out, nil
}

func (c *chromium) screenshot(ctx context.Context, t *Tab) ([]byte, error) {
	ct := t.extra.(*chromiumTab)
	return chromedp.Run(withDeadline(ct.ctx, ctx), chromedp.CaptureScreenshot())
}
