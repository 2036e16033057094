// Package chromium drives Chromium over the DevTools protocol (chromedp and
// cdproto, pipe transport) for package driver: the launch, tabs, the
// extension's service worker, Eval, the action click.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdpext "github.com/chromedp/cdproto/extensions"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
)

// disabledFeatures are the features every launch turns off: they reach the
// network by themselves (translation, media routing, optimisation hints,
// network time, the CT component), stand in extbridge's way, or cost time
// for nothing headless: the omnibox's WebUI popups (two WebUI renderers
// per window, told of every new tab; measured on 2 cores, interleaved 3×15
// times, without them NewTab took 66–67 ms instead of 80–88 ms and a
// launch 379–434 ms instead of 454–508 ms).
const disabledFeatures = "Translate,DisableLoadExtensionCommandLineSwitch,MediaRouter,OptimizationHints,NetworkTimeServiceQuerying,CertificateTransparencyComponentUpdater," +
	"WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup"

// Flags are the flags every launch gets: quiet on a closed network, no
// first-run UI, no sandbox (extbridge may run as root), and extensions
// enabled (chromedp's defaults disable them). The benchmarks' floor starts
// its bare browser with the same flags.
//
// A test browser makes no request the test did not ask for (e2e
// TestHermeticBrowser counts them through a proxy). Beyond the
// background-networking flags, that takes: no network time queries
// (clients2.google.com/time), a component updater whose update server is
// data:, (on-demand components such as the optimisation guide's model
// manifest asked update.googleapis.com), and the Google accounts origin
// (GAIA) on a closed loopback port, as nothing turns off the account
// list Chromium asks accounts.google.com for at start-up.
func Flags() []chromedp.ExecAllocatorOption {
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
		chromedp.Flag("disable-features", disabledFeatures),
		chromedp.Flag("component-updater", "url-source=data:,"),
		chromedp.Flag("gaia-url", "http://127.0.0.1:9/"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("enable-unsafe-extension-debugging", true),
	}
}

// Options configures [Launch].
type Options struct {
	Binary        string
	Profile       string // the --user-data-dir, an empty folder
	Headful       bool
	Args          []string  // extra flags, "--name=value" or "--name"
	Env           []string  // extra environment, "KEY=value"
	Stderr        io.Writer // the browser's output; nil discards it
	ExtensionDirs []string  // the instrumented copies to load

	// Extensions are the extensions of ExtensionDirs, in the same order,
	// and Session the bridge that reaches their backgrounds.
	Extensions []bridgeinternal.Facts
	Session    bridgeinternal.Session

	// OnExit is called once if the browser goes away by itself.
	OnExit func()
}

// Browser is a running Chromium.
//
// chromedp starts it and keeps the browser-level connection; tabs, service
// workers and extension pages are driven through the mux's own sessions
// (mux.go), one attach each.
type Browser struct {
	opts        Options
	allocCancel context.CancelFunc
	browserCtx  context.Context
	cancel      context.CancelFunc
	mux         *mux
	lost        <-chan struct{}
	stop        chan struct{}
	watcher     sync.WaitGroup

	mu       sync.Mutex
	sw       *session                  // a page's, with ServiceWorker on (WakeBackground)
	tabs     map[int]*Tab              // the tabs Go opened, by tabs.Tab id
	sessions map[target.ID]*session    // attached for Eval to targets Go did not open
	workers  map[string]*workerSession // by extension id
}

// Launch starts Chromium and loads the extensions.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	aopts := append(Flags(), chromedp.ExecPath(opts.Binary), chromedp.UserDataDir(opts.Profile))
	if len(opts.Env) > 0 {
		aopts = append(aopts, chromedp.Env(opts.Env...))
	}
	if !opts.Headful {
		aopts = append(aopts, chromedp.Headless)
	}
	if len(opts.ExtensionDirs) > 0 {
		aopts = append(aopts, chromedp.Flag("load-extension", strings.Join(opts.ExtensionDirs, ",")))
	}
	for _, a := range opts.Args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case name == "disable-features" && hasValue:
			// Chromium reads one --disable-features: the user's join extbridge's.
			aopts = append(aopts, chromedp.Flag(name, disabledFeatures+","+value))
		case hasValue:
			aopts = append(aopts, chromedp.Flag(name, value))
		default:
			aopts = append(aopts, chromedp.Flag(name, true))
		}
	}
	out := opts.Stderr
	if out == nil {
		out = io.Discard
	}
	aopts = append(aopts, chromedp.CombinedOutput(out))
	m := newMux()
	var installErr error
	aopts = append(aopts, chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) { installErr = m.install(cmd) }))

	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), aopts...)
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{
		opts:        opts,
		allocCancel: allocCancel,
		browserCtx:  browserCtx,
		cancel:      cancel,
		mux:         m,
		stop:        make(chan struct{}),
		tabs:        make(map[int]*Tab),
		sessions:    make(map[target.ID]*session),
		workers:     make(map[string]*workerSession),
	}
	started := make(chan error, 1)
	// The first call starts the browser. A browser-level one: chromedp
	// attaches to no page (the mux has them all, see autoAttachPages).
	go func() {
		_, err := chromedp.CallBrowser(browserCtx, cdpbrowser.GetVersion, cdp.Empty{})
		started <- err
	}()
	select {
	case err := <-started:
		m.started()
		if err == nil && installErr != nil {
			err = installErr
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("failed to start Chromium (%s): %w", opts.Binary, err)
		}
	case <-ctx.Done():
		b.Close()
		<-started
		return nil, fmt.Errorf("failed to start Chromium: %w", ctx.Err())
	}
	// The tabs' closes wait for Target.targetDestroyed on the browser's own
	// session; chromedp asks for the same, this does not rely on it.
	if _, err := browserCall(ctx, m, target.SetDiscoverTargets, target.SetDiscoverTargetsParams{Discover: true}); err != nil {
		b.Close()
		return nil, fmt.Errorf("failed to start Chromium: %w", err)
	}
	if err := m.autoAttachPages(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("failed to start Chromium: %w", err)
	}
	b.lost = chromedp.FromContext(browserCtx).Browser.LostConnection
	b.watcher.Add(1)
	go func() {
		defer b.watcher.Done()
		select {
		case <-b.lost:
			if opts.OnExit != nil {
				opts.OnExit()
			}
		case <-b.stop:
		}
	}()
	if err := b.ensureLoaded(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// ensureLoaded loads the extensions over CDP when the browser ignored
// --load-extension (branded Chrome 137 and later).
func (b *Browser) ensureLoaded(ctx context.Context) error {
	dirs := b.opts.ExtensionDirs
	if len(dirs) == 0 {
		return nil
	}
	res, err := chromedp.CallBrowser(withDeadline(b.browserCtx, ctx), cdpext.GetExtensions, cdp.Empty{})
	if err != nil {
		return nil // an older browser without the domain: --load-extension is all there is
	}
	loaded := map[string]bool{}
	for _, e := range res.Extensions {
		loaded[filepath.Clean(e.Path)] = true
	}
	for i, dir := range dirs {
		if loaded[filepath.Clean(dir)] {
			continue
		}
		if _, err := chromedp.CallBrowser(withDeadline(b.browserCtx, ctx), cdpext.LoadUnpacked, cdpext.LoadUnpackedParams{Path: dir}); err != nil {
			return fmt.Errorf("failed to load %s: the browser ignored --load-extension and Extensions.loadUnpacked failed (branded Chrome 137+ needs --enable-unsafe-extension-debugging; use Chromium): %w", b.opts.Extensions[i].Name, err)
		}
	}
	return nil
}

// Close kills the browser and waits for it. It is idempotent.
func (b *Browser) Close() error {
	select {
	case <-b.stop:
		return nil
	default:
	}
	close(b.stop)
	b.mu.Lock()
	for _, w := range b.workers {
		if w.timer != nil {
			w.timer.Stop()
		}
	}
	b.mu.Unlock()
	tctx, tcancel := context.WithTimeout(b.browserCtx, 10*time.Second)
	_ = chromedp.Cancel(tctx)
	tcancel()
	b.cancel()
	b.allocCancel() // kills what is left and waits for the process
	b.mux.close()
	b.watcher.Wait()
	return nil
}

// exitCheckTimeout bounds Exited's question to the browser.
const exitCheckTimeout = 2 * time.Second

// Exited reports whether the browser is gone: its DevTools pipe broke, or it
// no longer answers within a couple of seconds.
func (b *Browser) Exited() bool {
	if b.lost == nil {
		return false
	}
	select {
	case <-b.lost:
		return true
	default:
	}
	ctx, cancel := context.WithTimeout(b.browserCtx, exitCheckTimeout)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
	return err != nil
}

// withDeadline returns a child of the chromedp context parent that also ends
// when ctx ends, so a chromedp call is bounded by the caller's context.
func withDeadline(parent, ctx context.Context) context.Context {
	child, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(ctx, cancel)
	context.AfterFunc(child, func() { stop() })
	return child
}

// errNotRunning is the error of a background that is not running.
var errNotRunning = errors.New("the background is not running")
