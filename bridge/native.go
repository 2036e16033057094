package bridge

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/native"
	"github.com/extbridge/extbridge/internal/queue"
)

// HowNativeHost is the How of the host end of a native port that Go serves
// (driver's Browser.NativeHost): the browser started the host for a
// runtime.connectNative or a runtime.sendNativeMessage of the extension.
// As for a real host, nothing tells the two apart: a sendNativeMessage is a
// port that carries one message each way.
const HowNativeHost How = "nativeHost"

// NativeBacklog is how many connections to one Go-served native host may
// wait in its [Listener] for Accept. They wait until they are accepted,
// the listener is closed or the browser ends: the extension sees an open
// port, or a sendNativeMessage that has not settled, as with a host that
// does not answer (neither browser has a timeout). One more connection is
// refused: its relay exits, and the extension sees the host exit.
const NativeBacklog = 64

// realmNative is the realm kind of a native-messaging relay, the host end
// of a native port Go serves. It is not a realm of the extension: its
// events are on no Watch (the extension's own end of the port is).
const realmNative RealmKind = "native"

// nativeHosts are the native hosts Go serves in one launch, by name.
type nativeHosts struct {
	mu     sync.Mutex
	hosts  map[string]*Listener
	closed error // why the session ended

	accepted chan<- string // tests: told the host of each connection that went to a listener
}

// ServeNative makes Go the native host name: connections to it wait for
// NativeHost.
func (s *session) ServeNative(name string) {
	s.native.mu.Lock()
	defer s.native.mu.Unlock()
	if s.native.hosts == nil {
		s.native.hosts = map[string]*Listener{}
	}
	if s.native.hosts[name] == nil {
		s.native.hosts[name] = s.newNativeListener(name)
	}
}

// newNativeListener is the listener of host name; s.native.mu is held.
func (s *session) newNativeListener(name string) *Listener {
	l := &Listener{ports: queue.New[*Port](0)}
	l.host = name
	l.unlisten = func() {
		// Connections that come after Close are refused until NativeHost
		// opens the host again.
		s.native.mu.Lock()
		defer s.native.mu.Unlock()
		if s.native.hosts[name] == l {
			s.native.hosts[name] = nil
		}
	}
	return l
}

// NativeHost returns the listener of a host Go serves, opening a new one if
// the last was closed.
func (s *session) NativeHost(name string) (any, error) {
	s.native.mu.Lock()
	defer s.native.mu.Unlock()
	l, ok := s.native.hosts[name]
	if !ok {
		return nil, fmt.Errorf("native host %q is not served by Go", name)
	}
	if s.native.closed != nil {
		return nil, fmt.Errorf("failed to serve native host %q: %w", name, s.native.closed)
	}
	if l == nil {
		l = s.newNativeListener(name)
		s.native.hosts[name] = l
	}
	return l, nil
}

// Wire is the hub's address and token, for the relays.
func (s *session) Wire() (url, token string) { return s.hub.URL(), s.hub.Token() }

// shutdownNative ends the listeners of the Go-served hosts with cause.
func (s *session) shutdownNative(cause error) {
	s.native.mu.Lock()
	if s.native.closed == nil {
		s.native.closed = cause
	}
	var ls []*Listener
	for _, l := range s.native.hosts {
		if l != nil {
			ls = append(ls, l)
		}
	}
	s.native.mu.Unlock()
	for _, l := range ls {
		l.end(cause)
	}
}

// acceptNative takes the connection of a relay: the browser started the
// host hi.Host for one of the launch's extensions. The host end of the
// native port is port 1 of the connection, delivered to the host's
// listener.
func (s *session) acceptNative(c *hub.Conn) (hub.Handler, error) {
	hi := c.Hello()
	id, origin := native.Sender(hi.Args)
	e := s.extensionByID(id)
	if e == nil {
		return nil, fmt.Errorf("native host %q: started for %q (arguments %q), which is no extension of this launch", hi.Host, id, hi.Args)
	}
	if origin == "" {
		origin = e.origin()
	}
	sender := &MessageSender{ID: e.ID(), Origin: origin}
	if origin != "" {
		sender.URL = origin + "/"
	}
	rc := newRealmConn(s, e, c)
	p := newPort(rc, 1, hi.Host, sender, HowNativeHost)
	p.mode = portRead // Accept hands it to Go: keep everything from the start
	rc.ports[1] = p

	// The check of the backlog and the delivery are one step, so that it
	// never holds more than NativeBacklog.
	s.native.mu.Lock()
	defer s.native.mu.Unlock()
	l, served := s.native.hosts[hi.Host]
	switch {
	case !served:
		return nil, fmt.Errorf("native host %q is not served by Go", hi.Host)
	case s.native.closed != nil:
		return nil, fmt.Errorf("native host %q: %w", hi.Host, s.native.closed)
	case l == nil:
		return nil, fmt.Errorf("native host %q: its listener is closed", hi.Host)
	case l.ports.Len() >= NativeBacklog:
		return nil, fmt.Errorf("native host %q: %d connections wait already", hi.Host, NativeBacklog)
	}
	l.deliver(p)
	if s.native.accepted != nil {
		s.native.accepted <- hi.Host
	}
	return nativeConn{rc}, nil
}

// nativeConn is the hub.Handler of a relay: a realmConn whose clean end
// means the extension's side went away, unless the browser died.
type nativeConn struct{ *realmConn }

// Frame handles the relay's frames as a realm's. The relay reports the end
// of its stdin as a clean disconnect; the browser closes it when the
// extension disconnects, when a sendNativeMessage got its answer, and also
// when the browser dies, which is then the port's error.
func (n nativeConn) Frame(f *hub.Frame) {
	if f.T == hub.FrameDisconnect && f.E == "" && n.s.browserExited() {
		n.mu.Lock()
		p := n.ports[f.P]
		delete(n.ports, f.P)
		n.mu.Unlock()
		if p != nil {
			p.finish(&DisconnectError{Message: ErrBrowserExited.Error(), cause: ErrBrowserExited})
		}
		return
	}
	n.realmConn.Frame(f)
}

// extensionByID returns the launch's extension with this id, or nil.
func (s *session) extensionByID(id string) *Extension {
	s.mu.Lock()
	exts := slices.Clone(s.exts)
	s.mu.Unlock()
	for _, e := range exts {
		if id != "" && e.ID() == id {
			return e
		}
	}
	return nil
}

// origin is the extension's origin as a realm of it sees it
// (moz-extension://UUID in Firefox), or "" before any realm connected.
func (e *Extension) origin() string {
	for _, rc := range e.realms() {
		if u, err := url.Parse(rc.realm().URL); err == nil && u.Scheme != "" && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return ""
}

// ConnectNative opens a native port from this realm with
// runtime.connectNative(host), as the extension's own code would: Go holds
// the extension's end, and the browser starts the host (a real program, or
// Go through driver's Browser.NativeHost). The Port's Name is the host's
// name (Chromium's own port.name is ""). The extension needs the
// nativeMessaging permission, and the realm must be one where the browser
// offers connectNative (the background or an extension page; not a content
// script). A host the browser cannot start still gives a port, which then
// ends with the browser's error, as in the browser.
func (c *Context) ConnectNative(ctx context.Context, host string) (*Port, error) {
	return c.open(ctx, HowConnectNative, hub.ConnectNative{Host: host})
}
