package bridge

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/queue"
)

// Listener receives the ports that connect to a realm, like a
// runtime.onConnect listener, or (from driver's Browser.NativeHost) the
// connections to a native host that Go serves. It is safe for concurrent
// use; several goroutines may call Accept, and each port goes to one of
// them.
type Listener struct {
	rc     *realmConn // nil for a native host's listener
	id     int
	ports  *queue.Queue[*Port]
	closed atomic.Bool

	host     string // a native host's listener: the host's name
	unlisten func() // a native host's listener: what Close does instead of Unlisten
}

func newListener(rc *realmConn, id int) *Listener {
	return &Listener{rc: rc, id: id, ports: queue.New[*Port](0)}
}

func (l *Listener) deliver(p *Port) {
	if !l.ports.Push(p) {
		_ = p.Disconnect() // closed meanwhile: nobody will accept it
	}
}

// end ends the listener because its realm went away.
func (l *Listener) end(cause error) {
	l.ports.Close(&endedError{what: "listener", sentinel: ErrListenerClosed, cause: cause})
}

// Accept returns the next port that connected, in order. After the realm
// goes away, it returns the ports already queued, then an error that wraps
// [ErrListenerClosed] and the cause; after Close, [ErrListenerClosed].
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
	if l.rc == nil { // a native host's: no realm holds listeners for it
		if l.unlisten != nil {
			l.unlisten()
		}
		for _, p := range queued {
			_ = p.Disconnect()
		}
		return nil
	}
	l.rc.forgetListener(l.id)
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_, err := l.rc.c.Call(ctx, hub.Unlisten{L: l.id}, nil)
	for _, p := range queued {
		_ = p.Disconnect()
	}
	if l.rc.c.Err() != nil {
		return nil // the realm is gone, and its listeners with it
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
