package chromium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/js"
)

// workerSession is the session Eval uses in an extension's service worker,
// attached once per worker: a stopped worker detaches it, and the next
// Eval attaches to the worker that runs then.
type workerSession struct {
	target target.ID
	s      *session
}

// WakeBackground starts the extension's service worker.
func (b *Browser) WakeBackground(ctx context.Context, e bridgeinternal.Extension) error {
	cctx := withDeadline(b.browserCtx, ctx)
	b.swOnce.Do(func() { _, b.swErr = chromedp.Call(cctx, serviceworker.Enable, cdp.Empty{}) })
	if b.swErr != nil {
		return b.swErr
	}
	_, err := chromedp.Call(cctx, serviceworker.StartWorker,
		serviceworker.StartWorkerParams{ScopeURL: "chrome-extension://" + e.ID + "/"})
	return err
}

// StopBackground terminates the extension's service worker.
func (b *Browser) StopBackground(ctx context.Context, e bridgeinternal.Extension) error {
	tid, err := b.workerTarget(ctx, e)
	if err != nil {
		return nil // not running: nothing to stop
	}
	_, err = browserCall(ctx, b.mux, target.CloseTarget, target.CloseTargetParams{TargetID: tid})
	return err
}

// workerTarget finds the extension's service worker target.
func (b *Browser) workerTarget(ctx context.Context, e bridgeinternal.Extension) (target.ID, error) {
	res, err := browserCall(ctx, b.mux, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return "", err
	}
	prefix := "chrome-extension://" + e.ID + "/"
	for _, t := range res.TargetInfos {
		if (t.Type == "service_worker" || t.Type == "background_page") && strings.HasPrefix(t.URL, prefix) {
			return t.TargetID, nil
		}
	}
	return "", errNotRunning
}

// worker returns the session of the extension's running service worker,
// attaching one when there is none or the last one was detached.
func (b *Browser) worker(ctx context.Context, e bridgeinternal.Extension) (*session, error) {
	b.mu.Lock()
	w := b.workers[e.ID]
	b.mu.Unlock()
	if w != nil && w.s.alive() {
		return w.s, nil
	}
	tid, err := b.workerTarget(ctx, e)
	if err != nil {
		return nil, err
	}
	s, err := b.mux.attach(ctx, tid)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if old := b.workers[e.ID]; old != nil && old.s != s {
		defer old.s.detach()
	}
	b.workers[e.ID] = &workerSession{target: tid, s: s}
	b.mu.Unlock()
	return s, nil
}

// EvalBackground runs js in the service worker through CDP: Manifest V3
// forbids eval inside the extension. The worker's session is kept; an
// Eval that finds it stale (the worker stopped since) attaches anew once.
func (b *Browser) EvalBackground(ctx context.Context, e bridgeinternal.Extension, js string) (json.RawMessage, error) {
	for attempt := 0; ; attempt++ {
		s, err := b.worker(ctx, e)
		if err != nil {
			return nil, err
		}
		raw, err := evalIn(ctx, s, "", js)
		if attempt == 0 && stale(err) {
			s.detach()
			continue
		}
		return raw, err
	}
}

// stale reports whether err says the session or its target is gone, so
// that a fresh session may succeed.
func stale(err error) bool {
	if errors.Is(err, errDetached) {
		return true
	}
	var ce *cdproto.Error
	return errors.As(err, &ce) && (strings.Contains(ce.Message, "Session with given id not found") ||
		strings.Contains(ce.Message, "Target closed") || strings.Contains(ce.Message, "No target with given id"))
}

// goneContext reports whether err says the execution context is gone.
func goneContext(err error) bool {
	var ce *cdproto.Error
	return errors.As(err, &ce) && strings.Contains(ce.Message, "Cannot find context")
}

// EvalContent runs js in the content-script world of a frame, the one the
// bridge realm realmID runs in.
func (b *Browser) EvalContent(ctx context.Context, e bridgeinternal.Extension, tabID, frameID int, realmID, code string) (json.RawMessage, error) {
	for attempt := 0; ; attempt++ {
		s, err := b.tabSession(ctx, tabID)
		if err != nil {
			return nil, err
		}
		ucid, err := b.realmContext(ctx, s, e, realmID)
		if err != nil {
			if attempt == 0 && stale(err) {
				b.dropSession(s)
				continue
			}
			return nil, err
		}
		if ucid == "" {
			return nil, fmt.Errorf("the content-script world of tab %d frame %d is not reachable over CDP (cross-site frames run in their own process)", tabID, frameID)
		}
		raw, err := evalIn(ctx, s, ucid, code)
		if attempt == 0 && (goneContext(err) || stale(err)) {
			s.mu.Lock()
			delete(s.contexts, realmID)
			s.mu.Unlock()
			if stale(err) {
				b.dropSession(s)
			}
			continue
		}
		return raw, err
	}
}

// LocateContent finds the bridge realm of the extension's content-script
// world in the top frame of a tab over CDP, without asking the background:
// the isolated world of the top frame whose origin is the extension's. It
// returns "" when there is none with a bridge (the page predates it, or
// its content scripts do not match it), and the caller asks the background.
func (b *Browser) LocateContent(ctx context.Context, e bridgeinternal.Extension, tabID int) (string, error) {
	s, err := b.tabSession(ctx, tabID)
	if err != nil {
		return "", err
	}
	worlds, err := s.isolatedWorlds(ctx, "chrome-extension://"+e.ID)
	if err != nil {
		return "", err
	}
	for _, w := range worlds {
		if w.frame != string(s.target) {
			continue
		}
		if id := s.probe(ctx, w.uniqueID); id != "" {
			return id, nil
		}
	}
	return "", nil
}

// isolatedWorld is an isolated execution context of a session's target.
type isolatedWorld struct {
	uniqueID, frame string
}

// isolatedWorlds lists the isolated worlds of the target with this origin.
// The session keeps Runtime off (a page's console would otherwise stream
// over the connection), so this turns it on for the moment it takes the
// browser to report the contexts that exist (it sends them all before it
// answers Runtime.enable) and off again.
func (s *session) isolatedWorlds(ctx context.Context, origin string) ([]isolatedWorld, error) {
	s.findMu.Lock()
	defer s.findMu.Unlock()
	var worlds []isolatedWorld
	stop := s.listen(func(method string, params jsonv2.Value) {
		if method != runtime.ExecutionContextCreated.Method {
			return
		}
		var ev runtime.EventExecutionContextCreated
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) != nil || ev.Context == nil || ev.Context.Origin != origin {
			return
		}
		var aux struct {
			Type    string `json:"type"`
			FrameID string `json:"frameId"`
		}
		if json.Unmarshal(ev.Context.AuxData, &aux) == nil && aux.Type == "isolated" {
			worlds = append(worlds, isolatedWorld{ev.Context.UniqueID, aux.FrameID}) // on the read loop, before the reply
		}
	})
	done := make(chan error, 1)
	s.send(runtime.Enable.Method, nil, func(_ jsonv2.Value, err error) { stop(); done <- err })
	s.send(runtime.Disable.Method, nil, nil)
	select {
	case err := <-done:
		return worlds, err
	case <-s.done:
		stop()
		return nil, s.err
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
}

// probe returns the bridge realm id of a world, or "".
func (s *session) probe(ctx context.Context, uniqueID string) string {
	raw, err := evalIn(ctx, s, uniqueID, js.RealmID)
	var id string
	if err != nil || json.Unmarshal(raw, &id) != nil {
		return ""
	}
	s.mu.Lock()
	s.contexts[id] = uniqueID
	s.mu.Unlock()
	return id
}

// realmContext returns the execution context (its uniqueContextId) of the
// bridge realm realmID in the session's target, or "" when it has none
// there. A realm's world is found once (every probe caches what it finds);
// a uniqueContextId is never reused, so a cached one that is gone fails
// with "Cannot find context" and is looked up again.
func (b *Browser) realmContext(ctx context.Context, s *session, e bridgeinternal.Extension, realmID string) (string, error) {
	s.mu.Lock()
	ucid := s.contexts[realmID]
	s.mu.Unlock()
	if ucid != "" {
		return ucid, nil
	}
	worlds, err := s.isolatedWorlds(ctx, "chrome-extension://"+e.ID)
	if err != nil {
		return "", err
	}
	for _, w := range worlds {
		if s.probe(ctx, w.uniqueID) == realmID {
			return w.uniqueID, nil
		}
	}
	return "", nil
}

// EvalPage runs js in the main world of an extension page: the page of tab
// tabID, or with tabID -1 the extension page (a popup) whose bridge realm
// is realmID. With a realmID, the page must still be that realm.
func (b *Browser) EvalPage(ctx context.Context, e bridgeinternal.Extension, tabID int, realmID, code string) (json.RawMessage, error) {
	var sessions []*session
	if tabID >= 0 {
		s, err := b.tabSession(ctx, tabID)
		if err != nil {
			return nil, err
		}
		sessions = []*session{s}
	} else {
		res, err := browserCall(ctx, b.mux, target.GetTargets, target.GetTargetsParams{})
		if err != nil {
			return nil, err
		}
		prefix := "chrome-extension://" + e.ID + "/"
		for _, t := range res.TargetInfos {
			if t.Type == "page" && strings.HasPrefix(t.URL, prefix) {
				if s, err := b.targetSession(ctx, t.TargetID); err == nil {
					sessions = append(sessions, s)
				}
			}
		}
	}
	for _, s := range sessions {
		if realmID != "" {
			raw, err := evalIn(ctx, s, "", js.RealmID)
			var got string
			if err != nil || json.Unmarshal(raw, &got) != nil || got != realmID {
				continue
			}
		}
		return evalIn(ctx, s, "", code)
	}
	if tabID >= 0 {
		return nil, fmt.Errorf("tab %d no longer shows that page (it was closed or navigated)", tabID)
	}
	return nil, errors.New("the page is gone (it was closed or navigated)")
}

// tabSession returns a session on the page target of a tab: the tab's own
// for a tab Go opened, otherwise one attached for Eval (the target found
// through chrome.debugger.getTargets).
func (b *Browser) tabSession(ctx context.Context, tabID int) (*session, error) {
	b.mu.Lock()
	t := b.tabs[tabID]
	b.mu.Unlock()
	if t != nil && t.s.alive() {
		return t.s, nil
	}
	tid, err := b.tabTarget(ctx, tabID)
	if err != nil {
		return nil, err
	}
	return b.targetSession(ctx, tid)
}

// targetSession attaches to a target for Eval, once.
func (b *Browser) targetSession(ctx context.Context, id target.ID) (*session, error) {
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s != nil && s.alive() {
		return s, nil
	}
	s, err := b.mux.attach(ctx, id)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	old := b.sessions[id]
	b.sessions[id] = s
	b.mu.Unlock()
	if old != nil {
		old.detach()
	}
	return s, nil
}

// dropSession forgets a session that went stale.
func (b *Browser) dropSession(s *session) {
	b.mu.Lock()
	if b.sessions[s.target] == s {
		delete(b.sessions, s.target)
	}
	b.mu.Unlock()
	s.detach()
}

// tabTarget maps a tab id to its CDP target.
func (b *Browser) tabTarget(ctx context.Context, tabID int) (target.ID, error) {
	list, err := b.debuggerTargets(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range list {
		if t.Tab == tabID {
			return target.ID(t.ID), nil
		}
	}
	return "", fmt.Errorf("no tab with id %d", tabID)
}

// debuggerTargets asks a background for chrome.debugger.getTargets.
func (b *Browser) debuggerTargets(ctx context.Context) ([]bridgeinternal.DebuggerTarget, error) {
	for _, e := range b.opts.Extensions {
		if e.HasBackground {
			return b.opts.Session.DebuggerTargets(ctx, e.Index)
		}
	}
	return nil, errors.New("no extension has a background to learn tab ids from")
}

// evalIn evaluates js in a context of the session's target (uniqueID ""
// is the default one), awaiting a promise, and returns its value as JSON.
func evalIn(ctx context.Context, s *session, uniqueID, js string) (json.RawMessage, error) {
	t := true
	res, err := call(ctx, s, runtime.Evaluate, runtime.EvaluateParams{
		Expression:      js,
		UniqueContextID: uniqueID,
		AwaitPromise:    &t,
		ReturnByValue:   &t,
	})
	if err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		msg := res.ExceptionDetails.Text
		if ex := res.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
			msg = ex.Description
		}
		return nil, fmt.Errorf("the code threw: %s", msg)
	}
	if res.Result == nil || len(res.Result.Value) == 0 {
		return json.RawMessage("null"), nil
	}
	return json.RawMessage(res.Result.Value), nil
}
