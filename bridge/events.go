package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// EventKind says what happened to a port.
type EventKind string

// The kinds of [Event].
const (
	EventOpen       EventKind = "open"       // a port end opened in a realm
	EventMessage    EventKind = "message"    // a message went in or out of a port end
	EventDisconnect EventKind = "disconnect" // a port end ended
	EventOverflow   EventKind = "overflow"   // Dropped events were lost: the history or the watch fell behind
	EventLog        EventKind = "log"        // the extension's code wrote to the console or threw an uncaught error
)

// Realm names the realm an event happened in.
type Realm struct {
	Kind string // "background", "content" or "page"
	URL  string // the realm's document or worker URL
	Top  bool   // content: the realm is in a top frame
}

// Event is one thing that happened to a port end in a realm of the extension.
type Event struct {
	Time     time.Time
	Kind     EventKind
	Realm    Realm
	Port     *Port           // the mirror of the port end: Go can post, disconnect and Recv as that end
	How      string          // open: "runtime.connect", "tabs.connect", "onConnect" or "onConnectExternal"
	Name     string          // open: the port's name
	Sender   *MessageSender  // open: the sender, on ends that have one
	ByGo     bool            // open: Go opened or accepted this end
	Data     json.RawMessage // message: the message
	Outgoing bool            // message: posted by this end (else received by it)
	Err      error           // disconnect: the error, nil for a clean end
	Local    bool            // disconnect: this end called disconnect
	Dropped  int             // overflow: how many events were lost
	Level    string          // log: "log", "info", "warn", "error", "debug", "uncaught" or "unhandledrejection"
	Text     string          // log: the arguments, strings as they are and other values as JSON
}

// String renders the event on one line.
func (ev Event) String() string {
	where := ev.Realm.Kind
	if ev.Realm.Kind != "background" && ev.Realm.URL != "" {
		where += " " + ev.Realm.URL
	}
	name := ""
	if ev.Port != nil {
		name = fmt.Sprintf("%q#%d", ev.Port.name, ev.Port.id)
	}
	ts := ev.Time.Format("15:04:05.000")
	switch ev.Kind {
	case EventOpen:
		s := fmt.Sprintf("%s %s open %s via %s", ts, where, name, ev.How)
		if ev.Sender != nil {
			s += fmt.Sprintf(" from %s", ev.Sender.URL)
			if ev.Sender.Tab != nil {
				s += fmt.Sprintf(" (tab %d frame %d)", ev.Sender.Tab.ID, ev.Sender.FrameID)
			}
		}
		return s
	case EventMessage:
		dir := "<-"
		if ev.Outgoing {
			dir = "->"
		}
		return fmt.Sprintf("%s %s %s %s %s", ts, where, name, dir, ev.Data)
	case EventDisconnect:
		s := fmt.Sprintf("%s %s %s disconnected", ts, where, name)
		if ev.Local {
			s += " (by this end)"
		}
		if ev.Err != nil {
			s += ": " + ev.Err.Error()
		}
		return s
	case EventOverflow:
		return fmt.Sprintf("%s %d events lost", ts, ev.Dropped)
	case EventLog:
		return fmt.Sprintf("%s %s console.%s: %s", ts, where, ev.Level, ev.Text)
	}
	return ts + " " + string(ev.Kind)
}

// HistorySize is how many port events an extension keeps for watches that
// start later. Older events are dropped, and a Watch reports the gap as an
// [EventOverflow] event.
const HistorySize = 8192

// history is a bounded log of an extension's port events with absolute
// sequence numbers, so each watch keeps its own cursor.
type history struct {
	mu     sync.Mutex
	events []Event // ring
	first  int64   // seq of the oldest event kept
	next   int64   // seq of the next event
	wake   chan struct{}
	closed bool
}

func (h *history) add(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.events == nil {
		h.events = make([]Event, HistorySize)
	}
	h.events[h.next%HistorySize] = ev
	h.next++
	if h.next-h.first > HistorySize {
		h.first = h.next - HistorySize
	}
	if h.wake != nil {
		close(h.wake)
		h.wake = nil
	}
}

func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.wake != nil {
		close(h.wake)
		h.wake = nil
	}
}

func (e *Extension) record(ev Event) {
	ev.Time = time.Now()
	e.history.add(ev)
}

// ErrWatchClosed is returned by [Watch.Next] after [Watch.Close].
var ErrWatchClosed = errors.New("extbridge: watch closed")

// Watch follows every port event of an extension, in every realm, from the
// extension's first instruction, with the extension's console output and
// uncaught errors ([EventLog]) in between: it starts with the events kept since
// launch (at most [HistorySize]) and goes on with new ones. Events come in
// the order they happened within each realm.
//
// The bridge reports the extension's own port traffic and console output in
// batches, off the extension's critical path: within about 4 ms while a Watch
// of the extension is open, and within 50 ms (or at 1 MiB) while none is,
// which is cheaper for an extension nobody watches. Opening a Watch makes
// every realm send what it holds at once. Events of ports Go opened or
// accepted are never delayed. A page sends what it holds when it is hidden,
// and [Extension.StopBackground] takes the background's; only a realm that
// dies abruptly (a crash) can take its last batch with it.
//
// A Watch is safe for concurrent use; each event goes to one Next call.
type Watch struct {
	e      *Extension
	mu     sync.Mutex
	cursor int64
	closed bool
	stop   chan struct{}
}

// Watch starts a watch at the oldest event the extension kept.
func (e *Extension) Watch(ctx context.Context) (*Watch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.history.mu.Lock()
	first := e.history.first
	e.history.mu.Unlock()
	e.setWatching(+1)
	return &Watch{e: e, cursor: first, stop: make(chan struct{})}, nil
}

// Next returns the next event, waiting for one. If events were lost since
// the last one (the history or this watch fell behind), it first returns an
// [EventOverflow] event that counts them. The Port of an open event starts
// queueing what it receives when Next returns it, so [Port.Recv] works on it.
func (w *Watch) Next(ctx context.Context) (Event, error) {
	h := &w.e.history
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return Event{}, ErrWatchClosed
		}
		h.mu.Lock()
		if w.cursor < h.first {
			lost := h.first - w.cursor
			w.cursor = h.first
			h.mu.Unlock()
			w.mu.Unlock()
			return Event{Time: time.Now(), Kind: EventOverflow, Dropped: int(lost)}, nil
		}
		if w.cursor < h.next {
			ev := h.events[w.cursor%HistorySize]
			w.cursor++
			h.mu.Unlock()
			w.mu.Unlock()
			if ev.Kind == EventOpen && ev.Port != nil {
				ev.Port.claim()
			}
			return ev, nil
		}
		if h.closed {
			h.mu.Unlock()
			w.mu.Unlock()
			return Event{}, fmt.Errorf("extbridge: watch ended: the browser session ended")
		}
		if h.wake == nil {
			h.wake = make(chan struct{})
		}
		wake := h.wake
		h.mu.Unlock()
		w.mu.Unlock()
		select {
		case <-wake:
		case <-w.stop:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Close ends the watch; a Next that waits returns [ErrWatchClosed]. It is
// idempotent.
func (w *Watch) Close() error {
	w.mu.Lock()
	first := !w.closed
	if first {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	if first {
		w.e.setWatching(-1)
	}
	return nil
}
