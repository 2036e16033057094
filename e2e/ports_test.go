package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// The runtime.connect / runtime.Port example of MDN, with Go as the content
// script: connect as port-from-cs, get the background's greeting, post,
// then the browser action makes the background post again.
func TestRuntimeConnectExampleGoAsContentScript(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "pingpong")
		w := drivertest.Watch(t, ext)
		tab := e.tab(t, "index.html")
		p := connect(t, contentScript(t, ext, tab, 0), "port-from-cs")
		if p.Name() != "port-from-cs" {
			t.Errorf("Name() = %q", p.Name())
		}
		if p.Sender() != nil {
			t.Errorf("the connecting end has a sender: %+v", p.Sender())
		}
		drivertest.RecvMatch(t, p, `{"greeting":"hi there content script!"}`)
		post(t, p, map[string]string{"greeting": "hello from content script"})
		drivertest.WaitEvent(t, w, "the background receiving Go's greeting",
			inRealm("background", "port-from-cs", false, `{"greeting":"hello from content script"}`))
		post(t, p, map[string]string{"greeting": "they clicked the page!"})
		drivertest.WaitEvent(t, w, "the background receiving the click",
			inRealm("background", "port-from-cs", false, `{"greeting":"they clicked the page!"}`))
		if err := tab.ClickAction(drivertest.Context(t), ext); err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, p, `{"greeting":"they clicked the button!"}`)
	})
}

// The same example with Go as the background: the fixture's own content
// script connects, Go accepts its port like an onConnect listener and sees
// the browser's sender.
func TestRuntimeOnConnectExampleGoAsBackground(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "pingpong")
		l, err := background(t, ext).Listen(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		tab := e.tab(t, "index.html")
		p := acceptWhere(t, l, "from the new tab", func(q *bridge.Port) bool {
			s := q.Sender()
			return s != nil && s.Tab != nil && s.Tab.ID == tab.ID()
		})
		if p.Name() != "port-from-cs" {
			t.Errorf("Name() = %q, want port-from-cs", p.Name())
		}
		s := p.Sender()
		if s.ID != ext.ID() || s.FrameID != 0 || s.URL != pagesURL+"index.html" || s.Tab.URL != pagesURL+"index.html" {
			t.Errorf("sender = %+v, tab %+v", s, s.Tab)
		}
		if s.Origin+"/" != pagesURL {
			t.Errorf("sender.origin = %q, want %q", s.Origin, pagesURL)
		}
		drivertest.RecvMatch(t, p, `{"greeting":"hello from content script"}`)
		// The fixture's own listener got the same port and greeted it; Go
		// posts too, and the content script receives both.
		w := drivertest.Watch(t, ext)
		post(t, p, map[string]string{"greeting": "hi from Go"})
		drivertest.WaitEvent(t, w, "the content script receiving Go's message",
			inRealm("content", "port-from-cs", false, `{"greeting":"hi from Go"}`))
	})
}

// The tabs.connect example of MDN: the browser action makes the background
// connect to the active tab; the content scripts of every frame get the port.
func TestTabsConnectExample(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "tabsconnect")
		tab := e.tab(t, "frames.html")
		w := drivertest.Watch(t, ext)
		// Its own watch: the order between realms is free, and on Firefox
		// the frames often report the greeting before the background
		// reports opening the port.
		w2 := drivertest.Watch(t, ext)
		if err := tab.ClickAction(drivertest.Context(t), ext); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "the background opening tabs-connect-example", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "background" && ev.How == "tabs.connect" && ev.Name == "tabs-connect-example"
		})
		frames := map[string]bool{}
		for len(frames) < 3 {
			ev := drivertest.WaitEvent(t, w2, "a frame receiving the greeting",
				inRealm("content", "tabs-connect-example", false, `{"greeting":"Hi from background script"}`))
			frames[ev.Realm.URL] = true
		}
	})
}

// Go as the background with tabs.connect: without a frame id one port
// reaches every frame's listener; with one, only that frame.
func TestTabsConnectAllFramesAndOneFrame(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "tabsconnect")
		tab := e.tab(t, "frames.html")
		bg := background(t, ext)
		ctx := drivertest.Context(t)
		p, err := bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "to-all"})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect()
		post(t, p, map[string]string{"greeting": "hello frames"})
		seen := map[string]bool{}
		for len(seen) < 3 {
			var m struct{ Frame string }
			if err := json.Unmarshal(drivertest.RecvMatch(t, p, `{"greeting":"hi from content script"}`), &m); err != nil {
				t.Fatal(err)
			}
			seen[m.Frame] = true
		}
		for _, want := range []string{"frames.html", "frame-a.html", "frame-b.html"} {
			if !seen[pagesURL+want] {
				t.Errorf("no reply from %s; replies from %v", want, seen)
			}
		}

		frames, err := ext.Frames(ctx, tab.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(frames) != 3 {
			t.Fatalf("Frames = %+v, want 3", frames)
		}
		var sub bridge.Frame
		for _, f := range frames {
			if f.ID == 0 && f.ParentID != -1 {
				t.Errorf("top frame %+v has a parent", f)
			}
			if f.URL == pagesURL+"frame-b.html" {
				sub = f
			}
		}
		one, err := bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "to-one", FrameID: &sub.ID})
		if err != nil {
			t.Fatal(err)
		}
		defer one.Disconnect()
		post(t, one, map[string]string{"greeting": "hello frame b"})
		got := drivertest.Recv[struct{ Frame string }](t, one)
		if got.Frame != pagesURL+"frame-b.html" {
			t.Errorf("reply from %s, want frame-b", got.Frame)
		}
		// No other frame answers: the next message (if any) must come from
		// frame-b too, and here none is due; a Recv bounded short proves it.
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if m, err := one.Recv(short); err == nil {
			t.Errorf("a second frame answered a frame-scoped port: %s", m)
		}
	})
}

// The "multiple content scripts" example: the background keeps ports by
// sender.tab.id and broadcasts on the browser action.
func TestMultiportBroadcast(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "multiport")
		tab1 := e.tab(t, "index.html")
		tab2 := e.tab(t, "index.html")
		p1 := connect(t, contentScript(t, ext, tab1, 0), "go-1")
		p2 := connect(t, contentScript(t, ext, tab2, 0), "go-2")
		// The background stores the port on connect; make sure it has both
		// before clicking, by watching its onConnect.
		w := drivertest.Watch(t, ext)
		for _, name := range []string{"go-1", "go-2"} {
			drivertest.WaitEvent(t, w, "the background accepting "+name, func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "background" && ev.Name == name
			})
		}
		if err := tab2.ClickAction(drivertest.Context(t), ext); err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, p1, `{"greeting":"they clicked the button!"}`)
		drivertest.RecvMatch(t, p2, `{"greeting":"they clicked the button!"}`)
	})
}

// A connection nobody receives ends with the browser's error, for
// runtime.connect and for tabs.connect.
func TestNoReceivingEnd(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "nolistener")
		tab := e.tab(t, "index.html")
		p := connect(t, contentScript(t, ext, tab, 0), "nobody")
		drivertest.ExpectDisconnect(t, p, noReceiver(kind))
		if _, err := p.Recv(drivertest.Context(t)); !errors.Is(err, bridge.ErrDisconnected) {
			t.Errorf("Recv after the end = %v, want ErrDisconnected", err)
		}
		tp, err := background(t, ext).TabsConnect(drivertest.Context(t), tab.ID(), bridge.ConnectInfo{Name: "nobody-either"})
		if err != nil {
			t.Fatal(err)
		}
		drivertest.ExpectDisconnect(t, tp, noReceiver(kind))
	})
}

// runtime.connect to an extension that does not exist ends with an error.
func TestConnectUnknownExtension(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		id := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		if kind == driver.Firefox {
			id = "nobody@extbridge.invalid"
		}
		p, err := background(t, ext).Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "x", ExtensionID: id})
		if err != nil {
			t.Fatal(err)
		}
		drivertest.ExpectDisconnect(t, p, "Receiving end does not exist")
	})
}

// onDisconnect fires once, at the other end only.
func TestDisconnectSemantics(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		w := drivertest.Watch(t, ext)

		// The other end disconnects: clean end, no error.
		p := connect(t, cs, "bye-from-bg")
		post(t, p, map[string]string{"cmd": "disconnect"})
		drivertest.ExpectDisconnect(t, p, "")

		// Go disconnects: the background's onDisconnect fires, ours does not.
		q := connect(t, cs, "bye-from-go")
		post(t, q, map[string]string{"hello": "echo"})
		drivertest.RecvMatch(t, q, `{"hello":"echo"}`)
		if err := q.Disconnect(); err != nil {
			t.Fatal(err)
		}
		if err := q.Disconnect(); err != nil {
			t.Errorf("second Disconnect = %v, want nil", err)
		}
		select {
		case <-q.Done():
		default:
			t.Fatal("Done not closed after Disconnect")
		}
		if q.Err() != nil {
			t.Errorf("Err after our own Disconnect = %v, want nil", q.Err())
		}
		if err := q.PostMessage(drivertest.Context(t), 1); !errors.Is(err, bridge.ErrDisconnected) {
			t.Errorf("PostMessage after Disconnect = %v, want ErrDisconnected", err)
		}
		ev := drivertest.WaitEvent(t, w, "the background's onDisconnect", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventDisconnect && ev.Realm.Kind == "background" && ev.Port.Name() == "bye-from-go"
		})
		if ev.Err != nil || ev.Local {
			t.Errorf("background disconnect event = %v", ev)
		}
	})
}

// Values JSON cannot encode are an error, and the port keeps working.
func TestBadMessagesKeepThePort(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		p := connect(t, contentScript(t, ext, tab, 0), "bad-input")
		type cyclic struct{ Next *cyclic }
		c := &cyclic{}
		c.Next = c
		for _, bad := range []any{make(chan int), func() {}, c} {
			if err := p.PostMessage(drivertest.Context(t), bad); err == nil {
				t.Errorf("PostMessage(%T) = nil, want an error", bad)
			}
		}
		post(t, p, map[string]any{"still": "works", "n": 42, "list": []int{1, 2}})
		drivertest.RecvMatch(t, p, `{"still":"works","n":42,"list":[1,2]}`)
	})
}

// An unknown tab or frame fails fast with a clear error.
func TestUnknownTabOrFrame(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		ctx := drivertest.Context(t)
		if _, err := ext.ContentScript(ctx, 987654, 0); err == nil || !contains(err.Error(), "987654") {
			t.Errorf("ContentScript(unknown tab) = %v", err)
		}
		if _, err := ext.ContentScript(ctx, tab.ID(), 424242); err == nil || !contains(err.Error(), "424242") {
			t.Errorf("ContentScript(unknown frame) = %v", err)
		}
		if _, err := ext.Frames(ctx, 987654); err == nil || !contains(err.Error(), "987654") {
			t.Errorf("Frames(unknown tab) = %v", err)
		}
	})
}

// A Recv cut short by its context leaves the port open.
func TestRecvContextLeavesPortOpen(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		p := connect(t, contentScript(t, ext, tab, 0), "patient")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.Recv(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Recv(cancelled) = %v", err)
		}
		post(t, p, "still here")
		if got := drivertest.Recv[string](t, p); got != "still here" {
			t.Errorf("echo = %q", got)
		}
	})
}

// Eval runs code in the background and in a content-script world.
func TestEval(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		ctx := drivertest.Context(t)
		var n int
		if err := background(t, ext).Eval(ctx, "Promise.resolve(40 + 2)", &n); err != nil || n != 42 {
			t.Errorf("background Eval = %d, %v", n, err)
		}
		var id string
		if err := background(t, ext).Eval(ctx, "(globalThis.browser ?? chrome).runtime.id", &id); err != nil || id != ext.ID() {
			t.Errorf("background runtime.id = %q, %v; want %q", id, err, ext.ID())
		}
		var href string
		if err := contentScript(t, ext, tab, 0).Eval(ctx, "location.href", &href); err != nil || href != pagesURL+"index.html" {
			t.Errorf("content script Eval = %q, %v", href, err)
		}
		if err := background(t, ext).Eval(ctx, "(() => { throw new Error('boom') })()", nil); err == nil || !contains(err.Error(), "boom") {
			t.Errorf("Eval of a throw = %v", err)
		}
		// Each Eval's context bounds only that call: a later Eval works after
		// an earlier context ended.
		cs := contentScript(t, ext, tab, 0)
		for i := range 2 {
			c, cancel := context.WithTimeout(context.Background(), drivertest.Timeout)
			err := cs.Eval(c, "document.title", nil)
			cancel()
			if err != nil {
				t.Fatalf("content Eval %d after an earlier context ended: %v", i, err)
			}
		}
	})
}

// A content script in a subframe connects with its frame in the sender.
func TestSubframeSender(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "frames.html")
		ctx := drivertest.Context(t)
		frames, err := ext.Frames(ctx, tab.ID())
		if err != nil {
			t.Fatal(err)
		}
		var sub bridge.Frame
		for _, f := range frames {
			if f.ID != 0 {
				sub = f
			}
		}
		l, err := background(t, ext).Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		p := connect(t, contentScript(t, ext, tab, sub.ID), "from-subframe")
		got := acceptWhere(t, l, "from-subframe", named("from-subframe"))
		s := got.Sender()
		if s.FrameID != sub.ID || s.URL != sub.URL || s.Tab == nil || s.Tab.ID != tab.ID() {
			t.Errorf("sender = %+v (tab %+v), want frame %d %s in tab %d", s, s.Tab, sub.ID, sub.URL, tab.ID())
		}
		post(t, got, "to the subframe")
		if m := drivertest.Recv[string](t, p); m != "to the subframe" {
			t.Errorf("subframe got %q", m)
		}
	})
}

// Ports the extension's own code opens at its first instruction are in the
// history, so a Watch started later still sees them.
func TestWatchSeesPortsFromTheStart(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "pingpong")
		page := "index.html?" + unique(t) // a URL no other tab has
		e.tab(t, page)
		w := drivertest.Watch(t, ext)
		ev := drivertest.WaitEvent(t, w, "the content script opening port-from-cs in the new tab", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content" && ev.How == "runtime.connect" &&
				ev.Name == "port-from-cs" && ev.Realm.URL == pagesURL+page && !ev.ByGo
		})
		// Go can act as the extension's own port end: post as the content script.
		post(t, ev.Port, map[string]string{"greeting": "Go speaking for the content script"})
		drivertest.WaitEvent(t, w, "the background receiving it",
			inRealm("background", "port-from-cs", false, `{"greeting":"Go speaking for the content script"}`))
	})
}

// Background wakes a stopped service worker (Chromium); the ports to the
// old one ended as they do in real life.
func TestBackgroundWakesAfterStop(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		w := drivertest.Watch(t, ext) // goes on across the restart
		p := connect(t, contentScript(t, ext, tab, 0), "across-restart")
		post(t, p, "before")
		drivertest.RecvMatch(t, p, `"before"`)
		if err := ext.StopBackground(drivertest.Context(t)); err != nil {
			t.Fatal(err)
		}
		drivertest.ExpectDisconnect(t, p, "")
		var n int
		if err := background(t, ext).Eval(drivertest.Context(t), "1 + 1", &n); err != nil || n != 2 {
			t.Fatalf("Eval after wake = %d, %v", n, err)
		}
		q := connect(t, contentScript(t, ext, tab, 0), "after-restart")
		post(t, q, "after")
		drivertest.RecvMatch(t, q, `"after"`)
		// The same watch saw the old worker's end of the port go and the new
		// worker's end arrive.
		drivertest.WaitEvent(t, w, "the old background's end ending", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventDisconnect && ev.Realm.Kind == "background" && ev.Port.Name() == "across-restart"
		})
		drivertest.WaitEvent(t, w, "the new background's end opening", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "background" && ev.Name == "after-restart"
		})
	})
}

// The extension's console output and uncaught errors come through the
// watch, from the background and from content scripts.
func TestConsoleAndErrorsInWatch(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "pingpong")
		w := drivertest.Watch(t, ext)
		w2 := drivertest.Watch(t, ext) // each expectation reads its own watch: the order between realms is free
		id := unique(t)
		tab := e.tab(t, "index.html?"+id)
		p := connect(t, contentScript(t, ext, tab, 0), "port-from-cs")
		post(t, p, map[string]string{"greeting": "log me " + id})
		drivertest.WaitEvent(t, w, "the background logging the greeting", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventLog && ev.Realm.Kind == "background" && ev.Level == "log" && contains(ev.Text, "log me "+id)
		})
		drivertest.WaitEvent(t, w2, "the content script logging the background's greeting", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventLog && ev.Realm.Kind == "content" && contains(ev.Realm.URL, id) && contains(ev.Text, "hi there content script!")
		})
		// An error thrown by extension code in a listener is reported.
		bg := background(t, ext)
		if err := bg.Eval(drivertest.Context(t), `setTimeout(() => { throw new Error("thrown by the extension") }, 0); 1`, nil); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "the uncaught error", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventLog && ev.Level == "uncaught" && contains(ev.Text, "thrown by the extension")
		})
	})
}

// A tab can be captured, for diagnostics.
func TestScreenshot(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		tab := e.tab(t, "index.html")
		png, err := tab.Screenshot(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(png) < 8 || string(png[1:4]) != "PNG" {
			t.Fatalf("not a PNG: % x", png[:min(8, len(png))])
		}
	})
}

// Go listens as a content script: the background's tabs.connect reaches it,
// with the extension as the sender.
func TestContentScriptListens(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "nolistener") // its content scripts have no onConnect listener of their own
		tab := e.tab(t, "index.html")
		ctx := drivertest.Context(t)
		l, err := contentScript(t, ext, tab, 0).Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out, err := background(t, ext).TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "to-go-cs"})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Disconnect()
		in := acceptWhere(t, l, "to-go-cs", named("to-go-cs"))
		if s := in.Sender(); s == nil || s.ID != ext.ID() || s.Tab != nil {
			t.Errorf("sender of a tabs.connect port = %+v, want the extension and no tab", s)
		}
		post(t, out, "down")
		if m := drivertest.Recv[string](t, in); m != "down" {
			t.Errorf("content script got %q", m)
		}
		post(t, in, "up")
		drivertest.RecvMatch(t, out, `"up"`)
		// Closing the listener removes it: a new tabs.connect finds no
		// receiving end again.
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := background(t, ext).TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "after-close"})
		if err != nil {
			t.Fatal(err)
		}
		drivertest.ExpectDisconnect(t, again, noReceiver(kind))
	})
}
