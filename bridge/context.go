package bridge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/queue"
)

// ConnectInfo is the connectInfo of runtime.connect and tabs.connect, plus
// the extensionId argument of runtime.connect.
type ConnectInfo struct {
	Name                string // the port's name, as the other end's port.name
	ExtensionID         string // runtime.connect(extensionId, …): another extension
	FrameID             *int   // tabs.connect: one frame instead of all
	IncludeTLSChannelID bool   // Chrome's includeTlsChannelId (Firefox ignores it)
}

// Context is one realm of an extension that Go acts in: the background, the
// content-script world of one frame of a tab, or an extension page (a
// popup, the options page, any page of the extension). What Go does through
// it, the extension sees as done by code in that realm.
//
// A Context is safe for concurrent use.
type Context struct {
	ext   *Extension
	kind  RealmKind
	rc    *realmConn // content, page: the realm it is bound to
	tab   int        // content, page: the tab (-1: a page not in a tab)
	frame int
}

// String names the realm, for messages and logs.
func (c *Context) String() string {
	switch c.kind {
	case RealmBackground:
		return "the background of " + c.ext.label()
	case RealmPage:
		if c.tab < 0 {
			return fmt.Sprintf("the page %s of %s", c.rc.info.URL, c.ext.label())
		}
		return fmt.Sprintf("the page %s of %s in tab %d", c.rc.info.URL, c.ext.label(), c.tab)
	}
	return fmt.Sprintf("the content script of %s in tab %d frame %d", c.ext.label(), c.tab, c.frame)
}

// realm returns the live realm connection: the current background (woken if
// needed), or the content-script world or page the Context is bound to.
func (c *Context) realm(ctx context.Context) (*realmConn, error) {
	if c.kind == RealmBackground {
		return c.ext.background(ctx)
	}
	if err := c.rc.c.Err(); err != nil {
		return nil, err
	}
	return c.rc, nil
}

// Connect opens a port from this realm with runtime.connect, as the
// extension's own code would. As in the browser, a connection that nobody
// receives still returns a port; it then ends with the browser's error
// (see [Port.Err]).
func (c *Context) Connect(ctx context.Context, info ConnectInfo) (*Port, error) {
	return c.open(ctx, HowConnect, hub.Connect{Name: info.Name, Ext: info.ExtensionID, TLS: info.IncludeTLSChannelID})
}

// TabsConnect opens a port from this realm to the content scripts of a tab
// with tabs.connect. Without FrameID it reaches the listeners of every frame
// through one port. It works where tabs.connect exists: the background and
// extension pages.
func (c *Context) TabsConnect(ctx context.Context, tabID int, info ConnectInfo) (*Port, error) {
	return c.open(ctx, HowTabsConnect, hub.TabsConnect{Tab: tabID, Name: info.Name, Frame: info.FrameID})
}

func (c *Context) open(ctx context.Context, how How, cmd hub.Command) (*Port, error) {
	rc, err := c.realm(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to %s from %s: %w", how, c, err)
	}
	// The realm reports the port (open) before its reply. If the call is
	// cut short after the realm opened it, nobody will use it: close it.
	orphan := func(ok json.RawMessage) {
		var id int
		if json.Unmarshal(ok, &id) == nil {
			if p := rc.takeOpened(id); p != nil {
				rc.later(func() { _ = p.Disconnect() })
			}
		}
	}
	raw, err := callRaw(ctx, rc, cmd, orphan)
	if err != nil {
		return nil, fmt.Errorf("failed to %s from %s: %w", how, c, err)
	}
	var id int
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, fmt.Errorf("failed to %s from %s: the bridge answered %s", how, c, raw)
	}
	p := rc.takeOpened(id)
	if p == nil {
		return nil, fmt.Errorf("failed to %s from %s: the bridge did not report the port", how, c)
	}
	return p, nil
}

// Listen adds runtime.onConnect and runtime.onConnectExternal listeners in
// this realm; the ports they receive come out of [Listener.Accept]. Like any
// listener, it makes connections to this realm succeed that would otherwise
// fail with "Receiving end does not exist".
//
// In a content script or an extension page, the listeners live as long as
// that document. In the background they outlive the service worker or event
// page that runs now: when the browser stops it (idle, or
// [Extension.StopBackground]) and starts it again, the new one gets them
// before the extension's first event (Firefox), or as soon as its bridge
// connects (Chromium: a port that arrives before that reaches Go only if the
// extension has an onConnect listener of its own, as the browser delivers a
// port only where a listener is; see the package doc). Ports accepted from
// the stopped background end with it, as they do in the browser.
func (c *Context) Listen(ctx context.Context) (*Listener, error) {
	rc, err := c.realm(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to listen in %s: %w", c, err)
	}
	l := &Listener{slot: c.ext.newSlot(c.kind == RealmBackground), ports: queue.New[*Port](0)}
	if err := rc.addListener(l); err != nil {
		return nil, fmt.Errorf("failed to listen in %s: %w", c, err)
	}
	if l.background {
		c.ext.arm(l.id, l)
	}
	if err := call(ctx, rc, hub.Listen{L: l.id}, nil); err != nil {
		// Cut short, the realm may have added the listeners anyway.
		_ = l.Close()
		return nil, fmt.Errorf("failed to listen in %s: %w", c, err)
	}
	return l, nil
}

// Eval evaluates a JavaScript expression in this realm, awaits it if it is a
// promise, and JSON-decodes the value into out (out may be nil). The code
// runs through the browser's own protocol (Chromium: the DevTools protocol;
// Firefox: the Debugger API and the content script's sandbox), since the
// extension's content security policy forbids eval in its own pages and
// worker.
func (c *Context) Eval(ctx context.Context, js string, out any) error {
	rc, err := c.realm(ctx)
	if err != nil {
		return fmt.Errorf("failed to eval in %s: %w", c, err)
	}
	b := c.ext.s.getBrowser()
	if b == nil {
		return fmt.Errorf("failed to eval in %s: no browser", c)
	}
	var raw json.RawMessage
	switch c.kind {
	case RealmBackground:
		raw, err = b.EvalBackground(ctx, c.ext.driverExt(), js)
	case RealmPage:
		raw, err = b.EvalPage(ctx, c.ext.driverExt(), c.tab, rc.info.ID, js)
	default:
		raw, err = b.EvalContent(ctx, c.ext.driverExt(), c.tab, c.frame, rc.info.ID, js)
	}
	if err != nil {
		return fmt.Errorf("failed to eval in %s: %w", c, err)
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("failed to decode the result of eval in %s: %w", c, err)
	}
	return nil
}
