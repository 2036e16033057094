package bridge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/queue"
)

// slot is what a [Listener] and an [Inbox] share: Go's listeners in a realm.
// In a content script or a page they live as long as the realm. In the
// background they outlive the realm that runs now: when the service worker
// or event page stops, the slot waits, and the next background gets the
// listeners again (see [Context.Listen]).
type slot struct {
	ext        *Extension
	id         int
	background bool
	closed     atomic.Bool

	mu sync.Mutex
	rc *realmConn // the realm the listeners are in; nil while the background sleeps
}

// slotID is the listener's id in the extension's realms.
func (s *slot) slotID() int { return s.id }

// realm is the realm the listeners are in now, or nil.
func (s *slot) realm() *realmConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rc
}

func (s *slot) setRealm(rc *realmConn) {
	s.mu.Lock()
	s.rc = rc
	s.mu.Unlock()
}

// leave forgets rc, the realm that ended, if the slot is still in it.
func (s *slot) leave(rc *realmConn) {
	s.mu.Lock()
	if s.rc == rc {
		s.rc = nil
	}
	s.mu.Unlock()
}

// remove takes the listeners out of their realm with the command cmd and
// forgets the slot. Errors of a realm that is gone do not count.
func (s *slot) remove(cmd hub.Command) error {
	if s.background {
		s.ext.disarm(s.id)
	}
	rc := s.realm()
	if rc == nil {
		return nil
	}
	rc.forgetListener(s.id)
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_, err := rc.c.Call(ctx, cmd, nil)
	if rc.c.Err() != nil || err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil // the realm is gone, and its listeners with it
	}
	return err
}

// Listener receives the ports that connect to a realm, like a
// runtime.onConnect listener, or (from driver's Browser.NativeHost) the
// connections to a native host that Go serves. It is safe for concurrent
// use; several goroutines may call Accept, and each port goes to one of
// them.
type Listener struct {
	slot
	ports *queue.Queue[*Port]

	host     string // a native host's listener: the host's name
	unlisten func() // a native host's listener: what Close does instead of Unlisten
}

func (l *Listener) deliver(p *Port) {
	if !l.ports.Push(p) {
		_ = p.Disconnect() // closed meanwhile: nobody will accept it
	}
}

// end ends the listener: its realm went away, or the browser session ended.
func (l *Listener) end(cause error) {
	l.ports.Close(&endedError{what: "listener", sentinel: ErrListenerClosed, cause: cause})
}

func (l *Listener) joinRealm(rc *realmConn) error { return rc.addListener(l) }

// rearm is the command that adds the listener in a new background.
func (l *Listener) rearm() hub.Command { return hub.Listen{L: l.id, Replay: true} }

// Accept returns the next port that connected, in order. After the realm
// goes away (a content script's or a page's; the background's listeners
// move to the next background), it returns the ports already queued, then
// an error that wraps [ErrListenerClosed] and the cause; after Close,
// [ErrListenerClosed].
func (l *Listener) Accept(ctx context.Context) (*Port, error) {
	if l.closed.Load() {
		return nil, ErrListenerClosed
	}
	p, err := l.ports.Pop(ctx)
	if err != nil {
		return nil, err
	}
	if l.closed.Load() { // closed while the port was on its way out
		_ = p.Disconnect()
		return nil, ErrListenerClosed
	}
	return p, nil
}

// Close removes the listeners from the realm and disconnects the ports that
// connected but were never accepted. On a native host's listener, it
// disconnects the connections that wait (their hosts exit), and later ones
// are refused until driver's Browser.NativeHost is called again. It is
// idempotent.
func (l *Listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	l.ports.Close(ErrListenerClosed)
	queued := l.ports.Drain()
	var err error
	if l.unlisten != nil { // a native host's: no realm holds listeners for it
		l.unlisten()
	} else {
		err = l.remove(hub.Unlisten{L: l.id})
	}
	for _, p := range queued {
		_ = p.Disconnect()
	}
	return err
}
