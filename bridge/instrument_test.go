package bridge

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testBridgeScript is a stand-in bridge script: one comment line per realm.
func testBridgeScript(realm string) []byte {
	return []byte("// extbridge " + realm + " bridge\n")
}

// writeTree creates the files (slash-separated paths) in a new temp folder.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyTestdata copies testdata/instrument/<name> to a temp folder, so a test
// can add things git cannot hold (.git, symlinks, modes).
func copyTestdata(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join("testdata", "instrument", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// runInstrument instruments src for browser into a new temp folder.
func runInstrument(t testing.TB, src, browser string) *instrumented {
	t.Helper()
	res, err := instrument(src, filepath.Join(t.TempDir(), "copy"), instrumentOptions{Browser: browser, Script: testBridgeScript})
	if err != nil {
		t.Fatalf("instrument(%s, %s): %v", src, browser, err)
	}
	return res
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// manifestFromDisk reads the copy's manifest.json with encoding/json.
func manifestFromDisk(t testing.TB, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(readFile(t, filepath.Join(dir, "manifest.json"))))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("the written manifest does not parse: %v", err)
	}
	return m
}

// minimal returns a valid MV3 manifest with extra top-level members.
func minimal(extra string) string {
	if extra != "" {
		extra = ", " + extra
	}
	return `{"manifest_version": 3, "name": "T", "version": "1"` + extra + `}`
}

func TestInstrumentValidation(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // nil: no manifest.json
		browser string
		want    string // after "failed to instrument <src>: "
	}{
		{"no manifest", map[string]string{"bg.js": ""}, "", "manifest.json: not found in "},
		{"syntax error", map[string]string{"manifest.json": "{\n  \"name\": \"x\",\n  }\n"}, "",
			"manifest.json: invalid JSON at line 3, column 3: invalid character '}' looking for beginning of object key string"},
		{"syntax error after comments", map[string]string{"manifest.json": "// hello\n/* a\n b */ {\"a\": 1 \"b\": 2}"}, "",
			"manifest.json: invalid JSON at line 3, column 15: invalid character '\"' after object key:value pair"},
		{"truncated", map[string]string{"manifest.json": "{\"a\": [1,\n"}, "", "manifest.json: invalid JSON at line 2, column 1: unexpected end of JSON input"},
		{"unterminated comment", map[string]string{"manifest.json": "{\n /* oops\n}"}, "", "manifest.json: invalid JSON at line 2, column 2: unterminated /* comment"},
		{"trailing data", map[string]string{"manifest.json": minimal("") + "{}"}, "", "manifest.json: invalid JSON at line 1, column "},
		{"not an object", map[string]string{"manifest.json": `["manifest_version", 3]`}, "", "manifest.json: must be a JSON object, got an array"},
		{"no manifest_version", map[string]string{"manifest.json": `{"name": "x", "version": "1"}`}, "", "manifest.json: manifest_version is missing (want 2 or 3)"},
		{"manifest_version string", map[string]string{"manifest.json": `{"manifest_version": "3"}`}, "", `manifest.json: manifest_version must be 2 or 3, got "3"`},
		{"manifest_version 4", map[string]string{"manifest.json": `{"manifest_version": 4}`}, "", "manifest.json: manifest_version must be 2 or 3, got 4"},
		{"manifest_version 2 in chromium", map[string]string{"manifest.json": `{"manifest_version": 2, "name": "x", "version": "1"}`}, "chromium",
			"manifest.json: manifest_version 2 is not supported by Chromium 139 and later; use manifest_version 3"},
		{"manifest_version 2 default browser", map[string]string{"manifest.json": `{"manifest_version": 2, "name": "x", "version": "1"}`}, "",
			"manifest.json: manifest_version 2 is not supported by Chromium"},
		{"no name", map[string]string{"manifest.json": `{"manifest_version": 3, "version": "1"}`}, "", "manifest.json: name is missing"},
		{"name not a string", map[string]string{"manifest.json": `{"manifest_version": 3, "name": 7, "version": "1"}`}, "", "manifest.json: name must be a string, got 7"},
		{"background not an object", map[string]string{"manifest.json": minimal(`"background": "bg.js"`)}, "", `manifest.json: background must be an object, got "bg.js"`},
		{"service_worker not a string", map[string]string{"manifest.json": minimal(`"background": {"service_worker": ["sw.js"]}`)}, "",
			"manifest.json: background.service_worker must be a string, got an array"},
		{"service_worker missing", map[string]string{"manifest.json": minimal(`"background": {"service_worker": "sw.js"}`)}, "",
			`manifest.json: background.service_worker: "sw.js" does not exist`},
		{"service_worker is a folder", map[string]string{"manifest.json": minimal(`"background": {"service_worker": "lib"}`), "lib/x.js": ""}, "",
			`manifest.json: background.service_worker: "lib" is a folder, not a file`},
		{"service_worker empty", map[string]string{"manifest.json": minimal(`"background": {"service_worker": ""}`)}, "",
			`manifest.json: background.service_worker: "" is empty`},
		{"service_worker bad type", map[string]string{"manifest.json": minimal(`"background": {"service_worker": "sw.js", "type": "esm"}`), "sw.js": ""}, "",
			`manifest.json: background.type must be "classic" or "module", got "esm"`},
		{"scripts not an array", map[string]string{"manifest.json": minimal(`"background": {"scripts": "bg.js"}`), "bg.js": ""}, "firefox",
			`manifest.json: background.scripts must be an array of strings, got "bg.js"`},
		{"scripts entry missing", map[string]string{"manifest.json": minimal(`"background": {"scripts": ["a.js", "b.js"]}`), "a.js": ""}, "firefox",
			`manifest.json: background.scripts[1]: "b.js" does not exist`},
		{"scripts entry not a string", map[string]string{"manifest.json": minimal(`"background": {"scripts": [null]}`)}, "firefox",
			`manifest.json: background.scripts[0] must be a string, got null`},
		{"page missing", map[string]string{"manifest.json": minimal(`"background": {"page": "bg.html"}`)}, "firefox",
			`manifest.json: background.page: "bg.html" does not exist`},
		{"content script missing", map[string]string{"manifest.json": minimal(`"content_scripts": [{"matches": ["<all_urls>"], "js": ["a.js", "cs.js"]}]`), "a.js": ""}, "",
			`manifest.json: content_scripts[0].js[1]: "cs.js" does not exist`},
		{"content css missing", map[string]string{"manifest.json": minimal(`"content_scripts": [{"js": ["a.js"]}, {"css": ["x.css"]}]`), "a.js": ""}, "",
			`manifest.json: content_scripts[1].css[0]: "x.css" does not exist`},
		{"content_scripts not an array", map[string]string{"manifest.json": minimal(`"content_scripts": {"js": ["a.js"]}`)}, "",
			"manifest.json: content_scripts must be an array, got an object"},
		{"content_scripts entry not an object", map[string]string{"manifest.json": minimal(`"content_scripts": ["a.js"]`)}, "",
			`manifest.json: content_scripts[0] must be an object, got "a.js"`},
		{"escapes", map[string]string{"manifest.json": minimal(`"background": {"service_worker": "../x.js"}`)}, "",
			`manifest.json: background.service_worker: "../x.js" escapes the extension folder`},
		{"escapes from root", map[string]string{"manifest.json": minimal(`"content_scripts": [{"js": ["/a/../../x.js"]}]`)}, "",
			`manifest.json: content_scripts[0].js[0]: "/a/../../x.js" escapes the extension folder`},
		{"permissions not an array", map[string]string{"manifest.json": minimal(`"permissions": "tabs"`)}, "",
			`manifest.json: permissions must be an array, got "tabs"`},
		{"host_permissions not an array", map[string]string{"manifest.json": minimal(`"host_permissions": {}`)}, "",
			`manifest.json: host_permissions must be an array, got an object`},
		{"csp not a string", map[string]string{"manifest.json": minimal(`"content_security_policy": 1`)}, "",
			`manifest.json: content_security_policy must be a string or an object, got 1`},
		{"csp member not a string", map[string]string{"manifest.json": minimal(`"content_security_policy": {"extension_pages": ["x"]}`)}, "",
			`manifest.json: content_security_policy.extension_pages must be a string, got an array`},
		{"gecko not an object", map[string]string{"manifest.json": minimal(`"browser_specific_settings": {"gecko": "x@y"}`)}, "firefox",
			`manifest.json: browser_specific_settings.gecko must be an object, got "x@y"`},
		{"gecko id not a string", map[string]string{"manifest.json": minimal(`"applications": {"gecko": {"id": 5}}`)}, "firefox",
			`manifest.json: applications.gecko.id must be a string, got 5`},
		{"bad key", map[string]string{"manifest.json": minimal(`"key": "not base64!"`)}, "",
			`manifest.json: key is not valid base64`},
		{"already instrumented", map[string]string{"manifest.json": minimal(""), "__extbridge/content.js": ""}, "",
			"the extension already contains __extbridge/; it is reserved for the bridge"},
		{"wrapper name taken", map[string]string{"manifest.json": minimal(`"background": {"service_worker": "bg/sw.js"}`), "bg/sw.js": "", "bg/__extbridge_sw.js": ""}, "",
			"the extension already contains bg/__extbridge_sw.js"},
		{"unknown browser", map[string]string{"manifest.json": minimal("")}, "safari", `unknown browser "safari"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := writeTree(t, tt.files)
			dst := filepath.Join(t.TempDir(), "copy")
			res, err := instrument(src, dst, instrumentOptions{Browser: tt.browser, Script: testBridgeScript})
			if err == nil {
				t.Fatalf("instrument succeeded (%+v), want error %q", res, tt.want)
			}
			prefix := "failed to instrument " + src + ": "
			if !strings.HasPrefix(err.Error(), prefix+tt.want) {
				t.Errorf("error:\n got %q\nwant %q", err, prefix+tt.want+"…")
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dst was created on error (stat: %v)", err)
			}
		})
	}
}

func TestInstrumentDestination(t *testing.T) {
	src := writeTree(t, map[string]string{"manifest.json": minimal("")})
	nonEmpty := writeTree(t, map[string]string{"x": ""})
	for _, tt := range []struct{ name, dst, want string }{
		{"not empty", nonEmpty, "is not empty"},
		{"inside src", filepath.Join(src, "copy"), "is inside the extension folder"},
		{"src itself", src, "is inside the extension folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := instrument(src, tt.dst, instrumentOptions{Script: testBridgeScript})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("empty folder", func(t *testing.T) {
		dst := t.TempDir()
		if _, err := instrument(src, dst, instrumentOptions{Script: testBridgeScript}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nil script", func(t *testing.T) {
		_, err := instrument(src, filepath.Join(t.TempDir(), "c"), instrumentOptions{})
		if err == nil || !strings.Contains(err.Error(), "Script is nil") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestInstrumentWorker(t *testing.T) {
	tests := []struct {
		fixture, browser string
		wrapper          string // relative path of the wrapper
		content          string
		kind             string
	}{
		{"worker-classic", "chromium", "bg/__extbridge_sw.js",
			`importScripts("/__extbridge/background.js", "/bg/sw.js");` + "\n", "service_worker"},
		{"worker-module", "chromium", "__extbridge_sw.js",
			"import \"/__extbridge/background.js\";\nimport \"/sw.js\";\n", "module_service_worker"},
		// Firefox runs no extension service worker: the worker becomes a
		// module event page (see TestInstrumentWorkerOnlyOnFirefox).
		{"worker-module", "firefox", "__extbridge_sw.js",
			"import \"/__extbridge/background.js\";\nimport \"/sw.js\";\n", "scripts"},
		{"cross", "chromium", "__extbridge_sw.js",
			`importScripts("/__extbridge/background.js", "/background.js");` + "\n", "service_worker"},
		{"cross", "firefox", "__extbridge_sw.js",
			`importScripts("/__extbridge/background.js", "/background.js");` + "\n", "scripts"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.browser, func(t *testing.T) {
			src := filepath.Join("testdata", "instrument", tt.fixture)
			res := runInstrument(t, src, tt.browser)
			if got := readFile(t, filepath.Join(res.Dir, filepath.FromSlash(tt.wrapper))); got != tt.content {
				t.Errorf("wrapper %s:\n got %q\nwant %q", tt.wrapper, got, tt.content)
			}
			bg := manifestFromDisk(t, res.Dir)["background"].(map[string]any)
			if bg["service_worker"] != tt.wrapper {
				t.Errorf("background.service_worker = %v, want %s", bg["service_worker"], tt.wrapper)
			}
			if res.BackgroundKind != tt.kind {
				t.Errorf("BackgroundKind = %q, want %q", res.BackgroundKind, tt.kind)
			}
			if !slices.ContainsFunc(res.Added, func(s string) bool { return strings.HasPrefix(s, "service worker wrapper "+tt.wrapper) }) {
				t.Errorf("Added = %q, want the wrapper listed", res.Added)
			}
			// The bridge scripts and the original worker are in place, byte for byte.
			for realm, f := range map[string]string{"background": "background.js", "content": "content.js", "page": "page.js"} {
				if got := readFile(t, filepath.Join(res.Dir, "__extbridge", f)); got != string(testBridgeScript(realm)) {
					t.Errorf("__extbridge/%s = %q", f, got)
				}
			}
		})
	}
	t.Run("escaped url", func(t *testing.T) {
		src := writeTree(t, map[string]string{
			"manifest.json":    minimal(`"background": {"service_worker": "my dir/s\"w#1.js"}`),
			"my dir/s\"w#1.js": "",
		})
		res := runInstrument(t, src, "chromium")
		want := `importScripts("/__extbridge/background.js", "/my%20dir/s%22w%231.js");` + "\n"
		if got := readFile(t, filepath.Join(res.Dir, "my dir", "__extbridge_sw.js")); got != want {
			t.Errorf("wrapper = %q, want %q", got, want)
		}
	})
}

func TestInstrumentBackgroundScripts(t *testing.T) {
	for _, browser := range []string{"firefox"} {
		res := runInstrument(t, filepath.Join("testdata", "instrument", "mv2-scripts"), browser)
		bg := manifestFromDisk(t, res.Dir)["background"].(map[string]any)
		want := []any{"__extbridge/background.js", "a.js", "b.js"}
		if !reflect.DeepEqual(bg["scripts"], want) {
			t.Errorf("background.scripts = %v, want %v", bg["scripts"], want)
		}
		if bg["persistent"] != false {
			t.Errorf("background.persistent = %v, want false (kept)", bg["persistent"])
		}
		if res.BackgroundKind != "scripts" || res.ManifestVersion != 2 {
			t.Errorf("BackgroundKind, ManifestVersion = %q, %d", res.BackgroundKind, res.ManifestVersion)
		}
	}
	// The cross-browser form: scripts are prepended for Chromium too.
	res := runInstrument(t, filepath.Join("testdata", "instrument", "cross"), "chromium")
	bg := manifestFromDisk(t, res.Dir)["background"].(map[string]any)
	if want := []any{"__extbridge/background.js", "background.js"}; !reflect.DeepEqual(bg["scripts"], want) {
		t.Errorf("background.scripts = %v, want %v", bg["scripts"], want)
	}
}

func TestInjectScript(t *testing.T) {
	const tag = `<script src="/x.js"></script>`
	tests := []struct{ name, in, want string }{
		{"head", "<!DOCTYPE html>\n<html>\n<head>\n<title>t</title>", "<!DOCTYPE html>\n<html>\n<head>" + tag + "\n<title>t</title>"},
		{"uppercase", "<HTML><HEAD><SCRIPT src=a.js></SCRIPT></HEAD>", "<HTML><HEAD>" + tag + "<SCRIPT src=a.js></SCRIPT></HEAD>"},
		{"head attributes", `<html><head lang="en" data-x='a>b' data-y="<head>"><script>`, `<html><head lang="en" data-x='a>b' data-y="<head>">` + tag + "<script>"},
		{"head without html", "<head><meta charset=utf-8>", "<head>" + tag + "<meta charset=utf-8>"},
		{"no head", "<!doctype html><html lang=en><body><script src=a.js></script>", "<!doctype html><html lang=en>" + tag + "<body><script src=a.js></script>"},
		{"header is not head", "<html><header>x</header>", "<html>" + tag + "<header>x</header>"},
		{"head after other element", "<html><script src=a.js></script><head>", "<html>" + tag + "<script src=a.js></script><head>"},
		{"doctype only", "<!DOCTYPE html>\n<title>t</title><script></script>", "<!DOCTYPE html>" + tag + "\n<title>t</title><script></script>"},
		{"comment with head", "<!-- <head> -->\n<script src=a.js></script>", tag + "<!-- <head> -->\n<script src=a.js></script>"},
		{"comment before html", "<!doctype html><!-- c --><html><head>", "<!doctype html><!-- c --><html><head>" + tag},
		{"fragment", "<p>hi</p>", tag + "<p>hi</p>"},
		{"empty", "", tag},
		{"bom", "\xef\xbb\xbf<p>", "\xef\xbb\xbf" + tag + "<p>"},
		{"unterminated head", "<html><head data-x='", "<html>" + tag + "<head data-x='"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(instrInjectScript([]byte(tt.in), "/x.js")); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestInstrumentPages(t *testing.T) {
	res := runInstrument(t, filepath.Join("testdata", "instrument", "worker-classic"), "chromium")
	const page = `<script src="/__extbridge/page.js"></script>`
	popup := readFile(t, filepath.Join(res.Dir, "popup.html"))
	if want := "<!DOCTYPE html>\n<HTML lang=\"en\">\n<HEAD data-x=\"a>b\">" + page + "\n<meta charset=\"utf-8\">"; !strings.HasPrefix(popup, want) {
		t.Errorf("popup.html:\n%s\nwant it to start with\n%s", popup, want)
	}
	options := readFile(t, filepath.Join(res.Dir, "options", "options.htm"))
	if want := "<!doctype html>" + page + "\n<!-- <head> in a comment -->\n"; !strings.HasPrefix(options, want) {
		t.Errorf("options/options.htm:\n%s\nwant it to start with\n%s", options, want)
	}
	for _, want := range []string{"script __extbridge/page.js in popup.html", "script __extbridge/page.js in options/options.htm"} {
		if !slices.Contains(res.Added, want) {
			t.Errorf("Added = %q, want %q", res.Added, want)
		}
	}

	res = runInstrument(t, filepath.Join("testdata", "instrument", "mv2-page"), "firefox")
	want := `<html><script src="/__extbridge/background.js"></script><body><script src="bg.js"></script></body></html>` + "\n"
	if got := readFile(t, filepath.Join(res.Dir, "bg.html")); got != want {
		t.Errorf("bg.html:\n got %q\nwant %q", got, want)
	}
	if res.BackgroundKind != "page" {
		t.Errorf("BackgroundKind = %q, want page", res.BackgroundKind)
	}
}

func TestInstrumentContentScripts(t *testing.T) {
	res := runInstrument(t, filepath.Join("testdata", "instrument", "cross"), "chromium")
	got := manifestFromDisk(t, res.Dir)["content_scripts"]
	want := []any{
		map[string]any{"matches": []any{"<all_urls>"}, "js": []any{"__extbridge/content.js"}, "run_at": "document_start", "all_frames": true, "match_about_blank": true},
		map[string]any{"matches": []any{"<all_urls>"}, "js": []any{"__extbridge/content.js", "cs.js"}},
		// The MAIN world is the page's: the bridge (and its token) stays out.
		map[string]any{"matches": []any{"<all_urls>"}, "js": []any{"main.js"}, "world": "MAIN"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("content_scripts:\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(res.Manifest["content_scripts"], want) {
		t.Errorf("instrumented.Manifest differs from the file: %v", res.Manifest["content_scripts"])
	}

	res = runInstrument(t, filepath.Join("testdata", "instrument", "worker-classic"), "chromium")
	cs := manifestFromDisk(t, res.Dir)["content_scripts"].([]any)
	if len(cs) != 3 {
		t.Fatalf("content_scripts = %v, want 3 entries", cs)
	}
	if got, want := cs[1].(map[string]any)["js"], []any{"__extbridge/content.js", "lib/util.js", "/cs.js"}; !reflect.DeepEqual(got, want) {
		t.Errorf("content_scripts[1].js = %v, want %v", got, want)
	}
	if _, ok := cs[2].(map[string]any)["js"]; ok {
		t.Errorf("a css-only entry got js: %v", cs[2])
	}

	// No content_scripts at all: the bridge entry is the only one.
	res = runInstrument(t, writeTree(t, map[string]string{"manifest.json": minimal("")}), "chromium")
	if got := manifestFromDisk(t, res.Dir)["content_scripts"].([]any); len(got) != 1 {
		t.Errorf("content_scripts = %v, want the bridge entry only", got)
	}
}

func TestInstrumentPermissions(t *testing.T) {
	tests := []struct {
		name, manifest, browser string
		perms, hosts            []any    // nil: key absent
		added                   []string // the permission lines in Added
	}{
		{"mv3 chromium", minimal(""), "chromium",
			[]any{"tabs", "scripting", "webNavigation", "debugger"}, []any{"<all_urls>"},
			[]string{`permission "tabs"`, `permission "scripting"`, `permission "webNavigation"`, `permission "debugger"`, `host permission "<all_urls>"`}},
		{"mv3 firefox", minimal(""), "firefox",
			[]any{"tabs", "scripting", "webNavigation"}, []any{"<all_urls>"},
			[]string{`permission "tabs"`, `permission "scripting"`, `permission "webNavigation"`, `host permission "<all_urls>"`}},
		{"mv3 some present", minimal(`"permissions": ["storage", "scripting"], "host_permissions": ["<all_urls>"]`), "chromium",
			[]any{"storage", "scripting", "tabs", "webNavigation", "debugger"}, []any{"<all_urls>"},
			[]string{`permission "tabs"`, `permission "webNavigation"`, `permission "debugger"`}},
		{"mv3 all present", minimal(`"permissions": ["debugger", "webNavigation", "scripting", "tabs"], "host_permissions": ["https://*/*", "<all_urls>"]`), "chromium",
			[]any{"debugger", "webNavigation", "scripting", "tabs"}, []any{"https://*/*", "<all_urls>"}, nil},
		{"mv2 firefox", `{"manifest_version": 2, "name": "x", "version": "1", "permissions": ["tabs"]}`, "firefox",
			[]any{"tabs", "scripting", "webNavigation", "<all_urls>"}, nil,
			[]string{`permission "scripting"`, `permission "webNavigation"`, `permission "<all_urls>"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runInstrument(t, writeTree(t, map[string]string{"manifest.json": tt.manifest}), tt.browser)
			m := manifestFromDisk(t, res.Dir)
			if !reflect.DeepEqual(m["permissions"], tt.perms) {
				t.Errorf("permissions = %v, want %v", m["permissions"], tt.perms)
			}
			if hosts, ok := m["host_permissions"]; tt.hosts == nil && ok || tt.hosts != nil && !reflect.DeepEqual(hosts, tt.hosts) {
				t.Errorf("host_permissions = %v, want %v", hosts, tt.hosts)
			}
			var added []string
			for _, a := range res.Added {
				if strings.Contains(a, "permission ") {
					added = append(added, a)
				}
			}
			if !slices.Equal(added, tt.added) {
				t.Errorf("Added permissions = %q, want %q", added, tt.added)
			}
		})
	}
}

func TestAllowWebSocket(t *testing.T) {
	const ws = "ws://127.0.0.1:*"
	tests := []struct{ in, want string }{
		{"script-src 'self'", ""},
		{"", ""},
		{"connect-src 'self'", "connect-src 'self' " + ws},
		{"script-src 'self'; connect-src https://a.example; object-src 'none'", "script-src 'self'; connect-src https://a.example " + ws + "; object-src 'none'"},
		{"CONNECT-SRC 'none'", "CONNECT-SRC " + ws},
		{"connect-src 'self' " + ws, ""},
		{"default-src 'self'", "default-src 'self'; connect-src 'self' " + ws},
		{"default-src 'self' https://x.example; script-src 'self';  ", "default-src 'self' https://x.example; script-src 'self'; connect-src 'self' https://x.example " + ws},
		{"default-src 'none'", "default-src 'none'; connect-src " + ws},
		{"default-src 'self'; connect-src https://a.example", "default-src 'self'; connect-src https://a.example " + ws},
		{"connect-src a; connect-src b", "connect-src a " + ws + "; connect-src b"},
	}
	for _, tt := range tests {
		got, changed := instrAllowWebSocket(tt.in)
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got != want || changed != (tt.want != "") {
			t.Errorf("instrAllowWebSocket(%q) = %q, %v; want %q, %v", tt.in, got, changed, want, tt.want != "")
		}
	}

	res := runInstrument(t, filepath.Join("testdata", "instrument", "worker-module"), "chromium")
	csp := manifestFromDisk(t, res.Dir)["content_security_policy"].(map[string]any)
	if got, want := csp["extension_pages"], "script-src 'self'; connect-src 'self' https://api.example.org "+ws; got != want {
		t.Errorf("extension_pages = %q, want %q", got, want)
	}
	if got, want := csp["sandbox"], "sandbox allow-scripts; default-src 'self'; connect-src 'self' "+ws; got != want {
		t.Errorf("sandbox = %q, want %q", got, want)
	}
	for _, want := range []string{"connect-src " + ws + " in content_security_policy.extension_pages", "connect-src " + ws + " in content_security_policy.sandbox"} {
		if !slices.Contains(res.Added, want) {
			t.Errorf("Added = %q, want %q", res.Added, want)
		}
	}
	res = runInstrument(t, filepath.Join("testdata", "instrument", "mv2-page"), "firefox")
	if got, want := manifestFromDisk(t, res.Dir)["content_security_policy"], "script-src 'self'; object-src 'self'; connect-src "+ws; got != want {
		t.Errorf("content_security_policy = %q, want %q", got, want)
	}
}

func TestInstrumentGeckoID(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		browser  string
		want     string
		added    string // "" if nothing is added
		location string // where the copy has it
	}{
		{"derived", writeTree(t, map[string]string{"manifest.json": `{"manifest_version": 3, "name": "Ping  Pong!", "version": "1"}`}), "chromium",
			"ping-pong@extbridge.invalid", `gecko id "ping-pong@extbridge.invalid"`, "browser_specific_settings"},
		{"derived from locale", filepath.Join("testdata", "instrument", "cross"), "firefox",
			"cross-browser-ping@extbridge.invalid", `gecko id "cross-browser-ping@extbridge.invalid"`, "browser_specific_settings"},
		{"no usable characters", writeTree(t, map[string]string{"manifest.json": `{"manifest_version": 3, "name": "ÜÖ", "version": "1"}`}), "firefox",
			"extension@extbridge.invalid", `gecko id "extension@extbridge.invalid"`, "browser_specific_settings"},
		{"kept", filepath.Join("testdata", "instrument", "worker-module"), "firefox", "module@example.org", "", "browser_specific_settings"},
		{"kept in applications (mv2)", filepath.Join("testdata", "instrument", "mv2-scripts"), "firefox", "mv2@example.org", "", "applications"},
		{"copied from applications (mv3)", writeTree(t, map[string]string{"manifest.json": minimal(`"applications": {"gecko": {"id": "old@example.org"}}`)}), "firefox",
			"old@example.org", `gecko id "old@example.org" (copied from applications.gecko.id)`, "browser_specific_settings"},
		{"added next to other gecko keys", writeTree(t, map[string]string{"manifest.json": minimal(`"browser_specific_settings": {"gecko": {"strict_min_version": "128.0"}}`)}), "firefox",
			"t@extbridge.invalid", `gecko id "t@extbridge.invalid"`, "browser_specific_settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runInstrument(t, tt.src, tt.browser)
			if res.GeckoID != tt.want {
				t.Errorf("GeckoID = %q, want %q", res.GeckoID, tt.want)
			}
			got := manifestFromDisk(t, res.Dir)[tt.location].(map[string]any)["gecko"].(map[string]any)
			if got["id"] != tt.want {
				t.Errorf("%s.gecko = %v, want id %q", tt.location, got, tt.want)
			}
			var added []string
			for _, a := range res.Added {
				if strings.HasPrefix(a, "gecko id") {
					added = append(added, a)
				}
			}
			if tt.added == "" && len(added) > 0 || tt.added != "" && !slices.Equal(added, []string{tt.added}) {
				t.Errorf("Added gecko ids = %q, want %q", added, tt.added)
			}
		})
	}
}

func TestInstrumentName(t *testing.T) {
	res := runInstrument(t, filepath.Join("testdata", "instrument", "cross"), "firefox")
	if res.Name != "Cross Browser Ping!" {
		t.Errorf("Name = %q", res.Name)
	}
	if res.Manifest["name"] != "__MSG_extName__" {
		t.Errorf("manifest name rewritten to %v", res.Manifest["name"])
	}
	src := writeTree(t, map[string]string{"manifest.json": minimal(`"default_locale": "fr"`)})
	if err := os.WriteFile(filepath.Join(src, "manifest.json"), []byte(`{"manifest_version": 3, "name": "__MSG_missing__", "version": "1", "default_locale": "fr"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runInstrument(t, src, "chromium"); res.Name != "__MSG_missing__" {
		t.Errorf("Name = %q, want the unresolved reference", res.Name)
	}
}

func TestInstrumentKeepsManifest(t *testing.T) {
	res := runInstrument(t, filepath.Join("testdata", "instrument", "worker-classic"), "chromium")
	text := readFile(t, filepath.Join(res.Dir, "manifest.json"))
	for _, want := range []string{
		"{\n  \"manifest_version\": 3,\n  \"name\": \"Classic Worker\",\n", // key order and 2-space indentation
		`"description": "A <b>test</b> & fixture"`,                         // no HTML escaping
		"\"z\": 1,\n    \"a\": [\n      1.50,\n      2e3,\n      true,\n      null\n    ]",
		`"<all_urls>"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("manifest.json lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Chrome accepts comments") || strings.Contains(text, "one css-only") {
		t.Errorf("comments kept in the copy:\n%s", text)
	}
	if !strings.HasSuffix(text, "}\n") {
		t.Errorf("manifest.json does not end in a newline")
	}
	if !reflect.DeepEqual(manifestFromDisk(t, res.Dir), res.Manifest) {
		t.Errorf("instrumented.Manifest differs from the written manifest")
	}
	// Unchanged files are byte-identical.
	for _, f := range []string{"bg/sw.js", "bg/helper.js", "cs.js", "styles/a.css", "popup.js"} {
		src := filepath.Join("testdata", "instrument", "worker-classic", filepath.FromSlash(f))
		if readFile(t, src) != readFile(t, filepath.Join(res.Dir, filepath.FromSlash(f))) {
			t.Errorf("%s changed in the copy", f)
		}
	}
}

// hashTree hashes every path, mode, symlink target and file content under dir.
func hashTree(t testing.TB, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s %v %v\n", rel, info.Mode(), info.ModTime().UnixNano())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(h, "-> %s\n", target)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestInstrumentCopy(t *testing.T) {
	src := copyTestdata(t, "worker-classic")
	mustDo := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(os.MkdirAll(filepath.Join(src, ".git", "objects"), 0o755))
	mustDo(os.WriteFile(filepath.Join(src, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644))
	mustDo(os.MkdirAll(filepath.Join(src, "lib", ".git"), 0o755)) // a submodule's
	mustDo(os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	mustDo(os.Chmod(filepath.Join(src, "popup.html"), 0o444)) // read-only, and rewritten
	mustDo(os.Symlink("cs.js", filepath.Join(src, "cs-link.js")))
	mustDo(os.Symlink("lib", filepath.Join(src, "lib-link")))
	mustDo(os.Symlink("..", filepath.Join(src, "lib", "up"))) // a loop back to the root
	mustDo(os.Remove(filepath.Join(src, "lib", "up")))
	before := hashTree(t, src)

	res := runInstrument(t, src, "chromium")
	if after := hashTree(t, src); after != before {
		t.Errorf("src changed")
	}
	for _, p := range []string{".git", "lib/.git"} {
		if _, err := os.Lstat(filepath.Join(res.Dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s copied (lstat: %v)", p, err)
		}
	}
	for p, want := range map[string]fs.FileMode{"run.sh": 0o755, "popup.html": 0o444, "cs.js": 0o644} {
		st, err := os.Lstat(filepath.Join(res.Dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s mode = %v, want %v", p, st.Mode(), want)
		}
	}
	if !strings.Contains(readFile(t, filepath.Join(res.Dir, "popup.html")), "/__extbridge/page.js") {
		t.Errorf("read-only popup.html was not instrumented")
	}
	for link, target := range map[string]string{"cs-link.js": "cs.js", "lib-link/util.js": "lib/util.js"} {
		st, err := os.Lstat(filepath.Join(res.Dir, link))
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() {
			t.Errorf("%s is %v in the copy, want a regular file", link, st.Mode())
		}
		if readFile(t, filepath.Join(res.Dir, link)) != readFile(t, filepath.Join(src, target)) {
			t.Errorf("%s content differs from %s", link, target)
		}
	}
	if res.Dir != filepath.Clean(res.Dir) || !filepath.IsAbs(res.Dir) {
		t.Errorf("Dir = %q, want a clean absolute path", res.Dir)
	}
}

func TestInstrumentSymlinks(t *testing.T) {
	outside := writeTree(t, map[string]string{"secret.js": "x"})
	tests := []struct {
		name   string
		target string // relative to the extension root, or absolute
		want   string
	}{
		{"file outside", filepath.Join(outside, "secret.js"), "failed to copy link: symlink points outside the extension folder"},
		{"folder outside", outside, "failed to copy link: symlink points outside the extension folder"},
		{"relative outside", "../", "failed to copy link: symlink points outside the extension folder"},
		{"loop", ".", "failed to copy link: symlink loop"},
		{"broken", "nowhere.js", "failed to copy link: broken symlink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := writeTree(t, map[string]string{"manifest.json": minimal("")})
			if err := os.Symlink(tt.target, filepath.Join(src, "link")); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "copy")
			_, err := instrument(src, dst, instrumentOptions{Script: testBridgeScript})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dst left behind after an error")
			}
		})
	}
}

// Values verified by loading unpacked extensions into Chromium 156 and
// reading the service worker's chrome-extension://ID/ URL from /json/list.
const (
	verifiedPath   = "/tmp/idtest/ext"
	verifiedPathID = "pbiglnlcojjikjjncbonmjlehdgchllm"
	verifiedKeyID  = "dimpjnjbkldcjchkbnooknflfjcbmkaf" // testdata/instrument/key
	emptyInputID   = "odlameecjipmbmbejkplpemijjgpljce" // sha256 of nothing (e3b0c442…), mapped to a-p
)

func TestChromiumID(t *testing.T) {
	if got := instrChromiumIDFrom([]byte(verifiedPath)); got != verifiedPathID {
		t.Errorf("id of path %s = %s, want %s", verifiedPath, got, verifiedPathID)
	}
	if got := instrChromiumIDFrom(nil); got != emptyInputID {
		t.Errorf("id of nothing = %s, want %s", got, emptyInputID)
	}
	res := runInstrument(t, filepath.Join("testdata", "instrument", "key"), "chromium")
	if res.ChromiumID != verifiedKeyID {
		t.Errorf("ChromiumID from key = %s, want %s", res.ChromiumID, verifiedKeyID)
	}

	// From the path: the real (symlink-free) absolute path of Dir, as
	// Chromium resolves it.
	base := t.TempDir()
	src := writeTree(t, map[string]string{"manifest.json": minimal("")})
	link := filepath.Join(filepath.Dir(base), filepath.Base(base)+"-link")
	if err := os.Symlink(base, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(link) })
	res, err := instrument(src, filepath.Join(link, "copy"), instrumentOptions{Script: testBridgeScript})
	if err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := instrChromiumIDFrom([]byte(real)); res.ChromiumID != want {
		t.Errorf("ChromiumID = %s, want %s (from %s)", res.ChromiumID, want, real)
	}
	if len(res.ChromiumID) != 32 || strings.Trim(res.ChromiumID, "abcdefghijklmnop") != "" {
		t.Errorf("ChromiumID %q is not 32 letters a-p", res.ChromiumID)
	}
}

func TestWebAccessibleConflict(t *testing.T) {
	tests := []struct {
		name, war string
		want      string // substring; "" for no conflict
	}{
		{"none", ``, ""},
		{"mv2 narrow", `"web_accessible_resources": ["images/*.png", "a.js"]`, ""},
		{"mv2 star", `"web_accessible_resources": ["images/*", "*"]`, `web_accessible_resources[1]: "*" makes __extbridge/content.js web-accessible`},
		{"mv2 leading slash", `"web_accessible_resources": ["/__extbridge/*"]`, `web_accessible_resources[0]: "/__extbridge/*"`},
		{"mv3 narrow", `"web_accessible_resources": [{"resources": ["img/*.png", "__extbridge.txt"], "matches": ["<all_urls>"]}]`, ""},
		{"mv3 js", `"web_accessible_resources": [{"resources": ["x.css"]}, {"resources": ["a.txt", "*.js"], "matches": ["<all_urls>"]}]`,
			`web_accessible_resources[1].resources[1]: "*.js" makes __extbridge/content.js web-accessible`},
		{"mv3 exact", `"web_accessible_resources": [{"resources": ["__extbridge/page.js"]}]`, `makes __extbridge/page.js web-accessible`},
		{"mv3 question mark", `"web_accessible_resources": [{"resources": ["__extbridge/content.j?"]}]`, `makes __extbridge/content.js`},
		{"junk", `"web_accessible_resources": [1, {"resources": "*"}, {"resources": [null]}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			manifest := minimal(tt.war)
			if strings.HasPrefix(tt.name, "mv2") {
				manifest = `{"manifest_version": 2, "name": "x", "version": "1", ` + tt.war + `}`
			}
			res := runInstrument(t, writeTree(t, map[string]string{"manifest.json": manifest}), "firefox")
			got := res.webAccessibleConflict()
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("webAccessibleConflict() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "a/b/c.js", true},
		{"*.js", "__extbridge/content.js", true},
		{"__extbridge/*", "__extbridge/content.js", true},
		{"*/content.js", "__extbridge/content.js", true},
		{"*.css", "__extbridge/content.js", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"", "", true},
		{"", "a", false},
		{"**", "", true},
	} {
		if got := instrGlobMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("instrGlobMatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, tt := range []struct {
		offset    int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {4, 2, 1}, {7, 3, 1}, {9, 4, 2}, {100, 4, 3}} {
		if line, col := instrLineCol(data, tt.offset); line != tt.line || col != tt.col {
			t.Errorf("instrLineCol(%d) = %d:%d, want %d:%d", tt.offset, line, col, tt.line, tt.col)
		}
	}
}

func TestStripComments(t *testing.T) {
	in := "{\"a\": \"// not a comment\", // comment\n \"b\": \"/* no */\" /* yes\n yes */, \"c\": \"\\\"//\"}"
	got, err := instrStripComments([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) || bytes.Count(got, []byte("\n")) != 2 {
		t.Errorf("offsets changed: %q", got)
	}
	var m map[string]string
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("%q: %v", got, err)
	}
	if want := map[string]string{"a": "// not a comment", "b": "/* no */", "c": `"//`}; !reflect.DeepEqual(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}
}

func FuzzInstrumentManifest(f *testing.F) {
	for _, name := range []string{"worker-classic", "worker-module", "mv2-scripts", "mv2-page", "cross", "key"} {
		data, err := os.ReadFile(filepath.Join("testdata", "instrument", name, "manifest.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	files := map[string]string{
		"sw.js": "", "bg.js": "", "cs.js": "", "a.js": "", "bg.html": "<head>", "popup.html": "", "x.css": "",
		"_locales/en/messages.json": `{"name": {"message": "N"}}`,
	}
	src := writeTree(f, files)
	f.Fuzz(func(t *testing.T, manifest []byte) {
		if err := os.WriteFile(filepath.Join(src, "manifest.json"), manifest, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, browser := range []string{"chromium", "firefox"} {
			dst := filepath.Join(t.TempDir(), "copy")
			res, err := instrument(src, dst, instrumentOptions{Browser: browser, Script: testBridgeScript})
			if err != nil {
				if !strings.HasPrefix(err.Error(), "failed to instrument ") {
					t.Errorf("error %q lacks the prefix", err)
				}
				continue
			}
			m := manifestFromDisk(t, dst)
			if !reflect.DeepEqual(m, res.Manifest) {
				t.Errorf("instrumented.Manifest differs from the written manifest")
			}
			cs, _ := m["content_scripts"].([]any)
			if len(cs) == 0 {
				t.Errorf("no bridge content script")
			}
			res.webAccessibleConflict()
		}
		for name, content := range files {
			if readFile(t, filepath.Join(src, filepath.FromSlash(name))) != content {
				t.Errorf("src %s changed", name)
			}
		}
	})
}

// A manifest with only a service worker still loads in Firefox: the same
// file runs as an event page (a module one for a module worker).
func TestInstrumentWorkerOnlyOnFirefox(t *testing.T) {
	res := runInstrument(t, filepath.Join("testdata", "instrument", "worker-module"), "firefox")
	bg := manifestFromDisk(t, res.Dir)["background"].(map[string]any)
	scripts, _ := bg["scripts"].([]any)
	if len(scripts) != 2 || scripts[0] != "__extbridge/background.js" || scripts[1] != "sw.js" || bg["type"] != "module" {
		t.Errorf("background = %v, want scripts [bridge, sw.js] of type module", bg)
	}
	chromium := runInstrument(t, filepath.Join("testdata", "instrument", "worker-module"), "chromium")
	if _, ok := manifestFromDisk(t, chromium.Dir)["background"].(map[string]any)["scripts"]; ok {
		t.Errorf("the Chromium copy got background.scripts")
	}
}

// An extension without a background gets a bridge-only one, in both forms.
func TestInstrumentAddsBridgeOnlyBackground(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "manifest.json"), []byte(`{"manifest_version": 3, "name": "cs only", "version": "1",
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "cs.js"), []byte("//"), 0o644); err != nil {
		t.Fatal(err)
	}
	for browser, kind := range map[string]string{"chromium": "service_worker", "firefox": "scripts"} {
		res := runInstrument(t, src, browser)
		if res.BackgroundKind != kind {
			t.Errorf("%s: BackgroundKind = %q, want %q", browser, res.BackgroundKind, kind)
		}
		bg := manifestFromDisk(t, res.Dir)["background"].(map[string]any)
		if bg["service_worker"] != "__extbridge_sw.js" || fmt.Sprint(bg["scripts"]) != "[__extbridge/background.js]" {
			t.Errorf("%s: background = %v", browser, bg)
		}
		if got := readFile(t, filepath.Join(res.Dir, "__extbridge_sw.js")); got != `importScripts("/__extbridge/background.js");`+"\n" {
			t.Errorf("%s: wrapper = %q", browser, got)
		}
	}
}
