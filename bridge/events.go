package bridge

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventKind says what happened.
type EventKind string

// The kinds of [Event].
const (
	EventOpen       EventKind = "open"       // a port end opened in a realm
	EventMessage    EventKind = "message"    // a message went in or out of a port end
	EventDisconnect EventKind = "disconnect" // a port end ended
	EventOverflow   EventKind = "overflow"   // Dropped events were lost: the history or the watch fell behind
	EventLog        EventKind = "log"        // the extension's code wrote to the console or threw an uncaught error
	EventSend       EventKind = "send"       // a one-off message was sent, or delivered to a listener (How says which)
	EventResponse   EventKind = "response"   // the response to a one-off message (Data), or its failure (Err)
)

// RealmKind is the kind of a realm.
type RealmKind string

// The kinds of realm.
const (
	RealmBackground RealmKind = "background" // the service worker, event page or background page
	RealmContent    RealmKind = "content"    // a content-script world in one frame
	RealmPage       RealmKind = "page"       // an extension page: a popup, options page, or any page of the extension in a tab or frame
)

// How says how a port end came to be.
type How string

// The ways a port end opens.
const (
	HowConnect           How = "runtime.connect"   // this end called runtime.connect
	HowTabsConnect       How = "tabs.connect"      // this end called tabs.connect
	HowOnConnect         How = "onConnect"         // this end was delivered to runtime.onConnect
	HowOnConnectExternal How = "onConnectExternal" // … to runtime.onConnectExternal

	HowSendMessage       How = "runtime.sendMessage"       // send: this realm called runtime.sendMessage
	HowTabsSendMessage   How = "tabs.sendMessage"          // send: … tabs.sendMessage
	HowOnMessage         How = "onMessage"                 // send: a runtime.onMessage listener of this realm got the message
	HowOnMessageExternal How = "onMessageExternal"         // send: … a runtime.onMessageExternal listener
	HowConnectNative     How = "runtime.connectNative"     // open: this realm called runtime.connectNative (Name: the host)
	HowSendNativeMessage How = "runtime.sendNativeMessage" // send: … runtime.sendNativeMessage (Target: the host)
)

// LogLevel is the console method of an [EventLog], or how an error went
// uncaught.
type LogLevel string

// The levels of [EventLog].
const (
	LogLog                LogLevel = "log"
	LogInfo               LogLevel = "info"
	LogWarn               LogLevel = "warn"
	LogError              LogLevel = "error"
	LogDebug              LogLevel = "debug"
	LogUncaught           LogLevel = "uncaught"           // an error no code caught
	LogUnhandledRejection LogLevel = "unhandledrejection" // a promise rejection nobody handled
)

// Realm names the realm an event happened in. Two realms can have the same
// URL (an extension page open in a tab and in a frame): ID tells them apart.
type Realm struct {
	Kind    RealmKind // background, content or page
	URL     string    // the realm's document or worker URL
	Top     bool      // the realm is in a top-level frame
	ID      string    // the realm instance's id, unique for the launch
	TabID   int       // the tab of a content script or page, -1 where none or not known
	FrameID int       // the frame in that tab (0: the top frame), -1 where none or not known
}

// String names the realm briefly: its kind, URL, tab and frame, and id.
func (r Realm) String() string {
	s := string(r.Kind)
	if r.Kind != RealmBackground && r.URL != "" {
		s += " " + r.URL
	}
	if r.TabID >= 0 {
		s += fmt.Sprintf(" (tab %d frame %d)", r.TabID, r.FrameID)
	}
	if len(r.ID) >= 6 {
		s += " #" + r.ID[:6]
	}
	return s
}

// Event is one thing that happened in a realm of the extension.
type Event struct {
	Time     time.Time       // when Go learnt of it
	Kind     EventKind       // what happened
	Realm    Realm           // where it happened
	Port     *Port           // the mirror of the port end: Go can post, disconnect and Recv as that end
	How      How             // open: how the end opened
	Name     string          // open: the port's name
	Sender   *MessageSender  // open: the sender, on ends that have one
	ByGo     bool            // open: Go opened or accepted this end
	Data     json.RawMessage // message: the message
	Outgoing bool            // message: posted by this end (else received by it)
	Err      error           // disconnect: the error, nil for a clean end
	Local    bool            // disconnect: this end called disconnect
	Dropped  int             // overflow: how many events were lost
	Level    LogLevel        // log: the console method, or how an error went uncaught
	Text     string          // log: the arguments, strings as they are and other values as JSON

	// MessageID ties a one-off message's EventSend to its EventResponse: the
	// same id, in the same realm (Realm.ID).
	MessageID int64
	Target    string // send: the extension (sendMessage) or native host (sendNativeMessage) it was sent to, if named
	TabID     int    // send via tabs.sendMessage: the tab it was sent to
}

// String renders the event on one line.
func (ev Event) String() string {
	where := ev.Realm.String()
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
	case EventSend:
		s := fmt.Sprintf("%s %s message #%d via %s", ts, where, ev.MessageID, ev.How)
		if ev.Target != "" {
			s += " to " + ev.Target
		}
		if ev.How == HowTabsSendMessage {
			s += fmt.Sprintf(" to tab %d", ev.TabID)
		}
		if ev.Sender != nil {
			s += " from " + ev.Sender.URL
		}
		return s + ": " + string(ev.Data)
	case EventResponse:
		if ev.Err != nil {
			return fmt.Sprintf("%s %s message #%d failed: %v", ts, where, ev.MessageID, ev.Err)
		}
		if ev.Data == nil {
			return fmt.Sprintf("%s %s message #%d answered with no response", ts, where, ev.MessageID)
		}
		return fmt.Sprintf("%s %s message #%d answered: %s", ts, where, ev.MessageID, ev.Data)
	case EventOverflow:
		return fmt.Sprintf("%s %d events lost", ts, ev.Dropped)
	case EventLog:
		return fmt.Sprintf("%s %s console.%s: %s", ts, where, ev.Level, ev.Text)
	}
	return ts + " " + string(ev.Kind)
}
