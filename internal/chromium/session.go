package chromium

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// errDetached is the error of a session the browser detached: its target
// closed, or (a service worker) stopped.
var errDetached = errors.New("the DevTools session was detached (the target closed or stopped)")

// attach attaches a new flat session of the mux to a target.
func (m *mux) attach(ctx context.Context, id target.ID) (*session, error) {
	type result struct {
		s   *session
		err error
	}
	ch := make(chan result, 1)
	flat := true
	m.send("", target.AttachToTarget.Method, target.AttachToTargetParams{TargetID: id, Flatten: &flat}, func(v jsonv2.Value, err error) {
		// On the read loop: register the session before its first
		// message is routed.
		var res target.AttachToTargetResult
		if err == nil {
			err = jsonv2.Unmarshal(v, &res, chromedp.DefaultUnmarshalOptions)
		}
		if err != nil {
			ch <- result{nil, err}
			return
		}
		s := newSession(m, res.SessionID, id)
		m.mu.Lock()
		if m.err != nil {
			err = m.err
		} else if known := m.sessions[res.SessionID]; known != nil {
			s = known // its attachedToTarget came first (auto-attach)
		} else {
			m.sessions[res.SessionID] = s
		}
		m.mu.Unlock()
		if err != nil {
			ch <- result{nil, err}
			return
		}
		ch <- result{s, nil}
	})
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("failed to attach to target %s: %w", id, r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		// Detach the session the browser may attach anyway.
		go func() {
			if r := <-ch; r.s != nil {
				r.s.detach()
			}
		}()
		return nil, ctx.Err()
	}
}

// session is a flat DevTools session of the mux on one target. Its events
// go to its listeners, on the mux's read loop, in the browser's order;
// nothing queues them, so an event nobody listens to costs its parse only.
//
// A session is safe for concurrent use.
type session struct {
	m      *mux
	id     target.SessionID
	target target.ID

	mu        sync.Mutex
	listeners map[*listener]struct{}
	err       error
	done      chan struct{}
	life      context.Context // ends when the session does
	endLife   context.CancelFunc

	// The isolated worlds (worlds.go): wmu guards the count of top-frame
	// navigations, the last listing and the cache of each bridge realm's
	// execution context (realm id → uniqueContextId); listMu lets one
	// listing at a time turn Runtime on.
	wmu        sync.Mutex
	nav        uint64
	followsNav bool
	list       *worldList
	contexts   map[string]string
	listMu     sync.Mutex
}

// listener gets a session's events while it is registered; fn must not
// block.
type listener struct {
	fn func(method string, params jsonv2.Value)
}

func newSession(m *mux, id target.SessionID, tid target.ID) *session {
	s := &session{
		m: m, id: id, target: tid,
		listeners: make(map[*listener]struct{}),
		done:      make(chan struct{}),
		contexts:  make(map[string]string),
	}
	s.life, s.endLife = context.WithCancel(context.Background())
	return s
}

// event hands an event of the session to its listeners.
func (s *session) event(method string, body []byte) {
	s.mu.Lock()
	if len(s.listeners) == 0 {
		s.mu.Unlock()
		return
	}
	ls := make([]*listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	var p struct {
		Params jsonv2.Value `json:"params"`
	}
	if jsonv2.Unmarshal(body, &p, chromedp.DefaultUnmarshalOptions) != nil {
		return
	}
	for _, l := range ls {
		l.fn(method, p.Params)
	}
}

// listen adds fn as a listener to the session's events until stop.
func (s *session) listen(fn func(method string, params jsonv2.Value)) (stop func()) {
	l := &listener{fn: fn}
	s.mu.Lock()
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}
}

// detached marks the session gone.
func (s *session) detached(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		close(s.done)
		s.endLife()
	}
}

// alive reports whether the browser has not detached the session.
func (s *session) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Call runs a command on the session's target. A session the browser
// detached fails at once with errDetached.
func (s *session) Call(ctx context.Context, method string, params, res any) error {
	if !s.alive() {
		return s.err
	}
	type result struct {
		v   jsonv2.Value
		err error
	}
	ch := make(chan result, 1)
	s.m.send(s.id, method, params, func(v jsonv2.Value, err error) { ch <- result{v, err} })
	select {
	case r := <-ch:
		if r.err != nil || res == nil || len(r.v) == 0 {
			return r.err
		}
		return jsonv2.Unmarshal(r.v, res, chromedp.DefaultUnmarshalOptions)
	case <-s.done:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send runs a command without waiting: done, if not nil, gets its reply on
// the mux's read loop, in order with the session's events.
func (s *session) send(method string, params any, done func(jsonv2.Value, error)) {
	if done == nil {
		done = func(jsonv2.Value, error) {}
	}
	s.m.send(s.id, method, params, done)
}

// detach detaches the session, leaving its target as it is. The session
// stays known to the mux until the browser confirms, so that nothing of it
// reaches chromedp.
func (s *session) detach() {
	if !s.alive() {
		return
	}
	s.detached(errDetached)
	s.m.send("", target.DetachFromTarget.Method, target.DetachFromTargetParams{SessionID: s.id}, func(_ jsonv2.Value, err error) {
		if err != nil { // no detachedFromTarget will come
			s.m.mu.Lock()
			delete(s.m.sessions, s.id)
			s.m.mu.Unlock()
		}
	})
}

// call runs a typed command on a session.
func call[P, R any](ctx context.Context, s *session, c cdp.Command[P, R], params P) (R, error) {
	var res R
	err := s.Call(ctx, c.Method, params, &res)
	return res, err
}
