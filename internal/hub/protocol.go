package hub

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Hello is the first frame of every connection.
type Hello struct {
	T     string `json:"t"`     // "hello"
	Token string `json:"token"` // the launch's token
	Ext   int    `json:"ext"`   // the extension's index in the launch
	Realm string `json:"realm"` // "background", "content", "page" or "native"
	ID    string `json:"id"`    // the realm instance's random id
	URL   string `json:"url"`   // the realm's document or worker URL
	Top   bool   `json:"top"`   // the realm is in a top-level frame
	RID   string `json:"rid"`   // runtime.id as the realm sees it
	Tab   *int   `json:"tab"`   // the tab of an extension page, when it knows
	Frame *int   `json:"frame"` // the frame id, when the realm knows

	// The ids of Go's listeners the realm (a background) added by itself,
	// before the extension's first event, from what it kept of the last
	// background (see Listen).
	Armed []int `json:"armed"`

	// A native-messaging relay: the host's name and the arguments the
	// browser started it with.
	Host string   `json:"host"`
	Args []string `json:"args"`
}

// The kinds of [Frame], its T field.
const (
	FrameReply      = "r"    // I, and OK or Err: the reply to a call
	FrameOpen       = "open" // P, How, Name, Sender, Go, Target, Tab: a port end opened
	FrameMessage    = "msg"  // P, D: a port end received a message
	FrameOut        = "out"  // P, D: the extension's own code posted on a port end
	FrameDisconnect = "disc" // P, E, Self: a port end ended
	FramePostError  = "perr" // P, E: the browser refused a message Go posted
	FrameAccept     = "acc"  // L, P: a Go listener received the port P
	FrameLog        = "log"  // Level, Text: console output or an uncaught error
	// Tab, Frame: where the realm is, once it learns it after its hello
	// (an extension page from tabs.getCurrent and, in Firefox,
	// runtime.getFrameId; a Firefox content script its frame). A field the
	// realm does not know is absent.
	FrameWhere = "where"

	// One-off messages.
	FrameInbox    = "inbox" // L, M, D, Sender, Ext: a Go onMessage listener L received message M
	FrameSend     = "send"  // S, How, D, Target, Tab, Sender: the extension's own code sent a message, or a listener of its got one
	FrameResponse = "resp"  // S, D or E: the response to message S, or its failure
)

// Frame is one frame a realm sends after its hello: an event, or the reply
// to a call. Which fields are set depends on T (see the Frame* constants).
type Frame struct {
	T      string          `json:"t"`
	I      int64           `json:"i"`
	OK     json.RawMessage `json:"ok"`
	Err    *string         `json:"err"`
	P      int             `json:"p"`
	L      int             `json:"l"`
	D      json.RawMessage `json:"d"`
	E      string          `json:"e"`
	Self   bool            `json:"self"`
	How    string          `json:"how"`
	Name   string          `json:"name"`
	Sender json.RawMessage `json:"sender"` // a runtime.MessageSender
	Go     bool            `json:"go"`     // open: Go opened or accepted this end
	Target string          `json:"target"` // open: runtime.connect's extensionId
	Level  string          `json:"level"`
	Text   string          `json:"text"`
	M      int64           `json:"m"`     // inbox: the message's id, for Respond
	S      int64           `json:"s"`     // send, resp: the message's id in the realm
	Ext    bool            `json:"ext"`   // inbox: it came to onMessageExternal
	Tab    *int            `json:"tab"`   // send: tabs.sendMessage's tab; where, open of tabs.connect: a tab id
	Frame  *int            `json:"frame"` // where: the realm's frame id
	NoResp bool            `json:"nr"`    // resp: the send resolved with no response (undefined)
}

// Command is a command Go sends to a realm with [Conn.Call]. Each command
// type is one of the structs below; the realm answers with a reply frame.
type Command interface {
	command() string
}

// Connect is runtime.connect from the realm; the reply is the new port's id.
type Connect struct {
	Name string `json:"name"`
	Ext  string `json:"ext,omitempty"` // another extension's id
	TLS  bool   `json:"tls,omitempty"` // includeTlsChannelId
}

// TabsConnect is tabs.connect from the realm; the reply is the port's id.
type TabsConnect struct {
	Tab   int    `json:"tab"`
	Name  string `json:"name"`
	Frame *int   `json:"frame,omitempty"`
}

// Listen adds runtime.onConnect and onConnectExternal listeners that report
// their ports as accepted by listener L. A background keeps the ids of its
// listeners where its next incarnation can read them at once (Firefox's
// event page: localStorage) and adds them again before the extension's first
// event. With Replay, the realm also reports as accepted the ports the
// extension's own listeners received since the realm started: Go adds the
// listeners again after the background restarted, and Go's listener would
// have received them too.
type Listen struct {
	L      int  `json:"l"`
	Replay bool `json:"replay,omitempty"`
}

// Unlisten removes the listeners of Listen.
type Unlisten struct {
	L int `json:"l"`
}

// LocateRealm asks the background which bridge realm runs in the
// content-script world of a tab's frame, injecting the bridge there if the
// page predates it; the reply is the realm's id.
type LocateRealm struct {
	Tab   int `json:"tab"`
	Frame int `json:"frame"`
}

// Frames asks the background for webNavigation.getAllFrames of a tab; the
// reply is a list of {id, parent, url}.
type Frames struct {
	Tab int `json:"tab"`
}

// DebuggerTargets asks the background for chrome.debugger.getTargets; the
// reply is a list of {id, tab} for the targets that are tabs.
type DebuggerTargets struct{}

// Flush makes the realm send the events it holds; the reply comes after
// them.
type Flush struct{}

// SendMessage is runtime.sendMessage from the realm: to its own extension,
// or with Ext to another. The reply is a [SendResult].
type SendMessage struct {
	Ext string          `json:"ext,omitempty"`
	Msg json.RawMessage `json:"msg"`
}

// TabsSendMessage is tabs.sendMessage from the realm; the reply is a
// [SendResult].
type TabsSendMessage struct {
	Tab   int             `json:"tab"`
	Msg   json.RawMessage `json:"msg"`
	Frame *int            `json:"frame,omitempty"`
}

// SendResult is the reply to SendMessage and TabsSendMessage: the response
// (V, absent when the response is undefined) or the browser's failure (E).
type SendResult struct {
	V json.RawMessage `json:"v"`
	E *string         `json:"e"`
}

// OnMessage adds runtime.onMessage and onMessageExternal listeners that
// report their messages as received by inbox L.
type OnMessage struct {
	L int `json:"l"`
}

// OffMessage removes the listeners of OnMessage.
type OffMessage struct {
	L int `json:"l"`
}

// Respond calls sendResponse of the message M an inbox received.
type Respond struct {
	M int64           `json:"m"`
	D json.RawMessage `json:"d"`
}

func (SendMessage) command() string     { return "send" }
func (TabsSendMessage) command() string { return "tsend" }
func (OnMessage) command() string       { return "onmessage" }
func (OffMessage) command() string      { return "offmessage" }
func (Respond) command() string         { return "respond" }
func (Connect) command() string         { return "connect" }
func (TabsConnect) command() string     { return "tconnect" }
func (Listen) command() string          { return "listen" }
func (Unlisten) command() string        { return "unlisten" }
func (LocateRealm) command() string     { return "realm" }
func (Frames) command() string          { return "frames" }
func (DebuggerTargets) command() string { return "targets" }
func (Flush) command() string           { return "flush" }

// envelope is how a command travels: {"c": name, "i": id, "a": args}.
type envelope struct {
	C string  `json:"c"`
	I int64   `json:"i"`
	A Command `json:"a"`
}

// encodeCall encodes a command with its request id.
func encodeCall(id int64, cmd Command) ([]byte, error) {
	data, err := json.Marshal(envelope{C: cmd.command(), I: id, A: cmd})
	if err != nil {
		return nil, fmt.Errorf("failed to encode the %s command: %w", cmd.command(), err)
	}
	return data, nil
}

// Frames Go sends without a reply. They are written by hand: a post is the
// most frequent frame, and its data is already JSON.

// EncodePost returns {"c":"post","p":P,"d":DATA}: post DATA on port P.
func EncodePost(p int, data []byte) []byte {
	frame := make([]byte, 0, len(data)+32)
	frame = append(frame, `{"c":"post","p":`...)
	frame = strconv.AppendInt(frame, int64(p), 10)
	frame = append(frame, `,"d":`...)
	frame = append(frame, data...)
	return append(frame, '}')
}

// EncodeDisconnect returns {"c":"disc","p":P}: disconnect port P.
func EncodeDisconnect(p int) []byte {
	return append(strconv.AppendInt([]byte(`{"c":"disc","p":`), int64(p), 10), '}')
}

// EncodeRelease returns {"c":"release","p":P}: port P reached a Go
// listener that no longer exists; the realm keeps it for the extension's
// own listener, or disconnects it when no listener of the extension took it.
func EncodeRelease(p int) []byte {
	return append(strconv.AppendInt([]byte(`{"c":"release","p":`), int64(p), 10), '}')
}

// Watch frames tell a realm whether a Watch is open, which sets how soon it
// reports the extension's own events.
var (
	WatchOn  = []byte(`{"c":"watch","on":true}`)
	WatchOff = []byte(`{"c":"watch","on":false}`)
)
