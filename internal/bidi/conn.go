// Package bidi is a small typed WebDriver BiDi client.
//
// The entry points are [Dial], which connects to a BiDi endpoint such as
// ws://127.0.0.1:PORT/session, the generic [Call] for any command, the typed
// command methods on [Conn] (for example [Conn.SessionNew],
// [Conn.WebExtensionInstall], [Conn.ScriptEvaluate]). extbridge needs no
// BiDi event, so the client has no subscription API.
//
// One goroutine reads the connection and one writes it. No user code runs on
// either: results are handed to the waiting call, so a slow caller never
// stalls the wire.
package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

// ErrClosed is wrapped by every error that a call returns once the
// connection is gone.
var ErrClosed = errors.New("bidi connection is gone")

// Error is an error that the remote end reported for a command.
type Error struct {
	// Code is the BiDi error code, the "error" field, such as
	// "no such frame" or "invalid argument".
	Code string
	// Message is the human-readable message.
	Message string
	// Stacktrace is the remote stack trace, if any.
	Stacktrace string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return "bidi: " + e.Code
	}
	return "bidi: " + e.Code + ": " + e.Message
}

// Conn is a connection to a WebDriver BiDi endpoint.
//
// All methods are safe for concurrent use. A call is bounded by its own
// context only: when the context ends the call returns ctx.Err() and the
// connection stays usable. When the connection drops, every pending and later
// call returns an error that wraps [ErrClosed]. [Conn.Close] releases every
// goroutine of the connection before it returns.
type Conn struct {
	ws *websocket.Conn

	life   context.Context // ends when the connection is closing
	cancel context.CancelFunc

	writes chan []byte   // to the writer goroutine
	done   chan struct{} // closed when the read loop ended
	wg     sync.WaitGroup

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan response
	err     error // why the connection ended; set before done closes

	closeOnce sync.Once
}

type response struct {
	result json.RawMessage
	err    error
}

// message is the union of what the remote end sends.
type message struct {
	Type       string          `json:"type"`
	ID         *int64          `json:"id"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	Stacktrace string          `json:"stacktrace"`
	Method     string          `json:"method"`
	Params     json.RawMessage `json:"params"`
}

type command struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params"`
}

// Dial connects to the BiDi WebSocket endpoint wsURL, for example
// ws://127.0.0.1:9222/session. The context bounds only the dial.
func Dial(ctx context.Context, wsURL string) (*Conn, error) {
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to dial %s: %w", wsURL, err)
	}
	// Screenshots and big evaluation results are large.
	ws.SetReadLimit(1 << 30)
	return newConn(ws), nil
}

func newConn(ws *websocket.Conn) *Conn {
	life, cancel := context.WithCancel(context.Background())
	c := &Conn{
		ws:      ws,
		life:    life,
		cancel:  cancel,
		writes:  make(chan []byte),
		done:    make(chan struct{}),
		pending: make(map[int64]chan response),
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c
}

// Close closes the connection. It is idempotent, and when it returns every
// goroutine of the connection has ended. Pending calls return an error that
// wraps [ErrClosed].
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.finish(fmt.Errorf("%w: closed by the client", ErrClosed))
		c.cancel()
		// The read loop may have closed the socket already; either way it
		// is closed now, so the error says nothing useful.
		_ = c.ws.CloseNow()
		c.wg.Wait()
	})
	return nil
}

// Done returns a channel that is closed when the connection is gone, because
// of [Conn.Close] or because the remote end went away.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection is gone, an error that wraps [ErrClosed], or
// nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// finish records why the connection ended, fails every pending call and wakes
// every listener. Only the first call has an effect.
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = make(map[int64]chan response)
	close(c.done)
	c.mu.Unlock()
	for _, ch := range pending {
		ch <- response{err: err}
	}
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer c.cancel() // stops the writer
	for {
		_, data, err := c.ws.Read(c.life)
		if err != nil {
			c.finish(fmt.Errorf("%w: %w", ErrClosed, err))
			return
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			// A malformed message cannot be routed; skip it.
			continue
		}
		switch {
		case m.Type == "event":
			// extbridge subscribes to no event; a stray one has no reader.
		case m.ID != nil:
			c.mu.Lock()
			ch, ok := c.pending[*m.ID]
			delete(c.pending, *m.ID)
			c.mu.Unlock()
			if !ok {
				continue // the call gave up
			}
			if m.Type == "error" {
				ch <- response{err: &Error{Code: m.Error, Message: m.Message, Stacktrace: m.Stacktrace}}
			} else {
				ch <- response{result: m.Result}
			}
		default:
			// An error without an id answers a message that could not be
			// parsed; no call can be matched to it.
		}
	}
}

func (c *Conn) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.life.Done():
			return
		case data := <-c.writes:
			if err := c.ws.Write(c.life, websocket.MessageText, data); err != nil {
				c.finish(fmt.Errorf("%w: failed to write: %w", ErrClosed, err))
				c.cancel()
				c.ws.CloseNow()
				return
			}
		}
	}
}

// Call sends the command method with params and decodes its result into R.
// A nil params is sent as an empty object. The context bounds only this call.
func Call[R any](ctx context.Context, c *Conn, method string, params any) (R, error) {
	var r R
	raw, err := c.call(ctx, method, params)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("failed to decode the result of %s: %w", method, err)
	}
	return r, nil
}

func (c *Conn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = struct{}{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("failed to call %s: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	data, err := json.Marshal(command{ID: id, Method: method, Params: params})
	if err != nil {
		forget()
		return nil, fmt.Errorf("failed to encode %s: %w", method, err)
	}
	select {
	case c.writes <- data:
	case r := <-ch: // the connection ended
		return nil, fmt.Errorf("failed to call %s: %w", method, r.err)
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("failed to call %s: %w", method, r.err)
		}
		return r.result, nil
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}
