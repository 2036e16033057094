package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/extbridge/extbridge/internal/instrument"
)

// Extension is one instrumented extension in a running browser.
//
// An Extension is safe for concurrent use. It lives as long as its browser.
type Extension struct {
	hub   *Hub
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
	// "watch" commands that tell the realms about its changes.
	watchMu  sync.Mutex
	watching int
}

// Frames that set how soon a realm's bridge reports the extension's own
// events: within a few milliseconds while a Watch is open, else in larger,
// rarer batches (see bridge.js, FLUSH_MS and FLUSH_IDLE_MS).
var (
	watchOn  = []byte(`{"c":"watch","on":true}`)
	watchOff = []byte(`{"c":"watch","on":false}`)
)

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
	frame := watchOff
	if e.watching > 0 {
		frame = watchOn
	}
	for _, rc := range e.realms() {
		rc.sendControl(frame)
	}
}

// syncWatch tells a realm that has just connected that a Watch is open.
func (e *Extension) syncWatch(rc *realmConn) {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watching > 0 {
		rc.sendControl(watchOn)
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

// AddExtension copies the extension folder src to dst, adds the bridge, and
// registers it with the hub. browser is "chromium" or "firefox". Package
// driver calls it before the browser starts.
func (h *Hub) AddExtension(src, dst, browser string) (*Extension, error) {
	h.mu.Lock()
	index := len(h.exts)
	h.mu.Unlock()
	in, err := instrument.Copy(src, dst, instrument.Options{
		Browser: browser,
		Script:  func(realm string) []byte { return h.script(index, realm) },
	})
	if err != nil {
		return nil, err
	}
	e := &Extension{
		hub:     h,
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
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("failed to add an extension: the hub is closed")
	}
	if len(h.exts) != index {
		return nil, errors.New("failed to add an extension: extensions must be added one at a time")
	}
	h.exts = append(h.exts, e)
	return e, nil
}

// ID is the extension's id: what runtime.id returns in its realms.
func (e *Extension) ID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.id
}

// Name is the extension's name from its manifest.
func (e *Extension) Name() string { return e.in.Name }

// Dir is the folder of the instrumented copy the browser loaded.
func (e *Extension) Dir() string { return e.in.Dir }

// Manifest is the manifest of the instrumented copy, as the browser read it.
func (e *Extension) Manifest() map[string]any { return e.in.Manifest }

// Added lists what the instrumenter added to the copy: the bridge scripts,
// permissions and host permissions, a gecko id.
func (e *Extension) Added() []string { return append([]string(nil), e.in.Added...) }

// HasBackground reports whether the extension has a background (service
// worker, scripts or page) for the browser it runs in.
func (e *Extension) HasBackground() bool { return e.in.BackgroundKind != "" }

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
	if rc.info.RID != "" && rc.info.Realm == "background" {
		e.id = rc.info.RID
	}
	switch rc.info.Realm {
	case "background":
		e.bg = rc
	case "content":
		e.content[rc.info.ID] = rc
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

func (e *Extension) hubClosed() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.changed)
	}
	e.history.close()
}

// waitRealm waits until pick finds a realm.
func (e *Extension) waitRealm(ctx context.Context, what string, pick func() *realmConn) (*realmConn, error) {
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
		case <-ctx.Done():
			return nil, fmt.Errorf("failed to reach %s of %s: %w", what, e.label(), ctx.Err())
		}
	}
}

// background returns the live background realm, waking it when it sleeps.
func (e *Extension) background(ctx context.Context) (*realmConn, error) {
	if !e.HasBackground() {
		return nil, fmt.Errorf("%s has no background script, service worker or page", e.label())
	}
	pick := func() *realmConn { return e.bg }
	e.mu.Lock()
	rc := e.bg
	e.mu.Unlock()
	if rc != nil {
		return rc, nil
	}
	if d := e.hub.getDriver(); d != nil {
		if err := d.WakeBackground(ctx, e); err != nil {
			return nil, fmt.Errorf("failed to wake the background of %s: %w", e.label(), err)
		}
	}
	return e.waitRealm(ctx, "the background", pick)
}

// WaitBackground waits until the background's bridge is connected, without
// waking it. Package driver uses it at launch.
func (e *Extension) WaitBackground(ctx context.Context) error {
	_, err := e.waitRealm(ctx, "the background", func() *realmConn { return e.bg })
	return err
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
	d := e.hub.getDriver()
	if d == nil {
		return fmt.Errorf("failed to stop the background of %s: %w", e.label(), errors.ErrUnsupported)
	}
	// The bridge batches the extension's own events for a few
	// milliseconds; take them before the worker goes, so the history
	// misses nothing. A failure here only means the realm is already gone.
	_ = rc.call(ctx, map[string]any{"c": "flush"}, nil)
	if err := d.StopBackground(ctx, e); err != nil {
		return fmt.Errorf("failed to stop the background of %s: %w", e.label(), err)
	}
	select {
	case <-rc.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("failed to stop the background of %s: %w", e.label(), ctx.Err())
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
	return &Context{ext: e, kind: "background"}, nil
}

// ContentScript returns the content-script world of the extension in one
// frame of a tab (frameID 0 is the top frame): the isolated world the
// extension's own content scripts run in. If the page predates the bridge,
// the bridge is injected there first. An unknown tab or frame is an error.
func (e *Extension) ContentScript(ctx context.Context, tabID, frameID int) (*Context, error) {
	bg, err := e.background(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to reach the content script in tab %d frame %d: %w", tabID, frameID, err)
	}
	var id string
	if err := bg.call(ctx, map[string]any{"c": "realm", "tab": tabID, "frame": frameID}, &id); err != nil {
		return nil, fmt.Errorf("failed to reach the content script in tab %d frame %d: %w", tabID, frameID, err)
	}
	rc, err := e.waitRealm(ctx, fmt.Sprintf("the content script in tab %d frame %d", tabID, frameID), func() *realmConn { return e.content[id] })
	if err != nil {
		return nil, err
	}
	return &Context{ext: e, kind: "content", rc: rc, tab: tabID, frame: frameID}, nil
}

// Frames lists the frames of a tab that the extension can see.
func (e *Extension) Frames(ctx context.Context, tabID int) ([]Frame, error) {
	var raw []struct {
		ID     int    `json:"id"`
		Parent int    `json:"parent"`
		URL    string `json:"url"`
	}
	if err := e.Command(ctx, "frames", map[string]any{"tab": tabID}, &raw); err != nil {
		return nil, fmt.Errorf("failed to list the frames of tab %d: %w", tabID, err)
	}
	out := make([]Frame, len(raw))
	for i, f := range raw {
		out[i] = Frame{ID: f.ID, ParentID: f.Parent, URL: f.URL}
	}
	return out, nil
}

// Command runs one bridge command in the background realm and decodes its
// result into out. It is the door package driver uses for the extension
// APIs it needs (tabs, debugger targets); programs use the typed methods.
func (e *Extension) Command(ctx context.Context, cmd string, args map[string]any, out any) error {
	bg, err := e.background(ctx)
	if err != nil {
		return err
	}
	m := map[string]any{"c": cmd}
	for k, v := range args {
		m[k] = v
	}
	return bg.call(ctx, m, out)
}
