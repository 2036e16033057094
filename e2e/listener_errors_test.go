package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// What the hostile fixture's listeners throw, by realm kind. Each becomes
// one EventLog event "Error in event handler: …" in its realm, although
// both browsers catch it themselves.
var listenerThrows = map[bridge.RealmKind][]string{
	bridge.RealmBackground: {
		"Error: hostile: onConnect throws", // runtime.onConnect
		"hostile: a second listener throws a string",
		"Error: hostile: onMessage throws",         // a port's onMessage
		"Error: hostile: runtime.onMessage throws", // runtime.onMessage
		"Error: hostile: onDisconnect throws",      // a port's onDisconnect
	},
	bridge.RealmContent: {
		"Error: hostile: content port onMessage throws",    // its own port's onMessage
		"Error: hostile: content runtime.onMessage throws", // runtime.onMessage
		"Error: hostile: content onConnect throws",         // runtime.onConnect
		"Error: hostile: content onMessage throws",         // the onMessage of a port it accepted
	},
}

// An exception thrown inside an extension's listener (runtime.onConnect, a
// port's onMessage and onDisconnect, runtime.onMessage) is an EventLog
// event of its realm, in the background and in content scripts, reported
// once, and the browser still handles it as before (the port goes on).
func TestListenerExceptions(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, _, ext := hostileBrowser(t, kind)
		ctx := drivertest.Context(t)
		w := drivertest.Watch(t, ext)
		start := time.Now() // the Watch replays older events of the shared browser
		page := pagesURL + "index.html?" + url.QueryEscape(unique(t))
		tab := drivertest.NewTab(t, b, page)

		want := map[bridge.RealmKind]map[string]int{}
		for k, texts := range listenerThrows {
			want[k] = map[string]int{}
			for _, s := range texts {
				want[k][s] = 0
			}
		}
		csReady := false   // the content script ran: its listeners are in place
		firstThrows := 0   // reports of the content script's throw after "first", before the echo of "second"
		sawSecond := false // the content script echoed "second"
		see := func(ev bridge.Event) {
			if ev.Time.Before(start) || (ev.Realm.Kind == bridge.RealmContent && ev.Realm.URL != page) {
				return
			}
			switch {
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == bridge.RealmContent && ev.Name == "hostile-cs":
				csReady = true
			case ev.Kind == bridge.EventMessage && ev.Realm.Kind == bridge.RealmContent && ev.Outgoing && string(ev.Data) == `"second"`:
				sawSecond = true
			case ev.Kind == bridge.EventLog:
				for s := range want[ev.Realm.Kind] {
					if !strings.Contains(ev.Text, s) {
						continue
					}
					if ev.Level != bridge.LogUncaught || !strings.HasPrefix(ev.Text, "Error in event handler: "+s) {
						t.Errorf("%s: got %s, want level uncaught and the text \"Error in event handler: %s…\"", kind, ev, s)
					}
					want[ev.Realm.Kind][s]++
					if s == "Error: hostile: content onMessage throws" && !sawSecond {
						firstThrows++
					}
					t.Logf("%s: %s: %q", kind, ev.Realm.Kind, ev.Text)
				}
			}
		}
		drivertest.WaitEvent(t, w, "the content script opening hostile-cs", func(ev bridge.Event) bool {
			see(ev)
			return csReady
		})

		// Go as the background connects to the content script (its
		// onConnect throws), posts (its port's onMessage echoes, then
		// throws), then posts again: the echo of the second message comes
		// after any report of the first throw in that realm.
		tp, err := background(t, ext).TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "to-throwing-cs"})
		if err != nil {
			t.Fatal(err)
		}
		post(t, tp, "first")
		drivertest.RecvMatch(t, tp, `"first"`)
		// Go as the content script connects to the background, posts
		// (onMessage throws), and disconnects (onDisconnect throws).
		p := connect(t, contentScript(t, ext, tab, 0), "to-throwing-bg")
		post(t, p, "hello")
		drivertest.RecvMatch(t, p, `"hello"`)
		if err := p.Disconnect(); err != nil {
			t.Fatal(err)
		}
		post(t, tp, "second")

		drivertest.WaitEvent(t, w, "every listener's exception as an EventLog event", func(ev bridge.Event) bool {
			see(ev)
			for _, m := range want {
				for _, n := range m {
					if n == 0 {
						return false
					}
				}
			}
			return sawSecond
		})
		if firstThrows != 1 {
			t.Errorf("the content script's port listener threw once before the second message, reported %d times", firstThrows)
		}
		drivertest.RecvMatch(t, tp, `"second"`) // the port still works
	})
}
