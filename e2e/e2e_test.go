// Package e2e holds extbridge's end-to-end tests: every test runs in real
// browsers, once per browser of drivertest.Browsers (both by default).
package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
)

// The fixtures every shared browser loads, in this order.
var fixtureNames = []string{"pingpong", "tabsconnect", "multiport", "nolistener", "echo", "extpages", "messages"}

var (
	fixtureDirs []string
	pagesURL    string   // ends with "/"
	cleanups    []func() // run by TestMain after the tests
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "e2e-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range fixtureNames {
		dir, err := extfixtures.Materialize(name, tmp)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fixtureDirs = append(fixtureDirs, dir)
	}
	srv := httptest.NewServer(extfixtures.PagesHandler())
	pagesURL = srv.URL + "/"
	code := drivertest.RunMain(m)
	for _, f := range cleanups {
		f()
	}
	srv.Close()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// env is one test's view of the shared browser of its kind.
type env struct {
	kind driver.Kind
	b    *driver.Browser
}

func setup(t *testing.T, kind driver.Kind) *env {
	t.Helper()
	b := drivertest.Shared(t, driver.Options{Browser: kind, Extensions: fixtureDirs})
	return &env{kind: kind, b: b}
}

// ext returns the fixture extension with this name.
func (e *env) ext(t *testing.T, name string) *bridge.Extension {
	t.Helper()
	for i, n := range fixtureNames {
		if n == name {
			return e.b.Extensions()[i]
		}
	}
	t.Fatalf("no fixture %q", name)
	return nil
}

func (e *env) tab(t *testing.T, page string) *driver.Tab {
	t.Helper()
	return drivertest.NewTab(t, e.b, pagesURL+page)
}

// noReceiver is the browser's message for a connection nobody receives.
func noReceiver(kind driver.Kind) string {
	if kind == driver.Firefox {
		return "Could not establish connection. Receiving end does not exist."
	}
	return "Could not establish connection. Receiving end does not exist."
}

func contentScript(t *testing.T, ext *bridge.Extension, tab *driver.Tab, frame int) *bridge.Context {
	t.Helper()
	c, err := ext.ContentScript(drivertest.Context(t), tab.ID(), frame)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func background(t *testing.T, ext *bridge.Extension) *bridge.Context {
	t.Helper()
	c, err := ext.Background(drivertest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connect(t *testing.T, c *bridge.Context, name string) *bridge.Port {
	t.Helper()
	p, err := c.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Disconnect() })
	return p
}

func post(t *testing.T, p *bridge.Port, msg any) {
	t.Helper()
	if err := p.PostMessage(drivertest.Context(t), msg); err != nil {
		t.Fatal(err)
	}
}

// inRealm accepts message events in a realm kind on a port with this name.
func inRealm(kind bridge.RealmKind, portName string, outgoing bool, pattern string) func(bridge.Event) bool {
	var pat any
	if err := json.Unmarshal([]byte(pattern), &pat); err != nil {
		panic(err)
	}
	return func(ev bridge.Event) bool {
		if ev.Kind != bridge.EventMessage || ev.Realm.Kind != kind || ev.Outgoing != outgoing || ev.Port.Name() != portName {
			return false
		}
		var v any
		return json.Unmarshal(ev.Data, &v) == nil && drivertest.Match(pat, v)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// acceptWhere accepts ports on l until pred takes one; the others (from
// other tabs of the shared browser) are left alone.
func acceptWhere(t *testing.T, l *bridge.Listener, what string, pred func(*bridge.Port) bool) *bridge.Port {
	t.Helper()
	for {
		p, err := l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatalf("no port %s: %v", what, err)
		}
		if pred(p) {
			return p
		}
	}
}

// named accepts the port with this name.
func named(name string) func(*bridge.Port) bool {
	return func(p *bridge.Port) bool { return p.Name() == name }
}

// runs counts the runs of the tests, for unique.
var runs atomic.Int64

// unique names this run of the test: its name and a number no other run
// in this process has. The tests share their browsers, and a Watch starts
// at the oldest event the extension kept, so a URL or message that picks a
// test's own events out of the history must differ from every earlier
// run's, -count=N included.
func unique(t *testing.T) string {
	return fmt.Sprintf("%s~%d", t.Name(), runs.Add(1))
}

// since accepts the events Go learnt of from start on: a test's own, on a
// shared browser whose history has earlier tests' events of the same kind.
func since(start time.Time, pred func(bridge.Event) bool) func(bridge.Event) bool {
	return func(ev bridge.Event) bool { return !ev.Time.Before(start) && pred(ev) }
}
