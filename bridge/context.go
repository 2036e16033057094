package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ConnectInfo is the connectInfo of runtime.connect and tabs.connect, plus
// the extensionId argument of runtime.connect.
type ConnectInfo struct {
	Name                string
	ExtensionID         string // runtime.connect(extensionId, …): another extension
	FrameID             *int   // tabs.connect: one frame instead of all
	IncludeTLSChannelID bool
}

// Context is one realm of an extension that Go acts in: the background, or
// the content-script world of one frame of a tab. What Go does through it,
// the extension sees as done by code in that realm.
//
// A Context is safe for concurrent use.
type Context struct {
	ext   *Extension
	kind  string     // "background" or "content"
	rc    *realmConn // content: the world it is bound to
	tab   int
	frame int
}

func (c *Context) String() string {
	if c.kind == "background" {
		return "the background of " + c.ext.label()
	}
	return fmt.Sprintf("the content script of %s in tab %d frame %d", c.ext.label(), c.tab, c.frame)
}

// realm returns the live realm connection: the current background (woken if
// needed), or the content-script world the Context is bound to.
func (c *Context) realm(ctx context.Context) (*realmConn, error) {
	if c.kind == "background" {
		return c.ext.background(ctx)
	}
	if err := c.rc.endErr(); err != nil {
		return nil, err
	}
	return c.rc, nil
}

// Connect opens a port from this realm with runtime.connect, as the
// extension's own code would. As in the browser, a connection that nobody
// receives still returns a port; it then ends with the browser's error
// (see [Port.Err]).
func (c *Context) Connect(ctx context.Context, info ConnectInfo) (*Port, error) {
	cmd := map[string]any{"c": "connect", "name": info.Name}
	if info.ExtensionID != "" {
		cmd["ext"] = info.ExtensionID
	}
	if info.IncludeTLSChannelID {
		cmd["tls"] = true
	}
	return c.open(ctx, "runtime.connect", cmd)
}

// TabsConnect opens a port from this realm to the content scripts of a tab
// with tabs.connect. Without FrameID it reaches the listeners of every frame
// through one port. It works where tabs.connect exists: the background and
// extension pages.
func (c *Context) TabsConnect(ctx context.Context, tabID int, info ConnectInfo) (*Port, error) {
	cmd := map[string]any{"c": "tconnect", "tab": tabID, "name": info.Name}
	if info.FrameID != nil {
		cmd["frame"] = *info.FrameID
	}
	return c.open(ctx, "tabs.connect", cmd)
}

func (c *Context) open(ctx context.Context, how string, cmd map[string]any) (*Port, error) {
	rc, err := c.realm(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to %s from %s: %w", how, c, err)
	}
	var id int
	if err := rc.call(ctx, cmd, &id); err != nil {
		// Cut short after the realm opened the port: nobody will use it.
		if req, ok := cmd["i"].(int64); ok {
			if p := rc.takeOpened(req); p != nil {
				_ = p.Disconnect()
			}
		}
		return nil, fmt.Errorf("failed to %s from %s: %w", how, c, err)
	}
	p := rc.takeOpened(cmd["i"].(int64))
	if p == nil {
		return nil, fmt.Errorf("failed to %s from %s: the bridge did not report the port", how, c)
	}
	return p, nil
}

// Listen adds runtime.onConnect and runtime.onConnectExternal listeners in
// this realm; the ports they receive come out of [Listener.Accept]. Like any
// listener, it makes connections to this realm succeed that would otherwise
// fail with "Receiving end does not exist".
//
// The listeners live in the realm that runs now, as listeners added by the
// extension's code after start-up would: when the service worker or event
// page stops, Accept returns an error that says so, and a new Listen after
// [Extension.Background] listens in the new one.
func (c *Context) Listen(ctx context.Context) (*Listener, error) {
	rc, err := c.realm(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to listen in %s: %w", c, err)
	}
	l := &Listener{rc: rc, notify: make(chan struct{}, 1), done: make(chan struct{})}
	rc.mu.Lock()
	if rc.err != nil {
		rc.mu.Unlock()
		return nil, fmt.Errorf("failed to listen in %s: %w", c, rc.err)
	}
	rc.nextL++
	l.id = rc.nextL
	rc.listeners[l.id] = l
	rc.mu.Unlock()
	if err := rc.call(ctx, map[string]any{"c": "listen", "l": l.id}, nil); err != nil {
		rc.mu.Lock()
		delete(rc.listeners, l.id)
		rc.mu.Unlock()
		// Cut short, the realm may have added the listeners anyway.
		_ = l.Close()
		return nil, fmt.Errorf("failed to listen in %s: %w", c, err)
	}
	return l, nil
}

// Eval evaluates a JavaScript expression in this realm, awaits it if it is a
// promise, and JSON-decodes the value into out (out may be nil). On
// Chromium the code runs through the DevTools protocol, since Manifest V3
// forbids eval inside the extension.
func (c *Context) Eval(ctx context.Context, js string, out any) error {
	rc, err := c.realm(ctx)
	if err != nil {
		return fmt.Errorf("failed to eval in %s: %w", c, err)
	}
	var raw json.RawMessage
	err = errors.ErrUnsupported
	if d := c.ext.hub.getDriver(); d != nil {
		raw, err = d.Eval(ctx, c.ext, c.kind, c.tab, c.frame, rc.info.ID, js)
	}
	if errors.Is(err, errors.ErrUnsupported) {
		err = rc.call(ctx, map[string]any{"c": "eval", "js": js}, &raw)
	}
	if err != nil {
		return fmt.Errorf("failed to eval in %s: %w", c, err)
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("failed to decode the result of eval in %s: %w", c, err)
	}
	return nil
}

// ErrListenerClosed is returned by [Listener.Accept] after [Listener.Close].
var ErrListenerClosed = errors.New("extbridge: listener closed")

// Listener receives the ports that connect to a realm, like a
// runtime.onConnect listener. It is safe for concurrent use.
type Listener struct {
	rc     *realmConn
	id     int
	notify chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	queue  []*Port
	ended  bool
	err    error
	closed bool
}

func (l *Listener) deliver(p *Port) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		_ = p.Disconnect()
		return
	}
	l.queue = append(l.queue, p)
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *Listener) end(err error) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	l.err = err
	l.mu.Unlock()
	close(l.done)
}

// Accept returns the next port that connected, in order. After the realm
// goes away or Close, it returns the ports already queued, then an error.
func (l *Listener) Accept(ctx context.Context) (*Port, error) {
	for {
		l.mu.Lock()
		if len(l.queue) > 0 && !l.closed {
			p := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			return p, nil
		}
		ended, err, closed := l.ended, l.err, l.closed
		l.mu.Unlock()
		if closed {
			return nil, ErrListenerClosed
		}
		if ended {
			return nil, fmt.Errorf("extbridge: listener ended: %w", err)
		}
		select {
		case <-l.notify:
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close removes the listeners from the realm and disconnects the ports that
// connected but were never accepted. It is idempotent.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	queued := l.queue
	l.queue = nil
	l.mu.Unlock()
	l.end(ErrListenerClosed)
	l.rc.mu.Lock()
	delete(l.rc.listeners, l.id)
	l.rc.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), defaultCloseTimeout)
	defer cancel()
	err := l.rc.call(ctx, map[string]any{"c": "unlisten", "l": l.id}, nil)
	for _, p := range queued {
		_ = p.Disconnect()
	}
	if l.rc.endErr() != nil {
		return nil // the realm is gone, and its listeners with it
	}
	return err
}
