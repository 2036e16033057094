package hub

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// slowEnd is a handler whose Ended waits to be let go, then names its own
// error.
type slowEnd struct {
	entered chan struct{}
	release chan struct{}
}

var errDecided = errors.New("the realm went away (decided by the handler)")

func (slowEnd) Frame(*Frame) {}
func (h slowEnd) Ended(error) error {
	close(h.entered)
	<-h.release
	return errDecided
}

// A call that races the end of its connection returns the error the handler
// decided, never the raw cause (a regression: a call made while Ended ran
// returned the WebSocket's close frame).
func TestCallRacingEndSeesDecidedError(t *testing.T) {
	h := slowEnd{entered: make(chan struct{}), release: make(chan struct{})}
	accepted := make(chan *Conn, 1)
	s, err := New(Options{Accept: func(c *Conn) (Handler, error) {
		accepted <- c
		return h, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	hello, _ := json.Marshal(Hello{T: "hello", Token: s.Token(), Realm: "content", ID: "r"})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	c := <-accepted
	ws.Close(websocket.StatusGoingAway, "pagehide")
	<-h.entered // the read loop saw the close frame and is ending the connection
	if err := c.Err(); err != nil {
		t.Errorf("Err while ending = %v, want nil until the end is decided", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, Frames{}, nil)
		got <- err
	}()
	close(h.release)
	if err := <-got; !errors.Is(err, errDecided) {
		t.Errorf("Call racing the end = %v, want %v", err, errDecided)
	}
	if err := c.Err(); !errors.Is(err, errDecided) {
		t.Errorf("Err after the end = %v, want %v", err, errDecided)
	}
}
