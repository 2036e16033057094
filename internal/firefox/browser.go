package firefox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/extbridge/extbridge/internal/bidi"
	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/js"
)

// Browser drives a Firefox with instrumented extensions over WebDriver BiDi,
// for package driver.
//
// It starts Firefox with --remote-allow-system-access, which lets BiDi run
// scripts in the browser's own chrome window. extbridge uses that for what
// neither BiDi nor the WebExtension APIs offer: the exact tabs.Tab id of a
// BiDi browsing context, clicking an action, stopping and waking the event
// page, and Eval. The extensions keep Firefox's default process model
// (extensions.webextensions.remote: they run in their own process) and the
// event page keeps its real idle timeout: when Firefox suspends it, its
// bridge disconnects, and the next call that needs it wakes it again.
type Browser struct {
	proc  *Process
	conn  *bidi.Conn
	uuids map[string]string // gecko id → moz-extension UUID

	stop    chan struct{}
	watcher sync.WaitGroup

	closeOnce sync.Once

	mu         sync.Mutex
	chromeCtxt string // the BiDi context of the browser window's chrome document
}

// BrowserOptions configures [Open].
type BrowserOptions struct {
	Binary        string
	Headful       bool
	Args          []string
	Env           []string
	Stderr        io.Writer
	TempDir       string         // where the profile goes
	Prefs         map[string]any // extra prefs for user.js
	ExtensionDirs []string       // the instrumented copies to install
	Extensions    []bridgeinternal.Facts

	// NativeManifests, if set, is the folder whose native-messaging-hosts/
	// Firefox reads host manifests from instead of $HOME/.mozilla's. It is
	// set in the chrome scope before any extension is installed: Firefox
	// reads the folder list on its first native lookup.
	NativeManifests string

	// OnExit is called once if the browser goes away by itself.
	OnExit func()
}

// Open starts Firefox, installs every instrumented extension with its
// moz-extension UUID pinned, and prepares the chrome-scope helpers.
func Open(ctx context.Context, opts BrowserOptions) (*Browser, error) {
	uuids := make(map[string]string, len(opts.Extensions))
	for _, e := range opts.Extensions {
		uuids[e.ID] = newUUID()
	}
	proc, err := Launch(ctx, Options{
		BinaryPath:     opts.Binary,
		Headful:        opts.Headful,
		Args:           append([]string{"--remote-allow-system-access"}, opts.Args...),
		Stderr:         opts.Stderr,
		ExtensionUUIDs: uuids,
		Prefs:          opts.Prefs,
		Env:            opts.Env,
		TempDir:        opts.TempDir,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to launch Firefox: %w", err)
	}
	f := &Browser{proc: proc, conn: proc.BiDi(), uuids: uuids, stop: make(chan struct{})}
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
		if opts.OnExit != nil {
			opts.OnExit()
		}
	}()
	if _, err := f.chromeCall(ctx, js.FirefoxInstallEval); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to launch Firefox: failed to set up the chrome-scope helpers (--remote-allow-system-access): %w", err)
	}
	if opts.NativeManifests != "" {
		var got string
		err := f.chromeJSON(ctx, &got, js.FirefoxNativeManifests, opts.NativeManifests)
		if err == nil && got != opts.NativeManifests {
			err = fmt.Errorf("Firefox reads them from %q", got)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("failed to launch Firefox: failed to point its native manifests at %s: %w", opts.NativeManifests, err)
		}
	}
	for i, e := range opts.Extensions {
		id, err := proc.InstallExtension(ctx, opts.ExtensionDirs[i])
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("failed to load %s: %w", e.Name, err)
		}
		if id != e.ID {
			f.Close()
			return nil, fmt.Errorf("failed to load %s: Firefox installed it as %q, want %q", e.Name, id, e.ID)
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

// PageURL is the URL of a file of the extension extID.
func (f *Browser) PageURL(extID, path string) string {
	return "moz-extension://" + f.uuids[extID] + "/" + path
}

// Close ends the browser, its process group and its profile. It is
// idempotent.
func (f *Browser) Close() error {
	var err error
	f.closeOnce.Do(func() {
		close(f.stop)
		err = f.proc.Close()
		f.watcher.Wait()
	})
	return err
}

// Exited reports whether the browser no longer runs or answers.
func (f *Browser) Exited() bool {
	select {
	case <-f.proc.Exited():
		return true
	case <-f.conn.Done():
		return true
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := bidi.Call[json.RawMessage](ctx, f.conn, "session.status", nil)
	return err != nil
}

// chromeContext returns the BiDi context of a browser window's chrome
// document, where system-access scripts run.
func (f *Browser) chromeContext(ctx context.Context, refresh bool) (string, error) {
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
func (f *Browser) chromeCall(ctx context.Context, fn string, args ...any) (bidi.RemoteValue, error) {
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
func (f *Browser) chromeJSON(ctx context.Context, out any, fn string, args ...any) error {
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

// StopBackground terminates the extension's event page as Firefox does when
// it is idle. A persistent background page (Manifest V2 without
// "persistent": false) never stops in Firefox: that is errors.ErrUnsupported.
func (f *Browser) StopBackground(ctx context.Context, e bridgeinternal.Extension) error {
	var persistent bool
	err := f.chromeJSON(ctx, &persistent, js.FirefoxStopBackground, e.ID)
	if err == nil && persistent {
		return fmt.Errorf("a persistent background page does not stop in Firefox: %w", errors.ErrUnsupported)
	}
	return err
}

// WakeBackground starts the extension's event page if it is not running.
func (f *Browser) WakeBackground(ctx context.Context, e bridgeinternal.Extension) error {
	return f.chromeJSON(ctx, nil, js.FirefoxWakeBackground, e.ID)
}

// EvalBackground evaluates code in the extension's event page, through a
// process script in its process (see js.FirefoxInstallEval): Firefox
// applies the extension's content security policy to eval, and BiDi does not
// reach extension realms.
func (f *Browser) EvalBackground(ctx context.Context, e bridgeinternal.Extension, code string) (json.RawMessage, error) {
	return f.eval(ctx, e, "background", 0, 0, "", code)
}

// EvalContent evaluates code in the content-script world of a frame, the
// sandbox of the bridge realm realmID.
func (f *Browser) EvalContent(ctx context.Context, e bridgeinternal.Extension, tabID, frameID int, realmID, code string) (json.RawMessage, error) {
	return f.eval(ctx, e, "content", tabID, frameID, realmID, code)
}

// LocateContent finds the bridge realm of the extension's content-script
// world in the top frame of a tab from the chrome scope, without asking
// the background (see bridgeinternal.Browser.LocateContent): "" when that world
// has no bridge, or there is none.
func (f *Browser) LocateContent(ctx context.Context, e bridgeinternal.Extension, tabID int) (string, error) {
	raw, err := f.eval(ctx, e, "locate", tabID, 0, "", "")
	if err != nil {
		return "", err
	}
	var id *string
	if err := json.Unmarshal(raw, &id); err != nil || id == nil {
		return "", err
	}
	return *id, nil
}

// EvalPage evaluates code in an extension page: the one in tab tabID, or
// the view (a popup) whose bridge realm is realmID.
func (f *Browser) EvalPage(ctx context.Context, e bridgeinternal.Extension, tabID int, realmID, code string) (json.RawMessage, error) {
	return f.eval(ctx, e, "page", tabID, 0, realmID, code)
}

func (f *Browser) eval(ctx context.Context, e bridgeinternal.Extension, realm string, tabID, frameID int, realmID, code string) (json.RawMessage, error) {
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d) + time.Second
	}
	var r struct {
		OK  *string `json:"ok"`
		Err *string `json:"err"`
	}
	if err := f.chromeJSON(ctx, &r, js.FirefoxEval, e.ID, realm, tabID, frameID, realmID, code, max(timeout.Milliseconds(), 1)); err != nil {
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

// Tab is a browser tab: a BiDi top-level browsing context.
type Tab struct {
	f       *Browser
	id      int
	context string
}

// ID is the tabs.Tab id the extensions see.
func (t *Tab) ID() int { return t.id }

// NewTab opens a tab at url and returns once it has loaded, with the tab id
// the extensions see.
func (f *Browser) NewTab(ctx context.Context, url string) (*Tab, error) {
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
	// The tab id is known as soon as the tab is: look it up beside the load.
	type tabID struct {
		id  int
		err error
	}
	ids := make(chan tabID, 1)
	go func() {
		id, err := f.tabID(ctx, id)
		ids <- tabID{id, err}
	}()
	_, err = f.conn.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: id, URL: url, Wait: "complete"})
	r := <-ids
	if err != nil {
		return fail(err)
	}
	if r.err != nil {
		return fail(r.err)
	}
	return &Tab{f: f, id: r.id, context: id}, nil
}

// OpenPage opens url, a page of an extension, in a new tab and returns once
// it has loaded.
func (f *Browser) OpenPage(ctx context.Context, url string) (*Tab, error) {
	var id string
	if err := f.chromeJSON(ctx, &id, js.FirefoxOpenPage, url); err != nil {
		return nil, err
	}
	return f.tab(ctx, id, func(err error) (*Tab, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.conn.BrowsingContextClose(cctx, id)
		return nil, err
	})
}

// tab is the Tab of the BiDi context id, with its tabs.Tab id.
func (f *Browser) tab(ctx context.Context, id string, fail func(error) (*Tab, error)) (*Tab, error) {
	tabID, err := f.tabID(ctx, id)
	if err != nil {
		return fail(err)
	}
	return &Tab{f: f, id: tabID, context: id}, nil
}

// tabID learns the tabs.Tab id of the BiDi context id.
func (f *Browser) tabID(ctx context.Context, id string) (int, error) {
	var tabID int
	if err := f.chromeJSON(ctx, &tabID, js.FirefoxTabID, id); err != nil {
		return -1, fmt.Errorf("failed to learn the tab id: %w", err)
	}
	if tabID == -2 {
		return -1, errors.New("failed to learn the tab id: the browser has no tab for the new context")
	}
	return tabID, nil
}

// Close closes the tab.
func (t *Tab) Close(ctx context.Context) error {
	err := t.f.conn.BrowsingContextClose(ctx, t.context)
	var be *bidi.Error
	if errors.As(err, &be) && be.Code == "no such frame" {
		return nil // closed already
	}
	if err != nil {
		return fmt.Errorf("failed to close tab %d: %w", t.id, err)
	}
	return nil
}

// ClickAction selects the tab and does what a click on the toolbar button
// of the extension extID does.
func (t *Tab) ClickAction(ctx context.Context, extID string) error {
	return t.f.chromeJSON(ctx, nil, js.FirefoxClickAction, extID, t.context)
}

// Screenshot captures the visible part of the tab as a PNG.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	return t.f.conn.BrowsingContextCaptureScreenshot(ctx, bidi.ScreenshotParams{Context: t.context})
}
