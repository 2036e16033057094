// Package driver launches a real Chromium or Firefox with instrumented
// extensions and controls it: tabs, the extension's background, shutdown.
//
// Entry points: [Launch] starts a browser; [Browser.Extensions] gives the
// [bridge.Extension] values to act in; [Browser.NewTab] opens a tab;
// [Browser.NativeHost] serves a native messaging host registered with
// [Options.NativeHosts] ([NativeHost]); [Browser.Close] ends it all.
//
// A program that imports driver can be re-executed as the relay of a native
// host Go serves: driver's init function runs only the relay when the
// environment variable EXTBRIDGE_NATIVE_RELAY is set (see the bridge
// package doc, Native messaging). Chromium is driven over the DevTools protocol
// (chromedp, pipe transport; internal/chromium), Firefox over WebDriver
// BiDi (internal/firefox).
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/browserbin"
	"github.com/extbridge/extbridge/internal/chromium"
	"github.com/extbridge/extbridge/internal/driverinternal"
	"github.com/extbridge/extbridge/internal/firefox"
	"github.com/extbridge/extbridge/internal/leakcheck"
	"github.com/extbridge/extbridge/internal/native"
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
	Browser    Kind         // zero value: Chromium
	BinaryPath string       // zero: env EXTBRIDGE_CHROMIUM / EXTBRIDGE_FIREFOX, then PATH lookup
	Extensions []string     // unpacked extension folders, each copied and instrumented
	Headful    bool         // zero value: headless
	Args       []string     // extra browser flags
	Stderr     io.Writer    // the browser's own output; nil discards it
	Logger     *slog.Logger // extbridge's own warnings (bad frames, stragglers); nil discards them

	// Env is extra environment for the browser and every process it starts
	// ("KEY=value", e.g. a proxy or a locale); it wins over the process's
	// own environment.
	Env []string
	// Prefs are browser preferences, by their dotted names: Firefox's
	// prefs (user.js; bool, int or string values, e.g.
	// "intl.accept_languages": "fr"), or Chromium's profile preferences
	// (written into the profile's Default/Preferences before it starts,
	// e.g. "intl.accept_languages": "fr" or "download.default_directory").
	// They win over extbridge's own defaults.
	Prefs map[string]any

	// NativeHosts are native messaging hosts the extensions may reach,
	// registered in the launch's own profile (see [NativeHost] and
	// [Browser.NativeHost]).
	NativeHosts []NativeHost
}

// ErrBrowserNotFound is wrapped by the error of a Launch that found no
// browser binary; the error says how to install one.
var ErrBrowserNotFound = errors.New("browser not found")

// notFound is a browserbin error that matches ErrBrowserNotFound.
type notFound struct{ err error }

func (e *notFound) Error() string        { return e.err.Error() }
func (e *notFound) Unwrap() error        { return e.err }
func (e *notFound) Is(target error) bool { return target == ErrBrowserNotFound }

// Browser is a running browser with its instrumented extensions.
//
// A Browser is safe for concurrent use. Close ends the browser process
// tree, every port and realm, and removes every temporary folder.
type Browser struct {
	kind    Kind
	root    string // temp dir: profile and extension copies
	session bridgeinternal.Session
	exts    []*bridge.Extension
	facts   []bridgeinternal.Facts
	logger  *slog.Logger
	impl    browserImpl

	natives    []NativeHost // Options.NativeHosts, checked
	nativeMark string       // native.EnvLaunch's value for this launch, "" without native hosts

	closeOnce sync.Once
	closeErr  error
}

// browserImpl is what each browser's protocol does: internal/chromium and
// internal/firefox, behind the adapters in impl.go.
type browserImpl interface {
	bridgeinternal.Browser
	openTab(ctx context.Context, url string) (tabImpl, error)
	openPage(ctx context.Context, url string) (tabImpl, error)
	PageURL(extID, path string) string
	Close() error
}

// Launch starts a browser with the extensions in opts.Extensions, each
// copied to a temporary folder and instrumented with the bridge. It returns
// once every extension's background bridge is connected. ctx bounds the
// launch only.
func Launch(ctx context.Context, opts Options) (_ *Browser, err error) {
	if opts.Browser == "" {
		opts.Browser = Chromium
	}
	spec := browserbin.Chromium
	switch opts.Browser {
	case Chromium:
	case Firefox:
		spec = browserbin.Firefox
	default:
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
	natives, err := checkNativeHosts(opts.NativeHosts)
	if err != nil {
		return nil, err
	}
	bin, err := browserbin.Find(spec, opts.BinaryPath)
	if err != nil {
		return nil, &notFound{err}
	}
	logger.Info("found browser", "browser", string(opts.Browser), "path", bin)
	root, err := os.MkdirTemp("", leakcheck.TempPrefix())
	if err != nil {
		return nil, fmt.Errorf("failed to make a temporary folder: %w", err)
	}
	session, err := bridgeinternal.NewSession(logger)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	b := &Browser{kind: opts.Browser, root: root, session: session, logger: logger, natives: natives}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	var dirs []string
	for i, src := range opts.Extensions {
		dst := filepath.Join(root, fmt.Sprintf("ext-%d", i))
		e, facts, err := session.AddExtension(src, dst, string(opts.Browser))
		if err != nil {
			return nil, err
		}
		b.exts = append(b.exts, e.(*bridge.Extension))
		b.facts = append(b.facts, facts)
		dirs = append(dirs, dst)
		logger.Info("instrumented extension", "name", facts.Name, "dir", dst)
	}
	onExit := func() { session.Shutdown(bridge.ErrBrowserExited) }
	env := append(append([]string(nil), opts.Env...), leakcheck.OwnerValue())
	if len(natives) > 0 {
		// Every host process inherits the mark, so Close finds them all.
		b.nativeMark = filepath.Base(root)
		env = append(env, native.EnvLaunch+"="+b.nativeMark)
	}
	switch opts.Browser {
	case Chromium:
		profile := filepath.Join(root, "profile")
		if err := os.Mkdir(profile, 0o700); err != nil {
			return nil, fmt.Errorf("failed to make a profile folder: %w", err)
		}
		if err := chromium.WritePrefs(profile, opts.Prefs); err != nil {
			return nil, err
		}
		if err := b.registerNative(filepath.Join(profile, "NativeMessagingHosts")); err != nil {
			return nil, err
		}
		c, err := chromium.Launch(ctx, chromium.Options{
			Binary: bin, Profile: profile, Headful: opts.Headful, Args: opts.Args, Env: env, Stderr: opts.Stderr,
			ExtensionDirs: dirs, Extensions: b.facts, Session: session, OnExit: onExit,
		})
		if err != nil {
			return nil, err
		}
		b.impl = chromiumImpl{c}
	case Firefox:
		var manifests string
		if len(natives) > 0 {
			manifests = filepath.Join(root, "native", "mozilla")
			if err := b.registerNative(filepath.Join(manifests, "native-messaging-hosts")); err != nil {
				return nil, err
			}
		}
		f, err := firefox.Open(ctx, firefox.BrowserOptions{
			Binary: bin, Headful: opts.Headful, Args: opts.Args, Env: env, Stderr: opts.Stderr, TempDir: root,
			Prefs: opts.Prefs, ExtensionDirs: dirs, Extensions: b.facts, OnExit: onExit,
			NativeManifests: manifests,
		})
		if err != nil {
			return nil, err
		}
		b.impl = firefoxImpl{f}
	}
	session.SetBrowser(b.impl)
	logger.Info("browser started", "browser", string(opts.Browser))
	for _, f := range b.facts {
		if !f.HasBackground {
			continue
		}
		if err := session.WaitBackground(ctx, f.Index); err != nil {
			return nil, fmt.Errorf("failed to launch: the bridge in the background of %s did not connect: %w", f.Name, err)
		}
		logger.Info("background connected", "name", f.Name)
	}
	return b, nil
}

// Kind is the browser this is.
func (b *Browser) Kind() Kind { return b.kind }

// Extensions returns the extensions, in the order of Options.Extensions.
func (b *Browser) Extensions() []*bridge.Extension {
	return append([]*bridge.Extension(nil), b.exts...)
}

// NewTab opens a tab at url and returns once the page has loaded. The tab
// opens in the foreground of the browser's window, as a user's new tab
// does: the tab that was in front before goes to the background (its
// document.visibilityState is "hidden"), in both browsers.
func (b *Browser) NewTab(ctx context.Context, url string) (*Tab, error) {
	t, err := b.impl.openTab(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("failed to open a tab at %s: %w", url, err)
	}
	return &Tab{b: b, impl: t}, nil
}

// Close ends the browser: every port ends with an error, the process tree is
// killed and waited for, and the temporary folders are removed. It is
// idempotent and safe to call from several goroutines.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		start := time.Now()
		b.session.Shutdown(bridge.ErrBrowserClosed)
		var errs []error
		if b.impl != nil {
			errs = append(errs, b.impl.Close())
		}
		errs = append(errs, b.reapNative(start))
		errs = append(errs, b.session.Close())
		if err := os.RemoveAll(b.root); err != nil {
			errs = append(errs, fmt.Errorf("failed to remove %s: %w", b.root, err))
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

func init() {
	driverinternal.Root = func(b any) string { return b.(*Browser).root }
}
