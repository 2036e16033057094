package drivertest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// A whole extension test: one browser per package and browser kind, a tab
// per test, an expectation that fails with what arrived instead.
func Example() {
	// In myext_test.go:
	//
	//	func TestMain(m *testing.M) { drivertest.Main(m) }
	//
	//	func TestGreeting(t *testing.T) { drivertest.Run(t, testGreeting) }
	testGreeting := func(t *testing.T, kind driver.Kind) {
		b := drivertest.Shared(t, driver.Options{Browser: kind, Extensions: []string{"testdata/myext"}})
		tab := drivertest.NewTab(t, b, "https://example.com/")
		cs, err := b.Extensions()[0].ContentScript(drivertest.Context(t), tab.ID(), 0)
		if err != nil {
			t.Fatal(err)
		}
		port, err := cs.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "port-from-cs"})
		if err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, port, `{"greeting":"hi there content script!"}`)
	}
	_ = testGreeting
}

// Launch starts a browser for one test and closes it when the test ends.
func ExampleLaunch() {
	_ = func(t *testing.T) {
		b := drivertest.Launch(t, driver.Options{Browser: driver.Firefox, Extensions: []string{"testdata/myext"}})
		_ = b.Extensions()
	}
}

// Recv decodes the next message into a Go value.
func ExampleRecv() {
	_ = func(t *testing.T, port *bridge.Port) {
		type greeting struct{ Greeting string }
		g := drivertest.Recv[greeting](t, port)
		if g.Greeting != "hi there content script!" {
			t.Errorf("greeting = %q", g.Greeting)
		}
	}
}

// ExpectDisconnect waits for the end, clean or with the browser's error.
func ExampleExpectDisconnect() {
	_ = func(t *testing.T, port *bridge.Port) {
		drivertest.ExpectDisconnect(t, port, "Receiving end does not exist")
	}
}

// WaitEvent waits on a Watch for what the extension's own code does.
func ExampleWaitEvent() {
	_ = func(t *testing.T, ext *bridge.Extension) {
		w := drivertest.Watch(t, ext)
		drivertest.WaitEvent(t, w, "the background logging", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventLog && ev.Realm.Kind == "background"
		})
	}
}

// Main is the package's TestMain: it runs the tests, closes the shared
// browsers and fails the run on leaks.
func ExampleMain() {
	_ = func(m *testing.M) { drivertest.Main(m) }
}

// Run runs a test body once per browser (-extbridge.browser or
// EXTBRIDGE_BROWSERS; both by default).
func ExampleRun() {
	_ = func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
			b := drivertest.Shared(t, driver.Options{Browser: kind, Extensions: []string{"testdata/myext"}})
			_ = b
		})
	}
}

// Shared reuses one browser per package and options; NewTab gives each
// test its own tab, closed (and captured on failure) with the test.
func ExampleShared() {
	_ = func(t *testing.T) {
		b := drivertest.Shared(t, driver.Options{Extensions: []string{"testdata/myext"}})
		tab := drivertest.NewTab(t, b, "https://example.com/")
		_ = tab.ID()
	}
}

// RecvWhere skips messages until one satisfies a predicate.
func ExampleRecvWhere() {
	_ = func(t *testing.T, port *bridge.Port) {
		m := drivertest.RecvWhere(t, port, func(m json.RawMessage) bool { return strings.Contains(string(m), "done") })
		_ = m
	}
}

// RecvMatch waits for a message that has at least the fields of a pattern.
func ExampleRecvMatch() {
	_ = func(t *testing.T, port *bridge.Port) {
		drivertest.RecvMatch(t, port, `{"status":"ok","items":[1,2]}`)
	}
}

// Diagnose captures the traffic, console and tabs of a test that fails,
// for tests that open tabs without NewTab.
func ExampleDiagnose() {
	_ = func(t *testing.T, b *driver.Browser, tab *driver.Tab) {
		drivertest.Diagnose(t, b, tab)
	}
}

// Context bounds a call by drivertest.Timeout and ends with the test.
func ExampleContext() {
	_ = func(t *testing.T, ext *bridge.Extension) {
		bg, err := ext.Background(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		_ = bg
	}
}
