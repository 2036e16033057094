package chromium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/js"
)

// workerSession is the session Eval uses in an extension's service
// worker. A DevTools session keeps a service worker from stopping when idle
// (measured: with one attached, the worker was still running after 80 s;
// without, it stopped after 30 s), so the session is kept only while Evals
// come (workerLinger after the last one) and then detached: the worker's
// idle stop comes as late as after an Eval that attaches and detaches. The
// target id is kept: a stopped worker's target is gone, so an attach to
// it fails and the worker is looked up again.
type workerSession struct {
	target target.ID
	s      *session // nil once detached
	timer  *time.Timer
}

// workerLinger is how long the worker's session stays attached after the
// last Eval.
const workerLinger = time.Second

// WakeBackground starts the extension's service worker.
func (b *Browser) WakeBackground(ctx context.Context, e bridgeinternal.Extension) error {
	s, err := b.swSession(ctx)
	if err != nil {
		return err
	}
	_, err = call(ctx, s, serviceworker.StartWorker, serviceworker.StartWorkerParams{ScopeURL: "chrome-extension://" + e.ID + "/"})
	return err
}

// swSession returns a session with the ServiceWorker domain on, which only
// page targets have: the session of a page the browser shows (the first
// one it finds), or when there is none, of a hidden blank page opened for
// it (a hidden target is in no tab strip: the extensions never see it).
func (b *Browser) swSession(ctx context.Context) (*session, error) {
	b.mu.Lock()
	s := b.sw
	b.mu.Unlock()
	if s != nil && s.alive() {
		return s, nil
	}
	s = b.mux.anyPage()
	if s == nil {
		yes := true
		res, err := browserCall(ctx, b.mux, target.CreateTarget, target.CreateTargetParams{URL: "about:blank", Background: &yes, Hidden: &yes})
		if err != nil {
			return nil, err
		}
		if s = b.mux.autoSession(res.TargetID); s == nil {
			if s, err = b.mux.attach(ctx, res.TargetID); err != nil {
				return nil, err
			}
		}
	}
	if _, err := call(ctx, s, serviceworker.Enable, cdp.Empty{}); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.sw = s
	b.mu.Unlock()
	return s, nil
}

// StopBackground terminates the extension's service worker.
func (b *Browser) StopBackground(ctx context.Context, e bridgeinternal.Extension) error {
	b.mu.Lock()
	var tid target.ID
	if w := b.workers[e.ID]; w != nil {
		tid = w.target
	}
	b.mu.Unlock()
	if tid != "" {
		// The worker Eval last used: its target outlives a stop and a start.
		if _, err := browserCall(ctx, b.mux, target.CloseTarget, target.CloseTargetParams{TargetID: tid}); err == nil {
			return nil
		}
	}
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

// worker returns a session of the extension's running service worker: the
// one kept since the last Eval, or a new one.
func (b *Browser) worker(ctx context.Context, e bridgeinternal.Extension) (*session, error) {
	b.mu.Lock()
	w := b.workers[e.ID]
	if w == nil {
		w = &workerSession{}
		b.workers[e.ID] = w
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	s, tid := w.s, w.target
	b.mu.Unlock()
	if s != nil && s.alive() {
		return s, nil
	}
	var err error
	if tid != "" {
		s, err = b.mux.attach(ctx, tid)
	}
	if tid == "" || err != nil {
		if tid, err = b.workerTarget(ctx, e); err != nil {
			return nil, err
		}
		if s, err = b.mux.attach(ctx, tid); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	old := w.s
	w.s, w.target = s, tid
	b.mu.Unlock()
	if old != nil && old != s {
		old.detach()
	}
	return s, nil
}

// lingerWorker detaches the worker's session workerLinger after the last
// Eval that used it.
func (b *Browser) lingerWorker(e bridgeinternal.Extension, s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.workers[e.ID]
	if w == nil || w.s != s {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(workerLinger, func() {
		b.mu.Lock()
		if w.s != s {
			b.mu.Unlock()
			return
		}
		w.s, w.timer = nil, nil
		b.mu.Unlock()
		s.detach()
	})
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
		b.lingerWorker(e, s)
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
		ucid, err := s.realmContext(ctx, realmID)
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
			s.forget(realmID)
			if stale(err) {
				b.dropSession(s)
			}
			continue
		}
		return raw, err
	}
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
	s = b.mux.autoSession(id)
	if s == nil {
		var err error
		if s, err = b.mux.attach(ctx, id); err != nil {
			return nil, err
		}
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
