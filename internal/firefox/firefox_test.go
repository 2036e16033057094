package firefox

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
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/extbridge/extbridge/internal/bidi"
	"github.com/extbridge/extbridge/internal/browserbin"
)

// launchTest starts Firefox for one test and closes it at the end.
func launchTest(t *testing.T, opts Options) *Process {
	t.Helper()
	if _, err := browserbin.Find(browserbin.Firefox, opts.BinaryPath); err != nil {
		t.Fatalf("these tests need a real Firefox: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if os.Getenv("EXTBRIDGE_FIREFOX_LOG") != "" {
		opts.Stderr = os.Stderr
	}
	p, err := Launch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// alive returns the processes of the process group pgid and the crash
// helpers of the browser pgid that are not zombies.
func alive(pgid int) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		args := strings.Split(string(cmdline), "\x00")
		if f[2] == strconv.Itoa(pgid) ||
			(len(args) > 1 && strings.HasSuffix(args[0], "crashhelper") && args[1] == strconv.Itoa(pgid)) {
			found = append(found, e.Name()+" "+strings.Join(args, " "))
		}
	}
	return found
}

func browserGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "firefox.(*Process)") || strings.Contains(g, "bidi.(*Conn)") {
			leaked = append(leaked, g)
		}
	}
	return leaked
}

func TestLaunchClose(t *testing.T) {
	if _, err := browserbin.Find(browserbin.Firefox, ""); err != nil {
		t.Fatalf("these tests need a real Firefox: %v", err)
	}
	ctx := testCtx(t)
	p, err := Launch(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid, profile := p.PID(), p.ProfileDir()
	if _, err := os.Stat(filepath.Join(profile, "user.js")); err != nil {
		t.Fatal(err)
	}
	if len(alive(pid)) == 0 {
		t.Fatal("no browser process found")
	}
	if !strings.HasPrefix(p.Version(), "1") {
		t.Errorf("Version() = %q", p.Version())
	}
	tree, err := p.BiDi().BrowsingContextGetTree(ctx, bidi.GetTreeParams{})
	if err != nil || len(tree) == 0 {
		t.Fatalf("getTree: %v, %v", tree, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if left := alive(pid); len(left) > 0 {
		t.Errorf("processes left after Close:\n%s", strings.Join(left, "\n"))
	}
	if _, err := os.Stat(profile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile %s left after Close: %v", profile, err)
	}
	select {
	case <-p.BiDi().Done():
	default:
		t.Error("BiDi connection still open after Close")
	}
	if g := browserGoroutines(); len(g) > 0 {
		t.Errorf("goroutines left after Close:\n%s", strings.Join(g, "\n\n"))
	}
}

func TestLaunchBadPref(t *testing.T) {
	_, err := Launch(testCtx(t), Options{Prefs: map[string]any{"x": 1.5}})
	if err == nil || !strings.Contains(err.Error(), "unsupported pref type") {
		t.Fatalf("got %v", err)
	}
}

// report is what the test extension sends over its WebSocket.
type report struct {
	Role string `json:"role"`
	Href string `json:"href"`
	ID   string `json:"id"`
}

// reportServer is a WebSocket server that passes every message it receives
// to a channel, and serves a test page at /page.
func reportServer(t *testing.T) (*httptest.Server, <-chan report) {
	reports := make(chan report, 100)
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			_, data, err := ws.Read(r.Context())
			if err != nil {
				return
			}
			var rep report
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Errorf("bad report %s: %v", data, err)
				return
			}
			reports <- rep
		}
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		fmt.Fprint(w, "<!doctype html><title>page</title><p>page")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, reports
}

func nextReport(t *testing.T, ctx context.Context, reports <-chan report, role string) report {
	t.Helper()
	for {
		select {
		case r := <-reports:
			if r.Role == role {
				return r
			}
		case <-ctx.Done():
			t.Fatalf("no report from the %s: %v", role, ctx.Err())
		}
	}
}

// writeExtension writes a small MV3 extension into a temporary folder. Its
// background (an event page in Firefox) and its content script report to
// wsURL. The manifest has both background.scripts and
// background.service_worker, as the instrumented copies do.
func writeExtension(t *testing.T, id, wsURL string) string {
	dir := t.TempDir()
	manifest := map[string]any{
		"manifest_version": 3,
		"name":             "extbridge firefox test",
		"version":          "1.0",
		"browser_specific_settings": map[string]any{
			"gecko": map[string]any{"id": id},
		},
		"background": map[string]any{
			"scripts":        []string{"report.js"},
			"service_worker": "report.js",
		},
		// Firefox's default MV3 policy has upgrade-insecure-requests, which
		// turns ws://127.0.0.1 into wss:// in the background.
		"content_security_policy": map[string]any{"extension_pages": "script-src 'self'"},
		"host_permissions":        []string{"<all_urls>"},
		"content_scripts": []any{map[string]any{
			"matches": []string{"<all_urls>"},
			"js":      []string{"report.js"},
			"run_at":  "document_start",
		}},
	}
	b, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	js := fmt.Sprintf(`(() => {
  const api = globalThis.browser || globalThis.chrome;
  const role = location.protocol === "moz-extension:" || location.protocol === "chrome-extension:" ? "background" : "content";
  const ws = new WebSocket(%q);
  ws.onopen = () => ws.send(JSON.stringify({role, href: location.href, id: api.runtime.id}));
})();
`, wsURL)
	for name, data := range map[string]string{"manifest.json": string(b), "report.js": js} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExtension(t *testing.T) {
	const (
		id   = "firefox-test@extbridge"
		uuid = "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	)
	srv, reports := reportServer(t)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	p := launchTest(t, Options{ExtensionUUIDs: map[string]string{id: uuid}})
	ctx := testCtx(t)

	got, err := p.InstallExtension(ctx, writeExtension(t, id, wsURL))
	if err != nil {
		t.Fatal(err)
	}
	if got != id {
		t.Fatalf("InstallExtension returned %q, want %q", got, id)
	}

	bg := nextReport(t, ctx, reports, "background")
	if want := "moz-extension://" + uuid + "/"; !strings.HasPrefix(bg.Href, want) {
		t.Errorf("background at %q, want it under %q", bg.Href, want)
	}
	if bg.ID != id {
		t.Errorf("background runtime.id = %q, want %q", bg.ID, id)
	}

	c := p.BiDi()
	tab, err := c.BrowsingContextCreate(ctx, bidi.CreateParams{Type: "tab"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: tab, URL: srv.URL + "/page"}); err != nil {
		t.Fatal(err)
	}
	cs := nextReport(t, ctx, reports, "content")
	if cs.Href != srv.URL+"/page" || cs.ID != id {
		t.Errorf("content script reported %+v", cs)
	}
	if err := c.BrowsingContextClose(ctx, tab); err != nil {
		t.Fatal(err)
	}
}

func TestInstallServiceWorkerOnly(t *testing.T) {
	p := launchTest(t, Options{})
	dir := t.TempDir()
	manifest := `{"manifest_version": 3, "name": "sw", "version": "1",
		"browser_specific_settings": {"gecko": {"id": "sw@extbridge"}},
		"background": {"service_worker": "sw.js"}}`
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(dir, "sw.js"), nil, 0o644)
	_, err := p.InstallExtension(testCtx(t), dir)
	var be *bidi.Error
	if !errors.As(err, &be) || !strings.Contains(be.Message, "background.service_worker is currently disabled") {
		t.Fatalf("got %v, want the service worker to be refused", err)
	}
}
