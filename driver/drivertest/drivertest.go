// Package drivertest helps write extension end-to-end tests with go test,
// as net/http/httptest helps with HTTP code.
//
// Entry points:
//   - [Main] runs a package's tests and fails the run on leaked goroutines,
//     browser processes or temporary folders; use it as TestMain.
//   - [Launch] starts a browser for one test; [Shared] reuses one browser
//     per package and options, for suites where launch time dominates.
//   - [Browsers] and [Run] run one test body on every browser selected with
//     -extbridge.browser or EXTBRIDGE_BROWSERS.
//   - [NewTab] opens a tab that closes with the test.
//   - [Recv], [RecvMatch], [RecvWhere] and [ExpectDisconnect] wait for what
//     a port does, bounded by [Timeout], and fail with what arrived instead.
package drivertest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/extbridge/extbridge/driver"
)

// Timeout bounds every wait of the helpers, and each Launch.
var Timeout = 30 * time.Second

// browsersFlag is the -extbridge.browser flag; [Main] registers it, so that
// only test binaries that use drivertest have it.
var browsersFlag *string

// registerFlags adds drivertest's flags to the command line, once.
func registerFlags() {
	if browsersFlag == nil && flag.Lookup("extbridge.browser") == nil {
		browsersFlag = flag.String("extbridge.browser", "", "comma-separated browsers to test: chromium,firefox (default: env EXTBRIDGE_BROWSERS, else both)")
	}
}

// Browsers returns the browsers to test: the -extbridge.browser flag (in a
// test binary whose TestMain is [Main] or [RunMain]), else the
// EXTBRIDGE_BROWSERS environment variable, else Chromium and Firefox.
func Browsers() []driver.Kind {
	v := ""
	if browsersFlag != nil {
		v = *browsersFlag
	}
	if v == "" {
		v = os.Getenv("EXTBRIDGE_BROWSERS")
	}
	if v == "" {
		return []driver.Kind{driver.Chromium, driver.Firefox}
	}
	var out []driver.Kind
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, driver.Kind(s))
		}
	}
	return out
}

// Run runs body as a subtest for each browser of [Browsers], named after it.
func Run(t *testing.T, body func(t *testing.T, kind driver.Kind)) {
	t.Helper()
	for _, k := range Browsers() {
		t.Run(string(k), func(t *testing.T) { body(t, k) })
	}
}

// installHint says how to get a browser.
func installHint(k driver.Kind) string {
	if k == driver.Firefox {
		return "install it with `apt-get install firefox-esr` (or `make test`, which does), or set EXTBRIDGE_FIREFOX"
	}
	return "install it with `apt-get install chromium` (or `make test`, which does), or set EXTBRIDGE_CHROMIUM"
}

// Launch starts a browser for this test and closes it when the test ends.
// A missing browser fails the test with the command that installs it.
func Launch(t testing.TB, opts driver.Options) *driver.Browser {
	t.Helper()
	b, err := launch(opts)
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("drivertest: closing the browser: %v", err)
		}
	})
	return b
}

func launch(opts driver.Options) (*driver.Browser, error) {
	kind := opts.Browser
	if kind == "" {
		kind = driver.Chromium
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	b, err := driver.Launch(ctx, opts)
	if err != nil {
		if errors.Is(err, driver.ErrBrowserNotFound) {
			return nil, fmt.Errorf("%v\n%s is needed for this test: %s", err, kind, installHint(kind))
		}
		return nil, err
	}
	return b, nil
}

// shared is the package's pool of browsers, by options.
var shared = struct {
	sync.Mutex
	m map[string]*sharedBrowser
}{m: map[string]*sharedBrowser{}}

type sharedBrowser struct {
	once sync.Once
	b    *driver.Browser
	err  error
}

// Shared returns the package's browser for opts, launching it on first use.
// Every test that asks with the same browser, extensions, flags and native
// hosts gets the same one; [Main] closes them all. Give each test its own tab ([NewTab]).
func Shared(t testing.TB, opts driver.Options) *driver.Browser {
	t.Helper()
	if opts.Browser == "" {
		opts.Browser = driver.Chromium
	}
	key := fmt.Sprintf("%s|%s|%v|%v|%v|%v", opts.Browser, opts.BinaryPath, opts.Extensions, opts.Args, opts.Headful, opts.NativeHosts)
	shared.Lock()
	sb := shared.m[key]
	if sb == nil {
		sb = &sharedBrowser{}
		shared.m[key] = sb
	}
	shared.Unlock()
	sb.once.Do(func() { sb.b, sb.err = launch(opts) })
	if sb.err != nil {
		t.Fatalf("drivertest: %v", sb.err)
	}
	return sb.b
}

// closeShared closes every browser [Shared] launched. [Main] calls it.
func closeShared() error {
	shared.Lock()
	defer shared.Unlock()
	var errs []error
	for k, sb := range shared.m {
		if sb.b != nil {
			errs = append(errs, sb.b.Close())
		}
		delete(shared.m, k)
	}
	return errors.Join(errs...)
}

// NewTab opens a tab at url and closes it when the test ends.
func NewTab(t testing.TB, b *driver.Browser, url string) *driver.Tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	tab, err := b.NewTab(ctx, url)
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	closeWithTest(t, b, tab)
	return tab
}

// Context returns the test's context (t.Context), bounded by [Timeout].
// It ends when the test does, before its Cleanup functions run.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// closeWithTest closes tab when the test ends, after its diagnostics (see
// Diagnose) took the tab's screenshot.
func closeWithTest(t testing.TB, b *driver.Browser, tab *driver.Tab) {
	t.Cleanup(func() {
		// The test's own context has ended by now.
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		_ = tab.Close(ctx)
	})
	Diagnose(t, b, tab) // its cleanup runs first: screenshots before the tab closes
}
