package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
)

// backlogLimit bounds the messages a port keeps for recv; older ones go.
const backlogLimit = 10000

// shell is the state of one `extbridge run` session: the browser, the tabs
// it opened, the ports it knows (numbered 1, 2, … in the order it first
// saw them), its listeners and watches.
type shell struct {
	b           *driver.Browser // nil in unit tests
	l           *launched
	out         *printer
	timeout     time.Duration
	interactive bool            // on a terminal: say what a command waits for
	ctx         context.Context // ends when the session ends
	stopAll     context.CancelFunc
	wg          sync.WaitGroup // the goroutines that read ports, listeners, watches
	complete    time.Duration  // bound for the browser calls of Tab completion
	ids         portIDs        // the ports' numbers

	mu        sync.Mutex
	ports     map[int]*portEntry
	tabs      map[int]*tabEntry
	listeners []*listenEntry
	watches   map[int]*bridge.Watch // by extension index
	curExt    int
	lastTab   int
	lastPort  int

	inboxes    []*inboxEntry
	msgs       map[int]*bridge.Message // the one-off messages Go's inboxes got, by number, until answered
	nextMsg    int
	lastMsg    int
	taken      map[int]bool  // messages a respond took
	msgArrived chan struct{} // closed and replaced when a message arrives
}

// tabEntry is a tab the shell opened.
type tabEntry struct {
	t   *driver.Tab
	url string
}

// listenEntry is a listener the shell added.
type listenEntry struct {
	l     *bridge.Listener
	ext   int
	where string
}

// portEntry is a port the shell knows: one Go opened or accepted (byGo),
// or one of the extension's own that a watch showed.
type portEntry struct {
	n     int
	p     *bridge.Port
	ext   int
	how   string
	where string // the realm, as the library describes it
	byGo  bool
	base  record      // -json: where the port is (ext, realm, tab, frame)
	local atomic.Bool // the shell disconnected it

	mu      sync.Mutex
	backlog []json.RawMessage // received, not yet taken by recv
	ended   bool
	wake    chan struct{} // closed when backlog or ended changes
}

func newShell(ctx context.Context, l *launched, out *printer, timeout time.Duration) *shell {
	ctx, cancel := context.WithCancel(ctx)
	s := &shell{
		l: l, out: out, timeout: timeout, ctx: ctx, stopAll: cancel,
		complete: 2 * time.Second,
		ports:    map[int]*portEntry{}, ids: portIDs{m: map[*bridge.Port]int{}},
		tabs: map[int]*tabEntry{}, watches: map[int]*bridge.Watch{},
	}
	if l != nil {
		s.b = l.b
	}
	return s
}

// close ends the session's goroutines; the caller closes the browser.
func (s *shell) close() {
	s.stopAll()
	s.mu.Lock()
	for _, le := range s.listeners {
		le.l.Close()
	}
	for _, ie := range s.inboxes {
		ie.in.Close()
	}
	for _, w := range s.watches {
		w.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// exts lists the browser's extensions (none in unit tests).
func (s *shell) exts() []*bridge.Extension {
	if s.b == nil {
		return nil
	}
	return s.b.Extensions()
}

// portID gives p its number in this session, the first time it is seen.
func (s *shell) portID(p *bridge.Port) (n int, isNew bool) { return s.ids.id(p) }

// addPort registers a port and starts reading it. For Go's own ports
// (byGo) the shell prints what arrives; the extension's ports are shown by
// the watch, so their messages are only kept for recv.
func (s *shell) addPort(p *bridge.Port, ext int, how string, byGo bool, rec record) *portEntry {
	n, isNew := s.portID(p)
	s.mu.Lock()
	if !isNew && s.ports[n] != nil {
		pe := s.ports[n]
		s.mu.Unlock()
		return pe
	}
	rec.Ext = ptr(ext)
	base := record{Ext: rec.Ext, Realm: rec.Realm, URL: rec.URL, Top: rec.Top, Tab: rec.Tab, Frame: rec.Frame}
	pe := &portEntry{n: n, p: p, ext: ext, how: how, byGo: byGo, where: p.String(), base: base, wake: make(chan struct{})}
	s.ports[n] = pe
	if byGo {
		s.lastPort = n
	}
	s.mu.Unlock()
	if byGo {
		rec.Kind, rec.Port, rec.Name, rec.How, rec.Sender, rec.ByGo = "open", n, p.Name(), how, p.Sender(), ptr(true)
		text := fmt.Sprintf("port %d %q (%s)", n, p.Name(), how)
		if snd := p.Sender(); snd != nil {
			text += " from " + senderText(snd)
		}
		s.out.emit(rec, text)
	}
	s.wg.Add(1)
	go s.readPort(pe)
	return pe
}

func (s *shell) readPort(pe *portEntry) {
	defer s.wg.Done()
	for {
		m, err := pe.p.Recv(s.ctx)
		if err != nil {
			pe.mu.Lock()
			pe.ended = true
			close(pe.wake)
			pe.wake = make(chan struct{})
			pe.mu.Unlock()
			if errors.Is(err, bridge.ErrDisconnected) && pe.byGo {
				rec := pe.base
				rec.Kind, rec.Port, rec.Local = "disconnect", pe.n, ptr(pe.local.Load())
				text := fmt.Sprintf("port %d disconnected", pe.n)
				if pe.local.Load() {
					text += " (by this end)"
				}
				if e := pe.p.Err(); e != nil {
					rec.Error = portErrText(e)
					text += ": " + rec.Error
				}
				s.out.emit(rec, text)
			}
			return
		}
		pe.mu.Lock()
		pe.backlog = append(pe.backlog, m)
		if len(pe.backlog) > backlogLimit {
			pe.backlog = pe.backlog[len(pe.backlog)-backlogLimit:]
		}
		close(pe.wake)
		pe.wake = make(chan struct{})
		pe.mu.Unlock()
		if pe.byGo {
			rec := pe.base
			rec.Kind, rec.Port, rec.Data, rec.Outgoing = "message", pe.n, m, ptr(false)
			s.out.emit(rec, fmt.Sprintf("port %d <- %s", pe.n, m))
		}
	}
}

// recv takes the first message of the port's backlog that contains text
// (any, if text is ""), dropping those before it, waiting for one; waiting
// (if not nil) is called once when it has to wait.
func (pe *portEntry) recv(ctx context.Context, text string, waiting func()) (json.RawMessage, error) {
	for {
		pe.mu.Lock()
		for i, m := range pe.backlog {
			if text == "" || containsText(m, text) {
				pe.backlog = pe.backlog[i+1:]
				pe.mu.Unlock()
				return m, nil
			}
		}
		pe.backlog = nil
		ended, wake := pe.ended, pe.wake
		pe.mu.Unlock()
		if ended {
			if err := pe.p.Err(); err != nil {
				return nil, fmt.Errorf("port %d disconnected before a message came: %s", pe.n, portErrText(err))
			}
			return nil, fmt.Errorf("port %d disconnected before a message came", pe.n)
		}
		if waiting != nil {
			waiting()
			waiting = nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// openPorts lists the ports that have not ended, by number.
func (s *shell) openPorts() []*portEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*portEntry
	for _, pe := range s.ports {
		select {
		case <-pe.p.Done():
			continue
		default:
		}
		out = append(out, pe)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out
}

// port finds a port by number; it may have ended.
func (s *shell) port(n int) (*portEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pe := s.ports[n]
	if pe == nil {
		return nil, fmt.Errorf("no port %d (ports lists them)", n)
	}
	return pe, nil
}

// portArg is the port a command's first argument names.
func (s *shell) portArg(c *call) (int, *portEntry, error) {
	n, err := c.int(0)
	if err != nil {
		return 0, nil, err
	}
	pe, err := s.port(n)
	return n, pe, err
}

// tabIDs lists the tabs the shell opened.
func (s *shell) tabIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(s.tabs))
	for id := range s.tabs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// watchExt starts showing the events of extension i's own ports.
func (s *shell) watchExt(i int) error {
	s.mu.Lock()
	if s.watches[i] != nil {
		s.mu.Unlock()
		return fmt.Errorf("extension %d is watched already", i)
	}
	s.mu.Unlock()
	e := s.exts()[i]
	w, err := e.Watch(s.ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.watches[i] = w
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		goPorts := map[*bridge.Port]bool{} // the shell shows its own ports
		for {
			ev, err := w.Next(s.ctx)
			if err != nil {
				return
			}
			if ev.Kind == bridge.EventOpen && ev.ByGo {
				goPorts[ev.Port] = true
			}
			if ev.Port != nil && goPorts[ev.Port] {
				if ev.Kind == bridge.EventDisconnect {
					delete(goPorts, ev.Port)
				}
				continue
			}
			n := 0
			if ev.Port != nil {
				n, _ = s.portID(ev.Port)
				if ev.Kind == bridge.EventOpen {
					s.addPort(ev.Port, i, string(ev.How), false, record{})
				}
			}
			s.out.emit(eventRecord(ev, i, n), eventText(ev, label(len(s.exts()), e.Name()), n))
		}
	}()
	return nil
}

// watched reports whether extension i is watched.
func (s *shell) watched(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watches[i] != nil
}

// label is the name of an extension in watch output: "" when it is the
// only one of exts.
func label(exts int, name string) string {
	if exts < 2 {
		return ""
	}
	return name
}

// unwatchExt stops showing extension i's events.
func (s *shell) unwatchExt(i int) error {
	s.mu.Lock()
	w := s.watches[i]
	delete(s.watches, i)
	s.mu.Unlock()
	if w == nil {
		return fmt.Errorf("extension %d is not watched", i)
	}
	return w.Close()
}
