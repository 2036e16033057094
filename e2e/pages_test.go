package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// inTab accepts message events on a port with this name in the content
// script of tab (posted by it), or in the background from that tab
// (received), that match the pattern. The content realm must have been
// located first (contentScript), so that its events carry the tab.
func inTab(kind bridge.RealmKind, tab *driver.Tab, portName, pattern string) func(bridge.Event) bool {
	match := inRealm(kind, portName, kind == "content", pattern)
	return func(ev bridge.Event) bool {
		if !match(ev) {
			return false
		}
		if kind == "content" {
			return ev.Realm.TabID == tab.ID()
		}
		s := ev.Port.Sender()
		return s != nil && s.Tab != nil && s.Tab.ID == tab.ID()
	}
}

// Real clicks and key presses reach the page and the extension's own
// content script as trusted events; page-world Eval sees the page's own
// globals; a click that cannot happen says why.
func TestTabClickTypeAndEval(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "extpages")
		w := drivertest.Watch(t, ext)
		tab := e.tab(t, "input.html")
		ctx := drivertest.Context(t)

		w2 := drivertest.Watch(t, ext) // the realms report in their own order
		contentScript(t, ext, tab, 0)  // so that its events carry the tab
		if err := tab.Click(ctx, "#go"); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "the content script reporting the trusted click",
			inTab("content", tab, "input-cs", `{"click":"go","trusted":true}`))
		drivertest.WaitEvent(t, w2, "the background receiving it",
			inTab("background", tab, "input-cs", `{"click":"go","trusted":true}`))

		text := "héllo wörld 😀"
		if err := tab.Type(ctx, "#name", text); err != nil {
			t.Fatal(err)
		}
		var value string
		if err := tab.Eval(ctx, `document.querySelector("#name").value`, &value); err != nil {
			t.Fatal(err)
		}
		if value != text {
			t.Errorf("the input holds %q, want %q", value, text)
		}
		var keys []struct {
			Key     string
			Trusted bool
		}
		if err := tab.Eval(ctx, `window.keys`, &keys); err != nil {
			t.Fatal(err)
		}
		if n := len([]rune(text)); len(keys) != n {
			t.Errorf("%d key presses recorded, want %d: %+v", len(keys), n, keys)
		}
		for _, k := range keys {
			if !k.Trusted {
				t.Errorf("an untrusted key event: %+v", k)
			}
		}
		drivertest.WaitEvent(t, w, "the content script reporting the emoji key press",
			inTab("content", tab, "input-cs", `{"key":"😀","trusted":true}`))

		// Page-world Eval: the page's globals, not the content script's;
		// promises are awaited; exceptions are errors.
		var global, csGlobal string
		if err := tab.Eval(ctx, `window.pageGlobal`, &global); err != nil || global != "from the page" {
			t.Errorf("pageGlobal = %q, %v", global, err)
		}
		if err := tab.Eval(ctx, `typeof port`, &csGlobal); err != nil || csGlobal != "undefined" {
			t.Errorf("the content script's port is visible to page-world Eval: %q, %v", csGlobal, err)
		}
		var n int
		if err := tab.Eval(ctx, `new Promise((resolve) => setTimeout(() => resolve(42), 10))`, &n); err != nil || n != 42 {
			t.Errorf("awaited promise = %d, %v", n, err)
		}
		if err := tab.Eval(ctx, `(() => { throw new Error("boom in the page"); })()`, nil); err == nil || !strings.Contains(err.Error(), "boom in the page") {
			t.Errorf("a throwing Eval = %v", err)
		}

		// Scrolled into view: the far button is 3000 px down.
		if err := tab.Click(ctx, "#far"); err != nil {
			t.Fatal(err)
		}
		var clicks []struct {
			ID      string
			Trusted bool
		}
		if err := tab.Eval(ctx, `window.clicks`, &clicks); err != nil {
			t.Fatal(err)
		}
		if len(clicks) != 2 || clicks[0].ID != "go" || clicks[1].ID != "far" || !clicks[0].Trusted || !clicks[1].Trusted {
			t.Errorf("clicks = %+v", clicks)
		}

		for _, c := range []struct{ sel, want string }{
			{"#nothing", `"#nothing" matches no element`},
			{"#hidden", "has no box"},
			{"#under", "covered by div#over"},
			{"##", "is not a valid CSS selector"},
		} {
			err := tab.Click(ctx, c.sel)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Click(%q) = %v, want an error containing %q", c.sel, err, c.want)
			}
		}
		if err := tab.Type(ctx, "#stack", "x"); err == nil || !strings.Contains(err.Error(), "cannot take the keyboard focus") {
			t.Errorf("Type into a div = %v", err)
		}
	})
}

// The MDN example for real: a click on the page makes the extension's own
// content script post "they clicked the page!", which the background
// receives and logs.
func TestPingpongClickThePage(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "pingpong")
		w := drivertest.Watch(t, ext)
		w2 := drivertest.Watch(t, ext) // the realms report in their own order
		tab := e.tab(t, "index.html")
		contentScript(t, ext, tab, 0) // so that its events carry the tab
		// The content script listens for clicks from when it connects.
		drivertest.WaitEvent(t, w2, "the content script's port reaching the background", func(ev bridge.Event) bool {
			s := ev.Sender
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "background" && ev.Name == "port-from-cs" && !ev.ByGo &&
				s != nil && s.Tab != nil && s.Tab.ID == tab.ID()
		})
		if err := tab.Click(drivertest.Context(t), "#content"); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "the content script posting the click",
			inTab("content", tab, "port-from-cs", `{"greeting":"they clicked the page!"}`))
		drivertest.WaitEvent(t, w2, "the background receiving it",
			inTab("background", tab, "port-from-cs", `{"greeting":"they clicked the page!"}`))
		drivertest.WaitEvent(t, w2, "the background logging it", func(ev bridge.Event) bool { // right after it received it
			return ev.Kind == bridge.EventLog && ev.Realm.Kind == "background" && ev.Text == "they clicked the page!"
		})
	})
}

// Navigate loads the new page and ends the old document's content-script
// ports.
func TestTabNavigate(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		p := connect(t, contentScript(t, ext, tab, 0), "before-navigate")
		post(t, p, "x")
		drivertest.RecvMatch(t, p, `"x"`)
		if err := tab.Navigate(drivertest.Context(t), pagesURL+"input.html"); err != nil {
			t.Fatal(err)
		}
		var title string
		if err := tab.Eval(drivertest.Context(t), `document.title`, &title); err != nil || title != "extbridge input page" {
			t.Errorf("title after Navigate = %q, %v", title, err)
		}
		drivertest.ExpectDisconnect(t, p, "went away")
		q := connect(t, contentScript(t, ext, tab, 0), "after-navigate")
		post(t, q, "y")
		drivertest.RecvMatch(t, q, `"y"`)
	})
}

// echoFrom is the extpages background's answer to a port message.
type echoFrom struct {
	Echo json.RawMessage
	From string
	In   string
}

// Go acts as an extension page in a tab (the options page): the page's own
// code runs, Go's ports carry the page as their sender, Go reaches tabs and
// accepts ports that connect to the page.
func TestExtensionPage(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "extpages")
		w := drivertest.Watch(t, ext)
		ctx := drivertest.Context(t)
		start := time.Now()
		tab, err := e.b.OpenPage(ctx, ext, "options.html")
		if err != nil {
			t.Fatal(err)
		}
		defer tab.Close(ctx)
		page, err := ext.Page(ctx, tab.ID())
		if err != nil {
			t.Fatal(err)
		}
		var ran string
		if err := page.Eval(ctx, `globalThis.ran`, &ran); err != nil || ran != "options" {
			t.Errorf("globalThis.ran = %q, %v; the page's own script did not run", ran, err)
		}
		ev := drivertest.WaitEvent(t, w, "the options page's own port", since(start, func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "page" && ev.Name == "from-options"
		}))
		if !strings.HasSuffix(ev.Realm.URL, "/options.html") || ev.Realm.TabID != tab.ID() {
			t.Errorf("the page's realm = %+v, want options.html in tab %d", ev.Realm, tab.ID())
		}

		p := connect(t, page, "go-as-options")
		post(t, p, "hi")
		got := drivertest.Recv[echoFrom](t, p)
		if !strings.HasSuffix(got.From, "/options.html") || string(got.Echo) != `"hi"` {
			t.Errorf("the background saw %+v, want a message from options.html", got)
		}

		web := e.tab(t, "index.html")
		tp, err := page.TabsConnect(ctx, web.ID(), bridge.ConnectInfo{Name: "options-to-tab"})
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Disconnect()
		post(t, tp, "to the tab")
		if got := drivertest.Recv[echoFrom](t, tp); got.In != pagesURL+"index.html" {
			t.Errorf("tabs.connect from the page reached %+v", got)
		}

		l, err := page.Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		bp := connect(t, background(t, ext), "bg-to-pages")
		in := acceptWhere(t, l, "from the background", named("bg-to-pages"))
		post(t, bp, "ping")
		drivertest.RecvMatch(t, in, `"ping"`)

		if _, err := e.b.OpenPage(ctx, ext, "nope.html"); err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("OpenPage of a missing file = %v", err)
		}
		if _, err := ext.Page(ctx, web.ID()); err == nil || !strings.Contains(err.Error(), "does not show a page of") {
			t.Errorf("Page of a web tab = %v", err)
		}
	})
}

// The real popup: the action click opens it, its own script runs, and Go,
// acting as the popup, reaches the background and a tab.
func TestActionPopup(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "extpages")
		w := drivertest.Watch(t, ext)
		ctx := drivertest.Context(t)
		web := e.tab(t, "index.html")
		start := time.Now()
		if err := web.ClickAction(ctx, ext); err != nil {
			t.Fatal(err)
		}
		popup, err := ext.Popup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		own := drivertest.WaitEvent(t, w, "the popup's own port", since(start, func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "page" && ev.Name == "from-popup"
		}))
		// The popup closes with the test, as a user's click elsewhere
		// closes it (a click on the action while it is open would close
		// it too, in Firefox): its own port ends with it.
		defer func() {
			if err := popup.Eval(ctx, `window.close()`, nil); err != nil {
				t.Errorf("closing the popup: %v", err)
				return
			}
			select {
			case <-own.Port.Done():
			case <-ctx.Done():
				t.Errorf("the popup did not close: %v", ctx.Err())
			}
		}()
		var ran string
		if err := popup.Eval(ctx, `globalThis.ran`, &ran); err != nil || ran != "popup" {
			t.Errorf("globalThis.ran = %q, %v; the popup's own script did not run", ran, err)
		}
		p := connect(t, popup, "go-as-popup")
		post(t, p, "from Go")
		if got := drivertest.Recv[echoFrom](t, p); !strings.HasSuffix(got.From, "/popup.html") {
			t.Errorf("the background saw %+v, want a message from popup.html", got)
		}
		tp, err := popup.TabsConnect(ctx, web.ID(), bridge.ConnectInfo{Name: "popup-to-tab"})
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Disconnect()
		post(t, tp, 1)
		if got := drivertest.Recv[echoFrom](t, tp); got.In != pagesURL+"index.html" {
			t.Errorf("tabs.connect from the popup reached %+v", got)
		}
	})
}
