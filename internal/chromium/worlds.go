package chromium

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/js"
)

// A session's isolated worlds: where the extensions' content scripts, and
// the bridge realms in them, run. CDP names a world only in
// Runtime.executionContextCreated, and a tab's session keeps Runtime off
// (with it on, every console line of the page would stream over the
// connection: a page that floods its console would flood it), so a listing
// turns Runtime on for the moment the browser takes to report the
// contexts that exist (it sends them all before it answers
// Runtime.enable) and off again, then asks each extension world which
// bridge realm it holds.
//
// A tab Go opened takes its listing while it loads (at DOMContentLoaded:
// every instrumented extension's world exists by then, as the bridge runs
// at document_start), and keeps it until its top frame navigates. Other
// sessions list afresh when asked.

// world is an isolated world of a session's target.
type world struct {
	uniqueID string // its uniqueContextId
	frame    string // the frame's id
	origin   string // chrome-extension://<id>
	realm    string // the bridge realm in it, "" if none
}

// worldList is one listing of a session's worlds.
type worldList struct {
	done   chan struct{}
	worlds []world
	err    error
	nav    uint64 // the session's count of top-frame navigations when taken
}

// followNavigation makes the session count its top frame's navigations,
// which is what keeps a listing valid. The session must have Page on.
func (s *session) followNavigation() {
	s.listen(func(method string, params jsonv2.Value) {
		if method != "Page.frameNavigated" {
			return
		}
		var ev struct {
			Frame struct {
				ParentID string `json:"parentId"`
			} `json:"frame"`
		}
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) == nil && ev.Frame.ParentID == "" {
			s.wmu.Lock()
			s.nav++
			s.wmu.Unlock()
		}
	})
	s.wmu.Lock()
	s.followsNav = true
	s.wmu.Unlock()
}

// worlds returns the session's isolated worlds of extensions: the listing
// kept for the document shown now, or (fresh, or none kept) a new one.
func (s *session) worlds(ctx context.Context, fresh bool) ([]world, error) {
	s.wmu.Lock()
	if l := s.list; !fresh && l != nil && s.followsNav && l.nav == s.nav {
		s.wmu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.err == nil {
			return l.worlds, nil
		}
		s.wmu.Lock() // that listing failed: take one now
	}
	l := &worldList{done: make(chan struct{}), nav: s.nav}
	s.list = l
	s.wmu.Unlock()
	l.worlds, l.err = s.listWorlds(ctx)
	close(l.done)
	return l.worlds, l.err
}

// prefetchWorlds takes a listing for later, bounded by the session's life.
func (s *session) prefetchWorlds() {
	ctx, cancel := context.WithTimeout(s.life, prefetchTimeout)
	defer cancel()
	_, _ = s.worlds(ctx, false)
}

// prefetchTimeout bounds a listing nobody waits for yet.
const prefetchTimeout = 20 * time.Second

// listWorlds lists the isolated worlds of extensions and the bridge realm
// in each.
func (s *session) listWorlds(ctx context.Context) ([]world, error) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	var worlds []world
	stop := s.listen(func(method string, params jsonv2.Value) {
		if method != runtime.ExecutionContextCreated.Method {
			return
		}
		var ev runtime.EventExecutionContextCreated
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) != nil || ev.Context == nil || !strings.HasPrefix(ev.Context.Origin, "chrome-extension://") {
			return
		}
		var aux struct {
			Type    string `json:"type"`
			FrameID string `json:"frameId"`
		}
		if json.Unmarshal(ev.Context.AuxData, &aux) == nil && aux.Type == "isolated" {
			// On the read loop, before the reply to Runtime.enable.
			worlds = append(worlds, world{uniqueID: ev.Context.UniqueID, frame: aux.FrameID, origin: ev.Context.Origin})
		}
	})
	done := make(chan error, 1)
	s.send(runtime.Enable.Method, nil, func(_ jsonv2.Value, err error) { stop(); done <- err })
	s.send(runtime.Disable.Method, nil, nil)
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
	case <-s.done:
		stop()
		return nil, s.err
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	// Ask every world at once which realm it holds.
	type probe struct {
		i  int
		id string
	}
	probes := make(chan probe, len(worlds))
	t := true
	for i, w := range worlds {
		s.send(runtime.Evaluate.Method, runtime.EvaluateParams{Expression: js.RealmID, UniqueContextID: w.uniqueID, ReturnByValue: &t}, func(v jsonv2.Value, err error) {
			var res runtime.EvaluateResult
			var id string
			if err == nil && jsonv2.Unmarshal(v, &res, chromedp.DefaultUnmarshalOptions) == nil && res.ExceptionDetails == nil && res.Result != nil {
				_ = json.Unmarshal(res.Result.Value, &id)
			}
			probes <- probe{i, id}
		})
	}
	for range worlds {
		select {
		case p := <-probes:
			worlds[p.i].realm = p.id
		case <-s.done:
			return nil, s.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.wmu.Lock()
	for _, w := range worlds {
		if w.realm != "" {
			s.contexts[w.realm] = w.uniqueID
		}
	}
	s.wmu.Unlock()
	return worlds, nil
}

// LocateContent finds the bridge realm of the extension's content-script
// world in the top frame of a tab over CDP, without asking the background
// (see bridgeinternal.Browser.LocateContent): the isolated world of the top frame
// whose origin is the extension's. It returns "" when that world has no
// bridge, or there is none (the page predates the bridge, or the
// extension's content scripts do not match it).
func (b *Browser) LocateContent(ctx context.Context, e bridgeinternal.Extension, tabID int) (string, error) {
	s, err := b.tabSession(ctx, tabID)
	if err != nil {
		return "", err
	}
	worlds, err := s.worlds(ctx, false)
	if err != nil {
		return "", err
	}
	origin := "chrome-extension://" + e.ID
	for _, w := range worlds {
		if w.frame == string(s.target) && w.origin == origin && w.realm != "" {
			return w.realm, nil
		}
	}
	return "", nil
}

// realmContext returns the execution context (its uniqueContextId) of the
// bridge realm realmID in the session's target, or "" when it has none
// there. A uniqueContextId is never reused, so one cached for a realm that
// is gone fails with "Cannot find context", and the caller drops it.
func (s *session) realmContext(ctx context.Context, realmID string) (string, error) {
	s.wmu.Lock()
	ucid := s.contexts[realmID]
	s.wmu.Unlock()
	if ucid != "" {
		return ucid, nil
	}
	for _, fresh := range []bool{false, true} {
		worlds, err := s.worlds(ctx, fresh)
		if err != nil {
			return "", err
		}
		for _, w := range worlds {
			if w.realm == realmID {
				return w.uniqueID, nil
			}
		}
	}
	return "", nil
}

// forget drops the cached context of a realm.
func (s *session) forget(realmID string) {
	s.wmu.Lock()
	delete(s.contexts, realmID)
	s.wmu.Unlock()
}
