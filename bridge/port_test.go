package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/instrument"
)

// fakeRealm plays a bridge realm over a real loopback WebSocket to a Hub,
// so Port, Listener and Watch are tested with no browser.
type fakeRealm struct {
	t    *testing.T
	ws   *websocket.Conn
	cmds chan map[string]any
	done chan struct{}
	mu   sync.Mutex
	next int
}

func newTestSession(t *testing.T) (*session, *Extension) {
	t.Helper()
	s, err := newSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newExtension(s, 0, &instrument.Result{Name: "fake", BackgroundKind: "service_worker", ChromiumID: "fakeid"}, "chromium")
	s.exts = append(s.exts, e)
	t.Cleanup(func() { s.Close() })
	return s, e
}

func dialRealm(t *testing.T, h *session, realm, token string) *fakeRealm {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, h.hub.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(hub.MaxFrame)
	f := &fakeRealm{t: t, ws: ws, cmds: make(chan map[string]any, 4096), done: make(chan struct{})}
	f.send(map[string]any{"t": "hello", "token": token, "ext": 0, "realm": realm, "id": "realm-" + realm, "url": "https://example.test/", "top": true, "rid": "fakeid"})
	go func() {
		defer close(f.done)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var batch []map[string]any // Go batches what it has queued
			if len(data) > 0 && data[0] == '[' {
				if err := json.Unmarshal(data, &batch); err != nil {
					t.Errorf("bad frame from Go: %s", data)
					return
				}
			} else {
				var m map[string]any
				if err := json.Unmarshal(data, &m); err != nil {
					t.Errorf("bad frame from Go: %s", data)
					return
				}
				batch = append(batch, m)
			}
			for _, m := range batch {
				if a, ok := m["a"].(map[string]any); ok { // a call's arguments, flattened for the tests
					for k, v := range a {
						m[k] = v
					}
				}
				f.cmds <- m
			}
		}
	}()
	t.Cleanup(func() { ws.CloseNow(); <-f.done })
	return f
}

func (f *fakeRealm) send(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.ws.Write(context.Background(), websocket.MessageText, data); err != nil {
		f.t.Errorf("fake realm write: %v", err)
	}
}

// cmd waits for the next command Go sends.
func (f *fakeRealm) cmd() map[string]any {
	f.t.Helper()
	select {
	case m := <-f.cmds:
		return m
	case <-time.After(5 * time.Second):
		f.t.Fatal("no command from Go")
		return nil
	}
}

// serveConnect answers one connect command as the bridge does: open, then
// the reply.
func (f *fakeRealm) serveConnect() int {
	f.t.Helper()
	m := f.cmd()
	if m["c"] != "connect" && m["c"] != "tconnect" {
		f.t.Fatalf("want a connect command, got %v", m)
	}
	f.mu.Lock()
	f.next++
	id := f.next
	f.mu.Unlock()
	f.send(map[string]any{"t": "open", "p": id, "how": "runtime.connect", "name": m["name"], "go": true})
	f.send(map[string]any{"t": "r", "i": m["i"], "ok": id})
	return id
}

// answerNext answers the next command Go sends with null, in the
// background.
func (f *fakeRealm) answerNext() {
	go func() {
		m := f.cmd()
		f.send(map[string]any{"t": "r", "i": m["i"], "ok": nil})
	}()
}

// fakeBackground starts a session whose extension has a fake background
// realm connected, and returns it with that realm and its Context.
func fakeBackground(t *testing.T) (*session, *Extension, *fakeRealm, *Context) {
	t.Helper()
	h, e := newTestSession(t)
	f := dialRealm(t, h, "background", h.hub.Token())
	bg, err := e.Background(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return h, e, f, bg
}

func setupPort(t *testing.T) (*session, *Extension, *fakeRealm, *Port) {
	t.Helper()
	h, e, f, bg := fakeBackground(t)
	ctx := testCtx(t)
	go f.serveConnect()
	p, err := bg.Connect(ctx, ConnectInfo{Name: "unit"})
	if err != nil {
		t.Fatal(err)
	}
	return h, e, f, p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPortMessagesInOrderAndAfterEnd(t *testing.T) {
	_, _, f, p := setupPort(t)
	if p.Name() != "unit" || p.Sender() != nil {
		t.Fatalf("name %q sender %v", p.Name(), p.Sender())
	}
	for i := range 100 {
		f.send(map[string]any{"t": "msg", "p": 1, "d": i})
	}
	f.send(map[string]any{"t": "disc", "p": 1, "e": "Receiving end went away"})
	ctx := testCtx(t)
	for i := range 100 {
		m, err := p.Recv(ctx)
		if err != nil || string(m) != fmt.Sprint(i) {
			t.Fatalf("Recv %d = %s, %v", i, m, err)
		}
	}
	if _, err := p.Recv(ctx); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Recv after end = %v", err)
	}
	<-p.Done()
	var de *DisconnectError
	if !errors.As(p.Err(), &de) || de.Message != "Receiving end went away" {
		t.Fatalf("Err = %v", p.Err())
	}
	if err := p.PostMessage(ctx, 1); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("PostMessage after end = %v", err)
	}
}

func TestPortPostAndDisconnect(t *testing.T) {
	_, _, f, p := setupPort(t)
	ctx := testCtx(t)
	if err := p.PostMessage(ctx, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	m := f.cmd()
	if m["c"] != "post" || m["p"] != float64(1) || fmt.Sprint(m["d"]) != "map[a:1]" {
		t.Fatalf("post frame = %v", m)
	}
	for _, bad := range []any{make(chan int), func() {}} {
		if err := p.PostMessage(ctx, bad); err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Fatalf("PostMessage(%T) = %v", bad, err)
		}
	}
	if err := p.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if m := f.cmd(); m["c"] != "disc" || m["p"] != float64(1) {
		t.Fatalf("disc frame = %v", m)
	}
	if err := p.Disconnect(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("not done")
	}
	if p.Err() != nil {
		t.Fatalf("Err after own Disconnect = %v", p.Err())
	}
}

func TestPortRefusedMessageSurfacesOnNextPost(t *testing.T) {
	_, _, f, p := setupPort(t)
	ctx := testCtx(t)
	if err := p.PostMessage(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	f.cmd()
	f.send(map[string]any{"t": "perr", "p": 1, "e": "Message length exceeded maximum allowed length."})
	// The refusal arrives asynchronously; a message round trip orders it.
	f.send(map[string]any{"t": "msg", "p": 1, "d": "sync"})
	if _, err := p.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.PostMessage(ctx, "y"); err == nil || !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("next PostMessage = %v, want the refusal", err)
	}
	if err := p.PostMessage(ctx, "z"); err != nil {
		t.Fatalf("the port should keep working: %v", err)
	}
}

func TestPortTooLarge(t *testing.T) {
	_, _, _, p := setupPort(t)
	big := strings.Repeat("x", maxMessage)
	if err := p.PostMessage(testCtx(t), big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("PostMessage(too large) = %v", err)
	}
}

func TestRecvContextLeavesPortOpen(t *testing.T) {
	_, _, f, p := setupPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Recv(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv = %v", err)
	}
	f.send(map[string]any{"t": "msg", "p": 1, "d": "later"})
	if m, err := p.Recv(testCtx(t)); err != nil || string(m) != `"later"` {
		t.Fatalf("Recv = %s, %v", m, err)
	}
}

func TestRealmGoneEndsPortsWithError(t *testing.T) {
	_, e, f, p := setupPort(t)
	f.ws.Close(websocket.StatusGoingAway, "")
	<-p.Done()
	var de *DisconnectError
	if !errors.As(p.Err(), &de) || !strings.Contains(de.Message, "stopped") {
		t.Fatalf("Err = %v", p.Err())
	}
	// The background is gone; without a driver to wake it, Background waits
	// until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.Background(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Background = %v", err)
	}
}

func TestConcurrentPosts(t *testing.T) {
	_, _, f, p := setupPort(t)
	ctx := testCtx(t)
	const n, workers = 200, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if err := p.PostMessage(ctx, []int{w, i}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	last := map[int]int{}
	for range n * workers {
		m := f.cmd()
		d := m["d"].([]any)
		w, i := int(d[0].(float64)), int(d[1].(float64))
		if prev, ok := last[w]; ok && i != prev+1 {
			t.Fatalf("worker %d: message %d after %d", w, i, prev)
		}
		last[w] = i
	}
	wg.Wait()
}

func TestBadTokenRejected(t *testing.T) {
	h, e := newTestSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, h.hub.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	hi, _ := json.Marshal(map[string]any{"t": "hello", "token": strings.Repeat("0", 32), "ext": 0, "realm": "background", "id": "x"})
	if err := ws.Write(ctx, websocket.MessageText, hi); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("read after a bad token = %v, want a policy-violation close", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bg != nil {
		t.Fatal("a realm without the token was registered")
	}
}

func TestListenerAcceptAndClose(t *testing.T) {
	_, _, f, bg := fakeBackground(t)
	ctx := testCtx(t)
	f.answerNext()
	l, err := bg.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sender := map[string]any{"id": "fakeid", "url": "https://a.test/", "frameId": 0, "tab": map[string]any{"id": 7, "index": 0, "windowId": 1, "active": true}}
	for i := 1; i <= 2; i++ {
		f.send(map[string]any{"t": "open", "p": i, "how": "onConnect", "name": fmt.Sprint("in-", i), "sender": sender})
		f.send(map[string]any{"t": "acc", "l": l.id, "p": i})
		f.send(map[string]any{"t": "msg", "p": i, "d": i})
	}
	f.send(map[string]any{"t": "msg", "p": 1, "d": "sync"}) // after every acc above
	p, err := l.Accept(ctx)
	if err != nil || p.Name() != "in-1" || p.Sender().Tab.ID != 7 {
		t.Fatalf("Accept = %v, %v", p, err)
	}
	for _, want := range []string{"1", `"sync"`} {
		if m, err := p.Recv(ctx); err != nil || string(m) != want {
			t.Fatalf("Recv = %s, %v; want %s", m, err, want)
		}
	}
	// Frames are dispatched in order, so port 2 is queued by now.
	sawDisc := make(chan struct{})
	go func() {
		defer close(sawDisc)
		for {
			m := f.cmd()
			if m["c"] == "unlisten" {
				f.send(map[string]any{"t": "r", "i": m["i"], "ok": nil})
			}
			if m["c"] == "disc" && m["p"] == float64(2) {
				return // the unaccepted port is disconnected
			}
		}
	}()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	<-sawDisc
	if _, err := l.Accept(ctx); !errors.Is(err, ErrListenerClosed) {
		t.Fatalf("Accept after Close = %v", err)
	}
}

func TestWatchHistoryAndOverflow(t *testing.T) {
	h, e := newTestSession(t)
	f := dialRealm(t, h, "content", h.hub.Token())
	f.send(map[string]any{"t": "open", "p": 1, "how": "runtime.connect", "name": "early"})
	f.send(map[string]any{"t": "out", "p": 1, "d": "first"})
	ctx := testCtx(t)
	w, err := e.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev, err := w.Next(ctx)
	if err != nil || ev.Kind != EventOpen || ev.Name != "early" || ev.Realm.Kind != "content" {
		t.Fatalf("first event = %v, %v", ev, err)
	}
	ev, err = w.Next(ctx)
	if err != nil || ev.Kind != EventMessage || !ev.Outgoing || string(ev.Data) != `"first"` {
		t.Fatalf("second event = %v, %v", ev, err)
	}
	// Fall behind by more than the history holds. A second watch follows
	// along, so the test knows when everything is in the history.
	w2, _ := e.Watch(ctx)
	defer w2.Close()
	for i := range HistorySize + 10 {
		f.send(map[string]any{"t": "out", "p": 1, "d": i})
	}
	f.send(map[string]any{"t": "out", "p": 1, "d": "last"})
	for {
		ev, err := w2.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) == `"last"` {
			break
		}
	}
	var overflow Event
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == EventOverflow {
			overflow = ev
		}
		if string(ev.Data) == `"last"` {
			break
		}
	}
	if overflow.Dropped == 0 {
		t.Fatal("no overflow event after falling behind")
	}
	w.Close()
	if _, err := w.Next(ctx); !errors.Is(err, ErrWatchClosed) {
		t.Fatalf("Next after Close = %v", err)
	}
}

func TestHubCloseEndsEverything(t *testing.T) {
	h, _, _, p := setupPort(t)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if p.Err() == nil {
		t.Fatal("port ended cleanly on Close")
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// The realm's batched events are dispatched in order, one by one.
func TestBatchedEvents(t *testing.T) {
	_, _, f, p := setupPort(t)
	batch := "{\"t\":\"msg\",\"p\":1,\"d\":1}\n{\"t\":\"msg\",\"p\":1,\"d\":{\"a\":\"x\\ny\"}}\n{\"t\":\"disc\",\"p\":1,\"e\":\"\"}"
	if err := f.ws.Write(context.Background(), websocket.MessageText, []byte(batch)); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for _, want := range []string{`1`, `{"a":"x\ny"}`} {
		if m, err := p.Recv(ctx); err != nil || string(m) != want {
			t.Fatalf("Recv = %s, %v; want %s", m, err, want)
		}
	}
	if _, err := p.Recv(ctx); !errors.Is(err, ErrDisconnected) || p.Err() != nil {
		t.Fatalf("after the batch: %v, Err %v", err, p.Err())
	}
}

// The realms hear when the first Watch opens and the last one closes, and a
// realm that connects while one is open hears it too.
func TestWatchModeCommands(t *testing.T) {
	h, e := newTestSession(t)
	bg := dialRealm(t, h, "background", h.hub.Token())
	waitFor := func(f *fakeRealm, on bool) {
		t.Helper()
		m := f.cmd()
		if m["c"] != "watch" || m["on"] != on {
			t.Fatalf("command %v; want watch on=%v", m, on)
		}
	}
	ctx := testCtx(t)
	w1, err := e.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(bg, true)
	w2, _ := e.Watch(ctx) // the second one says nothing
	cs := dialRealm(t, h, "content", h.hub.Token())
	waitFor(cs, true)
	w1.Close()
	w1.Close()
	w2.Close()
	waitFor(bg, false)
	waitFor(cs, false)
	select {
	case m := <-bg.cmds:
		t.Fatalf("unexpected command %v", m)
	default:
	}
}

// Every wait on a realm is bounded: a realm that never answers a command,
// and a realm that never connects, fail after the bound with an error that
// says so, even when the caller's context allows more.
func TestRealmWaitsAreBounded(t *testing.T) {
	old := realmTimeout
	realmTimeout = 200 * time.Millisecond
	defer func() { realmTimeout = old }()
	h, e := newTestSession(t)
	dialRealm(t, h, "background", h.hub.Token()) // it never answers
	ctx := testCtx(t)
	bg, err := e.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bg.Connect(ctx, ConnectInfo{Name: "x"}); err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Fatalf("Connect to a realm that never answers = %v", err)
	}
	if _, err := e.waitRealm(ctx, "the popup", func() *realmConn { return nil }); err == nil || !strings.Contains(err.Error(), "did not connect within 200ms") {
		t.Fatalf("waiting for a realm that never connects = %v", err)
	}
}
