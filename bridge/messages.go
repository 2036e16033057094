package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/queue"
)

// SendError is the failure of a one-off message, with the browser's own
// text: "Could not establish connection. Receiving end does not exist." when
// nobody listens, "The message port closed before a response was received."
// when a listener got it but none answered, and so on (Firefox's texts
// differ; see the package doc).
type SendError struct {
	Message string // the browser's text
}

// Error says the message failed, with the browser's text.
func (e *SendError) Error() string { return "extbridge: the message failed: " + e.Message }

// SendMessage sends msg from this realm with runtime.sendMessage, as the
// extension's own code would: to the extension's other realms (the
// background, its pages; not content scripts, and never back to this
// realm). It returns once the response arrives and JSON-decodes it into out
// (out may be nil; a response of undefined decodes as null). A message
// nobody answers fails with a [*SendError] carrying the browser's text. A
// msg JSON cannot encode is an error before anything is sent.
func (c *Context) SendMessage(ctx context.Context, msg, out any) error {
	return c.SendMessageTo(ctx, "", msg, out)
}

// SendMessageTo is [Context.SendMessage] to another extension, as
// runtime.sendMessage(extensionID, msg) does: its
// runtime.onMessageExternal listeners receive it. An empty extensionID
// sends to this extension.
func (c *Context) SendMessageTo(ctx context.Context, extensionID string, msg, out any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("failed to send from %s: the message is not JSON: %w", c, err)
	}
	return c.send(ctx, "runtime.sendMessage", hub.SendMessage{Ext: extensionID, Msg: data}, out)
}

// TabsSendMessage sends msg from this realm to the content scripts of a tab
// with tabs.sendMessage: to every frame's, or with frameID to one frame's.
// The first response wins, as in the browser. It works where tabs.sendMessage
// exists: the background and extension pages.
func (c *Context) TabsSendMessage(ctx context.Context, tabID int, msg any, frameID *int, out any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("failed to send from %s: the message is not JSON: %w", c, err)
	}
	return c.send(ctx, "tabs.sendMessage", hub.TabsSendMessage{Tab: tabID, Msg: data, Frame: frameID}, out)
}

// send runs a sendMessage command and decodes the response. The wait for
// the response is bounded by ctx alone: a listener may take its time.
func (c *Context) send(ctx context.Context, how string, cmd hub.Command, out any) error {
	if len(cmdMessage(cmd)) > maxMessage {
		return fmt.Errorf("failed to %s from %s: the message is %d bytes, more than the %d the browser accepts", how, c, len(cmdMessage(cmd)), maxMessage)
	}
	rc, err := c.realm(ctx)
	if err != nil {
		return fmt.Errorf("failed to %s from %s: %w", how, c, err)
	}
	raw, err := rc.c.Call(ctx, cmd, nil)
	if err != nil {
		return fmt.Errorf("failed to %s from %s: %w", how, c, err)
	}
	var res hub.SendResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("failed to %s from %s: the bridge answered %s", how, c, raw)
	}
	if res.E != nil {
		return &SendError{Message: *res.E}
	}
	if out == nil {
		return nil
	}
	v := res.V
	if len(v) == 0 {
		v = json.RawMessage("null")
	}
	if err := json.Unmarshal(v, out); err != nil {
		return fmt.Errorf("failed to decode the response to %s from %s: %w", how, c, err)
	}
	return nil
}

func cmdMessage(cmd hub.Command) json.RawMessage {
	switch c := cmd.(type) {
	case hub.SendMessage:
		return c.Msg
	case hub.TabsSendMessage:
		return c.Msg
	}
	return nil
}

// OnMessage adds runtime.onMessage and runtime.onMessageExternal listeners
// in this realm; the messages they receive come out of [Inbox.Next], and Go
// answers with [Message.Respond]. The extension's own listeners keep
// working beside them.
//
// Go's listener keeps the message channel open for Go to answer, as a
// listener that answers later does (it returns true in Chromium, a promise
// in Firefox): the sender waits until Go responds, another listener answers
// first, or the realm goes away. A message Go never responds to leaves its
// sender waiting, as a real listener that never answers would. Like any
// listener, it makes sends to this realm reach a receiver that would
// otherwise fail with "Receiving end does not exist".
//
// The listeners live as [Context.Listen]'s do: in the background they move
// to the next service worker or event page when the browser stops one.
func (c *Context) OnMessage(ctx context.Context) (*Inbox, error) {
	rc, err := c.realm(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to listen for messages in %s: %w", c, err)
	}
	in := &Inbox{slot: c.ext.newSlot(c.kind == RealmBackground), messages: queue.New[*Message](0)}
	if err := rc.addInbox(in); err != nil {
		return nil, fmt.Errorf("failed to listen for messages in %s: %w", c, err)
	}
	if in.background {
		c.ext.arm(in.id, in)
	}
	if err := call(ctx, rc, hub.OnMessage{L: in.id}, nil); err != nil {
		_ = in.Close()
		return nil, fmt.Errorf("failed to listen for messages in %s: %w", c, err)
	}
	return in, nil
}

// ErrInboxClosed is returned by [Inbox.Next] after [Inbox.Close], and
// wrapped by the error Next returns once the inbox's realm has gone.
var ErrInboxClosed = errors.New("extbridge: inbox closed")

// ErrResponded is returned by [Message.Respond] for a message that was
// already responded to.
var ErrResponded = errors.New("extbridge: the message was already responded to")

// Inbox receives the one-off messages sent to a realm, like a
// runtime.onMessage listener. It is safe for concurrent use; each message
// goes to one Next call.
type Inbox struct {
	slot
	messages *queue.Queue[*Message]
}

// Message is a one-off message an [Inbox] received.
type Message struct {
	Data     json.RawMessage // the message, as JSON
	Sender   *MessageSender  // who sent it, as the browser reports it
	External bool            // it arrived on onMessageExternal: another extension sent it

	rc        *realmConn // where it arrived
	id        int64
	responded atomic.Bool
}

// Next returns the next message, in order, waiting for one. After the realm
// goes away it returns the messages already queued, then an error that
// wraps [ErrInboxClosed] and the cause; after Close, ErrInboxClosed.
func (in *Inbox) Next(ctx context.Context) (*Message, error) {
	if in.closed.Load() {
		return nil, ErrInboxClosed
	}
	return in.messages.Pop(ctx)
}

// Close removes the listeners from the realm. Messages that arrived and
// were not responded to stay unanswered. It is idempotent.
func (in *Inbox) Close() error {
	if !in.closed.CompareAndSwap(false, true) {
		return nil
	}
	in.messages.Close(ErrInboxClosed)
	in.messages.Drain()
	return in.remove(hub.OffMessage{L: in.id})
}

func (in *Inbox) joinRealm(rc *realmConn) error { return rc.addInbox(in) }

// rearm is the command that adds the listeners in a new background.
func (in *Inbox) rearm() hub.Command { return hub.OnMessage{L: in.id} }

func (in *Inbox) end(cause error) {
	in.messages.Close(&endedError{what: "inbox", sentinel: ErrInboxClosed, cause: cause})
}

// Respond answers the message, as the listener's sendResponse(v) does: the
// sender's sendMessage resolves with v. A message takes one response: a
// second Respond returns [ErrResponded], and so does a response after
// another listener answered first (the browser then ignores it). A v JSON
// cannot encode is an error, and the message can still be answered.
func (m *Message) Respond(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to respond: the response is not JSON: %w", err)
	}
	if !m.responded.CompareAndSwap(false, true) {
		return ErrResponded
	}
	var answered bool
	if err := call(ctx, m.rc, hub.Respond{M: m.id, D: data}, &answered); err != nil {
		return fmt.Errorf("failed to respond in %s: %w", m.rc.describe(), err)
	}
	if !answered {
		return ErrResponded
	}
	return nil
}
