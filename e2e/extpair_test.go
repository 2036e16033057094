package e2e

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
)

// pairBrowser is a shared browser with the extension pair: a connects to b
// with runtime.connect(b's id), b receives on onConnectExternal.
func pairBrowser(t *testing.T, kind driver.Kind) (a, b *bridge.Extension, br *driver.Browser) {
	t.Helper()
	br = drivertest.Shared(t, driver.Options{Browser: kind, Extensions: pairDirs(t)})
	exts := br.Extensions()
	return exts[0], exts[1], br
}

var pairDirsCache []string

func pairDirs(t *testing.T) []string {
	t.Helper()
	if pairDirsCache == nil {
		dir, err := os.MkdirTemp("", "e2e-pair-")
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		for _, name := range []string{"extpair-a", "extpair-b"} {
			d, err := extfixtures.Materialize(name, dir)
			if err != nil {
				t.Fatal(err)
			}
			pairDirsCache = append(pairDirsCache, d)
		}
	}
	return pairDirsCache
}

// Go, as extension a's background, connects to extension b; b's
// onConnectExternal listener gets the port, with a as the sender.
func TestExtensionToExtensionFromGo(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		a, b, _ := pairBrowser(t, kind)
		if kind == driver.Chromium && b.ID() != "hjhhkammjjggaakjdldmdmgjaippijjl" {
			t.Fatalf("extpair-b's id = %s; its manifest key should fix it", b.ID())
		}
		p, err := background(t, a).Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "go-to-b", ExtensionID: b.ID()})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect()
		post(t, p, map[string]int{"n": 1})
		got := drivertest.Recv[struct {
			Echo map[string]int
			From string
		}](t, p)
		if got.Echo["n"] != 1 || got.From != a.ID() {
			t.Errorf("reply = %+v, want the echo from %s", got, a.ID())
		}
	})
}

// Go listens in b and accepts external ports: from Go acting as a, and from
// a's own code.
func TestListenAcceptsExternalPorts(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		a, b, _ := pairBrowser(t, kind)
		ctx := drivertest.Context(t)
		l, err := background(t, b).Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		accept := func(name string) *bridge.Port { return acceptWhere(t, l, name, named(name)) }

		out, err := background(t, a).Connect(ctx, bridge.ConnectInfo{Name: "go-as-a", ExtensionID: b.ID()})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Disconnect()
		in := accept("go-as-a")
		if s := in.Sender(); s == nil || s.ID != a.ID() {
			t.Fatalf("sender = %+v, want id %s", s, a.ID())
		}
		post(t, out, "ping")
		if m := drivertest.Recv[string](t, in); m != "ping" {
			t.Errorf("b got %q", m)
		}
		post(t, in, "pong")
		drivertest.RecvMatch(t, out, `"pong"`)

		// a's own code connects; Go accepts in b.
		if err := background(t, a).Eval(ctx, `connectToB("a-code", {x: 1})`, nil); err != nil {
			t.Fatal(err)
		}
		fromA := accept("a-code")
		if m := drivertest.Recv[map[string]int](t, fromA); m["x"] != 1 {
			t.Errorf("b got %v from a's code", m)
		}
		if s := fromA.Sender(); s == nil || s.ID != a.ID() {
			t.Errorf("sender of a's port = %+v", s)
		}
	})
}

// Ports opened at the top level of the background at start-up, and by a
// content script at document_start, are in the history before any Go code
// asked for them.
func TestWatchFromTheFirstInstruction(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		a, _, br := pairBrowser(t, kind)
		w := drivertest.Watch(t, a)
		ev := drivertest.WaitEvent(t, w, "a's start-up port", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "background" && ev.Name == "from-a-at-startup" && !ev.ByGo
		})
		if ev.How != "runtime.connect" {
			t.Errorf("start-up port opened via %q", ev.How)
		}
		drivertest.WaitEvent(t, w, "a's start-up message", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventMessage && ev.Outgoing && ev.Port.Name() == "from-a-at-startup"
		})

		page := "index.html?" + unique(t)
		drivertest.NewTab(t, br, pagesURL+page)
		drivertest.WaitEvent(t, w, "the document_start port", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content" && ev.Name == "a-document-start" && ev.Realm.URL == pagesURL+page
		})
		msg := drivertest.WaitEvent(t, w, "the document_start message", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventMessage && ev.Outgoing && ev.Port.Name() == "a-document-start" && ev.Realm.URL == pagesURL+page
		})
		var m struct{ ReadyState string }
		if err := json.Unmarshal(msg.Data, &m); err != nil || m.ReadyState != "loading" {
			t.Errorf("the content script ran at readyState %q (%v), want loading", m.ReadyState, err)
		}
		// a's background has no onConnect listener: the browser ends the
		// document_start port with its error, and the watch sees it.
		drivertest.WaitEvent(t, w, "the document_start port's end", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventDisconnect && ev.Port.Name() == "a-document-start" && ev.Realm.URL == pagesURL+page && ev.Err != nil
		})
	})
}
