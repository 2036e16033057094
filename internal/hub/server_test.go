package hub

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type nopHandler struct{}

func (nopHandler) Frame(*Frame)            {}
func (nopHandler) Ended(cause error) error { return cause }

func newTestServer(t *testing.T, accepted chan<- *Conn) *Server {
	t.Helper()
	s, err := New(Options{Accept: func(c *Conn) (Handler, error) {
		if accepted != nil {
			accepted <- c
		}
		return nopHandler{}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(nil) })
	return s
}

// A flood of connections that never send a hello, at the TCP level and as
// WebSockets, does not keep a real bridge out, and the server holds at
// most MaxUnauthenticated of them at a time.
func TestIdleFloodDoesNotKeepRealmsOut(t *testing.T) {
	accepted := make(chan *Conn, 1)
	s := newTestServer(t, accepted)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addr := s.ln.Addr().String()
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 4 * MaxUnauthenticated {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	var wss []*websocket.Conn
	defer func() {
		for _, ws := range wss {
			ws.CloseNow()
		}
	}()
	for range 2 * MaxUnauthenticated {
		ws, _, err := websocket.Dial(ctx, s.URL(), nil)
		if err != nil {
			continue // dropped to make room already: fine
		}
		wss = append(wss, ws)
	}
	// The oldest idle connections were closed to make room: reading them
	// ends.
	var mu sync.Mutex
	closed := 0
	var wg sync.WaitGroup
	for _, c := range idle[:MaxUnauthenticated] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			var b [1]byte
			if _, err := c.Read(b[:]); err != nil {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if closed != MaxUnauthenticated {
		t.Errorf("%d of the %d oldest idle connections were closed, want all", closed, MaxUnauthenticated)
	}
	s.mu.Lock()
	waiting := s.waiting.Len()
	s.mu.Unlock()
	if waiting > MaxUnauthenticated {
		t.Errorf("%d connections wait for a hello, want at most %d", waiting, MaxUnauthenticated)
	}
	// A real bridge gets in.
	ws, _, err := websocket.Dial(ctx, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	hello, _ := json.Marshal(Hello{T: "hello", Token: s.Token(), Realm: "background", ID: "real"})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-accepted:
		if c.Hello().ID != "real" {
			t.Fatalf("accepted %+v", c.Hello())
		}
	case <-ctx.Done():
		t.Fatal("the real bridge was kept out by the flood")
	}
}
