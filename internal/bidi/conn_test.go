package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeServer is a BiDi endpoint whose behaviour the test scripts: handle gets
// every command and returns the messages to send back.
type fakeServer struct {
	srv   *httptest.Server
	conns chan *websocket.Conn
}

type fakeCommand struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func newFakeServer(t *testing.T, handle func(ws *websocket.Conn, cmd fakeCommand)) *fakeServer {
	t.Helper()
	f := &fakeServer{conns: make(chan *websocket.Conn, 10)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		f.conns <- ws
		defer ws.CloseNow()
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var cmd fakeCommand
			if err := json.Unmarshal(data, &cmd); err != nil {
				t.Errorf("bad command %s: %v", data, err)
				return
			}
			handle(ws, cmd)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

func send(ws *websocket.Conn, v any) {
	b, _ := json.Marshal(v)
	ws.Write(context.Background(), websocket.MessageText, b)
}

// echo answers every command with its params, except "fail" (an error),
// "never" (no answer), "drop" (closes the socket) and "events" (sends the
// number of events in params.n, then answers).
func echo(ws *websocket.Conn, cmd fakeCommand) {
	switch cmd.Method {
	case "fail":
		send(ws, map[string]any{"type": "error", "id": cmd.ID, "error": "no such frame", "message": "gone", "stacktrace": "at x"})
	case "never":
	case "drop":
		ws.CloseNow()
	case "events":
		var p struct{ N int }
		json.Unmarshal(cmd.Params, &p)
		for i := range p.N {
			send(ws, map[string]any{"type": "event", "method": "log.entryAdded", "params": map[string]any{"i": i}})
			send(ws, map[string]any{"type": "event", "method": "browsingContext.load", "params": map[string]any{"i": i}})
		}
		send(ws, map[string]any{"type": "success", "id": cmd.ID, "result": map[string]any{}})
	default:
		send(ws, map[string]any{"type": "success", "id": cmd.ID, "result": cmd.Params})
	}
}

func dialFake(t *testing.T, handle func(*websocket.Conn, fakeCommand)) (*Conn, *fakeServer) {
	t.Helper()
	f := newFakeServer(t, handle)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, f.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		checkNoConnGoroutines(t)
	})
	return c, f
}

// checkNoConnGoroutines fails the test if a goroutine of a Conn is still
// alive after Close. A goroutine that has returned may still be listed for a
// moment, so it looks again, with short pauses, for up to a second.
func checkNoConnGoroutines(t *testing.T) {
	t.Helper()
	var leaked []string
	for wait := time.Millisecond; wait < time.Second; wait *= 2 {
		leaked = leaked[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "bidi.(*Conn).readLoop") || strings.Contains(g, "bidi.(*Conn).writeLoop") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		time.Sleep(wait)
	}
	for _, g := range leaked {
		t.Errorf("leaked goroutine:\n%s", g)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCallResult(t *testing.T) {
	c, _ := dialFake(t, echo)
	r, err := Call[struct{ A int }](testCtx(t), c, "x.echo", map[string]int{"a": 7})
	if err != nil || r.A != 7 {
		t.Fatalf("got %v, %v", r, err)
	}
}

func TestCallError(t *testing.T) {
	c, _ := dialFake(t, echo)
	_, err := Call[struct{}](testCtx(t), c, "fail", nil)
	var be *Error
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want *Error", err)
	}
	if be.Code != "no such frame" || be.Message != "gone" || be.Stacktrace != "at x" {
		t.Fatalf("got %+v", be)
	}
}

func TestCallContext(t *testing.T) {
	c, _ := dialFake(t, echo)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Call[struct{}](ctx, c, "never", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	c.mu.Lock()
	n := len(c.pending)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d pending calls left", n)
	}
	// The connection is still usable.
	if _, err := Call[struct{}](testCtx(t), c, "x.echo", nil); err != nil {
		t.Fatal(err)
	}
}

func TestConnectionDrop(t *testing.T) {
	c, _ := dialFake(t, echo)
	errs := make(chan error, 3)
	for range 2 {
		go func() {
			_, err := Call[struct{}](testCtx(t), c, "never", nil)
			errs <- err
		}()
	}
	// Wait for both calls to be pending before the drop.
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 2 {
			break
		}
		runtime.Gosched()
	}
	go func() {
		_, err := Call[struct{}](testCtx(t), c, "drop", nil)
		errs <- err
	}()
	for range 3 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrClosed) {
		t.Fatalf("Err() = %v", c.Err())
	}
	if _, err := Call[struct{}](testCtx(t), c, "x.echo", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after the drop got %v, want ErrClosed", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	c, _ := dialFake(t, echo)
	done := make(chan error, 1)
	go func() {
		_, err := Call[struct{}](testCtx(t), c, "never", nil)
		done <- err
	}()
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending call got %v", err)
	}
	checkNoConnGoroutines(t)
}

// Events the client did not ask for (it subscribes to none) are skipped:
// the read loop goes on and calls still get their results.
func TestEventsAreSkipped(t *testing.T) {
	c, _ := dialFake(t, echo)
	if _, err := Call[struct{}](testCtx(t), c, "events", map[string]int{"n": 2000}); err != nil {
		t.Fatal(err)
	}
	if _, err := Call[struct{}](testCtx(t), c, "echo", nil); err != nil {
		t.Fatalf("a call after the events: %v", err)
	}
}
func TestRemoteValuePlain(t *testing.T) {
	const in = `{"type":"object","value":[
		["s",{"type":"string","value":"x"}],
		["n",{"type":"number","value":1.5}],
		["z",{"type":"number","value":"-0"}],
		["nan",{"type":"number","value":"NaN"}],
		["b",{"type":"boolean","value":true}],
		["u",{"type":"undefined"}],
		["f",{"type":"function"}],
		["a",{"type":"array","value":[{"type":"null"},{"type":"bigint","value":"12"}]}],
		["m",{"type":"map","value":[[{"type":"number","value":1},{"type":"string","value":"one"}]]}]]}`
	var v RemoteValue
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := v.Decode(&out); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(out)
	const want = `{"a":[null,"12"],"b":true,"m":{"1":"one"},"n":1.5,"nan":null,"s":"x","z":0}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestLocalValueOf(t *testing.T) {
	got, err := LocalValueOf(map[string]any{"a": []any{1, "x", nil, true}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"object","value":[["a",{"type":"array","value":[{"type":"number","value":1},{"type":"string","value":"x"},{"type":"null"},{"type":"boolean","value":true}]}]]}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}
