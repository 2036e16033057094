package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/extbridge/extbridge/internal/hub"
)

// realmConn is one bridge realm's connection: it turns the realm's frames
// into the state of the ports and listeners that live in it. It is the
// connection's [hub.Handler].
type realmConn struct {
	s    *session
	ext  *Extension
	c    *hub.Conn
	info Realm

	mu        sync.Mutex
	ports     map[int]*Port
	opened    map[int]*Port // ports Go opened, until the call that opened them takes them
	listeners map[int]*Listener
	inboxes   map[int]*Inbox
	ended     bool
	endErr    error // why it ended, once ended

	// armed is closed once a background realm has every Go listener of
	// the extension's backgrounds added again (see Extension.rearm); it
	// is closed from the start for the other realms.
	armed chan struct{}
}

func newRealmConn(s *session, e *Extension, c *hub.Conn) *realmConn {
	hi := c.Hello()
	info := Realm{Kind: RealmKind(hi.Realm), URL: hi.URL, Top: hi.Top, ID: hi.ID, TabID: -1, FrameID: -1}
	if hi.Tab != nil {
		info.TabID = *hi.Tab
	}
	if hi.Frame != nil {
		info.FrameID = *hi.Frame
	} else if hi.Top && info.Kind != RealmBackground {
		info.FrameID = 0
	}
	rc := &realmConn{
		s:         s,
		ext:       e,
		c:         c,
		info:      info,
		ports:     make(map[int]*Port),
		opened:    make(map[int]*Port),
		listeners: make(map[int]*Listener),
		inboxes:   make(map[int]*Inbox),
		armed:     make(chan struct{}),
	}
	if info.Kind != RealmBackground {
		close(rc.armed)
	}
	return rc
}

// describe names the realm for error messages.
func (rc *realmConn) describe() string {
	switch rc.info.Kind {
	case RealmBackground:
		return "the background of " + rc.ext.label()
	case RealmContent:
		return fmt.Sprintf("the content script of %s in %s", rc.ext.label(), rc.info.URL)
	case realmNative:
		return fmt.Sprintf("the native host %q that Go serves for %s", rc.c.Hello().Host, rc.ext.label())
	default:
		return fmt.Sprintf("the extension page %s", rc.info.URL)
	}
}

// realm is the realm's identity as events carry it.
func (rc *realmConn) realm() Realm {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.info
}

// located records the tab and frame of a content realm, once Go learns them.
func (rc *realmConn) located(tab, frame int) {
	rc.mu.Lock()
	rc.info.TabID, rc.info.FrameID = tab, frame
	rc.mu.Unlock()
}

func (rc *realmConn) port(id int) *Port {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.ports[id]
}

func (rc *realmConn) forgetPort(p *Port) {
	rc.mu.Lock()
	if rc.ports[p.id] == p {
		delete(rc.ports, p.id)
	}
	delete(rc.opened, p.id)
	rc.mu.Unlock()
}

// takeOpened returns the port Go opened with this id.
func (rc *realmConn) takeOpened(id int) *Port {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	p := rc.opened[id]
	delete(rc.opened, id)
	return p
}

// errEnded is the error of adding listeners to a realm that ended.
// The caller holds rc.mu; the error is the one Ended decided.
func (rc *realmConn) errEnded() error { return rc.endErr }

// addListener puts l in the realm.
func (rc *realmConn) addListener(l *Listener) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.ended {
		return rc.errEnded()
	}
	rc.listeners[l.id] = l
	l.setRealm(rc)
	return nil
}

// addInbox puts in in the realm.
func (rc *realmConn) addInbox(in *Inbox) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.ended {
		return rc.errEnded()
	}
	rc.inboxes[in.id] = in
	in.setRealm(rc)
	return nil
}

func (rc *realmConn) forgetListener(id int) {
	rc.mu.Lock()
	delete(rc.listeners, id)
	delete(rc.inboxes, id)
	rc.mu.Unlock()
}

// later runs f off the read loop, for what may block on the wire.
func (rc *realmConn) later(f func()) {
	rc.s.wg.Add(1)
	go func() {
		defer rc.s.wg.Done()
		f()
	}()
}

// Frame handles one frame of the realm, on its read loop.
func (rc *realmConn) Frame(f *hub.Frame) {
	switch f.T {
	case hub.FrameOpen:
		sender := decodeSender(f.Sender)
		p := newPort(rc, f.P, f.Name, sender, How(f.How))
		if f.Go {
			p.mode = portRead // before any message can arrive
		}
		rc.mu.Lock()
		old := rc.ports[f.P]
		rc.ports[f.P] = p
		if f.Go {
			rc.opened[f.P] = p
		}
		rc.mu.Unlock()
		if old != nil { // a bridge never reuses an id; end the old port rather than lose it
			old.finish(&DisconnectError{Message: fmt.Sprintf("the bridge reused port id %d", f.P)})
		}
		rc.ext.record(Event{Kind: EventOpen, Realm: rc.realm(), Port: p, How: How(f.How), Name: f.Name, Sender: sender, ByGo: f.Go})
	case hub.FrameMessage:
		if p := rc.port(f.P); p != nil {
			d := f.D
			if len(d) == 0 {
				d = json.RawMessage("null")
			}
			p.deliver(d)
			rc.ext.record(Event{Kind: EventMessage, Realm: rc.realm(), Port: p, Data: d})
		}
	case hub.FrameOut:
		if p := rc.port(f.P); p != nil {
			rc.ext.record(Event{Kind: EventMessage, Realm: rc.realm(), Port: p, Data: f.D, Outgoing: true})
		}
	case hub.FrameDisconnect:
		rc.mu.Lock()
		p := rc.ports[f.P]
		delete(rc.ports, f.P)
		rc.mu.Unlock()
		if p != nil {
			var err error
			if f.E != "" {
				err = &DisconnectError{Message: f.E}
			}
			p.finish(err)
			rc.ext.record(Event{Kind: EventDisconnect, Realm: rc.realm(), Port: p, Err: err, Local: f.Self})
		}
	case hub.FrameLog:
		rc.ext.record(Event{Kind: EventLog, Realm: rc.realm(), Level: LogLevel(f.Level), Text: f.Text})
	case hub.FrameWhere:
		rc.mu.Lock()
		if f.Tab != nil {
			rc.info.TabID = *f.Tab
		}
		if f.Frame != nil {
			rc.info.FrameID = *f.Frame
		}
		rc.mu.Unlock()
	case hub.FramePostError:
		if p := rc.port(f.P); p != nil {
			p.setPostErr(&DisconnectError{Message: f.E})
		}
	case hub.FrameInbox:
		rc.mu.Lock()
		in := rc.inboxes[f.L]
		rc.mu.Unlock()
		if in != nil {
			in.messages.Push(&Message{Data: orNull(f.D), Sender: decodeSender(f.Sender), External: f.Ext, rc: rc, id: f.M})
		}
	case hub.FrameSend:
		rc.ext.record(Event{Kind: EventSend, Realm: rc.realm(), How: How(f.How), Data: orNull(f.D), Sender: decodeSender(f.Sender), MessageID: f.S, Target: f.Target, TabID: tabOf(f.Tab)})
	case hub.FrameResponse:
		ev := Event{Kind: EventResponse, Realm: rc.realm(), MessageID: f.S}
		switch {
		case f.E != "":
			ev.Err = &SendError{Message: f.E}
		case f.NoResp:
		default:
			ev.Data = orNull(f.D)
		}
		rc.ext.record(ev)
	case hub.FrameAccept:
		rc.mu.Lock()
		l := rc.listeners[f.L]
		p := rc.ports[f.P]
		rc.mu.Unlock()
		switch {
		case l != nil && p != nil:
			p.read()
			l.deliver(p)
		case p != nil:
			// The listener was closed while the port was on its way (or a
			// background added it again from storage after Go closed it):
			// Go lets the port go, and the realm keeps it for the
			// extension's own listener or disconnects it if it has none.
			rc.later(func() { p.release() })
		}
	}
}

// Ended ends every port and listener of the realm: the connection ended
// with cause. It returns the error the realm's ports and calls report.
func (rc *realmConn) Ended(cause error) error {
	err := rc.closeCause(cause)
	rc.mu.Lock()
	rc.ended = true
	rc.endErr = err
	ports := rc.ports
	rc.ports = map[int]*Port{}
	rc.opened = map[int]*Port{}
	listeners := rc.listeners
	rc.listeners = map[int]*Listener{}
	inboxes := rc.inboxes
	rc.inboxes = map[int]*Inbox{}
	rc.mu.Unlock()

	// The extension forgets the realm before anyone waiting on it wakes, so
	// Background never hands out a realm that has ended.
	rc.ext.removeRealm(rc)
	realm := rc.realm()
	for _, p := range ports {
		de := &DisconnectError{Message: err.Error(), cause: err}
		p.finish(de)
		rc.ext.record(Event{Kind: EventDisconnect, Realm: realm, Port: p, Err: de})
	}
	// The background's listeners wait for the next background; the others
	// end with their realm.
	for _, l := range listeners {
		if l.background {
			l.leave(rc)
		} else {
			l.end(err)
		}
	}
	for _, in := range inboxes {
		if in.background {
			in.leave(rc)
		} else {
			in.end(err)
		}
	}
	return err
}

// decodeSender decodes a runtime.MessageSender, or returns nil for none.
func decodeSender(raw json.RawMessage) *MessageSender {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	s := new(MessageSender)
	if json.Unmarshal(raw, s) != nil {
		return nil
	}
	return s
}

// orNull is d, or null for none.
func orNull(d json.RawMessage) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("null")
	}
	return d
}

// tabOf is *t, or -1.
func tabOf(t *int) int {
	if t == nil {
		return -1
	}
	return *t
}

// closeCause says why a realm's wire closed: the browser's death, else
// with a close frame the realm going away by itself, else a broken
// connection. A cause Go gave (Shutdown, Close) is kept as it is.
func (rc *realmConn) closeCause(cause error) error {
	var we *hub.WireError
	if !errors.As(cause, &we) {
		return cause
	}
	var what string
	switch rc.info.Kind {
	case RealmBackground:
		what = "stopped (the service worker or background page ended)"
	case RealmContent:
		what = "went away (the page was closed, navigated or its frame removed)"
	default:
		what = "closed"
	}
	// The realm may have gone with the whole browser (its network process
	// may still send a close frame as it dies). Then say that.
	if rc.s.browserExited() {
		return ErrBrowserExited
	}
	if hub.Clean(cause) {
		return fmt.Errorf("%s %s", rc.describe(), what)
	}
	return fmt.Errorf("%s %s: %w", rc.describe(), what, we.Err)
}
