package drivertest_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
	"github.com/extbridge/extbridge/internal/leakcheck"
)

func TestMain(m *testing.M) { drivertest.Main(m) }

// The leak check must see a browser that was not closed, and nothing once
// it is.
func TestLeaksSeesAnUnclosedBrowser(t *testing.T) {
	before := leakcheck.TempDirs()
	b, err := driver.Launch(context.Background(), driver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	leaks := leakcheck.Report(before)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(leaks, "processes:") || !strings.Contains(leaks, "temporary folder:") {
		t.Errorf("an open browser is not reported as a leak:\n%s", leaks)
	}
	if l := leakcheck.Report(before); l != "" {
		t.Errorf("leaks after Close:\n%s", l)
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		pat, v any
		want   bool
	}{
		{map[string]any{"a": 1.0}, map[string]any{"a": 1.0, "b": 2.0}, true},
		{map[string]any{"a": 1.0}, map[string]any{"b": 2.0}, false},
		{[]any{1.0}, []any{1.0, 2.0}, false},
		{"x", "x", true},
		{map[string]any{"a": map[string]any{"b": true}}, map[string]any{"a": map[string]any{"b": true, "c": 1.0}}, true},
	}
	for _, c := range cases {
		if got := drivertest.Match(c.pat, c.v); got != c.want {
			t.Errorf("Match(%v, %v) = %v", c.pat, c.v, got)
		}
	}
}

// A failing expectation fails the test with what arrived instead and the
// diagnostics: the test runs in a child process that is meant to fail.
func TestFailingExpectationShowsTraffic(t *testing.T) {
	if os.Getenv("DRIVERTEST_CHILD") == "1" {
		return // the child runs TestChildFails only
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildFails$", "-test.v", "-test.artifacts", "-test.outputdir="+t.TempDir())
	cmd.Env = append(os.Environ(), "DRIVERTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child test passed; it must fail:\n%s", out)
	}
	for _, want := range []string{
		`drivertest: no message matching "never sent"`,
		"received instead (2):",
		`1. "first"`,
		`2. "second"`,
		"the port is still open",
		"port events",
		"traffic.txt",
		`-> "first"`,
		"tab-",
		"tabs:",
		"/index.html\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the failure output lacks %q:\n%s", want, out)
		}
	}
}

// TestChildFails is the child of TestFailingExpectationShowsTraffic.
func TestChildFails(t *testing.T) {
	if os.Getenv("DRIVERTEST_CHILD") != "1" {
		t.Skip("runs only as the child of TestFailingExpectationShowsTraffic")
	}
	dir, err := extfixtures.Materialize("echo", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(extfixtures.PagesHandler())
	defer srv.Close()
	b := drivertest.Launch(t, driver.Options{Extensions: []string{dir}})
	tab := drivertest.NewTab(t, b, srv.URL+"/index.html")
	cs, err := b.Extensions()[0].ContentScript(drivertest.Context(t), tab.ID(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cs.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "child"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"first", "second"} {
		if err := p.PostMessage(drivertest.Context(t), m); err != nil {
			t.Fatal(err)
		}
	}
	drivertest.Timeout = 2 * time.Second
	drivertest.RecvMatch(t, p, `"never sent"`)
}
