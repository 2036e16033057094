package instrument

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Hostile extension input: what the instrumenter must refuse without
// hanging, and what it must copy byte for byte.

// instrumentWithin runs Copy and fails the test if it does not return
// within 10 s (a FIFO or a device must not block it).
func instrumentWithin(t *testing.T, src, browser string) (*Result, string, error) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	type result struct {
		res *Result
		err error
	}
	ch := make(chan result, 1)
	go func() {
		res, err := Copy(src, dst, Options{Browser: browser, Script: testBridgeScript})
		ch <- result{res, err}
	}()
	select {
	case r := <-ch:
		return r.res, dst, r.err
	case <-time.After(10 * time.Second):
		// Unblock a reader stuck on a FIFO so the goroutine ends.
		if f, err := os.OpenFile(filepath.Join(src, "manifest.json"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("Copy did not return within 10s")
		return nil, "", nil
	}
}

func TestHostileManifestFiles(t *testing.T) {
	outside := writeTree(t, map[string]string{"manifest.json": minimal("")})
	tests := []struct {
		name  string
		setup func(t *testing.T, src string)
		want  string
	}{
		{"fifo", func(t *testing.T, src string) {
			if err := syscall.Mkfifo(filepath.Join(src, "manifest.json"), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, "manifest.json: is not a regular file (p"},
		{"link to a device", func(t *testing.T, src string) {
			if err := os.Symlink("/dev/zero", filepath.Join(src, "manifest.json")); err != nil {
				t.Fatal(err)
			}
		}, "manifest.json: is not a regular file (D"},
		{"folder", func(t *testing.T, src string) {
			if err := os.Mkdir(filepath.Join(src, "manifest.json"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "manifest.json: is not a regular file (d"},
		{"link outside", func(t *testing.T, src string) {
			if err := os.Symlink(filepath.Join(outside, "manifest.json"), filepath.Join(src, "manifest.json")); err != nil {
				t.Fatal(err)
			}
		}, "symlink points outside the extension folder"},
		{"fifo content script", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(minimal(`"content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"]}]`)), 0o644)
			if err := syscall.Mkfifo(filepath.Join(src, "cs.js"), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, "failed to copy cs.js: not a regular file"},
		{"deep nesting", func(t *testing.T, src string) {
			deep := `{"manifest_version": 3, "name": "x", "version": "1", "x": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(deep), 0o644)
		}, "manifest.json: invalid JSON"},
		{"deep nesting in a comment-stripped object", func(t *testing.T, src string) {
			deep := `{"manifest_version": 3, "name": "x", "version": "1", /* ` + strings.Repeat("{", 1000) + ` */ "x": ` + strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000) + `}`
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(deep), 0o644)
		}, "manifest.json: invalid JSON"},
		{"NUL in a path", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(minimal(`"background": {"service_worker": "a\u0000b.js"}`)), 0o644)
		}, `background.service_worker: "a\x00b.js" is not a valid path`},
		{"backslash path", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(minimal(`"content_scripts": [{"js": ["..\\..\\x.js"]}]`)), 0o644)
		}, "is not a valid path"},
		{"bridge folder as a file", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(minimal("")), 0o644)
			os.WriteFile(filepath.Join(src, "__extbridge"), []byte("x"), 0o644)
		}, "the extension already contains __extbridge/"},
		{"expose the bridge", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(src, "manifest.json"), []byte(minimal(`"content_scripts": [{"matches": ["<all_urls>"], "js": ["__extbridge/content.js"]}]`)), 0o644)
		}, `content_scripts[0].js[0]: "__extbridge/content.js" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			tt.setup(t, src)
			res, dst, err := instrumentWithin(t, src, "chromium")
			if err == nil {
				t.Fatalf("Copy succeeded (%s), want an error containing %q", res.Dir, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "failed to instrument ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n got %q\nwant it to contain %q", err, tt.want)
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dst left behind after an error (stat: %v)", err)
			}
		})
	}
}

// Scripts and other files reach the copy byte for byte, however odd their
// content; HTML pages change only by the one script tag; a hostile name
// ends up only in places where it is quoted.
func TestHostileFilesKeptVerbatim(t *testing.T) {
	odd := map[string]string{
		"sw.js":                     "/*EXTBRIDGE_CONFIG*/ null; const token = \"" + strings.Repeat("0", 32) + "\";\n</script><script>alert(1)</script>\n",
		"cs.js":                     "\xef\xbb\xbf// BOM, NUL \x00, invalid UTF-8 \xff\xfe, U+2028 \u2028 and U+2029 \u2029\n",
		"lib/__proto__.js":          "Object.prototype.polluted = true;\n",
		"data.bin":                  string([]byte{0, 1, 2, 255, 254, 0x1b}),
		"_locales/en/messages.json": `{"name": {"message": "\"); alert(1); //</script>"}}`,
		"weird name '\"`$(x).js":    "// a file name with quotes\n",
	}
	files := map[string]string{
		"manifest.json": `{"manifest_version": 3, "name": "__MSG_name__", "version": "1", "default_locale": "en",
			"background": {"service_worker": "sw.js", "scripts": ["sw.js"]},
			"content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js", "lib/__proto__.js", "weird name '\"` + "`" + `$(x).js"]}],
			"__proto__": {"polluted": true}, "constructor": "x"}`,
		"page.html": "<!doctype html><html><head><title>\x00\xff</title></head><body><script src=\"cs.js\"></script></body></html>",
	}
	for k, v := range odd {
		files[k] = v
	}
	src := writeTree(t, files)
	for _, browser := range []string{"chromium", "firefox"} {
		t.Run(browser, func(t *testing.T) {
			res, _, err := instrumentWithin(t, src, browser)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range odd {
				if got := readFile(t, filepath.Join(res.Dir, filepath.FromSlash(name))); got != want {
					t.Errorf("%s changed in the copy:\n got %q\nwant %q", name, got, want)
				}
			}
			page := readFile(t, filepath.Join(res.Dir, "page.html"))
			if want := strings.Replace(files["page.html"], "<head>", `<head><script src="/__extbridge/page.js"></script>`, 1); page != want {
				t.Errorf("page.html:\n got %q\nwant %q", page, want)
			}
			if !regexp.MustCompile(`^[a-z0-9-]+@extbridge\.invalid$`).MatchString(res.GeckoID) {
				t.Errorf("GeckoID %q from a hostile name is not a plain slug", res.GeckoID)
			}
			m := manifestFromDisk(t, res.Dir)
			if _, ok := m["__proto__"]; !ok {
				t.Errorf("the __proto__ member was dropped")
			}
			if wrapper := readFile(t, filepath.Join(res.Dir, "__extbridge_sw.js")); wrapper != `importScripts("/__extbridge/background.js", "/sw.js");`+"\n" {
				t.Errorf("wrapper = %q", wrapper)
			}
			cs := m["content_scripts"].([]any)[1].(map[string]any)["js"].([]any)
			if len(cs) != 4 || cs[0] != ContentJS || cs[3] != "weird name '\"`$(x).js" {
				t.Errorf("content_scripts[1].js = %q", cs)
			}
		})
	}
	if readFile(t, filepath.Join(src, "sw.js")) != odd["sw.js"] {
		t.Error("the source changed")
	}
}

// A service worker path full of characters that end a JavaScript string
// or statement still makes a wrapper that loads exactly that file.
func TestHostileWorkerPath(t *testing.T) {
	name := "a\"b'c`d\u2028e\u2029f<script>g%22h${x}.js"
	manifest, _ := json.Marshal(map[string]any{
		"manifest_version": 3, "name": "w", "version": "1",
		"background": map[string]any{"service_worker": name},
	})
	src := writeTree(t, map[string]string{"manifest.json": string(manifest), name: ""})
	res, _, err := instrumentWithin(t, src, "chromium")
	if err != nil {
		t.Fatal(err)
	}
	wrapper := readFile(t, filepath.Join(res.Dir, WorkerWrapper))
	if strings.ContainsAny(wrapper, "\u2028\u2029'`") || strings.Count(wrapper, `"`) != 4 {
		t.Errorf("wrapper is not one plain call with two plain strings: %q", wrapper)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return
	}
	// The wrapper parses and asks for exactly the bridge and that file.
	check := "const got = []; globalThis.importScripts = (...a) => got.push(...a);\n" + wrapper +
		"\nif (got.length !== 2 || decodeURI(got[1]) !== " + jsString("/"+name) + ") { console.log(JSON.stringify(got)); process.exit(1); }\n"
	f := filepath.Join(t.TempDir(), "check.js")
	if err := os.WriteFile(f, []byte(check), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, f).CombinedOutput(); err != nil {
		t.Errorf("the wrapper does not load %q: %v\n%s", name, err, out)
	}
}
