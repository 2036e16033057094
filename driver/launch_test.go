package driver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/internal/leakcheck"
)

// Bad input fails fast, with a message that names the problem, and leaves
// nothing behind.
func TestLaunchBadInput(t *testing.T) {
	badManifest := t.TempDir()
	if err := os.WriteFile(filepath.Join(badManifest, "manifest.json"), []byte(`{"manifest_version": 3, "name": "x", "version": "1",
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["missing.js"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	notJSON := t.TempDir()
	if err := os.WriteFile(filepath.Join(notJSON, "manifest.json"), []byte("{\n  \"name\": \"x\",\n  oops\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts driver.Options
		want []string
	}{
		{"unknown browser", driver.Options{Browser: "safari"}, []string{`unknown browser "safari"`}},
		{"no such folder", driver.Options{Extensions: []string{"/nonexistent/ext"}}, []string{"/nonexistent/ext"}},
		{"no manifest", driver.Options{Extensions: []string{t.TempDir()}}, []string{"manifest.json", "not found"}},
		{"missing script", driver.Options{Extensions: []string{badManifest}}, []string{"content_scripts[0].js[0]", `"missing.js" does not exist`}},
		{"invalid JSON", driver.Options{Extensions: []string{notJSON}}, []string{"manifest.json", "line 3"}},
		{"no binary", driver.Options{BinaryPath: "/nonexistent/chromium"}, []string{"/nonexistent/chromium"}},
		{"no firefox binary", driver.Options{Browser: driver.Firefox, BinaryPath: "/nonexistent/firefox"}, []string{"/nonexistent/firefox"}},
	}
	before := leakcheck.TempDirs()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := driver.Launch(context.Background(), c.opts)
			if err == nil {
				b.Close()
				t.Fatal("Launch succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if l := leakcheck.Report(before); l != "" {
		t.Errorf("a failed Launch left:\n%s", l)
	}
}

// Close is idempotent and safe from several goroutines.
func TestCloseTwice(t *testing.T) {
	b, err := driver.Launch(context.Background(), driver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- b.Close() }()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Close = %v", err)
		}
	}
	if err := b.Close(); err != nil {
		t.Errorf("a third Close = %v", err)
	}
}
