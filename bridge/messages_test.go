package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// runtime.sendMessage from a realm: the response decodes into out, a
// failure is a *SendError with the browser's text, and a value JSON cannot
// encode fails before anything is sent.
func TestSendMessage(t *testing.T) {
	_, _, f, bg := fakeBackground(t)
	ctx := testCtx(t)
	go func() {
		m := f.cmd()
		if m["c"] != "send" || m["ext"] != "other" || m["msg"].(map[string]any)["q"] != "hi" {
			t.Errorf("send command = %v", m)
		}
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": map[string]any{"v": map[string]any{"a": 1}}})
		m = f.cmd()
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": map[string]any{"e": "Could not establish connection. Receiving end does not exist."}})
		m = f.cmd()
		if m["c"] != "tsend" || m["tab"] != float64(7) || m["frame"] != float64(2) {
			t.Errorf("tsend command = %v", m)
		}
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": map[string]any{}}) // undefined
	}()
	var out struct{ A int }
	if err := bg.SendMessageTo(ctx, "other", map[string]string{"q": "hi"}, &out); err != nil || out.A != 1 {
		t.Fatalf("SendMessageTo = %+v, %v", out, err)
	}
	err := bg.SendMessage(ctx, "x", nil)
	var se *SendError
	if !errors.As(err, &se) || se.Message != "Could not establish connection. Receiving end does not exist." {
		t.Fatalf("SendMessage to nobody = %v", err)
	}
	frame := 2
	var none any = "untouched"
	if err := bg.TabsSendMessage(ctx, 7, 1, &frame, &none); err != nil || none != nil {
		t.Fatalf("TabsSendMessage = %v, %v; want nil for undefined", none, err)
	}
	if err := bg.SendMessage(ctx, make(chan int), nil); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("SendMessage(chan) = %v", err)
	}
}

// An inbox receives messages with their sender, Respond answers once, and
// the realm's end ends the inbox.
func TestInbox(t *testing.T) {
	h, e, f, bg := fakeBackground(t)
	ctx := testCtx(t)
	go func() {
		m := f.cmd()
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": nil})
		f.send(map[string]any{"t": "inbox", "l": m["l"], "m": 5, "d": map[string]any{"n": 1}, "sender": map[string]any{"id": "fakeid", "url": "https://a.test/", "frameId": 0}})
		f.send(map[string]any{"t": "inbox", "l": m["l"], "m": 6, "d": "ext", "ext": true})
		m = f.cmd()
		if m["c"] != "respond" || m["m"] != float64(5) || m["d"] != "pong" {
			t.Errorf("respond command = %v", m)
		}
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": true})
		m = f.cmd() // the second message: another listener had answered it
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": false})
	}()
	in, err := bg.OnMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := in.Next(ctx)
	if err != nil || string(msg.Data) != `{"n":1}` || msg.Sender.URL != "https://a.test/" || msg.External {
		t.Fatalf("Next = %+v, %v", msg, err)
	}
	if err := msg.Respond(ctx, make(chan int)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("Respond(chan) = %v", err)
	}
	if err := msg.Respond(ctx, "pong"); err != nil {
		t.Fatal(err)
	}
	if err := msg.Respond(ctx, "again"); !errors.Is(err, ErrResponded) {
		t.Fatalf("a second Respond = %v", err)
	}
	msg2, err := in.Next(ctx)
	if err != nil || !msg2.External {
		t.Fatalf("Next = %+v, %v", msg2, err)
	}
	if err := msg2.Respond(ctx, 1); !errors.Is(err, ErrResponded) {
		t.Fatalf("Respond after another listener answered = %v", err)
	}
	// The background stops: the inbox waits for the next one, which gets
	// its listeners again.
	f.ws.CloseNow()
	<-f.done
	f2 := dialRealm(t, h, "background", h.hub.Token())
	m := f2.cmd()
	if m["c"] != "onmessage" {
		t.Fatalf("the new background got %v, want the inbox's onmessage again", m)
	}
	// Until it is in, Background waits (so that a message sent after
	// Background finds Go's listener), which a context that has already
	// ended shows without a timer.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Background(ended); err == nil {
		t.Fatal("Background returned before Go's listener was in the new background")
	}
	f2.send(map[string]any{"t": "r", "i": m["i"], "ok": nil})
	if _, err := e.Background(ctx); err != nil {
		t.Fatalf("Background after the re-arm: %v", err)
	}
	f2.send(map[string]any{"t": "inbox", "l": m["l"], "m": 1, "d": "after the restart"})
	if msg, err := in.Next(ctx); err != nil || string(msg.Data) != `"after the restart"` {
		t.Fatalf("Next after the restart = %+v, %v", msg, err)
	}
}

// A content script's inbox ends with its realm.
func TestInboxEndsWithItsRealm(t *testing.T) {
	h, e := newTestSession(t)
	dialRealm(t, h, "background", h.hub.Token())
	f := dialRealm(t, h, "content", h.hub.Token())
	ctx := testCtx(t)
	rc, err := e.waitRealm(ctx, "the content script", func() *realmConn { return e.content["realm-content"] })
	if err != nil {
		t.Fatal(err)
	}
	cs := &Context{ext: e, kind: RealmContent, rc: rc}
	f.answerNext()
	in, err := cs.OnMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.ws.CloseNow()
	if _, err := in.Next(ctx); !errors.Is(err, ErrInboxClosed) || !strings.Contains(err.Error(), "went away") {
		t.Fatalf("Next after the realm ended = %v", err)
	}
}

// The extension's own one-off messages are events: the send, its delivery
// and the response share the message id.
func TestMessageEvents(t *testing.T) {
	h, e := newTestSession(t)
	f := dialRealm(t, h, "content", h.hub.Token())
	ctx := testCtx(t)
	w, err := e.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f.send(map[string]any{"t": "send", "s": 1, "how": "runtime.sendMessage", "d": map[string]any{"q": 1}})
	f.send(map[string]any{"t": "resp", "s": 1, "d": "ok"})
	f.send(map[string]any{"t": "send", "s": 2, "how": "tabs.sendMessage", "d": 2, "tab": 9})
	f.send(map[string]any{"t": "resp", "s": 2, "e": "Could not establish connection. Receiving end does not exist."})
	f.send(map[string]any{"t": "send", "s": 3, "how": "runtime.sendMessage", "d": 3})
	f.send(map[string]any{"t": "resp", "s": 3, "nr": true})
	var got []string
	for range 6 {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.String()[13:]) // without the time
		switch {
		case ev.Kind == EventSend && ev.MessageID == 2 && (ev.How != HowTabsSendMessage || ev.TabID != 9):
			t.Errorf("tabs.sendMessage event = %+v", ev)
		case ev.Kind == EventResponse && ev.MessageID == 2:
			var se *SendError
			if !errors.As(ev.Err, &se) {
				t.Errorf("failed response = %+v", ev)
			}
		case ev.Kind == EventResponse && ev.MessageID == 3 && ev.Data != nil:
			t.Errorf("undefined response = %+v", ev)
		}
	}
	want := []string{
		`message #1 via runtime.sendMessage: {"q":1}`,
		`message #1 answered: "ok"`,
		`message #2 via tabs.sendMessage to tab 9: 2`,
		`message #2 failed: extbridge: the message failed: Could not establish connection. Receiving end does not exist.`,
		`message #3 via runtime.sendMessage: 3`,
		`message #3 answered with no response`,
	}
	for i := range want {
		if !strings.HasSuffix(got[i], want[i]) {
			t.Errorf("event %d = %q, want it to end with %q", i, got[i], want[i])
		}
	}
}
