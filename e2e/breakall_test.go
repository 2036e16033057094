package e2e

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
)

var breakallDir = sync.OnceValues(func() (string, error) {
	// Next to the other fixtures, in the folder TestMain removes.
	return extfixtures.Materialize("breakall", filepath.Dir(fixtureDirs[0]))
})

// breakallBrowser is the shared browser with the breakall fixture alone.
// That it launched at all means the background's bridge connected although
// the background broke every builtin right after the bridge started.
func breakallBrowser(t *testing.T, kind driver.Kind) (*driver.Browser, *bridge.Extension) {
	t.Helper()
	dir, err := breakallDir()
	if err != nil {
		t.Fatal(err)
	}
	b := drivertest.Shared(t, driver.Options{Browser: kind, Extensions: []string{dir}})
	return b, b.Extensions()[0]
}

// brokenLog is the line breakall logs once it has broken a realm.
var brokenLog = regexp.MustCompile(`^breakall: (\w+) replaced (\d+) builtin members \((\d+) kept\)`)

// brokenFloor is the fewest members breakall must replace in a realm: it
// replaced 408 to 413 in every realm of both browsers when measured, so
// fewer means the walker stopped breaking things and the tests below would
// prove little.
const brokenFloor = 300

// brokenCount waits for breakall's log line in a realm kind and returns its
// count of replaced members.
func brokenCount(t *testing.T, w *bridge.Watch, kind bridge.RealmKind, url string) int {
	t.Helper()
	ev := drivertest.WaitEvent(t, w, "breakall's count in the "+string(kind), func(ev bridge.Event) bool {
		return ev.Kind == bridge.EventLog && ev.Realm.Kind == kind && (url == "" || ev.Realm.URL == url) && brokenLog.MatchString(ev.Text)
	})
	m := brokenLog.FindStringSubmatch(ev.Text)
	n, _ := strconv.Atoi(m[2])
	t.Logf("%s", ev.Text)
	if n < brokenFloor {
		t.Errorf("breakall replaced %d members in the %s, want at least %d", n, kind, brokenFloor)
	}
	return n
}

// sentBy reports whether the port's sender is in the tab.
func sentBy(p *bridge.Port, tab int) bool {
	s := p.Sender()
	return s != nil && s.Tab != nil && s.Tab.ID == tab
}

// An extension that breaks every builtin after start-up, in the background
// and its content scripts: every port is still mirrored at both ends, and
// Go still drives ports in its realms.
func TestBreakAll(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, ext := breakallBrowser(t, kind)
		ctx := drivertest.Context(t)
		w := drivertest.Watch(t, ext)
		brokenCount(t, w, bridge.RealmBackground, "")

		// Go listens in the background, next to the extension's listener.
		bg := background(t, ext)
		l, err := bg.Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()

		page := pagesURL + "index.html?" + url.QueryEscape(unique(t))
		tab := drivertest.NewTab(t, b, page)

		// The content script's own port at both ends, what it posted after
		// breaking its realm, the background's echo of it at both ends, and
		// its log line. Events are in order within a realm only, so all are
		// awaited at once.
		var csEnd, bgEnd *bridge.Port
		var count json.RawMessage
		var csLog string
		echoedOut, echoedIn := false, false
		drivertest.WaitEvent(t, w, "breakall-cs opening at both ends, its count and the echo at both ends", func(ev bridge.Event) bool {
			switch {
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == bridge.RealmContent && ev.Realm.URL == page && ev.Name == "breakall-cs":
				csEnd = ev.Port
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == bridge.RealmBackground && ev.Name == "breakall-cs" && sentBy(ev.Port, tab.ID()):
				bgEnd = ev.Port
			case ev.Kind == bridge.EventLog && ev.Realm.Kind == bridge.RealmContent && ev.Realm.URL == page && brokenLog.MatchString(ev.Text):
				csLog = ev.Text
			case ev.Kind != bridge.EventMessage:
			case bgEnd != nil && ev.Port == bgEnd && !ev.Outgoing:
				count = ev.Data
			case bgEnd != nil && ev.Port == bgEnd && ev.Outgoing:
				echoedOut = true
			case csEnd != nil && ev.Port == csEnd && !ev.Outgoing:
				echoedIn = true
			}
			return csEnd != nil && bgEnd != nil && count != nil && csLog != "" && echoedOut && echoedIn
		})
		t.Logf("%s", csLog)
		var got struct {
			Realm  string `json:"realm"`
			Broken int    `json:"broken"`
		}
		if err := json.Unmarshal(count, &got); err != nil || got.Realm != "content" {
			t.Fatalf("the content script posted %s, want {realm: content, broken: N}", count)
		}
		if got.Broken < brokenFloor {
			t.Errorf("breakall replaced %d members in the content script, want at least %d", got.Broken, brokenFloor)
		}

		// Go's listener got the same port the extension's listener did.
		acc := acceptWhere(t, l, "breakall-cs from the test's tab", func(p *bridge.Port) bool {
			return p.Name() == "breakall-cs" && sentBy(p, tab.ID())
		})
		if acc != bgEnd {
			t.Errorf("Go accepted another mirror of breakall-cs than the one the Watch saw")
		}
		post(t, acc, "from Go's listener")
		drivertest.RecvMatch(t, acc, `{"echo":"from Go's listener","realm":"content"}`)

		// Go as the content script: runtime.connect, the background echoes.
		cs := contentScript(t, ext, tab, 0)
		p := connect(t, cs, "go-from-cs")
		for i := range 3 {
			post(t, p, i)
			drivertest.RecvMatch(t, p, `{"echo":`+strconv.Itoa(i)+`,"realm":"background"}`)
		}
		// Go as the background: tabs.connect, the content script echoes.
		tp, err := bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "go-from-bg"})
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Disconnect()
		post(t, tp, "ping")
		drivertest.RecvMatch(t, tp, `{"echo":"ping","realm":"content"}`)

		// Go speaks for the extension's own port, from each end.
		post(t, csEnd, "Go as the content script")
		drivertest.WaitEvent(t, w, "the background receiving Go's message on breakall-cs",
			inRealm(bridge.RealmBackground, "breakall-cs", false, `"Go as the content script"`))
		drivertest.RecvMatch(t, csEnd, `{"echo":"Go as the content script","realm":"background"}`)

		// Closing the tab ends the port at the background's end.
		if err := tab.Close(ctx); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "the background's end of breakall-cs ending with the tab", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventDisconnect && ev.Port == bgEnd
		})
		drivertest.ExpectDisconnect(t, bgEnd, "")
	})
}

// The same extension page open in two tabs, each of which broke every
// builtin after start-up: both are mirrored, and their events tell the two
// realms apart by realm id and tab id (which the page learns with
// tabs.getCurrent and sends in a where frame).
func TestBreakAllPages(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, ext := breakallBrowser(t, kind)
		w := drivertest.Watch(t, ext)
		start := time.Now()
		tab := drivertest.NewTab(t, b, pagesURL+"index.html?"+url.QueryEscape(unique(t)))
		// The background opens and closes the page's tabs: Firefox does not
		// let a tab navigate to a moz-extension: URL from outside.
		opener := connect(t, contentScript(t, ext, tab, 0), "opener")
		for range 2 {
			post(t, opener, map[string]string{"cmd": "open", "path": "page.html"})
			drivertest.RecvMatch(t, opener, `{"echo":{"cmd":"open"}}`)
		}

		// Each page's own port at both ends, and what it posted.
		type pageRealm struct {
			end, bgEnd *bridge.Port
			broken     int
			tab        int
		}
		pages := map[string]*pageRealm{} // by realm id
		bgEnds := map[*bridge.Port]bool{}
		drivertest.WaitEvent(t, w, "two pages opening breakall-page and posting their count", since(start, func(ev bridge.Event) bool {
			switch {
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == bridge.RealmPage && ev.Name == "breakall-page":
				pages[ev.Realm.ID] = &pageRealm{end: ev.Port, tab: -1}
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == bridge.RealmBackground && ev.Name == "breakall-page":
				bgEnds[ev.Port] = true
			case ev.Kind == bridge.EventMessage && ev.Realm.Kind == bridge.RealmPage && ev.Outgoing && pages[ev.Realm.ID] != nil:
				var got struct {
					Broken int `json:"broken"`
				}
				if json.Unmarshal(ev.Data, &got) == nil {
					pages[ev.Realm.ID].broken = got.Broken
				}
			}
			done := 0
			for _, p := range pages {
				if p.broken > 0 {
					done++
				}
			}
			return done == 2 && len(bgEnds) == 2
		}))
		for id, p := range pages {
			t.Logf("%s: page #%s replaced %d builtin members", kind, id[:6], p.broken)
			if p.broken < brokenFloor {
				t.Errorf("breakall replaced %d members in a page, want at least %d", p.broken, brokenFloor)
			}
		}

		// Go posts as each page's end; the background echoes, and the echo
		// arriving in the page is an event of that page's realm. The tab id
		// comes with the page's hello, which it holds until tabs.getCurrent
		// answers, or if that took too long with a where frame later: then
		// ask again until it has come.
		for id, p := range pages {
			where := bridge.Realm{TabID: -1}
			for try := 0; try < 50 && where.TabID < 0; try++ {
				ask := "where are you? " + strconv.Itoa(try)
				post(t, p.end, ask)
				ev := drivertest.WaitEvent(t, w, "the echo arriving in page #"+id[:6], func(ev bridge.Event) bool {
					return ev.Port == p.end && ev.Kind == bridge.EventMessage && !ev.Outgoing && strings.Contains(string(ev.Data), ask)
				})
				where = ev.Realm
			}
			t.Logf("%s: %s", kind, where)
			if where.ID != id || where.Kind != bridge.RealmPage || where.TabID < 0 || where.FrameID != 0 {
				t.Errorf("page realm = %+v, want page %s in a tab, frame 0", where, id)
			}
			p.tab = where.TabID
		}
		var tabs []int
		for _, p := range pages {
			tabs = append(tabs, p.tab)
		}
		if len(tabs) != 2 || tabs[0] == tabs[1] {
			t.Errorf("the two pages' tabs = %v, want two different tabs", tabs)
		}
		// The tab a page reported is the one the browser gives as the sender.
		for bgEnd := range bgEnds {
			s := bgEnd.Sender()
			if s == nil || s.Tab == nil || (s.Tab.ID != tabs[0] && s.Tab.ID != tabs[1]) {
				t.Errorf("the background's end of breakall-page has sender %+v, want one of the tabs %v", s, tabs)
			}
		}

		// Closing the pages ends their ports at the background.
		for _, tb := range tabs {
			post(t, opener, map[string]any{"cmd": "close", "tab": tb})
		}
		for bgEnd := range bgEnds {
			drivertest.ExpectDisconnect(t, bgEnd, "")
		}
	})
}

// The content scripts of a page's subframes, each of which broke every
// builtin: their own ports are mirrored, Go reaches each frame's world,
// and the frame's events carry its frame id: from the where frame the
// realm sends (Firefox: runtime.getFrameId) or, where the realm cannot
// learn it (Chromium), from the moment Go locates it with ContentScript.
func TestBreakAllFrames(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, ext := breakallBrowser(t, kind)
		ctx := drivertest.Context(t)
		w := drivertest.Watch(t, ext)
		start := time.Now()
		tab := drivertest.NewTab(t, b, pagesURL+"frames.html?"+url.QueryEscape(unique(t)))
		frames, err := ext.Frames(ctx, tab.ID()) // webNavigation, from the broken background
		if err != nil {
			t.Fatal(err)
		}
		byURL := map[string]int{}
		for _, f := range frames {
			if f.ParentID >= 0 {
				byURL[f.URL] = f.ID
			}
		}
		if len(byURL) != 2 {
			t.Fatalf("frames of frames.html = %+v, want two subframes", frames)
		}
		ends := map[string]*bridge.Port{} // the subframes' ends of breakall-cs, by URL
		drivertest.WaitEvent(t, w, "both subframes opening breakall-cs", since(start, func(ev bridge.Event) bool {
			if _, ok := byURL[ev.Realm.URL]; ok && ev.Kind == bridge.EventOpen && ev.Realm.Kind == bridge.RealmContent && ev.Name == "breakall-cs" {
				ends[ev.Realm.URL] = ev.Port
			}
			return len(ends) == 2
		}))
		// echoRealm posts as a subframe's end; the background's echo arriving
		// there is an event of the subframe's realm.
		asked := 0
		echoRealm := func(u string) bridge.Realm {
			asked++
			ask := "which frame? " + strconv.Itoa(asked)
			post(t, ends[u], ask)
			return drivertest.WaitEvent(t, w, "the echo arriving in "+u, func(ev bridge.Event) bool {
				return ev.Port == ends[u] && ev.Kind == bridge.EventMessage && !ev.Outgoing && strings.Contains(string(ev.Data), ask)
			}).Realm
		}
		for u, id := range byURL {
			if kind == driver.Firefox {
				r := bridge.Realm{FrameID: -1}
				for try := 0; try < 50 && r.FrameID < 0; try++ { // until the where frame has come
					r = echoRealm(u)
				}
				if r.FrameID != id {
					t.Errorf("%s: the realm of %s has frame %d, want %d", kind, u, r.FrameID, id)
				}
			}
			cs := contentScript(t, ext, tab, id)
			r := echoRealm(u)
			t.Logf("%s: %s", kind, r)
			if r.TabID != tab.ID() || r.FrameID != id || r.Top {
				t.Errorf("%s: the realm of %s = %+v, want tab %d frame %d, not top", kind, u, r, tab.ID(), id)
			}
			p := connect(t, cs, "go-from-subframe")
			post(t, p, u)
			drivertest.RecvMatch(t, p, `{"echo":"`+u+`","realm":"background"}`)
		}
	})
}
