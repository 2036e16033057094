package instrument

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
	"strings"
	"testing"
)

// What Copy produces is checked by the golden cases (golden_test.go); the
// tests here are for errors, the copy itself, and the pure helpers.

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

// goldenInput returns the input files of testdata/golden/<name>.txtar.
func goldenInput(t testing.TB, name string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range parseArchive(data).files {
		if !strings.HasPrefix(f.name, "want/") {
			files[f.name] = string(f.data)
		}
	}
	return files
}

// runCopy instruments src for browser into a new temp folder.
func runCopy(t testing.TB, src, browser string) *Result {
	t.Helper()
	res, err := Copy(src, filepath.Join(t.TempDir(), "copy"), Options{Browser: browser, Script: testBridgeScript})
	if err != nil {
		t.Fatalf("Copy(%s, %s): %v", src, browser, err)
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

func TestValidation(t *testing.T) {
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
			"manifest.json: manifest_version 2 is not supported by Chromium 139 and later; use manifest_version 3, or run it in Firefox (driver.Options{Browser: driver.Firefox})"},
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
		{"web-accessible bridge file", map[string]string{"manifest.json": minimal(`"web_accessible_resources": [{"resources": ["a.png", "/__extbridge/page.js"], "matches": ["<all_urls>"]}]`)}, "",
			`manifest.json: web_accessible_resources[0].resources[1]: "/__extbridge/page.js" makes __extbridge/page.js web-accessible: the bridge holds a secret and must not be web-accessible`},
		{"web-accessible bridge file, mv2", map[string]string{"manifest.json": `{"manifest_version": 2, "name": "x", "version": "1", "web_accessible_resources": ["__extbridge/content.js"]}`}, "firefox",
			`manifest.json: web_accessible_resources[0]: "__extbridge/content.js" makes __extbridge/content.js web-accessible: the bridge holds a secret`},
		{"web-accessible wildcard on a file with a star", map[string]string{"manifest.json": minimal(`"web_accessible_resources": [{"resources": ["*.js"], "matches": ["<all_urls>"]}]`), "a*.js": ""}, "",
			`manifest.json: web_accessible_resources[0].resources[0]: "*.js" would make the bridge files web-accessible, and "a*.js", a file it matches, cannot be listed instead (its name has a wildcard in it); rename the file or narrow the pattern`},
		{"already instrumented", map[string]string{"manifest.json": minimal(""), "__extbridge/content.js": ""}, "",
			"the extension already contains __extbridge/; it is reserved for the bridge"},
		{"wrapper name taken", map[string]string{"manifest.json": minimal(`"background": {"service_worker": "bg/sw.js"}`), "bg/sw.js": "", "bg/__extbridge_sw.js": ""}, "",
			"the extension already contains bg/__extbridge_sw.js"},
		{"bridge-only worker name taken", map[string]string{"manifest.json": minimal(""), "__extbridge_sw.js": ""}, "",
			"the extension already contains __extbridge_sw.js"},
		{"bridge-only worker name taken, scripts", map[string]string{"manifest.json": minimal(`"background": {"scripts": ["bg.js"]}`), "bg.js": "", "__extbridge_sw.js": ""}, "chromium",
			"the extension already contains __extbridge_sw.js"},
		{"unknown browser", map[string]string{"manifest.json": minimal("")}, "safari", `unknown browser "safari"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := writeTree(t, tt.files)
			dst := filepath.Join(t.TempDir(), "copy")
			res, err := Copy(src, dst, Options{Browser: tt.browser, Script: testBridgeScript})
			if err == nil {
				t.Fatalf("Copy succeeded (%+v), want error %q", res, tt.want)
			}
			prefix := "failed to instrument " + src + ": "
			if !strings.HasPrefix(err.Error(), prefix+tt.want) {
				t.Errorf("error:\n got %q\nwant %q", err, prefix+tt.want+"…")
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dst was left on error (stat: %v)", err)
			}
		})
	}
}

// The bridge-only worker of an extension whose Chromium background is not
// there may take its reserved name in Firefox, which runs no such worker.
func TestBridgeWorkerNameInFirefox(t *testing.T) {
	src := writeTree(t, map[string]string{"manifest.json": minimal(`"background": {"scripts": ["bg.js"]}`), "bg.js": "", "__extbridge_sw.js": "// mine\n"})
	res := runCopy(t, src, "firefox")
	if got := readFile(t, filepath.Join(res.Dir, "__extbridge_sw.js")); got != "// mine\n" {
		t.Errorf("__extbridge_sw.js = %q, want it kept", got)
	}
}

func TestDestination(t *testing.T) {
	src := writeTree(t, map[string]string{"manifest.json": minimal("")})
	nonEmpty := writeTree(t, map[string]string{"x": ""})
	for _, tt := range []struct{ name, dst, want string }{
		{"not empty", nonEmpty, "is not empty"},
		{"inside src", filepath.Join(src, "copy"), "is inside the extension folder"},
		{"src itself", src, "is inside the extension folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Copy(src, tt.dst, Options{Script: testBridgeScript})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("empty folder", func(t *testing.T) {
		dst := t.TempDir()
		if _, err := Copy(src, dst, Options{Script: testBridgeScript}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nil script", func(t *testing.T) {
		_, err := Copy(src, filepath.Join(t.TempDir(), "c"), Options{})
		if err == nil || !strings.Contains(err.Error(), "Script is nil") {
			t.Fatalf("err = %v", err)
		}
	})
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

// What git and txtar cannot hold: .git folders, modes, symlinks.
func TestCopy(t *testing.T) {
	src := writeTree(t, goldenInput(t, "worker-classic"))
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
	before := hashTree(t, src)

	res := runCopy(t, src, "chromium")
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
	popup := readFile(t, filepath.Join(res.Dir, "popup.html"))
	if want := injectScript([]byte(readFile(t, filepath.Join(src, "popup.html"))), "/"+PageJS); popup != string(want) {
		t.Errorf("read-only popup.html:\n got %q\nwant %q", popup, want)
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

func TestSymlinks(t *testing.T) {
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
			_, err := Copy(src, dst, Options{Script: testBridgeScript})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dst left behind after an error")
			}
		})
	}
	t.Run("loop below the root", func(t *testing.T) {
		src := writeTree(t, map[string]string{"manifest.json": minimal(""), "lib/a.js": ""})
		if err := os.Symlink("..", filepath.Join(src, "lib", "up")); err != nil {
			t.Fatal(err)
		}
		_, err := Copy(src, filepath.Join(t.TempDir(), "copy"), Options{Script: testBridgeScript})
		if err == nil || !strings.Contains(err.Error(), "failed to copy lib/up: symlink loop") {
			t.Fatalf("err = %v, want a symlink loop at lib/up", err)
		}
	})
}

// Values verified by loading unpacked extensions into Chromium 156 and
// reading the service worker's chrome-extension://ID/ URL from /json/list.
const (
	verifiedPath   = "/tmp/idtest/ext"
	verifiedPathID = "pbiglnlcojjikjjncbonmjlehdgchllm"
	verifiedKeyID  = "dimpjnjbkldcjchkbnooknflfjcbmkaf" // testdata/golden/key.txtar
	emptyInputID   = "odlameecjipmbmbejkplpemijjgpljce" // sha256 of nothing (e3b0c442…), mapped to a-p
)

func TestChromiumID(t *testing.T) {
	if got := chromiumIDFrom([]byte(verifiedPath)); got != verifiedPathID {
		t.Errorf("id of path %s = %s, want %s", verifiedPath, got, verifiedPathID)
	}
	if got := chromiumIDFrom(nil); got != emptyInputID {
		t.Errorf("id of nothing = %s, want %s", got, emptyInputID)
	}
	res := runCopy(t, writeTree(t, goldenInput(t, "key")), "chromium")
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
	res, err := Copy(src, filepath.Join(link, "copy"), Options{Script: testBridgeScript})
	if err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := chromiumIDFrom([]byte(real)); res.ChromiumID != want {
		t.Errorf("ChromiumID = %s, want %s (from %s)", res.ChromiumID, want, real)
	}
	if len(res.ChromiumID) != 32 || strings.Trim(res.ChromiumID, "abcdefghijklmnop") != "" {
		t.Errorf("ChromiumID %q is not 32 letters a-p", res.ChromiumID)
	}
}

func TestWebAccessibleConflict(t *testing.T) {
	tests := []struct {
		name, war string
		want      string // "" for no conflict
	}{
		{"none", ``, ""},
		{"mv2 narrow", `"web_accessible_resources": ["images/*.png", "a.js"]`, ""},
		{"mv2 star", `"web_accessible_resources": ["images/*", "*"]`, `manifest.json: web_accessible_resources[1]: "*" makes __extbridge/content.js web-accessible`},
		{"mv2 leading slash", `"web_accessible_resources": ["/__extbridge/*"]`, `manifest.json: web_accessible_resources[0]: "/__extbridge/*" makes __extbridge/content.js web-accessible`},
		{"mv3 narrow", `"web_accessible_resources": [{"resources": ["img/*.png", "__extbridge.txt"], "matches": ["<all_urls>"]}]`, ""},
		{"mv3 js", `"web_accessible_resources": [{"resources": ["x.css"]}, {"resources": ["a.txt", "*.js"], "matches": ["<all_urls>"]}]`,
			`manifest.json: web_accessible_resources[1].resources[1]: "*.js" makes __extbridge/content.js web-accessible`},
		{"mv3 exact", `"web_accessible_resources": [{"resources": ["__extbridge/page.js"]}]`, `manifest.json: web_accessible_resources[0].resources[0]: "__extbridge/page.js" makes __extbridge/page.js web-accessible`},
		{"mv3 question mark", `"web_accessible_resources": [{"resources": ["__extbridge/content.j?"]}]`, `manifest.json: web_accessible_resources[0].resources[0]: "__extbridge/content.j?" makes __extbridge/content.js web-accessible`},
		{"junk", `"web_accessible_resources": [1, {"resources": "*"}, {"resources": [null]}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseJSON([]byte(minimal(tt.war)))
			if err != nil {
				t.Fatal(err)
			}
			if got := webAccessibleConflict(v.(*object)); got != tt.want {
				t.Errorf("webAccessibleConflict() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		question      bool
		want          bool
	}{
		{"*", "a/b/c.js", false, true},
		{"*.js", "__extbridge/content.js", false, true},
		{"__extbridge/*", "__extbridge/content.js", false, true},
		{"*/content.js", "__extbridge/content.js", false, true},
		{"*.css", "__extbridge/content.js", false, false},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"", "", false, true},
		{"", "a", false, false},
		{"**", "", false, true},
		{"a?c", "abc", true, true},
		{"a?c", "abc", false, false},
		{"a?c", "a?c", false, true},
		{"*.j?", "x/y.js", true, true},
	} {
		if got := globMatch(tt.pattern, tt.name, tt.question); got != tt.want {
			t.Errorf("globMatch(%q, %q, %v) = %v, want %v", tt.pattern, tt.name, tt.question, got, tt.want)
		}
	}
}

func TestLoadablePage(t *testing.T) {
	for name, want := range map[string]bool{
		"popup.html":                     true,
		"pages/options.html":             true,
		".hidden.html":                   true, // a hidden file, not under a hidden folder
		"node_modules/pkg/index.html":    false,
		"lib/node_modules/x/y/z.htm":     false,
		".github/ISSUE_TEMPLATE/a.html":  false,
		"src/.cache/page.html":           false,
		"not_node_modules/page.html":     true,
		"docs/..html/x.html":             false,
		"a.b/page.html":                  true,
		"coverage/lcov-report/index.htm": true, // not hidden: the extension could load it
	} {
		if got := loadablePage(name); got != want {
			t.Errorf("loadablePage(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, tt := range []struct {
		offset    int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {4, 2, 1}, {7, 3, 1}, {9, 4, 2}, {100, 4, 3}} {
		if line, col := lineCol(data, tt.offset); line != tt.line || col != tt.col {
			t.Errorf("lineCol(%d) = %d:%d, want %d:%d", tt.offset, line, col, tt.line, tt.col)
		}
	}
}

func TestStripComments(t *testing.T) {
	in := "{\"a\": \"// not a comment\", // comment\n \"b\": \"/* no */\" /* yes\n yes */, \"c\": \"\\\"//\"}"
	got, err := stripComments([]byte(in))
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
			if got := string(injectScript([]byte(tt.in), "/x.js")); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
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
		got, changed := allowWebSocket(tt.in)
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got != want || changed != (tt.want != "") {
			t.Errorf("allowWebSocket(%q) = %q, %v; want %q, %v", tt.in, got, changed, want, tt.want != "")
		}
	}
}

func TestDropDirective(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"script-src 'self'; upgrade-insecure-requests", "script-src 'self'"},
		{"UPGRADE-INSECURE-REQUESTS; script-src 'self'", " script-src 'self'"},
		{"script-src 'self'", "script-src 'self'"},
	} {
		if got := dropDirective(tt.in, "upgrade-insecure-requests"); got != tt.want {
			t.Errorf("dropDirective(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzInstrumentManifest(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		if m, ok := goldenInput(f, strings.TrimSuffix(filepath.Base(name), ".txtar"))["manifest.json"]; ok {
			f.Add([]byte(m))
		}
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
			res, err := Copy(src, dst, Options{Browser: browser, Script: testBridgeScript})
			if err != nil {
				if !strings.HasPrefix(err.Error(), "failed to instrument ") {
					t.Errorf("error %q lacks the prefix", err)
				}
				continue
			}
			m := manifestFromDisk(t, dst)
			if !reflect.DeepEqual(m, res.Manifest) {
				t.Errorf("Result.Manifest differs from the written manifest")
			}
			cs, _ := m["content_scripts"].([]any)
			if len(cs) == 0 {
				t.Errorf("no bridge content script")
			}
			v, err := parseJSON([]byte(readFile(t, filepath.Join(dst, "manifest.json"))))
			if err != nil {
				t.Fatalf("the written manifest does not parse: %v", err)
			}
			if c := webAccessibleConflict(v.(*object)); c != "" {
				t.Errorf("the copy exposes the bridge: %s", c)
			}
		}
		for name, content := range files {
			if readFile(t, filepath.Join(src, filepath.FromSlash(name))) != content {
				t.Errorf("src %s changed", name)
			}
		}
	})
}
