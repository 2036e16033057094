// Package driver launches a real Chromium or Firefox with instrumented
// extensions and controls it: tabs, frames, the service worker, shutdown.
//
// Entry points: [Launch] starts a browser; [Browser.Extensions] gives the
// [bridge.Extension] values to act in; [Browser.NewTab] opens a tab;
// [Browser.Close] ends it all. Chromium is driven over the DevTools protocol
// (chromedp, pipe transport), Firefox over WebDriver BiDi.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/extbridge/extbridge/bridge"
)

// Kind names a browser.
type Kind string

// The browsers extbridge drives.
const (
	Chromium Kind = "chromium"
	Firefox  Kind = "firefox"
)

// Options configures Launch. The zero value launches headless Chromium with
// no extension.
type Options struct {
	Browser    Kind      // zero value: Chromium
	BinaryPath string    // zero: env EXTBRIDGE_CHROMIUM / EXTBRIDGE_FIREFOX, then PATH lookup
	Extensions []string  // unpacked extension folders, each copied and instrumented
	Headful    bool      // zero value: headless
	Args       []string  // extra browser flags
	Stderr     io.Writer // the browser's own output; nil discards it
	Logger     *slog.Logger
}

// Browser is a running browser with its instrumented extensions.
//
// A Browser is safe for concurrent use. Close ends the browser process
// tree, every port and realm, and removes every temporary folder.
type Browser struct {
	kind   Kind
	root   string // temp dir: profile and extension copies
	hub    *bridge.Hub
	exts   []*bridge.Extension
	logger *slog.Logger
	impl   browserImpl

	closeOnce sync.Once
	closeErr  error
}

// browserImpl is what each browser's protocol does.
type browserImpl interface {
	bridge.Driver
	newTab(ctx context.Context, url string) (*Tab, error)
	closeTab(ctx context.Context, t *Tab) error
	clickAction(ctx context.Context, e *bridge.Extension, t *Tab) error
	close() error
}

// Tab is a browser tab.
type Tab struct {
	b      *Browser
	id     int
	handle string // CDP target id or BiDi browsing context id
	closed bool
	mu     sync.Mutex
	extra  any
}

// ID is the tabs.Tab id the extension sees for this tab.
func (t *Tab) ID() int { return t.id }

// Close closes the tab. It is idempotent.
func (t *Tab) Close(ctx context.Context) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	return t.b.impl.closeTab(ctx, t)
}

// screenshotter is a browserImpl that can capture a tab.
type screenshotter interface {
	screenshot(ctx context.Context, t *Tab) ([]byte, error)
}

// Screenshot captures the visible part of the tab as a PNG.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	s, ok := t.b.impl.(screenshotter)
	if !ok {
		return nil, fmt.Errorf("failed to capture tab %d: %w", t.id, errors.ErrUnsupported)
	}
	png, err := s.screenshot(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("failed to capture tab %d: %w", t.id, err)
	}
	return png, nil
}

// ClickAction clicks the extension's toolbar button (its action or
// browserAction) with this tab active, so the extension's
// action.onClicked listeners run with this tab.
func (t *Tab) ClickAction(ctx context.Context, e *bridge.Extension) error {
	if err := t.b.impl.clickAction(ctx, e, t); err != nil {
		return fmt.Errorf("failed to click the action of %s: %w", e.Name(), err)
	}
	return nil
}

// Launch starts a browser with the extensions in opts.Extensions, each
// copied to a temporary folder and instrumented with the bridge. It returns
// once every extension's background bridge is connected. ctx bounds the
// launch only.
func Launch(ctx context.Context, opts Options) (_ *Browser, err error) {
	if opts.Browser == "" {
		opts.Browser = Chromium
	}
	if opts.Browser != Chromium && opts.Browser != Firefox {
		return nil, fmt.Errorf("failed to launch: unknown browser %q (want %q or %q)", opts.Browser, Chromium, Firefox)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, dir := range opts.Extensions {
		if st, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("failed to launch: extension folder: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("failed to launch: extension %s is not a folder", dir)
		}
	}
	bin, err := findBinary(opts.Browser, opts.BinaryPath)
	if err != nil {
		return nil, err
	}
	logger.Info("found browser", "browser", string(opts.Browser), "path", bin)
	root, err := os.MkdirTemp("", TempPrefix())
	if err != nil {
		return nil, fmt.Errorf("failed to make a temporary folder: %w", err)
	}
	hub, err := bridge.NewHub(bridge.HubOptions{Logger: logger})
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	b := &Browser{kind: opts.Browser, root: root, hub: hub, logger: logger}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	var dirs []string
	for i, src := range opts.Extensions {
		dst := filepath.Join(root, fmt.Sprintf("ext-%d", i))
		e, err := hub.AddExtension(src, dst, string(opts.Browser))
		if err != nil {
			return nil, err
		}
		b.exts = append(b.exts, e)
		dirs = append(dirs, dst)
		logger.Info("instrumented extension", "name", e.Name(), "dir", dst)
	}
	var impl browserImpl
	switch opts.Browser {
	case Chromium:
		var c *chromium
		if c, err = launchChromium(ctx, b, bin, opts, dirs); err == nil {
			impl = c
		}
	case Firefox:
		impl, err = launchFirefox(ctx, b, bin, opts, dirs)
	}
	if err != nil {
		return nil, err
	}
	b.impl = impl
	hub.SetDriver(b.impl)
	logger.Info("browser started", "browser", string(opts.Browser))
	for _, e := range b.exts {
		if !e.HasBackground() {
			continue
		}
		if err := e.WaitBackground(ctx); err != nil {
			return nil, fmt.Errorf("failed to launch: the bridge in the background of %s did not connect: %w", e.Name(), err)
		}
		logger.Info("background connected", "name", e.Name())
	}
	return b, nil
}

// Kind is the browser this is.
func (b *Browser) Kind() Kind { return b.kind }

// Extensions returns the extensions, in the order of Options.Extensions.
func (b *Browser) Extensions() []*bridge.Extension {
	return append([]*bridge.Extension(nil), b.exts...)
}

// NewTab opens a tab at url and returns once the page has loaded.
func (b *Browser) NewTab(ctx context.Context, url string) (*Tab, error) {
	t, err := b.impl.newTab(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("failed to open a tab at %s: %w", url, err)
	}
	return t, nil
}

// Close ends the browser: every port ends with an error, the process tree is
// killed and waited for, and the temporary folders are removed. It is
// idempotent and safe to call from several goroutines.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		b.hub.Shutdown(errors.New("the browser was closed"))
		var errs []error
		if b.impl != nil {
			errs = append(errs, b.impl.close())
		}
		errs = append(errs, b.hub.Close())
		if err := os.RemoveAll(b.root); err != nil {
			errs = append(errs, fmt.Errorf("failed to remove %s: %w", b.root, err))
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

// anyBackground returns an extension with a background, for the commands
// that need the extension APIs (tab ids).
func (b *Browser) anyBackground() *bridge.Extension {
	for _, e := range b.exts {
		if e.HasBackground() {
			return e
		}
	}
	return nil
}

// OwnerEnv is set in the environment of every browser Launch starts, to the
// launching process's pid, so leak checks can find browsers that outlive
// Close (see drivertest.Leaks).
const OwnerEnv = "EXTBRIDGE_OWNER"

// TempPrefix is the name prefix of the temporary folders of this process's
// launches: "extbridge-<pid>-".
func TempPrefix() string { return fmt.Sprintf("extbridge-%d-", os.Getpid()) }

// findBinary resolves the browser binary: the option, then the env
// variable, then PATH.
func findBinary(kind Kind, path string) (string, error) {
	env, names, pkg := "EXTBRIDGE_CHROMIUM", []string{"chromium", "chromium-browser", "google-chrome"}, "chromium"
	if kind == Firefox {
		env, names, pkg = "EXTBRIDGE_FIREFOX", []string{"firefox-esr", "firefox"}, "firefox-esr"
	}
	if path == "" {
		path = os.Getenv(env)
	}
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("failed to find %s at %q: %w", kind, path, err)
		}
		return p, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("failed to find %s: none of %v is on PATH; install it with `apt-get install %s` or set %s", kind, names, pkg, env)
}
