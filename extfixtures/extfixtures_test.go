package extfixtures

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// manifest is the part of a fixture manifest the tests check.
type manifest struct {
	ManifestVersion int    `json:"manifest_version"`
	Name            string `json:"name"`
	Version         string `json:"version"`
	Background      struct {
		ServiceWorker string   `json:"service_worker"`
		Scripts       []string `json:"scripts"`
	} `json:"background"`
	BrowserSpecificSettings struct {
		Gecko struct {
			ID string `json:"id"`
		} `json:"gecko"`
	} `json:"browser_specific_settings"`
	ContentScripts []struct {
		Matches []string `json:"matches"`
		JS      []string `json:"js"`
		CSS     []string `json:"css"`
	} `json:"content_scripts"`
	HostPermissions []string `json:"host_permissions"`
}

func TestNames(t *testing.T) {
	want := []string{"breakall", "echo", "extpages", "extpair-a", "extpair-b", "hostile", "messages", "multiport", "nativepingpong", "nolistener", "nonative", "pingpong", "tabsconnect"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestMaterialize(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			dir, err := Materialize(name, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(filepath.Base(dir), name+"-") {
				t.Errorf("folder %s is not named after %s", dir, name)
			}
			data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			var m manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("manifest.json: %v", err)
			}
			if m.ManifestVersion != 3 || m.Name != name || m.Version == "" {
				t.Errorf("manifest_version, name, version = %d, %q, %q; want 3, %q, set", m.ManifestVersion, m.Name, m.Version, name)
			}
			if id := m.BrowserSpecificSettings.Gecko.ID; id != name+"@extbridge.test" {
				t.Errorf("gecko id = %q, want %q", id, name+"@extbridge.test")
			}
			// One manifest for both browsers: a worker for Chromium, scripts
			// for Firefox, the same file.
			if m.Background.ServiceWorker == "" || !slices.Equal(m.Background.Scripts, []string{m.Background.ServiceWorker}) {
				t.Errorf("background = %+v, want service_worker and the same file in scripts", m.Background)
			}
			refs := []string{m.Background.ServiceWorker}
			// extpair-b only receives other extensions; the native ones
			// have only a background.
			if len(m.ContentScripts) == 0 && name != "extpair-b" && name != "nativepingpong" && name != "nonative" {
				t.Errorf("no content scripts")
			}
			for _, cs := range m.ContentScripts {
				refs = append(refs, cs.JS...)
				refs = append(refs, cs.CSS...)
				if len(cs.Matches) == 0 {
					t.Errorf("content script %v has no matches", cs.JS)
				}
			}
			if len(m.ContentScripts) > 0 && !slices.Contains(m.HostPermissions, "<all_urls>") {
				t.Errorf("host_permissions = %q, want <all_urls>", m.HostPermissions)
			}
			for _, ref := range refs {
				st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(ref, "/"))))
				if err != nil || !st.Mode().IsRegular() {
					t.Errorf("manifest references %q: %v", ref, err)
				}
			}
			// Every script runs in both browsers, so none may use browser- or
			// Chromium-only spellings directly.
			scripts, _ := filepath.Glob(filepath.Join(dir, "*.js"))
			for _, s := range scripts {
				data, err := os.ReadFile(s)
				if err != nil {
					t.Fatal(err)
				}
				src := string(data)
				if !strings.Contains(src, "const api = globalThis.browser ?? globalThis.chrome;") {
					t.Errorf("%s does not pick its namespace with globalThis.browser ?? globalThis.chrome", filepath.Base(s))
				}
				for _, bad := range []string{"browser.runtime", "chrome.runtime", "browser.tabs", "chrome.tabs", "browserAction.onClicked", "api.action.onClicked"} {
					if strings.Contains(src, bad) {
						t.Errorf("%s uses %s", filepath.Base(s), bad)
					}
				}
			}
		})
	}
}

func TestMaterializeHost(t *testing.T) {
	if want := []string{"exits_at_once.sh", "garbage.py", "ignores_eof.py", "ping_pong.py"}; !slices.Equal(Hosts(), want) {
		t.Errorf("Hosts() = %q, want %q", Hosts(), want)
	}
	dir := t.TempDir()
	for _, name := range Hosts() {
		path, err := MaterializeHost(name, dir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, %v; want 0755", name, st.Mode().Perm(), err)
		}
		data, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(data), "#!/") {
			t.Errorf("%s has no #! line", name)
		}
	}
	if _, err := MaterializeHost("nope.py", dir); err == nil || !strings.Contains(err.Error(), "no such host program") {
		t.Errorf("unknown host: %v", err)
	}
}

func TestMaterializeTwice(t *testing.T) {
	dir := t.TempDir()
	a, err := Materialize("echo", dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Materialize("echo", dir)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two calls returned the same folder %s", a)
	}
}

func TestMaterializeErrors(t *testing.T) {
	_, err := Materialize("nope", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `failed to materialize "nope": no such fixture extension (known: breakall, echo, extpages, extpair-a, extpair-b, hostile, messages, multiport, nativepingpong, nolistener, nonative, pingpong, tabsconnect)`) {
		t.Errorf("err = %v", err)
	}
	if _, err := Materialize("pages", t.TempDir()); err == nil {
		t.Errorf("pages materialized as an extension")
	}
	if _, err := Materialize("echo", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "failed to materialize echo: ") {
		t.Errorf("err = %v, want a failure to create the folder", err)
	}
}

// TestScriptsParse checks the JavaScript syntax of every fixture script with
// node, if it is installed.
func TestScriptsParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" {
			return err
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		f := filepath.Join(t.TempDir(), path.Base(p))
		if err := os.WriteFile(f, data, 0o644); err != nil {
			return err
		}
		if out, err := exec.Command(node, "--check", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", p, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPages(t *testing.T) {
	want := []string{"csp.html", "frame-a.html", "frame-b.html", "frames.html", "hostile.html", "index.html", "input.html"}
	entries, err := fs.ReadDir(Pages(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages = %q, want %q", got, want)
	}
	frames, err := fs.ReadFile(Pages(), "frames.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{`src="frame-a.html"`, `src="frame-b.html"`} {
		if !strings.Contains(string(frames), f) {
			t.Errorf("frames.html lacks %s", f)
		}
	}
	srv := httptest.NewServer(http.FileServerFS(Pages()))
	defer srv.Close()
	for _, p := range want {
		resp, err := http.Get(srv.URL + "/" + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %s, %s", p, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
}
