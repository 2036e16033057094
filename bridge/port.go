package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrDisconnected is returned by [Port.Recv] once the port has ended and
// every message that arrived before the end has been received, and by
// [Port.PostMessage] on a port that has ended.
var ErrDisconnected = errors.New("extbridge: port disconnected")

// DisconnectError is the error of a port that ended with an error: the
// browser's own message (Chrome's runtime.lastError, Firefox's port.error),
// or why extbridge lost the realm that held the port.
type DisconnectError struct {
	Message string
	cause   error
}

func (e *DisconnectError) Error() string { return "extbridge: port disconnected: " + e.Message }

// Unwrap returns the cause when extbridge ended the port itself.
func (e *DisconnectError) Unwrap() error { return e.cause }

// MessageSender is runtime.MessageSender: who opened a port, as the browser
// reports it to the receiving end.
type MessageSender struct {
	ID           string   `json:"id,omitempty"`
	URL          string   `json:"url,omitempty"`
	Origin       string   `json:"origin,omitempty"`
	DocumentID   string   `json:"documentId,omitempty"`
	TLSChannelID string   `json:"tlsChannelId,omitempty"`
	FrameID      int      `json:"frameId"`
	Tab          *TabInfo `json:"tab,omitempty"`
}

// TabInfo is the part of tabs.Tab that a MessageSender carries.
type TabInfo struct {
	ID       int    `json:"id"`
	Index    int    `json:"index"`
	WindowID int    `json:"windowId"`
	URL      string `json:"url,omitempty"`
	Title    string `json:"title,omitempty"`
	Active   bool   `json:"active"`
	Status   string `json:"status,omitempty"`
}

// Port mirrors one end of a live runtime.Port in a realm of the extension.
//
// A Port is safe for concurrent use, except that one goroutine at a time
// calls Recv. Messages that arrive are queued in order without limit, so a
// slow reader never stalls the wire or other ports. After the port ends,
// Recv still returns the queued messages, then [ErrDisconnected].
type Port struct {
	rc     *realmConn
	id     int
	name   string
	sender *MessageSender
	how    string

	done chan struct{}

	mu      sync.Mutex
	claimed bool // Go reads it: queue what arrives
	queue   []json.RawMessage
	notify  chan struct{}
	ended   bool
	err     error
	postErr error
}

func newPort(rc *realmConn, id int, name string, sender *MessageSender) *Port {
	return &Port{
		rc:     rc,
		id:     id,
		name:   name,
		sender: sender,
		done:   make(chan struct{}),
		notify: make(chan struct{}, 1),
	}
}

// Name is the port's name, as given to runtime.connect or tabs.connect.
func (p *Port) Name() string { return p.name }

// Sender is the port's runtime.MessageSender. It is nil where the JS port
// has none: on the end that called connect.
func (p *Port) Sender() *MessageSender { return p.sender }

// String describes the port for logs and failures.
func (p *Port) String() string {
	return fmt.Sprintf("port %q (%s) in %s", p.name, p.how, p.rc.describe())
}

// claim makes the port queue the messages it receives from now on.
func (p *Port) claim() {
	p.mu.Lock()
	p.claimed = true
	p.mu.Unlock()
}

func (p *Port) deliver(d json.RawMessage) {
	p.mu.Lock()
	if !p.claimed || p.ended {
		p.mu.Unlock()
		return
	}
	p.queue = append(p.queue, d)
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// finish ends the port once, with err (nil for a clean end).
func (p *Port) finish(err error) {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	p.err = err
	p.mu.Unlock()
	close(p.done)
}

func (p *Port) setPostErr(err error) {
	p.mu.Lock()
	if p.postErr == nil {
		p.postErr = err
	}
	p.mu.Unlock()
}

// PostMessage sends msg, encoded as JSON, to the other end, as
// port.postMessage does. A value that JSON cannot encode (a channel, a
// func, a cyclic structure) is an error, and the port keeps working.
//
// PostMessage returns once the message is queued on the wire; the realm
// posts it in order. If the browser refuses a message (for example one that
// is too large), the next PostMessage returns that error.
func (p *Port) PostMessage(ctx context.Context, msg any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("failed to post on %s: the message is not JSON: %w", p, err)
	}
	return p.postRaw(ctx, data)
}

func (p *Port) postRaw(ctx context.Context, data json.RawMessage) error {
	if len(data) > maxMessage {
		return fmt.Errorf("failed to post on %s: the message is %d bytes, more than the %d the browser accepts", p, len(data), maxMessage)
	}
	p.mu.Lock()
	ended, perr := p.ended, p.postErr
	p.postErr = nil
	p.mu.Unlock()
	if perr != nil {
		return fmt.Errorf("failed to post on %s: the browser refused an earlier message: %w", p, perr)
	}
	if ended {
		return ErrDisconnected
	}
	frame := make([]byte, 0, len(data)+32)
	frame = fmt.Appendf(frame, `{"c":"post","p":%d,"d":`, p.id)
	frame = append(frame, data...)
	frame = append(frame, '}')
	if err := p.rc.send(ctx, frame); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return ErrDisconnected
	}
	return nil
}

// defaultCloseTimeout bounds the clean-up calls of Disconnect and Close
// methods, which take no context.
const defaultCloseTimeout = 5 * time.Second

// maxMessage is the largest message PostMessage sends: Chromium's limit for
// extension messages.
const maxMessage = 64 << 20

// Recv returns the next message the port received, in order. It blocks until
// one arrives, the port ends ([ErrDisconnected] once the queue is empty) or
// ctx ends; a Recv cut short by ctx leaves the port open.
func (p *Port) Recv(ctx context.Context) (json.RawMessage, error) {
	p.claim()
	for {
		p.mu.Lock()
		if len(p.queue) > 0 {
			m := p.queue[0]
			p.queue[0] = nil
			p.queue = p.queue[1:]
			p.mu.Unlock()
			return m, nil
		}
		ended := p.ended
		p.mu.Unlock()
		if ended {
			return nil, ErrDisconnected
		}
		select {
		case <-p.notify:
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Disconnect disconnects the port, as port.disconnect does: the other end's
// onDisconnect fires; this end's does not, so Err stays nil. It is
// idempotent.
func (p *Port) Disconnect() error {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), defaultCloseTimeout)
	defer cancel()
	err := p.rc.send(ctx, fmt.Appendf(nil, `{"c":"disc","p":%d}`, p.id))
	p.rc.mu.Lock()
	delete(p.rc.ports, p.id)
	p.rc.mu.Unlock()
	p.finish(nil)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		// The realm is gone, so the port is gone too: nothing is left to do.
		return nil
	}
	return err
}

// Done is closed when either end disconnects or the realm that holds the
// port goes away.
func (p *Port) Done() <-chan struct{} { return p.done }

// Err is nil while the port is open and after a clean disconnect; after an
// error it is a [*DisconnectError] with the browser's message.
func (p *Port) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
