package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/instrument"
	"github.com/extbridge/extbridge/internal/js"
)

// Extension is one instrumented extension in a running browser.
//
// An Extension is safe for concurrent use. It lives as long as its browser.
type Extension struct {
	s     *session
	index int
	in    *instrument.Result

	mu      sync.Mutex
	id      string
	bg      *realmConn
	content map[string]*realmConn // by realm id
	pages   map[*realmConn]struct{}
	changed chan struct{} // closed and replaced whenever a realm comes or goes
	closed  bool
	history history

	// watchMu guards watching, the count of open Watches, and orders the
	// watch frames that tell the realms about its changes.
	watchMu  sync.Mutex
	watching int

	// armMu guards the ids of Go's listeners and the background's ones,
	// which outlive each background realm (armed.go).
	armMu sync.Mutex
	nextL int
	armed map[int]armed
}

func newExtension(s *session, index int, in *instrument.Result, browser string) *Extension {
	e := &Extension{
		s:       s,
		index:   index,
		in:      in,
		content: make(map[string]*realmConn),
		pages:   make(map[*realmConn]struct{}),
		changed: make(chan struct{}),
	}
	if browser == "chromium" {
		e.id = in.ChromiumID
	} else {
		e.id = in.GeckoID
	}
	return e
}

// setWatching adds d (+1 or -1) to the count of open Watches and, when it
// goes from 0 to 1 or back, tells every realm.
func (e *Extension) setWatching(d int) {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	before := e.watching
	e.watching += d
	if (before == 0) == (e.watching == 0) {
		return
	}
	frame := hub.WatchOff
	if e.watching > 0 {
		frame = hub.WatchOn
	}
	for _, rc := range e.realms() {
		rc.c.SendControl(frame)
	}
}

// syncWatch tells a realm that has just connected that a Watch is open.
func (e *Extension) syncWatch(rc *realmConn) {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watching > 0 {
		rc.c.SendControl(hub.WatchOn)
	}
}

// realms returns the extension's connected realms.
func (e *Extension) realms() []*realmConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*realmConn
	if e.bg != nil {
		out = append(out, e.bg)
	}
	for _, rc := range e.content {
		out = append(out, rc)
	}
	for rc := range e.pages {
		out = append(out, rc)
	}
	return out
}

// Frame is one frame of a tab, as webNavigation reports it.
type Frame struct {
	ID       int    // the frameId the extension APIs use; 0 is the top frame
	ParentID int    // -1 for the top frame
	URL      string // the frame's document URL
}

// ID is the extension's id: what runtime.id returns in its realms.
func (e *Extension) ID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.id
}

// Name is the extension's name from its manifest.
func (e *Extension) Name() string { return e.in.Name }

// Added lists what extbridge added to the instrumented copy: the bridge
// scripts, permissions and host permissions, a gecko id, a background.
func (e *Extension) Added() []string { return append([]string(nil), e.in.Added...) }

// Pages lists the extension's HTML pages that [Extension.Page] can act in
// once open (for example with driver's Browser.OpenPage): paths relative to
// its root, sorted.
func (e *Extension) Pages() []string { return append([]string(nil), e.in.Pages...) }

// hasBackground reports whether the extension has a background for the
// browser it runs in (every instrumented extension does: one without gets a
// bridge-only one).
func (e *Extension) hasBackground() bool { return e.in.BackgroundKind != "" }

func (e *Extension) label() string {
	if e.in.Name != "" {
		return fmt.Sprintf("extension %q", e.in.Name)
	}
	return "extension " + e.ID()
}

func (e *Extension) broadcastLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Extension) addRealm(rc *realmConn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	hi := rc.c.Hello()
	switch rc.info.Kind {
	case RealmBackground:
		if hi.RID != "" {
			e.id = hi.RID
		}
		e.bg = rc
	case RealmContent:
		e.content[hi.ID] = rc
	default:
		e.pages[rc] = struct{}{}
	}
	e.broadcastLocked()
}

func (e *Extension) removeRealm(rc *realmConn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bg == rc {
		e.bg = nil
	}
	if e.content[rc.info.ID] == rc {
		delete(e.content, rc.info.ID)
	}
	delete(e.pages, rc)
	if !e.closed {
		e.broadcastLocked()
	}
}

func (e *Extension) sessionClosed() {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.changed)
	}
	e.mu.Unlock()
	e.history.close()
	e.endArmed()
}

// RealmTimeout bounds every wait of extbridge on a realm, whatever the
// caller's context allows: for a realm's bridge to connect once the browser
// has started the realm (a background waking or starting at launch, a
// content-script world, an extension page or popup that opened), and for a
// realm to answer a command (open a port, add a listener, list frames).
// A wait that reaches it fails with an error that names the realm. Eval
// and the waits for the extension's own events (Recv, Accept, Next) are
// bounded by the caller's context alone.
const RealmTimeout = 20 * time.Second

// realmTimeout is RealmTimeout; the unit tests shorten it.
var realmTimeout = RealmTimeout

// waitRealm waits until pick, called with e.mu held, finds a realm, for at
// most RealmTimeout.
func (e *Extension) waitRealm(ctx context.Context, what string, pick func() *realmConn) (*realmConn, error) {
	bctx, cancel := context.WithTimeout(ctx, realmTimeout)
	defer cancel()
	for {
		e.mu.Lock()
		rc, ch, closed := pick(), e.changed, e.closed
		e.mu.Unlock()
		if rc != nil {
			return rc, nil
		}
		if closed {
			return nil, fmt.Errorf("failed to reach %s of %s: the browser session ended", what, e.label())
		}
		select {
		case <-ch:
		case <-bctx.Done():
			if ctx.Err() != nil {
				return nil, fmt.Errorf("failed to reach %s of %s: %w", what, e.label(), ctx.Err())
			}
			return nil, fmt.Errorf("failed to reach %s of %s: its bridge did not connect within %s", what, e.label(), realmTimeout)
		}
	}
}

// driverExt names the extension for the browser driver.
func (e *Extension) driverExt() bridgeinternal.Extension {
	return bridgeinternal.Extension{Index: e.index, ID: e.ID()}
}

// background returns the live background realm, waking it when it sleeps.
func (e *Extension) background(ctx context.Context) (*realmConn, error) {
	if !e.hasBackground() {
		return nil, fmt.Errorf("%s has no background script, service worker or page", e.label())
	}
	e.mu.Lock()
	rc := e.bg
	e.mu.Unlock()
	if rc == nil {
		if b := e.s.getBrowser(); b != nil {
			if err := b.WakeBackground(ctx, e.driverExt()); err != nil {
				return nil, fmt.Errorf("failed to wake the background of %s: %w", e.label(), err)
			}
		}
		var err error
		if rc, err = e.waitRealm(ctx, "the background", func() *realmConn { return e.bg }); err != nil {
			return nil, err
		}
	}
	// A background that has just connected gets Go's listeners again
	// first (bounded: each add ends with the realm or RealmTimeout).
	select {
	case <-rc.armed:
		return rc, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("failed to reach the background of %s: %w", e.label(), ctx.Err())
	}
}

// backgroundCall runs a command in the background realm, waking it, and
// decodes its result into out (out may be nil).
func (e *Extension) backgroundCall(ctx context.Context, cmd hub.Command, out any) error {
	bg, err := e.background(ctx)
	if err != nil {
		return err
	}
	return call(ctx, bg, cmd, out)
}

// call runs a command in a realm, for at most RealmTimeout, and decodes its
// result into out.
func call(ctx context.Context, rc *realmConn, cmd hub.Command, out any) error {
	raw, err := callRaw(ctx, rc, cmd, nil)
	if err != nil {
		return err
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// callRaw runs a command in a realm for at most RealmTimeout (see
// hub.Conn.Call for orphan).
func callRaw(ctx context.Context, rc *realmConn, cmd hub.Command, orphan func(json.RawMessage)) (json.RawMessage, error) {
	bctx, cancel := context.WithTimeout(ctx, realmTimeout)
	defer cancel()
	raw, err := rc.c.Call(bctx, cmd, orphan)
	if err != nil && ctx.Err() == nil && bctx.Err() != nil {
		return nil, fmt.Errorf("%s did not answer within %s", rc.describe(), realmTimeout)
	}
	return raw, err
}

// StopBackground stops the extension's background the way the browser does
// when it is idle (Chromium: the service worker is terminated). Ports to it
// disconnect as they would in real life, and it returns once the bridge of
// the stopped background is gone. Where the browser cannot do that it
// returns an error that wraps errors.ErrUnsupported.
func (e *Extension) StopBackground(ctx context.Context) error {
	e.mu.Lock()
	rc := e.bg
	e.mu.Unlock()
	if rc == nil {
		return nil
	}
	b := e.s.getBrowser()
	if b == nil {
		return fmt.Errorf("failed to stop the background of %s: %w", e.label(), errors.ErrUnsupported)
	}
	// The bridge batches the extension's own events for a few
	// milliseconds; take them before the worker goes, so the history
	// misses nothing. A failure here only means the realm is already gone.
	_ = call(ctx, rc, hub.Flush{}, nil)
	if err := b.StopBackground(ctx, e.driverExt()); err != nil {
		return fmt.Errorf("failed to stop the background of %s: %w", e.label(), err)
	}
	select {
	case <-rc.c.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("failed to stop the background of %s: %w", e.label(), ctx.Err())
	case <-time.After(realmTimeout):
		return fmt.Errorf("failed to stop the background of %s: its bridge was still connected %s after the browser stopped it", e.label(), realmTimeout)
	}
}

// Background returns the extension's background realm: its service worker
// (Chromium) or event page / background page (Firefox). It wakes a sleeping
// service worker. The Context follows the background across restarts: each
// call on it uses the background that runs then, waking it if needed.
func (e *Extension) Background(ctx context.Context) (*Context, error) {
	if _, err := e.background(ctx); err != nil {
		return nil, err
	}
	return &Context{ext: e, kind: RealmBackground}, nil
}

// ContentScript returns the content-script world of the extension in one
// frame of a tab (frameID 0 is the top frame): the isolated world the
// extension's own content scripts run in. If the page predates the bridge,
// the bridge is injected there first. An unknown tab or frame is an error.
func (e *Extension) ContentScript(ctx context.Context, tabID, frameID int) (*Context, error) {
	var id string
	if frameID == 0 {
		// The top frame's world, straight from the browser where the
		// driver can (Chromium: its isolated worlds over CDP; Firefox: the
		// chrome scope).
		if b := e.s.getBrowser(); b != nil {
			id, _ = b.LocateContent(ctx, e.driverExt(), tabID)
		}
	}
	if id == "" {
		if err := e.backgroundCall(ctx, hub.LocateRealm{Tab: tabID, Frame: frameID}, &id); err != nil {
			return nil, fmt.Errorf("failed to reach the content script in tab %d frame %d: %w", tabID, frameID, err)
		}
	}
	rc, err := e.waitRealm(ctx, fmt.Sprintf("the content script in tab %d frame %d", tabID, frameID), func() *realmConn { return e.content[id] })
	if err != nil {
		return nil, err
	}
	rc.located(tabID, frameID)
	return &Context{ext: e, kind: RealmContent, rc: rc, tab: tabID, frame: frameID}, nil
}

// Page returns the extension page shown in a tab (one that driver's
// Browser.OpenPage opened, or that the extension opened itself) as a realm
// Go acts in, as that page's own code would: Connect and TabsConnect open
// ports whose sender is the page, Listen receives the ports that connect to
// it, Eval runs code in it. The Context is bound to that document: when the
// tab is closed or navigated, its ports end. A tab that does not show a page
// of this extension is an error.
func (e *Extension) Page(ctx context.Context, tabID int) (*Context, error) {
	b := e.s.getBrowser()
	if b == nil {
		return nil, fmt.Errorf("failed to reach the page in tab %d: no browser", tabID)
	}
	raw, err := b.EvalPage(ctx, e.driverExt(), tabID, "", js.RealmID)
	var id string
	if err == nil && (json.Unmarshal(raw, &id) != nil || id == "") {
		err = fmt.Errorf("tab %d does not show a page of %s", tabID, e.label())
	}
	if err != nil {
		return nil, fmt.Errorf("failed to reach the page in tab %d: %w", tabID, err)
	}
	rc, err := e.waitRealm(ctx, fmt.Sprintf("the page in tab %d", tabID), func() *realmConn { return e.pageByID(id) })
	if err != nil {
		return nil, err
	}
	rc.located(tabID, 0)
	return &Context{ext: e, kind: RealmPage, rc: rc, tab: tabID}, nil
}

// pageByID returns the page realm with this id; e.mu is held.
func (e *Extension) pageByID(id string) *realmConn {
	for rc := range e.pages {
		if rc.info.ID == id {
			return rc
		}
	}
	return nil
}

// Popup returns the extension's action popup once it is open (after
// driver's Tab.ClickAction on an action with a default_popup), as a realm Go
// acts in like [Extension.Page]. It waits for the popup's page to load,
// bounded by ctx; an extension without a popup is an error.
func (e *Extension) Popup(ctx context.Context) (*Context, error) {
	if e.in.Popup == "" {
		return nil, fmt.Errorf("failed to reach the popup of %s: its manifest has no default_popup", e.label())
	}
	suffix := "/" + strings.TrimPrefix(e.in.Popup, "/")
	rc, err := e.waitRealm(ctx, "the popup", func() *realmConn {
		for rc := range e.pages {
			r := rc.realm()
			if u, err := url.Parse(r.URL); err == nil && u.Path == suffix && r.TabID < 0 {
				return rc
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Context{ext: e, kind: RealmPage, rc: rc, tab: -1}, nil
}

// Frames lists the frames of a tab that the extension can see.
func (e *Extension) Frames(ctx context.Context, tabID int) ([]Frame, error) {
	var raw []struct {
		ID     int    `json:"id"`
		Parent int    `json:"parent"`
		URL    string `json:"url"`
	}
	if err := e.backgroundCall(ctx, hub.Frames{Tab: tabID}, &raw); err != nil {
		return nil, fmt.Errorf("failed to list the frames of tab %d: %w", tabID, err)
	}
	out := make([]Frame, len(raw))
	for i, f := range raw {
		out[i] = Frame{ID: f.ID, ParentID: f.Parent, URL: f.URL}
	}
	return out, nil
}
