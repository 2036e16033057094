package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/extbridge/extbridge/bridge"
)

// record is one line of -json output. Its field names are stable (the
// README's CLI section lists them); a field that does not apply to the kind
// is left out.
type record struct {
	Time string `json:"time"`
	Kind string `json:"kind"` // open, message, disconnect, overflow, log (events); result, error (commands)

	Cmd  string `json:"cmd,omitempty"`  // result, error: the command
	Line int    `json:"line,omitempty"` // result, error: its line in a script

	Ext   *int   `json:"ext,omitempty"`   // the extension's index (-ext order)
	Realm string `json:"realm,omitempty"` // background, content or page
	URL   string `json:"url,omitempty"`   // the realm's URL; a tab's URL
	Top   *bool  `json:"top,omitempty"`   // content: in a top frame
	Tab   *int   `json:"tab,omitempty"`   // a tab id
	Frame *int   `json:"frame,omitempty"` // a frame id

	Port     int                   `json:"port,omitempty"`     // the port's id in this run
	Msg      int                   `json:"msg,omitempty"`      // message (onmessage), respond: the message's number in this run; send, response: its id in its realm
	Name     string                `json:"name,omitempty"`     // open: the port's name
	How      string                `json:"how,omitempty"`      // open: runtime.connect, tabs.connect, onConnect, onConnectExternal; send: runtime.sendMessage, tabs.sendMessage, onMessage, onMessageExternal, runtime.sendNativeMessage
	Target   string                `json:"target,omitempty"`   // send: the extension or native host it was sent to, if named
	ToTab    *int                  `json:"toTab,omitempty"`    // send via tabs.sendMessage: the tab it was sent to
	Sender   *bridge.MessageSender `json:"sender,omitempty"`   // open: runtime.MessageSender, on ends that have one
	ByGo     *bool                 `json:"byGo,omitempty"`     // open: Go opened or accepted this end
	Data     json.RawMessage       `json:"data,omitempty"`     // message: the message; eval: the value
	Outgoing *bool                 `json:"outgoing,omitempty"` // message: posted by this end (else received)
	Error    string                `json:"error,omitempty"`    // disconnect: the port's error; error: what failed
	Local    *bool                 `json:"local,omitempty"`    // disconnect: this end disconnected
	Dropped  int                   `json:"dropped,omitempty"`  // overflow: events lost
	Level    string                `json:"level,omitempty"`    // log: log, info, warn, error, debug, uncaught, unhandledrejection
	Text     string                `json:"text,omitempty"`     // log: what was logged

	Result any `json:"result,omitempty"` // result: what the command gives beyond the fields above (lists, status)
}

func ptr[T any](v T) *T { return &v }

func stamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

// eventRecord is the -json form of a watch event of extension ext, whose
// port has id port in this run (0: no port).
func eventRecord(ev bridge.Event, ext, port int) record {
	r := record{Time: stamp(ev.Time), Kind: string(ev.Kind), Ext: ptr(ext), Port: port}
	if ev.Kind != bridge.EventOverflow {
		r.Realm, r.URL = string(ev.Realm.Kind), ev.Realm.URL
		if ev.Realm.Kind == bridge.RealmContent {
			r.Top = ptr(ev.Realm.Top)
		}
		if ev.Realm.TabID >= 0 {
			r.Tab, r.Frame = ptr(ev.Realm.TabID), ptr(ev.Realm.FrameID)
		}
	}
	switch ev.Kind {
	case bridge.EventOpen:
		r.Name, r.How, r.Sender, r.ByGo = ev.Name, string(ev.How), ev.Sender, ptr(ev.ByGo)
		if r.Name == "" && ev.Port != nil {
			r.Name = ev.Port.Name()
		}
	case bridge.EventMessage:
		r.Data, r.Outgoing = ev.Data, ptr(ev.Outgoing)
	case bridge.EventDisconnect:
		r.Local = ptr(ev.Local)
		if ev.Err != nil {
			r.Error = portErrText(ev.Err)
		}
	case bridge.EventSend:
		r.Msg, r.How, r.Data, r.Sender, r.Target = int(ev.MessageID), string(ev.How), ev.Data, ev.Sender, ev.Target
		if ev.How == bridge.HowTabsSendMessage {
			r.ToTab = ptr(ev.TabID)
		}
	case bridge.EventResponse:
		r.Msg, r.Data = int(ev.MessageID), ev.Data
		if ev.Err != nil {
			r.Error = sendErrText(ev.Err)
		}
	case bridge.EventOverflow:
		r.Dropped = ev.Dropped
	case bridge.EventLog:
		r.Level, r.Text = string(ev.Level), ev.Text
	}
	return r
}

// eventText is the human form of a watch event: like [bridge.Event.String],
// with the port's id in this run, after the extension's name (label) when
// there are several.
func eventText(ev bridge.Event, label string, port int) string {
	where := string(ev.Realm.Kind)
	if ev.Realm.Kind != bridge.RealmBackground && ev.Realm.URL != "" {
		where += " " + ev.Realm.URL
	}
	name := ""
	if ev.Port != nil {
		name = fmt.Sprintf("port %d %q", port, ev.Port.Name())
	}
	if label != "" {
		label = "[" + label + "] "
	}
	head := fmt.Sprintf("%s%s %s", label, ev.Time.Format("15:04:05.000"), where)
	switch ev.Kind {
	case bridge.EventOpen:
		s := fmt.Sprintf("%s %s open via %s", head, name, ev.How)
		if ev.Sender != nil {
			s += " from " + senderText(ev.Sender)
		}
		return s
	case bridge.EventMessage:
		dir := "<-"
		if ev.Outgoing {
			dir = "->"
		}
		return fmt.Sprintf("%s %s %s %s", head, name, dir, ev.Data)
	case bridge.EventDisconnect:
		s := fmt.Sprintf("%s %s disconnected", head, name)
		if ev.Local {
			s += " (by this end)"
		}
		if ev.Err != nil {
			s += ": " + portErrText(ev.Err)
		}
		return s
	case bridge.EventSend:
		s := fmt.Sprintf("%s message #%d via %s", head, ev.MessageID, ev.How)
		if ev.Target != "" {
			s += " to " + ev.Target
		}
		if ev.How == bridge.HowTabsSendMessage {
			s += fmt.Sprintf(" to tab %d", ev.TabID)
		}
		if ev.Sender != nil {
			s += " from " + senderText(ev.Sender)
		}
		return s + ": " + string(ev.Data)
	case bridge.EventResponse:
		switch {
		case ev.Err != nil:
			return fmt.Sprintf("%s message #%d failed: %s", head, ev.MessageID, sendErrText(ev.Err))
		case ev.Data == nil:
			return fmt.Sprintf("%s message #%d answered with no response", head, ev.MessageID)
		}
		return fmt.Sprintf("%s message #%d answered: %s", head, ev.MessageID, ev.Data)
	case bridge.EventOverflow:
		return fmt.Sprintf("%s%s %d events lost", label, ev.Time.Format("15:04:05.000"), ev.Dropped)
	case bridge.EventLog:
		return fmt.Sprintf("%s console.%s: %s", head, ev.Level, ev.Text)
	}
	return head + " " + string(ev.Kind)
}

// portErrText is why a port ended: the browser's own text for a
// *bridge.DisconnectError ("Could not establish connection. …"), without
// the "port disconnected" the line already says.
func portErrText(err error) string {
	var de *bridge.DisconnectError
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// sendErrText is why a one-off message failed: the browser's own text for a
// *bridge.SendError.
func sendErrText(err error) string {
	var se *bridge.SendError
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}

// senderText describes a runtime.MessageSender in a few words.
func senderText(s *bridge.MessageSender) string {
	var b strings.Builder
	b.WriteString(s.URL)
	if s.URL == "" {
		b.WriteString(s.ID)
	}
	if s.Tab != nil {
		fmt.Fprintf(&b, " (tab %d frame %d)", s.Tab.ID, s.FrameID)
	}
	return b.String()
}

// printer writes whole lines, human or JSON, from any goroutine. Its
// writer may be swapped (the line editor's, which redraws the prompt below
// what it prints).
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	err    error       // the first failed write
	onFail func(error) // called once, on the first failed write (a closed pipe)
}

// write writes b, and keeps the first error.
func (p *printer) write(b []byte) {
	if _, err := p.w.Write(b); err != nil && p.err == nil {
		p.err = err
		if p.onFail != nil {
			go p.onFail(err)
		}
	}
}

// failed is the first write error, or nil.
func (p *printer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// emit prints rec in -json mode and text otherwise.
func (p *printer) emit(rec record, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		if rec.Time == "" {
			rec.Time = stamp(time.Now())
		}
		line, err := json.Marshal(rec)
		if err != nil { // only a caller's bad RawMessage can do that
			line, _ = json.Marshal(record{Time: rec.Time, Kind: "error", Cmd: rec.Cmd, Error: "failed to encode output: " + err.Error()})
		}
		p.write(append(line, '\n'))
		return
	}
	if text == "" {
		return
	}
	p.write([]byte(strings.TrimSuffix(text, "\n") + "\n"))
}

// text prints human-only text (help, hints); -json mode leaves it out.
func (p *printer) text(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.json {
		p.write(fmt.Appendf(nil, strings.TrimSuffix(format, "\n")+"\n", a...))
	}
}

// setWriter swaps the writer.
func (p *printer) setWriter(w io.Writer) {
	p.mu.Lock()
	p.w = w
	p.mu.Unlock()
}
