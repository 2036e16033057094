package chromium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/js"
)

// session is a target attached for Eval, with the isolated worlds it has
// seen.
type session struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	contexts map[runtime.ExecutionContextID]isolatedWorld
}

// isolatedWorld is an isolated execution context a session saw.
type isolatedWorld struct {
	origin, uniqueID string
}

// WakeBackground starts the extension's service worker.
func (b *Browser) WakeBackground(ctx context.Context, e bridgeinternal.Extension) error {
	cctx := withDeadline(b.browserCtx, ctx)
	if _, err := chromedp.Call(cctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		return err
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
	_, err = chromedp.CallBrowser(withDeadline(b.browserCtx, ctx), target.CloseTarget, target.CloseTargetParams{TargetID: tid})
	return err
}

// workerTarget finds the extension's service worker target.
func (b *Browser) workerTarget(ctx context.Context, e bridgeinternal.Extension) (target.ID, error) {
	res, err := chromedp.CallBrowser(withDeadline(b.browserCtx, ctx), target.GetTargets, target.GetTargetsParams{})
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

// EvalBackground runs js in the service worker through CDP: Manifest V3
// forbids eval inside the extension.
func (b *Browser) EvalBackground(ctx context.Context, e bridgeinternal.Extension, js string) (json.RawMessage, error) {
	// A service worker's target survives a stop and a start, but a session
	// attached to it goes stale, so each Eval attaches anew.
	tid, err := b.workerTarget(ctx, e)
	if err != nil {
		return nil, err
	}
	s, err := b.attach(ctx, tid)
	if err != nil {
		return nil, err
	}
	defer s.cancel()
	return s.eval(ctx, 0, js)
}

// EvalContent runs js in the content-script world of a frame, the one the
// bridge realm realmID runs in.
func (b *Browser) EvalContent(ctx context.Context, e bridgeinternal.Extension, tabID, frameID int, realmID, code string) (json.RawMessage, error) {
	tid, err := b.tabTarget(ctx, tabID)
	if err != nil {
		return nil, err
	}
	s, err := b.session(ctx, tid)
	if err != nil {
		return nil, err
	}
	origin := "chrome-extension://" + e.ID
	s.mu.Lock()
	var ids []runtime.ExecutionContextID
	for id, w := range s.contexts {
		if w.origin == origin {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		raw, err := s.eval(ctx, id, js.RealmID)
		if err != nil {
			continue
		}
		var got string
		if json.Unmarshal(raw, &got) == nil && got == realmID {
			return s.eval(ctx, id, code)
		}
	}
	return nil, fmt.Errorf("the content-script world of tab %d frame %d is not reachable over CDP (cross-site frames run in their own process)", tabID, frameID)
}

// EvalPage runs js in the main world of an extension page: the page of tab
// tabID, or with tabID -1 the extension page (a popup) whose bridge realm
// is realmID. With a realmID, the page must still be that realm.
func (b *Browser) EvalPage(ctx context.Context, e bridgeinternal.Extension, tabID int, realmID, code string) (json.RawMessage, error) {
	var candidates []target.ID
	if tabID >= 0 {
		tid, err := b.tabTarget(ctx, tabID)
		if err != nil {
			return nil, err
		}
		candidates = []target.ID{tid}
	} else {
		res, err := chromedp.CallBrowser(withDeadline(b.browserCtx, ctx), target.GetTargets, target.GetTargetsParams{})
		if err != nil {
			return nil, err
		}
		prefix := "chrome-extension://" + e.ID + "/"
		for _, t := range res.TargetInfos {
			if t.Type == "page" && strings.HasPrefix(t.URL, prefix) {
				candidates = append(candidates, t.TargetID)
			}
		}
	}
	for _, tid := range candidates {
		s, err := b.session(ctx, tid)
		if err != nil {
			continue
		}
		if realmID != "" {
			raw, err := s.eval(ctx, 0, js.RealmID)
			var got string
			if err != nil || json.Unmarshal(raw, &got) != nil || got != realmID {
				continue
			}
		}
		return s.eval(ctx, 0, code)
	}
	if tabID >= 0 {
		return nil, fmt.Errorf("tab %d no longer shows that page (it was closed or navigated)", tabID)
	}
	return nil, errors.New("the page is gone (it was closed or navigated)")
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

// session attaches to a target for Eval, once.
func (b *Browser) session(ctx context.Context, id target.ID) (*session, error) {
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s != nil && s.ctx.Err() == nil {
		if ch, err := chromedp.Detached(s.ctx); err == nil {
			select {
			case <-ch:
			default:
				return s, nil
			}
		}
	}
	s, err := b.attach(ctx, id)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if old := b.sessions[id]; old != nil {
		old.cancel()
	}
	b.sessions[id] = s
	b.mu.Unlock()
	return s, nil
}

// attach attaches a new session to a target, tracking its isolated worlds.
func (b *Browser) attach(ctx context.Context, id target.ID) (*session, error) {
	s := &session{contexts: make(map[runtime.ExecutionContextID]isolatedWorld)}
	s.ctx, s.cancel = chromedp.NewContext(b.browserCtx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel(),
		chromedp.WithListener(func(ev any) {
			switch ev := ev.(type) {
			case *runtime.EventExecutionContextCreated:
				var aux struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(ev.Context.AuxData, &aux)
				if aux.Type == "isolated" {
					s.mu.Lock()
					s.contexts[ev.Context.ID] = isolatedWorld{ev.Context.Origin, ev.Context.UniqueID}
					s.mu.Unlock()
				}
			case *runtime.EventExecutionContextDestroyed:
				s.mu.Lock()
				for id, w := range s.contexts {
					if w.uniqueID == ev.ExecutionContextUniqueID {
						delete(s.contexts, id)
					}
				}
				s.mu.Unlock()
			case *runtime.EventExecutionContextsCleared:
				s.mu.Lock()
				clear(s.contexts)
				s.mu.Unlock()
			}
		}))
	if err := start(s.ctx, s.cancel, ctx); err != nil {
		s.cancel()
		return nil, fmt.Errorf("failed to attach to target %s: %w", id, err)
	}
	quiet(withDeadline(s.ctx, ctx))
	return s, nil
}

func (s *session) eval(ctx context.Context, contextID runtime.ExecutionContextID, js string) (json.RawMessage, error) {
	t := true
	res, err := chromedp.Call(withDeadline(s.ctx, ctx), runtime.Evaluate, runtime.EvaluateParams{
		Expression:    js,
		ContextID:     contextID,
		AwaitPromise:  &t,
		ReturnByValue: &t,
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
