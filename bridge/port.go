package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/queue"
)

// MessageSender is runtime.MessageSender: who opened a port, as the browser
// reports it to the receiving end. Fields the browser leaves out are zero.
type MessageSender struct {
	ID           string   `json:"id,omitempty"`           // the sending extension's id
	URL          string   `json:"url,omitempty"`          // the sending document's or worker's URL
	Origin       string   `json:"origin,omitempty"`       // its origin
	DocumentID   string   `json:"documentId,omitempty"`   // the sending document
	TLSChannelID string   `json:"tlsChannelId,omitempty"` // with includeTlsChannelId, where the browser sets it
	FrameID      int      `json:"frameId"`                // the sending frame: 0 the top frame
	Tab          *TabInfo `json:"tab,omitempty"`          // the sending tab, for a content script or a page in a tab
}

// TabInfo is the part of tabs.Tab that a MessageSender carries.
type TabInfo struct {
	ID       int    `json:"id"`               // tabs.Tab id
	Index    int    `json:"index"`            // its position in its window
	WindowID int    `json:"windowId"`         // its window
	URL      string `json:"url,omitempty"`    // its URL, where the extension may see it
	Title    string `json:"title,omitempty"`  // its title, where the extension may see it
	Active   bool   `json:"active"`           // whether it is its window's selected tab
	Status   string `json:"status,omitempty"` // "loading" or "complete"
}

// Port mirrors one end of a live runtime.Port in a realm of the extension.
//
// A Port is safe for concurrent use; several goroutines may call Recv, and
// each message goes to one of them.
//
// What a port queues depends on who reads it. A port Go opened
// ([Context.Connect], [Context.TabsConnect]) or accepted ([Listener.Accept])
// queues every message it receives, in order and without limit, so nothing
// is lost and a slow reader never stalls the wire or other ports. A port of
// the extension's own code that Go has only seen on a [Watch] keeps the
// last [WatchedPortBuffer] bytes it received (at least one message), so that
// a Watch left running over a busy extension stays bounded; its first Recv
// makes it queue without limit from then on, and [Port.Dropped] says how
// many messages it dropped before that. After the port ends, Recv still
// returns the queued messages, then [ErrDisconnected].
type Port struct {
	rc     *realmConn
	id     int
	name   string
	sender *MessageSender
	how    How
	queue  *queue.Queue[json.RawMessage]

	mu       sync.Mutex
	mode     portMode
	buffered int // bytes queued while watched
	dropped  int
	err      error
	postErr  error
}

// portMode says what a port queues.
type portMode int

const (
	portUnread  portMode = iota // nobody can read it yet: nothing is queued
	portWatched                 // a Watch returned it: a bounded buffer
	portRead                    // Go reads it: everything is queued
)

// WatchedPortBuffer bounds what a port that Go has only seen on a [Watch]
// keeps before its first [Port.Recv].
const WatchedPortBuffer = 1 << 20

func newPort(rc *realmConn, id int, name string, sender *MessageSender, how How) *Port {
	return &Port{rc: rc, id: id, name: name, sender: sender, how: how, queue: queue.New[json.RawMessage](0)}
}

// Name is the port's name, as given to runtime.connect or tabs.connect (a
// native port: the host's name).
func (p *Port) Name() string { return p.name }

// How says how this end of the port came to be: runtime.connect,
// tabs.connect, onConnect, onConnectExternal, runtime.connectNative, or
// [HowNativeHost] for the host end of a native port Go serves.
func (p *Port) How() How { return p.how }

// Sender is the port's runtime.MessageSender. It is nil where the JS port
// has none: on the end that called connect.
func (p *Port) Sender() *MessageSender { return p.sender }

// String describes the port for logs and failures.
func (p *Port) String() string {
	return fmt.Sprintf("port %q (%s) in %s", p.name, p.how, p.rc.describe())
}

// read makes the port queue everything it receives from now on.
func (p *Port) read() {
	p.mu.Lock()
	p.mode = portRead
	p.mu.Unlock()
}

// watched starts the bounded buffer of a port a Watch returned.
func (p *Port) watched() {
	p.mu.Lock()
	if p.mode == portUnread {
		p.mode = portWatched
	}
	p.mu.Unlock()
}

func (p *Port) deliver(d json.RawMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case portUnread:
		return
	case portRead:
		p.queue.Push(d)
		return
	}
	if !p.queue.Push(d) {
		return
	}
	p.buffered += len(d)
	for p.buffered > WatchedPortBuffer && p.queue.Len() > 1 {
		old, _ := p.queue.TryPop()
		p.buffered -= len(old)
		p.dropped++
	}
}

// Dropped is how many messages the port dropped because Go had only seen it
// on a Watch and had not called Recv yet (see [WatchedPortBuffer]).
func (p *Port) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// finish ends the port once, with err (nil for a clean end).
func (p *Port) finish(err error) {
	p.mu.Lock()
	if p.queue.Close(ErrDisconnected) {
		p.err = err
	}
	p.mu.Unlock()
}

func (p *Port) ended() bool {
	select {
	case <-p.queue.Done():
		return true
	default:
		return false
	}
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

// maxMessage is the largest message PostMessage sends: Chromium's limit for
// extension messages.
const maxMessage = 64 << 20

func (p *Port) postRaw(ctx context.Context, data json.RawMessage) error {
	if len(data) > maxMessage {
		return fmt.Errorf("failed to post on %s: the message is %d bytes, more than the %d the browser accepts", p, len(data), maxMessage)
	}
	p.mu.Lock()
	perr := p.postErr
	p.postErr = nil
	p.mu.Unlock()
	if perr != nil {
		return fmt.Errorf("failed to post on %s: the browser refused an earlier message: %w", p, perr)
	}
	if p.ended() {
		return ErrDisconnected
	}
	if err := p.rc.c.Send(ctx, hub.EncodePost(p.id, data)); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return ErrDisconnected
	}
	return nil
}

// closeTimeout bounds the clean-up calls of Disconnect and Close methods,
// which take no context.
const closeTimeout = 5 * time.Second

// Recv returns the next message the port received, in order. It blocks until
// one arrives, the port ends ([ErrDisconnected] once the queue is empty) or
// ctx ends; a Recv cut short by ctx leaves the port open.
func (p *Port) Recv(ctx context.Context) (json.RawMessage, error) {
	p.read()
	return p.queue.Pop(ctx)
}

// Disconnect disconnects the port, as port.disconnect does: the other end's
// onDisconnect fires; this end's does not, so Err stays nil. It is
// idempotent.
func (p *Port) Disconnect() error {
	return p.leave(hub.EncodeDisconnect(p.id))
}

// leave sends frame (a disconnect or a release) and ends Go's end of the
// port cleanly.
func (p *Port) leave(frame []byte) error {
	if p.ended() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := p.rc.c.Send(ctx, frame)
	p.rc.forgetPort(p)
	p.finish(nil)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		// The realm is gone, so the port is gone too: nothing is left to do.
		return nil
	}
	return err
}

// release lets go of a port that no Go listener took (see hub.EncodeRelease).
func (p *Port) release() { _ = p.leave(hub.EncodeRelease(p.id)) }

// Done is closed when either end disconnects or the realm that holds the
// port goes away.
func (p *Port) Done() <-chan struct{} { return p.queue.Done() }

// Err is nil while the port is open and after a clean disconnect; after an
// error it is a [*DisconnectError] with the browser's message.
func (p *Port) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
