package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/extbridge/extbridge/bridge"
)

// ext resolves the optional EXT argument i: the extension and its index.
func (s *shell) ext(c *call, i int) (int, *bridge.Extension, error) {
	s.mu.Lock()
	def := s.curExt
	s.mu.Unlock()
	n, err := c.intOr(i, def)
	if err != nil {
		return 0, nil, err
	}
	exts := s.exts()
	if n < 0 || n >= len(exts) {
		return 0, nil, fmt.Errorf("no extension %d (there are %d; exts lists them)", n, len(exts))
	}
	return n, exts[n], nil
}

// realmWords is how many words name the realm at the start of a call:
// "bg", "cs TAB FRAME", "page TAB" or "popup".
func realmWords(c *call) int {
	switch c.args[0] {
	case "cs", "content":
		return 3
	case "page":
		return 2
	}
	return 1
}

// realm resolves the realm at the start of the arguments — the background
// (bg), the content script of a frame (cs TAB FRAME), the extension page
// shown in a tab (page TAB) or the open action popup (popup) — of the
// extension at argument extAt(next), where next is the first argument after
// the realm. It returns the realm, the extension's index and next.
func (s *shell) realm(ctx context.Context, c *call, extAt func(next int) int) (*bridge.Context, int, int, error) {
	next := realmWords(c)
	i, e, err := s.ext(c, extAt(next))
	if err != nil {
		return nil, 0, 0, err
	}
	var rc *bridge.Context
	switch c.args[0] {
	case "bg", "background":
		rc, err = e.Background(ctx)
	case "cs", "content":
		tab, terr := c.int(1)
		frame, ferr := c.int(2)
		if err = errors.Join(terr, ferr); err == nil {
			rc, err = e.ContentScript(ctx, tab, frame)
		}
	case "page":
		var tab int
		if tab, err = c.int(1); err == nil {
			rc, err = e.Page(ctx, tab)
		}
	case "popup":
		rc, err = e.Popup(ctx)
	default:
		err = fmt.Errorf("no realm %q (bg, cs, page or popup)", c.args[0])
	}
	return rc, i, next, err
}

// realmRecord names the realm of a call for -json.
func realmRecord(ext int, c *call) record {
	r := record{Ext: ptr(ext)}
	switch c.args[0] {
	case "bg", "background":
		r.Realm = string(bridge.RealmBackground)
	case "cs", "content":
		tab, _ := c.int(1)
		frame, _ := c.int(2)
		r.Realm, r.Tab, r.Frame = string(bridge.RealmContent), ptr(tab), ptr(frame)
	case "page":
		tab, _ := c.int(1)
		r.Realm, r.Tab = string(bridge.RealmPage), ptr(tab)
	case "popup":
		r.Realm = string(bridge.RealmPage)
	}
	return r
}

func cmdConnect(ctx context.Context, s *shell, c *call) (result, error) {
	if c.args[0] == "native" {
		return cmdConnectNative(ctx, s, c)
	}
	rc, ext, next, err := s.realm(ctx, c, func(next int) int { return next + 1 })
	if err != nil {
		return result{}, err
	}
	p, err := rc.Connect(ctx, bridge.ConnectInfo{Name: c.args[next]})
	if err != nil {
		return result{}, err
	}
	pe := s.addPort(p, ext, "runtime.connect", true, realmRecord(ext, c))
	return result{rec: record{Port: pe.n, Name: p.Name(), Ext: ptr(ext)}}, nil
}

func cmdTconnect(ctx context.Context, s *shell, c *call) (result, error) {
	tab, err := c.int(0)
	if err != nil {
		return result{}, err
	}
	info := bridge.ConnectInfo{Name: c.args[1]}
	if c.has(2) {
		fr, err := c.int(2)
		if err != nil {
			return result{}, err
		}
		info.FrameID = &fr
	}
	ext, e, err := s.ext(c, 3)
	if err != nil {
		return result{}, err
	}
	bg, err := e.Background(ctx)
	if err != nil {
		return result{}, err
	}
	p, err := bg.TabsConnect(ctx, tab, info)
	if err != nil {
		return result{}, err
	}
	pe := s.addPort(p, ext, "tabs.connect", true, record{Realm: "background", Tab: ptr(tab), Frame: info.FrameID})
	return result{rec: record{Port: pe.n, Name: p.Name(), Ext: ptr(ext), Tab: ptr(tab)}}, nil
}

func cmdListen(ctx context.Context, s *shell, c *call) (result, error) {
	if c.args[0] == "native" {
		return cmdListenNative(s, c)
	}
	rc, ext, _, err := s.realm(ctx, c, func(next int) int { return next })
	if err != nil {
		return result{}, err
	}
	l, err := rc.Listen(ctx)
	if err != nil {
		return result{}, err
	}
	where := rc.String()
	le := &listenEntry{l: l, ext: ext, where: where}
	s.mu.Lock()
	s.listeners = append(s.listeners, le)
	s.mu.Unlock()
	s.serve(le, func(p *bridge.Port) { s.addPort(p, ext, string(p.How()), true, record{}) }, func(err error) {
		rec := realmRecord(ext, c)
		rec.Kind, rec.Error = "listener", err.Error()
		s.out.emit(rec, fmt.Sprintf("the listener in %s ended: %v", where, err))
	})
	return result{rec: realmRecord(ext, c), text: "listening in " + where}, nil
}

func cmdPost(ctx context.Context, s *shell, c *call) (result, error) {
	n, pe, err := s.portArg(c)
	if err != nil {
		return result{}, err
	}
	raw := c.rest(1)
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return result{}, fmt.Errorf("the message is not JSON (a string needs quotes: %q): %v", raw, err)
	}
	if err := pe.p.PostMessage(ctx, v); err != nil {
		return result{}, err
	}
	data, _ := json.Marshal(v)
	rec := pe.base
	rec.Kind, rec.Port, rec.Data, rec.Outgoing = "message", n, data, ptr(true)
	s.out.emit(rec, fmt.Sprintf("port %d -> %s", n, data))
	return result{rec: record{Port: n}}, nil
}

func cmdRecv(ctx context.Context, s *shell, c *call) (result, error) {
	n, pe, err := s.portArg(c)
	if err != nil {
		return result{}, err
	}
	var waiting func()
	if s.interactive {
		waiting = func() { s.out.text("waiting for a message on port %d (Ctrl-C stops)", n) }
	}
	m, err := pe.recv(ctx, c.rest(1), waiting)
	if err != nil {
		return result{}, err
	}
	// The message, as eval prints a value: it may have been printed as it
	// came, long before this recv took it.
	return result{rec: record{Port: n, Data: m}, text: string(m)}, nil
}

// containsText reports whether a message's JSON contains text.
func containsText(m json.RawMessage, text string) bool {
	return strings.Contains(string(m), text)
}

func cmdDisconnect(_ context.Context, s *shell, c *call) (result, error) {
	n, pe, err := s.portArg(c)
	if err != nil {
		return result{}, err
	}
	select {
	case <-pe.p.Done():
		return result{}, fmt.Errorf("port %d has disconnected already", n)
	default:
	}
	text := "" // Go's own ports say it when they end, and a watch shows the others
	if !pe.byGo && !s.watched(pe.ext) {
		text = fmt.Sprintf("port %d disconnected", n)
	}
	pe.local.Store(true)
	return result{rec: record{Port: n}, text: text}, pe.p.Disconnect()
}

// portItem is a port in the -json result of ports and status.
type portItem struct {
	Port  int    `json:"port"`
	Name  string `json:"name"`
	How   string `json:"how"`
	Ext   int    `json:"ext"`
	Where string `json:"where"`
	ByGo  bool   `json:"byGo"`
}

func (s *shell) portItems() ([]portItem, string) {
	var items []portItem
	var b strings.Builder
	for _, pe := range s.openPorts() {
		items = append(items, portItem{Port: pe.n, Name: pe.p.Name(), How: pe.how, Ext: pe.ext, Where: pe.where, ByGo: pe.byGo})
		owner := ""
		if !pe.byGo {
			owner = " (the extension's)"
		}
		fmt.Fprintf(&b, "port %d: %s%s\n", pe.n, pe.where, owner)
	}
	if len(items) == 0 {
		b.WriteString("no open ports\n")
	}
	return items, strings.TrimSuffix(b.String(), "\n")
}

func cmdPorts(_ context.Context, s *shell, _ *call) (result, error) {
	items, text := s.portItems()
	return result{rec: record{Result: map[string]any{"ports": nonNil(items)}}, text: text}, nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// cmdConnectNative is `connect native HOST [EXT]`: runtime.connectNative
// from the background.
func cmdConnectNative(ctx context.Context, s *shell, c *call) (result, error) {
	ext, e, err := s.ext(c, 2)
	if err != nil {
		return result{}, err
	}
	bg, err := e.Background(ctx)
	if err != nil {
		return result{}, err
	}
	p, err := bg.ConnectNative(ctx, c.args[1])
	if err != nil {
		return result{}, err
	}
	pe := s.addPort(p, ext, string(bridge.HowConnectNative), true, record{Realm: string(bridge.RealmBackground)})
	return result{rec: record{Port: pe.n, Name: p.Name(), Ext: ptr(ext)}}, nil
}

// cmdListenNative is `listen native HOST`: the shell serves the native
// host HOST; each connection is a port.
func cmdListenNative(s *shell, c *call) (result, error) {
	if s.b == nil {
		return result{}, errors.New("no browser")
	}
	host := c.args[1]
	l, err := s.b.NativeHost(host)
	if err != nil {
		return result{}, err
	}
	where := fmt.Sprintf("native host %q", host)
	s.mu.Lock()
	for _, le := range s.listeners {
		if le.l == l {
			s.mu.Unlock()
			return result{}, fmt.Errorf("the shell serves native host %q already", host)
		}
	}
	le := &listenEntry{l: l, ext: -1, where: where}
	s.listeners = append(s.listeners, le)
	s.mu.Unlock()
	take := func(p *bridge.Port) {
		ext := -1
		for i, e := range s.exts() {
			if snd := p.Sender(); snd != nil && e.ID() == snd.ID {
				ext = i
			}
		}
		s.addPort(p, ext, string(p.How()), true, record{Realm: "native"})
	}
	// The connections that waited for the shell get their numbers now, so
	// that a script's next command finds them ($port).
	waited, cancel := context.WithCancel(s.ctx)
	cancel()
	for {
		p, err := l.Accept(waited)
		if err != nil {
			break
		}
		take(p)
	}
	s.serve(le, take, func(err error) {
		s.out.emit(record{Kind: "listener", Name: host, Error: err.Error()}, fmt.Sprintf("the %s ended: %v", where, err))
	})
	return result{rec: record{Name: host}, text: "serving " + where}, nil
}

// serve hands each port le's listener accepts to take, until the listener
// ends; ended hears why, unless the shell or its user closed it.
func (s *shell) serve(le *listenEntry, take func(*bridge.Port), ended func(error)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			p, err := le.l.Accept(s.ctx)
			if err != nil {
				s.mu.Lock()
				s.listeners = slices.DeleteFunc(s.listeners, func(x *listenEntry) bool { return x == le })
				s.mu.Unlock()
				if s.ctx.Err() == nil && !errors.Is(err, bridge.ErrListenerClosed) {
					ended(err)
				}
				return
			}
			take(p)
		}
	}()
}
