package e2e

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// noAnswer is the browser's failure of a message a listener got but did not
// answer (Chromium), or "" where the browser resolves it with undefined
// instead (Firefox).
func noAnswer(kind driver.Kind) string {
	if kind == driver.Firefox {
		return ""
	}
	return "The message port closed before a response was received."
}

// Go as a content script sends one-off messages to the extension's
// background and gets every kind of answer, with the right sender.
func TestSendMessageFromContentScript(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "messages")
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		ctx := drivertest.Context(t)

		var sync struct{ Farewell, From string }
		if err := cs.SendMessage(ctx, map[string]string{"kind": "sync"}, &sync); err != nil {
			t.Fatal(err)
		}
		if sync.Farewell != "goodbye" || sync.From != pagesURL+"index.html" {
			t.Errorf("sync answer = %+v, want goodbye from %sindex.html", sync, pagesURL)
		}
		var late struct{ Late bool }
		if err := cs.SendMessage(ctx, map[string]string{"kind": "async"}, &late); err != nil || !late.Late {
			t.Errorf("async answer = %+v, %v", late, err)
		}
		var promised struct{ Promised bool }
		if err := cs.SendMessage(ctx, map[string]string{"kind": "promise"}, &promised); err != nil || !promised.Promised {
			t.Errorf("promised answer = %+v, %v", promised, err)
		}

		// No listener answers.
		var none any = "untouched"
		err := cs.SendMessage(ctx, map[string]string{"kind": "none"}, &none)
		var se *bridge.SendError
		if want := noAnswer(kind); want != "" {
			if !errors.As(err, &se) || se.Message != want {
				t.Errorf("unanswered message = %v, want a SendError %q", err, want)
			}
		} else if err != nil || none != nil {
			t.Errorf("unanswered message = %v, %v; want no error and null", none, err)
		}

		// The listener throws: the sender gets its message.
		if err := cs.SendMessage(ctx, map[string]string{"kind": "throw"}, nil); !errors.As(err, &se) || !strings.Contains(se.Message, "the listener threw") {
			t.Errorf("a throwing listener = %v, want a SendError with its message", err)
		}

		// A response that is not serialisable.
		if err := cs.SendMessage(ctx, map[string]string{"kind": "fn"}, nil); !errors.As(err, &se) {
			t.Errorf("a function as the response = %v, want a SendError", err)
		} else {
			t.Logf("a function as the response: %v", se)
		}
	})
}

// A message nobody receives fails with the browser's text.
func TestSendMessageNobodyReceives(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		cs := contentScript(t, e.ext(t, "nolistener"), e.tab(t, "index.html"), 0)
		err := cs.SendMessage(drivertest.Context(t), "anyone?", nil)
		var se *bridge.SendError
		if !errors.As(err, &se) || se.Message != noReceiver(kind) {
			t.Fatalf("SendMessage with no listener = %v, want a SendError %q", err, noReceiver(kind))
		}
	})
}

// tabs.sendMessage reaches the tab's content script; a tab without one and a
// tab that does not exist fail with the browser's text.
func TestTabsSendMessage(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "messages")
		tab := e.tab(t, "frames.html")
		contentScript(t, ext, tab, 0) // the content scripts run
		bg := background(t, ext)
		ctx := drivertest.Context(t)
		top := 0
		var got struct{ In string }
		if err := bg.TabsSendMessage(ctx, tab.ID(), map[string]string{"to": "cs"}, &top, &got); err != nil || got.In != pagesURL+"frames.html" {
			t.Errorf("tabs.sendMessage to the top frame = %+v, %v", got, err)
		}
		if err := bg.TabsSendMessage(ctx, tab.ID(), map[string]string{"to": "cs"}, nil, &got); err != nil || !strings.HasPrefix(got.In, pagesURL) {
			t.Errorf("tabs.sendMessage to every frame = %+v, %v", got, err)
		}
		var se *bridge.SendError
		if err := bg.TabsSendMessage(ctx, 999999, "x", nil, nil); !errors.As(err, &se) || se.Message != noReceiver(kind) {
			t.Errorf("tabs.sendMessage to no tab = %v, want %q", err, noReceiver(kind))
		}
		bare := drivertest.NewTab(t, e.b, "data:text/html,<title>no content script</title>") // <all_urls> does not match data: URLs
		if err := bg.TabsSendMessage(ctx, bare.ID(), map[string]string{"to": "cs"}, nil, nil); !errors.As(err, &se) || se.Message != noReceiver(kind) {
			t.Errorf("tabs.sendMessage to a tab without the content script = %v, want %q", err, noReceiver(kind))
		}
	})
}

// Go answers a tabs.sendMessage in place of the content script, and a
// message from another extension arrives as External.
func TestGoAnswersMessages(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "messages")
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		ctx := drivertest.Context(t)
		in, err := cs.OnMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		type askResult struct {
			Response json.RawMessage
			Error    string
		}
		answered := make(chan askResult, 1)
		go func() {
			var r askResult
			err := background(t, ext).Eval(ctx, `askTab(`+itoa(tab.ID())+`, {q: "for Go"})`, &r)
			if err != nil {
				r.Error = err.Error()
			}
			answered <- r
		}()
		m, err := in.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != `{"q":"for Go"}` || m.External || m.Sender == nil || m.Sender.ID != ext.ID() {
			t.Errorf("message = %s, external %v, sender %+v", m.Data, m.External, m.Sender)
		}
		if err := m.Respond(ctx, map[string]string{"answer": "from Go"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Respond(ctx, "twice"); !errors.Is(err, bridge.ErrResponded) {
			t.Errorf("a second Respond = %v", err)
		}
		if r := <-answered; r.Error != "" || string(r.Response) != `{"answer":"from Go"}` {
			t.Errorf("the background got %+v", r)
		}

		// From another extension: onMessageExternal.
		other := e.ext(t, "echo")
		obg := background(t, other)
		bgIn, err := background(t, ext).OnMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer bgIn.Close()
		var ext2 struct {
			External bool
			From     string
		}
		if err := obg.SendMessageTo(ctx, ext.ID(), "hi from echo", &ext2); err != nil || !ext2.External || ext2.From != other.ID() {
			t.Errorf("the extension's own onMessageExternal answered %+v, %v", ext2, err)
		}
		for {
			m, err := bgIn.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.External {
				if m.Sender == nil || m.Sender.ID != other.ID() || string(m.Data) != `"hi from echo"` {
					t.Errorf("external message = %s from %+v", m.Data, m.Sender)
				}
				break
			}
		}
	})
}

// The extension's own send, its delivery in the background and the
// response all appear on a Watch, tied by their message ids.
func TestWatchSeesMessages(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "messages")
		w := drivertest.Watch(t, ext)
		w2 := drivertest.Watch(t, ext)
		tab := e.tab(t, "index.html")
		var realmID string // the content script sends at start, before Go locates its realm
		if err := contentScript(t, ext, tab, 0).Eval(drivertest.Context(t), `globalThis.__extbridge.id`, &realmID); err != nil {
			t.Fatal(err)
		}
		hello := `{"kind":"sync","greeting":"hello from the content script"}`
		send := drivertest.WaitEvent(t, w, "the content script's own send", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventSend && ev.Realm.ID == realmID && ev.How == bridge.HowSendMessage && string(ev.Data) == hello
		})
		drivertest.WaitEvent(t, w, "its response", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventResponse && ev.Realm.ID == send.Realm.ID && ev.MessageID == send.MessageID &&
				strings.Contains(string(ev.Data), `"farewell":"goodbye"`)
		})
		got := drivertest.WaitEvent(t, w2, "the delivery in the background", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventSend && ev.Realm.Kind == "background" && ev.How == bridge.HowOnMessage &&
				string(ev.Data) == hello && ev.Sender != nil && ev.Sender.Tab != nil && ev.Sender.Tab.ID == tab.ID()
		})
		drivertest.WaitEvent(t, w2, "the background's answer", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventResponse && ev.Realm.ID == got.Realm.ID && ev.MessageID == got.MessageID
		})
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
