// Package bidi is a small typed WebDriver BiDi client.
//
// The entry points are [Dial], which connects to a BiDi endpoint such as
// ws://127.0.0.1:PORT/session, the generic [Call] for any command, the typed
// command methods on [Conn] (for example [Conn.SessionNew],
// [Conn.WebExtensionInstall], [Conn.ScriptEvaluate]), and [Conn.Listen] for
// events, which are pulled with [Listener.Next].
//
// One goroutine reads the connection and one writes it. No user code runs on
// either: results are handed to the waiting call and events are appended to
// unbounded per-listener queues, so a slow consumer never stalls the wire.
package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/extbridge/extbridge/internal/queue"
)

// ErrClosed is wrapped by every error that a call, a write or
// [Listener.Next] returns once the connection is gone.
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

	mu        sync.Mutex
	nextID    int64
	pending   map[int64]chan response
	listeners map[*Listener]struct{}
	err       error // why the connection ended; set before done closes

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
		ws:        ws,
		life:      life,
		cancel:    cancel,
		writes:    make(chan []byte),
		done:      make(chan struct{}),
		pending:   make(map[int64]chan response),
		listeners: make(map[*Listener]struct{}),
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
	listeners := c.listeners
	c.listeners = make(map[*Listener]struct{})
	close(c.done)
	c.mu.Unlock()
	for _, ch := range pending {
		ch <- response{err: err}
	}
	for l := range listeners {
		l.end(err)
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
			c.dispatch(Event{Method: m.Method, Params: m.Params})
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

// Event is one event that the remote end sent.
type Event struct {
	// Method is the event name, such as "browsingContext.load".
	Method string
	// Params is the raw "params" object of the event.
	Params json.RawMessage
}

// Decode decodes the event parameters into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Params, v); err != nil {
		return fmt.Errorf("failed to decode %s: %w", e.Method, err)
	}
	return nil
}

// Listener is a local, unbounded queue of the events that match its filter.
// It only sees events that the session is subscribed to; see
// [Conn.SessionSubscribe]. Its methods are safe for concurrent use.
type Listener struct {
	c       *Conn
	filters []string
	events  *queue.Queue[Event]
}

// errListenerClosed ends a listener closed by its owner.
var errListenerClosed = errors.New("bidi listener closed")

// Listen starts queueing the events whose method equals one of events or whose
// module is one of events (for example "browsingContext" matches
// "browsingContext.load"). No events means every event. Events that arrive
// before Listen are not seen, so call it before the command that causes them.
func (c *Conn) Listen(events ...string) *Listener {
	l := &Listener{c: c, filters: events, events: queue.New[Event](0)}
	c.mu.Lock()
	if c.err != nil {
		l.events.Close(c.err)
	} else {
		c.listeners[l] = struct{}{}
	}
	c.mu.Unlock()
	return l
}

func (l *Listener) match(method string) bool {
	if len(l.filters) == 0 {
		return true
	}
	for _, f := range l.filters {
		if method == f || (len(method) > len(f) && method[len(f)] == '.' && method[:len(f)] == f) {
			return true
		}
	}
	return false
}

func (c *Conn) dispatch(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for l := range c.listeners {
		if l.match(e.Method) {
			l.events.Push(e)
		}
	}
}

func (l *Listener) end(err error) { l.events.Close(err) }

// Next returns the oldest queued event, waiting for one until ctx ends. Once
// the queue is empty after the listener or the connection ended, it returns
// the reason, an error that wraps [ErrClosed] for a lost connection.
func (l *Listener) Next(ctx context.Context) (Event, error) {
	return l.events.Pop(ctx)
}

// Close stops queueing events and drops the queued ones; [Listener.Next]
// then returns an error. It is idempotent.
func (l *Listener) Close() {
	l.c.mu.Lock()
	delete(l.c.listeners, l)
	l.c.mu.Unlock()
	l.events.Close(errListenerClosed)
	l.events.Drain()
}
