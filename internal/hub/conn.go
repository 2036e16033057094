package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Conn is one authenticated realm connection.
//
// A Conn is safe for concurrent use.
type Conn struct {
	srv   *Server
	ws    *websocket.Conn
	hello Hello
	h     Handler

	out  chan []byte
	done chan struct{}

	mu      sync.Mutex
	err     error // why the connection ended, once done is closed
	ending  bool  // End has begun
	nextReq int64
	pending map[int64]*call
}

// call is a command waiting for its reply.
type call struct {
	ch     chan reply // buffered: the reader never blocks on it
	orphan func(ok json.RawMessage)
}

type reply struct {
	ok  json.RawMessage
	err error
}

// ReplyError is the failure a realm reported for a command: the text of
// what the browser or the bridge threw.
type ReplyError struct{ Message string }

func (e *ReplyError) Error() string { return e.Message }

func newConn(s *Server, ws *websocket.Conn, hi Hello) *Conn {
	return &Conn{
		srv:     s,
		ws:      ws,
		hello:   hi,
		out:     make(chan []byte, 256),
		done:    make(chan struct{}),
		pending: make(map[int64]*call),
	}
}

// Hello is the connection's hello (without the token).
func (c *Conn) Hello() Hello { return c.hello }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Send queues a frame. It never writes with the caller's context, because a
// write cut short would break the whole connection; ctx bounds only the wait
// for room in the queue.
func (c *Conn) Send(ctx context.Context, frame []byte) error {
	select {
	case <-c.done:
		return c.Err()
	default:
	}
	select {
	case c.out <- frame:
		return nil
	case <-c.done:
		return c.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// controlTimeout bounds SendControl: a realm that takes nothing for that
// long is stuck or going away.
const controlTimeout = 5 * time.Second

// SendControl sends a frame that has no reply and no caller to tell of a
// failure, giving up after a few seconds.
func (c *Conn) SendControl(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	_ = c.Send(ctx, frame)
}

// Call sends cmd and waits for its reply, which it returns as JSON; a
// failure the realm reports is a [*ReplyError]. If ctx ends first, Call
// returns ctx.Err(); the command may still have run, and when its reply
// arrives, orphan (if not nil) gets it, on the read loop, so it must not
// block.
func (c *Conn) Call(ctx context.Context, cmd Command, orphan func(ok json.RawMessage)) (json.RawMessage, error) {
	cl := &call{ch: make(chan reply, 1)}
	c.mu.Lock()
	if c.ending {
		// The end is decided once the handler has said why; wait for it so
		// a call racing the end reports the same error as the ports.
		c.mu.Unlock()
		<-c.done
		return nil, c.Err()
	}
	c.nextReq++
	id := c.nextReq
	c.pending[id] = cl
	c.mu.Unlock()
	frame, err := encodeCall(id, cmd)
	if err == nil {
		err = c.Send(ctx, frame)
	}
	if err != nil {
		c.forget(id)
		return nil, err
	}
	select {
	case r := <-cl.ch:
		return r.ok, r.err
	case <-ctx.Done():
		c.mu.Lock()
		if _, waiting := c.pending[id]; waiting && orphan != nil {
			cl.orphan = orphan // the reply goes there when it comes
		} else {
			delete(c.pending, id)
		}
		c.mu.Unlock()
		select {
		case r := <-cl.ch: // it came meanwhile
			if r.err == nil && orphan != nil {
				orphan(r.ok)
			}
		default:
		}
		return nil, ctx.Err()
	}
}

func (c *Conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// batchBytes is where the write loop stops adding frames to a batch.
const batchBytes = 256 << 10

func (c *Conn) writeLoop() {
	defer c.srv.wg.Done()
	var batch []byte
	for {
		var f []byte
		select {
		case <-c.done:
			return
		case f = <-c.out:
		}
		// Whatever else is queued goes in the same frame, as a JSON array:
		// one WebSocket message for a burst of posts.
		frame := f
		if len(c.out) > 0 {
			batch = append(batch[:0], '[')
			batch = append(batch, f...)
		more:
			for len(batch) < batchBytes {
				select {
				case g := <-c.out:
					batch = append(batch, ',')
					batch = append(batch, g...)
				default:
					break more
				}
			}
			frame = append(batch, ']')
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := c.ws.Write(ctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			c.End(&WireError{Err: err})
			return
		}
		if cap(batch) > 4*batchBytes {
			batch = nil // do not keep a huge buffer after a burst of large messages
		}
	}
}

func (c *Conn) readLoop() {
	defer c.srv.wg.Done()
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.End(&WireError{Err: err})
			return
		}
		// A frame is one event or a batch of them, in order, one per line.
		for len(data) > 0 {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			c.dispatch(line)
		}
	}
}

func (c *Conn) dispatch(data []byte) {
	var f Frame
	if t, p, d, ok := parsePortMessage(data); ok { // the common case, without reflection
		f.T, f.P, f.D = t, p, d
		c.h.Frame(&f)
		return
	}
	if err := json.Unmarshal(data, &f); err != nil {
		c.srv.logger.Warn("extbridge: bad frame from a bridge", "realm", c.hello.Realm, "url", c.hello.URL, "err", err)
		return
	}
	if f.T != FrameReply {
		c.h.Frame(&f)
		return
	}
	c.mu.Lock()
	cl := c.pending[f.I]
	delete(c.pending, f.I)
	c.mu.Unlock()
	switch {
	case cl == nil:
	case cl.orphan != nil:
		if f.Err == nil {
			cl.orphan(f.OK)
		}
	case f.Err != nil:
		cl.ch <- reply{err: &ReplyError{Message: *f.Err}}
	default:
		cl.ch <- reply{ok: f.OK}
	}
}

// End ends the connection once: the handler's Ended decides the error that
// every pending and later call returns. It is idempotent.
func (c *Conn) End(cause error) {
	if cause == nil {
		cause = errors.New("the connection was closed")
	}
	c.mu.Lock()
	if c.ending {
		c.mu.Unlock()
		return
	}
	c.ending = true // calls from now wait for done and see the final error
	c.mu.Unlock()

	err := cause
	if e := c.h.Ended(cause); e != nil {
		err = e
	}
	c.mu.Lock()
	c.err = err
	pending := c.pending
	c.pending = map[int64]*call{}
	c.mu.Unlock()
	c.srv.forget(c)
	close(c.done)
	c.ws.CloseNow()
	for _, cl := range pending {
		if cl.orphan == nil {
			cl.ch <- reply{err: err}
		}
	}
}

// Clean reports whether err, the end of a connection, is the realm going
// away by itself (a close frame, or a socket the browser dropped as the
// realm died) rather than a broken wire worth showing.
func Clean(err error) bool {
	var we *WireError
	if errors.As(err, &we) {
		err = we.Err
	}
	return websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
