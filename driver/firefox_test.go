package driver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/extbridge/extbridge/internal/browserbin"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/internal/driverinternal"
	"github.com/extbridge/extbridge/internal/leakcheck"
)

// ffExtension is a small MV3 extension with an event page, an action and a
// content script in every frame.
var ffExtension = map[string]string{
	"manifest.json": `{
  "manifest_version": 3,
  "name": "ffdriver",
  "version": "1.0",
  "background": {"service_worker": "bg.js", "scripts": ["bg.js"]},
  "browser_specific_settings": {"gecko": {"id": "ffdriver@extbridge.test"}},
  "action": {"default_title": "ffdriver"},
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"], "all_frames": true}],
  "host_permissions": ["<all_urls>"]
}`,
	"bg.js": `globalThis.clicks = [];
let clickedNow;
globalThis.clicked = new Promise((resolve) => { clickedNow = resolve; }); // resolves with clicks at the first click
browser.action.onClicked.addListener((tab) => { globalThis.clicks.push(tab.id); clickedNow(globalThis.clicks); });
browser.runtime.onConnect.addListener((port) => { port.onMessage.addListener((m) => port.postMessage(m)); });`,
	"cs.js": `globalThis.marker = "cs:" + location.search;`,
}

func launchFirefox(t *testing.T) (*driver.Browser, string) {
	t.Helper()
	return launchFirefoxWith(t, ffExtension)
}

func launchFirefoxWith(t *testing.T, files map[string]string) (*driver.Browser, string) {
	t.Helper()
	if _, err := browserbin.Find(browserbin.Firefox, ""); err != nil {
		t.Fatalf("these tests need Firefox: %v", err)
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/frames" {
			fmt.Fprint(w, `<!DOCTYPE html><title>frames</title><iframe src="/sub?in-frame"></iframe>`)
			return
		}
		fmt.Fprintf(w, "<!DOCTYPE html><title>%s</title><body>page</body>", r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := driver.Options{Browser: driver.Firefox, Extensions: []string{dir}}
	if os.Getenv("EXTBRIDGE_FIREFOX_LOG") != "" {
		opts.Stderr = os.Stderr
	}
	before := leakcheck.TempDirs()
	b, err := driver.Launch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	pid, profile := firefoxChild(t)
	root := driverinternal.Root(b)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if alive(pid) {
			t.Errorf("Firefox (pid %d) still runs after Close", pid)
		}
		for _, d := range []string{profile, root} {
			if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s is still there after Close: %v", d, err)
			}
		}
		if leaks := leakcheck.Report(before); leaks != "" {
			t.Errorf("leaks after Close:\n%s", leaks)
		}
	})
	return b, srv.URL
}

// firefoxChild returns the pid and the profile folder of the Firefox this
// test process started last.
func firefoxChild(t *testing.T) (int, string) {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	best, profile := 0, ""
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		st, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		args := strings.Split(string(cmd), "\x00")
		for i, a := range args {
			if a == "--profile" && i+1 < len(args) && pid > best {
				best, profile = pid, args[i+1]
			}
		}
	}
	if best == 0 {
		t.Fatal("found no Firefox child process")
	}
	return best, profile
}

func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !bytes.Contains(st, []byte(") Z "))
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Tabs on the same URL get their own, exact tab ids; Eval reaches the event
// page and each tab's content-script world; the action click reaches the
// right tab.
func TestFirefoxTabsEvalAction(t *testing.T) {
	b, url := launchFirefox(t)
	ctx := testContext(t)
	ext := b.Extensions()[0]
	if ext.ID() != "ffdriver@extbridge.test" {
		t.Errorf("ID = %q", ext.ID())
	}
	var tabs []*driver.Tab
	for _, q := range []string{"one", "two", "one"} {
		tab, err := b.NewTab(ctx, url+"/?"+q)
		if err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, tab)
	}
	bg, err := ext.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, tab := range tabs {
		if seen[tab.ID()] {
			t.Fatalf("tab %d has the id %d of another tab", i, tab.ID())
		}
		seen[tab.ID()] = true
		var got string
		if err := bg.Eval(ctx, fmt.Sprintf("browser.tabs.get(%d).then((t) => t.url)", tab.ID()), &got); err != nil {
			t.Fatal(err)
		}
		if want := url + "/?" + []string{"one", "two", "one"}[i]; got != want {
			t.Errorf("tab %d (id %d) has url %q, want %q", i, tab.ID(), got, want)
		}
		cs, err := ext.ContentScript(ctx, tab.ID(), 0)
		if err != nil {
			t.Fatal(err)
		}
		var marker string
		if err := cs.Eval(ctx, "marker", &marker); err != nil || marker != "cs:?"+[]string{"one", "two", "one"}[i] {
			t.Errorf("content Eval in tab %d = %q, %v", i, marker, err)
		}
	}

	// Eval: values, promises, undefined, errors, and globals that persist.
	for _, c := range []struct{ js, want string }{
		{"1 + 1", "2"},
		{"Promise.resolve({a: [1, 'x']})", `{"a":[1,"x"]}`},
		{"undefined", "null"},
		{"var kept = 7; kept", "7"},
		{"kept * 6", "42"},
		{"globalThis.kept", "7"}, // the page's own global
		{"let lexical = 3; lexical", "3"},
		{"lexical + 1", "4"},
		{"Promise.resolve(undefined)", "null"},
		{"10n", `"10"`},
		{"location.href.startsWith('moz-extension://')", "true"},
	} {
		var raw any
		if err := bg.Eval(ctx, c.js, &raw); err != nil {
			t.Errorf("Eval(%s): %v", c.js, err)
			continue
		}
		got := fmt.Sprint(mustJSON(raw))
		if got != c.want {
			t.Errorf("Eval(%s) = %s, want %s", c.js, got, c.want)
		}
	}
	for _, js := range []string{"(() => { throw new Error('boom') })()", "Promise.reject(new Error('boom'))", "nosuchname_boom"} {
		if err := bg.Eval(ctx, js, nil); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("Eval(%s) = %v, want an error about boom", js, err)
		}
	}

	// An error thrown later by a callback of the code is the page's own
	// uncaught error.
	if err := bg.Eval(ctx, `globalThis.errs = []; globalThis.erred = new Promise((resolve) => addEventListener("error", (e) => { errs.push(e.message); resolve(errs); }, {once: true})); setTimeout(() => { throw new Error("later") }, 0); 1`, nil); err != nil {
		t.Fatal(err)
	}
	var errs []string
	if err := bg.Eval(ctx, "erred", &errs); err != nil { // awaits the error event
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "later") {
		t.Errorf("the page's error events = %q", errs)
	}
	cs, err := ext.ContentScript(ctx, tabs[0].ID(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, js := range []string{"(() => { throw new Error('boom') })()", "Promise.reject(new Error('boom'))"} {
		if err := cs.Eval(ctx, js, nil); err == nil || !strings.Contains(err.Error(), "Error: boom") {
			t.Errorf("content Eval(%s) = %v, want an error about boom", js, err)
		}
	}

	png, err := tabs[0].Screenshot(ctx)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("Screenshot = %d bytes, %v", len(png), err)
	}

	// The action, with the second tab.
	if err := tabs[1].ClickAction(ctx, ext); err != nil {
		t.Fatal(err)
	}
	var clicks []int
	if err := bg.Eval(ctx, "clicked", &clicks); err != nil { // awaits the first click
		t.Fatal(err)
	}
	if len(clicks) != 1 || clicks[0] != tabs[1].ID() {
		t.Errorf("onClicked tabs = %v, want [%d]", clicks, tabs[1].ID())
	}

	// A subframe's content-script world.
	ft, err := b.NewTab(ctx, url+"/frames")
	if err != nil {
		t.Fatal(err)
	}
	frames, err := ext.Frames(ctx, ft.ID())
	if err != nil || len(frames) != 2 {
		t.Fatalf("Frames = %+v, %v", frames, err)
	}
	for _, f := range frames {
		if f.ID == 0 {
			continue
		}
		cs, err := ext.ContentScript(ctx, ft.ID(), f.ID)
		if err != nil {
			t.Fatal(err)
		}
		var marker string
		if err := cs.Eval(ctx, "marker", &marker); err != nil || marker != "cs:?in-frame" {
			t.Errorf("subframe Eval = %q, %v", marker, err)
		}
	}

	for _, tab := range append(tabs, ft) {
		if err := tab.Close(ctx); err != nil {
			t.Errorf("Close tab: %v", err)
		}
		if err := tab.Close(ctx); err != nil {
			t.Errorf("second Close of a tab: %v", err)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// StopBackground ends the event page like Firefox's idle timeout; the next
// call wakes it.
func TestFirefoxStopAndWake(t *testing.T) {
	b, url := launchFirefox(t)
	ctx := testContext(t)
	ext := b.Extensions()[0]
	p := openPort(ctx, t, b, url+"/?x", "across")
	if err := p.PostMessage(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	if m, err := p.Recv(ctx); err != nil || string(m) != `"ping"` {
		t.Fatalf("echo = %s, %v", m, err)
	}
	if err := ext.StopBackground(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
		t.Logf("the content script's port ended with %v", p.Err())
	case <-ctx.Done():
		t.Fatal("the port to the stopped event page did not end")
	}
	bg, err := ext.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := bg.Eval(ctx, "clicks.length + 3", &n); err != nil || n != 3 {
		t.Errorf("Eval after the wake = %d, %v", n, err)
	}
}

// When Firefox dies by itself, every port ends with an error that says so.
func TestFirefoxDies(t *testing.T) {
	b, url := launchFirefox(t)
	ctx := testContext(t)
	p := openPort(ctx, t, b, url+"/?x", "doomed")
	pid, _ := firefoxChild(t)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatal("the port did not end when the browser died")
	}
	var de *bridge.DisconnectError
	if !errors.As(p.Err(), &de) || !strings.Contains(p.Err().Error(), "the browser process exited") {
		t.Fatalf("Err = %v, want a *DisconnectError that says the browser process exited", p.Err())
	}
}

// Firefox's real idle timeout suspends the event page (30 s without
// extension API calls or events); the ports to it end, and the next call
// wakes it.
func TestFirefoxIdleSuspend(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Firefox's 30 s idle timeout")
	}
	b, url := launchFirefox(t)
	ext := b.Extensions()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := openPort(ctx, t, b, url+"/?x", "idle")
	start := time.Now()
	select {
	case <-p.Done():
		t.Logf("the event page was suspended after %s; the port ended with %v", time.Since(start).Round(time.Second), p.Err())
	case <-ctx.Done():
		t.Fatal("the event page was not suspended")
	}
	bg, err := ext.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := bg.Eval(ctx, "clicks.length + 1", &n); err != nil || n != 1 {
		t.Errorf("Eval after the wake = %d, %v", n, err)
	}
}

// Without extensions, tabs still open and close; Firefox's built-in add-ons
// load the tabs API, so the tab even has its tabs.Tab id (Chromium says -1).
func TestFirefoxNoExtension(t *testing.T) {
	if _, err := browserbin.Find(browserbin.Firefox, ""); err != nil {
		t.Fatalf("these tests need Firefox: %v", err)
	}
	ctx := testContext(t)
	b, err := driver.Launch(ctx, driver.Options{Browser: driver.Firefox})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tab, err := b.NewTab(ctx, "about:blank")
	if err != nil {
		t.Fatal(err)
	}
	if tab.ID() < 0 {
		t.Errorf("ID = %d, want a tab id", tab.ID())
	}
	if err := tab.Close(ctx); err != nil {
		t.Error(err)
	}
}

// A Manifest V2 extension with a persistent background page: Eval and the
// browser action work; stopping it is unsupported, as in Firefox itself.
func TestFirefoxPersistentBackground(t *testing.T) {
	b, url := launchFirefoxWith(t, map[string]string{
		"manifest.json": `{
  "manifest_version": 2,
  "name": "ffmv2",
  "version": "1.0",
  "background": {"scripts": ["bg.js"]},
  "browser_specific_settings": {"gecko": {"id": "ffmv2@extbridge.test"}},
  "browser_action": {"default_title": "ffmv2"},
  "permissions": ["<all_urls>"]
}`,
		"bg.js": `globalThis.clicks = [];
let clickedNow;
globalThis.clicked = new Promise((resolve) => { clickedNow = resolve; });
browser.browserAction.onClicked.addListener((tab) => { globalThis.clicks.push(tab.id); clickedNow(globalThis.clicks); });`,
	})
	ctx := testContext(t)
	ext := b.Extensions()[0]
	tab, err := b.NewTab(ctx, url+"/?mv2")
	if err != nil {
		t.Fatal(err)
	}
	bg, err := ext.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.ClickAction(ctx, ext); err != nil {
		t.Fatal(err)
	}
	var clicks []int
	if err := bg.Eval(ctx, "clicked", &clicks); err != nil { // awaits the first click
		t.Fatal(err)
	}
	if len(clicks) != 1 || clicks[0] != tab.ID() {
		t.Errorf("onClicked tabs = %v, want [%d]", clicks, tab.ID())
	}
	if err := ext.StopBackground(ctx); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("StopBackground = %v, want ErrUnsupported", err)
	}
	var n int
	if err := bg.Eval(ctx, "clicks.length", &n); err != nil || n != 1 {
		t.Errorf("Eval after StopBackground = %d, %v", n, err)
	}
}

// openPort opens a tab at url and connects from its content script.
func openPort(ctx context.Context, t *testing.T, b *driver.Browser, url, name string) *bridge.Port {
	t.Helper()
	tab, err := b.NewTab(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := b.Extensions()[0].ContentScript(ctx, tab.ID(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cs.Connect(ctx, bridge.ConnectInfo{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A page_action (the address-bar button of a Manifest V2 extension) is
// clicked like an action where it is shown; where it is hidden, the click
// is an error that says so.
func TestFirefoxPageAction(t *testing.T) {
	b, url := launchFirefoxWith(t, map[string]string{
		"manifest.json": `{
  "manifest_version": 2,
  "name": "ffpageaction",
  "version": "1.0",
  "background": {"scripts": ["bg.js"]},
  "browser_specific_settings": {"gecko": {"id": "ffpageaction@extbridge.test"}},
  "page_action": {"default_title": "ffpageaction", "show_matches": ["*://*/*?shown"]},
  "permissions": ["<all_urls>"]
}`,
		"bg.js": `let clickedNow;
globalThis.clicked = new Promise((resolve) => { clickedNow = resolve; });
browser.pageAction.onClicked.addListener((tab) => clickedNow(tab.id));`,
	})
	ctx := testContext(t)
	ext := b.Extensions()[0]
	hidden, err := b.NewTab(ctx, url+"/?hidden")
	if err != nil {
		t.Fatal(err)
	}
	if err := hidden.ClickAction(ctx, ext); err == nil || !strings.Contains(err.Error(), "not shown in this tab") {
		t.Errorf("ClickAction where the page action is hidden = %v", err)
	}
	tab, err := b.NewTab(ctx, url+"/?shown")
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.ClickAction(ctx, ext); err != nil {
		t.Fatal(err)
	}
	bg, err := ext.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var clicked int
	if err := bg.Eval(ctx, "clicked", &clicked); err != nil { // awaits the click
		t.Fatal(err)
	}
	if clicked != tab.ID() {
		t.Errorf("onClicked tab = %d, want %d", clicked, tab.ID())
	}
}
