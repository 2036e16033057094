package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/extbridge/extbridge/bridge"
)

// inboxEntry is an onmessage the shell added.
type inboxEntry struct {
	in    *bridge.Inbox
	ext   int
	where string
}

// jsonArg parses the JSON that is the rest of the line from argument i.
func jsonArg(c *call, i int) (json.RawMessage, error) {
	raw := c.rest(i)
	if !json.Valid([]byte(raw)) {
		var v any
		err := json.Unmarshal([]byte(raw), &v)
		return nil, fmt.Errorf("the message is not JSON (a string needs its quotes): %v", err)
	}
	return json.RawMessage(raw), nil
}

// sendResult is what send and tsend print: the response, or the browser's
// failure as the command's error.
func sendResult(ext int, rec record, resp json.RawMessage, err error) (result, error) {
	var se *bridge.SendError
	if errors.As(err, &se) {
		return result{}, fmt.Errorf("the browser says: %s", se.Message)
	}
	if err != nil {
		return result{}, err
	}
	rec.Data = resp
	return result{rec: rec, text: string(resp)}, nil
}

func cmdSend(ctx context.Context, s *shell, c *call) (result, error) {
	rc, ext, next, err := s.realm(ctx, c, func(int) int { return len(c.args) })
	if err != nil {
		return result{}, err
	}
	msg, err := jsonArg(c, next)
	if err != nil {
		return result{}, err
	}
	var resp json.RawMessage
	err = rc.SendMessage(ctx, msg, &resp)
	return sendResult(ext, realmRecord(ext, c), resp, err)
}

func cmdTsend(ctx context.Context, s *shell, c *call) (result, error) {
	tab, err := c.int(0)
	if err != nil {
		return result{}, err
	}
	var frame *int
	at := 1
	if c.args[1] == "frame" {
		f, err := c.int(2)
		if err != nil {
			return result{}, err
		}
		frame, at = &f, 3
	}
	msg, err := jsonArg(c, at)
	if err != nil {
		return result{}, err
	}
	ext, e, err := s.ext(c, len(c.args))
	if err != nil {
		return result{}, err
	}
	bg, err := e.Background(ctx)
	if err != nil {
		return result{}, err
	}
	var resp json.RawMessage
	err = bg.TabsSendMessage(ctx, tab, msg, frame, &resp)
	return sendResult(ext, record{Ext: ptr(ext), Realm: string(bridge.RealmBackground), Tab: ptr(tab), Frame: frame}, resp, err)
}

func cmdOnMessage(ctx context.Context, s *shell, c *call) (result, error) {
	rc, ext, _, err := s.realm(ctx, c, func(next int) int { return next })
	if err != nil {
		return result{}, err
	}
	in, err := rc.OnMessage(ctx)
	if err != nil {
		return result{}, err
	}
	where := rc.String()
	ie := &inboxEntry{in: in, ext: ext, where: where}
	s.mu.Lock()
	s.inboxes = append(s.inboxes, ie)
	if s.msgs == nil {
		s.msgs, s.taken, s.msgArrived = map[int]*bridge.Message{}, map[int]bool{}, make(chan struct{})
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			m, err := in.Next(s.ctx)
			if err != nil {
				s.mu.Lock()
				s.inboxes = slices.DeleteFunc(s.inboxes, func(x *inboxEntry) bool { return x == ie })
				s.mu.Unlock()
				if s.ctx.Err() == nil && err != bridge.ErrInboxClosed { // not closed by the shell
					rec := realmRecord(ext, c)
					rec.Kind, rec.Error = "listener", err.Error()
					s.out.emit(rec, fmt.Sprintf("the onmessage in %s ended: %v", where, err))
				}
				return
			}
			s.mu.Lock()
			s.nextMsg++
			n := s.nextMsg
			s.msgs[n] = m
			s.lastMsg = n
			close(s.msgArrived)
			s.msgArrived = make(chan struct{})
			s.mu.Unlock()
			how := "onMessage"
			if m.External {
				how = "onMessageExternal"
			}
			rec := realmRecord(ext, c)
			rec.Kind, rec.Msg, rec.How, rec.Sender, rec.Data = "message", n, how, m.Sender, m.Data
			from := ""
			if m.Sender != nil {
				from = " from " + m.Sender.URL
				if m.Sender.URL == "" {
					from = " from " + m.Sender.ID
				}
			}
			s.out.emit(rec, fmt.Sprintf("message %d (%s)%s: %s", n, how, from, m.Data))
		}
	}()
	return result{rec: realmRecord(ext, c), text: "receiving messages in " + where}, nil
}

func cmdRespond(ctx context.Context, s *shell, c *call) (result, error) {
	var n int
	var m *bridge.Message
	if c.args[0] == "next" {
		if s.interactive {
			s.out.text("waiting for a message (Ctrl-C stops)")
		}
		var err error
		if n, m, err = s.nextMessage(ctx); err != nil {
			return result{}, err
		}
	} else {
		var err error
		if n, err = c.int(0); err != nil {
			return result{}, err
		}
		s.mu.Lock()
		m = s.msgs[n]
		s.mu.Unlock()
		if m == nil {
			return result{}, fmt.Errorf("no message %d (onmessage numbers them)", n)
		}
	}
	v, err := jsonArg(c, 1)
	if err != nil {
		return result{}, err
	}
	if err := m.Respond(ctx, v); err != nil {
		return result{}, err
	}
	s.mu.Lock()
	delete(s.msgs, n)
	s.taken[n] = true
	s.mu.Unlock()
	return result{rec: record{Msg: n, Data: v}, text: fmt.Sprintf("answered message %d", n)}, nil
}

// nextMessage waits for the oldest message that no respond took yet.
func (s *shell) nextMessage(ctx context.Context) (int, *bridge.Message, error) {
	for {
		s.mu.Lock()
		n, m := 0, (*bridge.Message)(nil)
		for k, v := range s.msgs {
			if !s.taken[k] && (n == 0 || k < n) {
				n, m = k, v
			}
		}
		if m != nil {
			s.taken[n] = true
		}
		ch := s.msgArrived
		s.mu.Unlock()
		if m != nil {
			return n, m, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, nil, fmt.Errorf("no message arrived: %w", ctx.Err())
		}
	}
}
