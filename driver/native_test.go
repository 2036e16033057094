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

// Bad native hosts fail Launch before anything starts, with an error that
// names the host.
func TestLaunchBadNativeHosts(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "host.sh")
	plain := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		hosts []driver.NativeHost
		want  []string
	}{
		{"uppercase", []driver.NativeHost{{Name: "Ping"}}, []string{`native host "Ping"`, "lowercase"}},
		{"space", []driver.NativeHost{{Name: "bad name"}}, []string{`native host "bad name"`}},
		{"empty", []driver.NativeHost{{Name: ""}}, []string{`native host ""`, "empty"}},
		{"leading dot", []driver.NativeHost{{Name: ".x"}}, []string{`native host ".x"`, "dot"}},
		{"two dots", []driver.NativeHost{{Name: "a..b"}}, []string{`native host "a..b"`, "two dots"}},
		{"twice", []driver.NativeHost{{Name: "a"}, {Name: "b", Path: exe}, {Name: "a", Path: exe}}, []string{`native host "a"`, "twice"}},
		{"missing program", []driver.NativeHost{{Name: "h", Path: filepath.Join(dir, "none")}}, []string{`native host "h"`, "no such file"}},
		{"not executable", []driver.NativeHost{{Name: "h", Path: plain}}, []string{`native host "h"`, "not executable"}},
		{"a folder", []driver.NativeHost{{Name: "h", Path: dir}}, []string{`native host "h"`, "not a regular file"}},
	}
	before := leakcheck.TempDirs()
	for _, c := range cases {
		for _, kind := range []driver.Kind{driver.Chromium, driver.Firefox} {
			b, err := driver.Launch(context.Background(), driver.Options{Browser: kind, NativeHosts: c.hosts})
			if err == nil {
				b.Close()
				t.Errorf("%s (%s): Launch succeeded", c.name, kind)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s (%s): %v; want it to contain %q", c.name, kind, err, w)
				}
			}
		}
	}
	if r := leakcheck.Report(before); r != "" {
		t.Errorf("left behind:\n%s", r)
	}
}
