package bridge

import (
	"encoding/json"
	"sync"
	"time"
)

// defaultCloseTimeout bounds the clean-up calls of Close methods, which take
// no context.
const defaultCloseTimeout = 5 * time.Second

// EventKind says what happened to a port.
type EventKind string

// The kinds of [Event].
const (
	EventOpen       EventKind = "open"       // a port end opened in a realm
	EventMessage    EventKind = "message"    // a message went in or out of a port end
	EventDisconnect EventKind = "disconnect" // a port end ended
)

// Event is one thing that happened to a port end in a realm of the extension.
type Event struct {
	Time     time.Time
	Kind     EventKind
	Port     *Port
	How      string          // open: runtime.connect, tabs.connect, onConnect or onConnectExternal
	Name     string          // open: the port's name
	Sender   *MessageSender  // open: the sender, on ends that have one
	Data     json.RawMessage // message: the message
	Outgoing bool            // message: posted by this end (else received)
	Err      error           // disconnect: the error, nil for a clean end
	Local    bool            // disconnect: this end called disconnect
}

// historySize bounds the events an extension keeps.
const historySize = 4096

// history is a bounded ring of an extension's port events.
type history struct {
	mu      sync.Mutex
	events  []Event
	start   int
	dropped int
}

func (h *history) add(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) < historySize {
		h.events = append(h.events, ev)
		return
	}
	h.events[h.start] = ev
	h.start = (h.start + 1) % historySize
	h.dropped++
}

func (e *Extension) record(ev Event) {
	ev.Time = time.Now()
	e.history.add(ev)
}
