package chromium

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	cdpext "github.com/chromedp/cdproto/extensions"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Tab is a browser tab: its page target and the mux session extbridge
// drives it with. The session has the Page domain on (loads, navigations)
// and Runtime off: a page that floods its console costs the connection
// nothing (Eval and the content-script lookup turn Runtime on only for
// the moment they list the page's execution contexts).
type Tab struct {
	b      *Browser
	id     int
	target target.ID
	s      *session

	mu        sync.Mutex
	tabTarget target.ID // the "tab" target that holds the page, once looked up
}

// ID is the tabs.Tab id the extensions see (-1 when no extension has a
// background to learn it from).
func (t *Tab) ID() int { return t.id }

// NewTab opens a tab at url and returns once it has loaded, with the tab id
// the extensions see.
//
// The tab opens in the foreground of the browser's window, as a user's
// new tab does and as Firefox's do: Target.createTarget with the url, so
// that the load starts at once, while the session attaches and the
// background looks up the tab id.
func (b *Browser) NewTab(ctx context.Context, url string) (*Tab, error) {
	res, err := browserCall(ctx, b.mux, target.CreateTarget, target.CreateTargetParams{URL: url})
	if err != nil {
		return nil, err
	}
	t := &Tab{b: b, id: -1, target: res.TargetID}
	fail := func(err error) (*Tab, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = t.close(cctx)
		return nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type tabID struct {
		id  int
		err error
	}
	ids := make(chan tabID, 1)
	if len(b.opts.Extensions) > 0 {
		go func() {
			id, err := b.tabIDOf(lctx, t.target)
			ids <- tabID{id, err}
		}()
	} else {
		ids <- tabID{-1, nil}
	}
	if t.s = b.mux.autoSession(t.target); t.s == nil {
		if t.s, err = b.mux.attach(ctx, t.target); err != nil {
			return fail(err)
		}
	}
	t.s.followNavigation()
	if err := t.waitLoaded(ctx, url, nil); err != nil {
		return fail(err)
	}
	r := <-ids
	if r.err != nil {
		return fail(fmt.Errorf("failed to learn the tab id: %w", r.err))
	}
	t.id = r.id
	if t.id >= 0 {
		b.mu.Lock()
		b.tabs[t.id] = t
		b.mu.Unlock()
		// A tab closed by other hands (the extension, the page) leaves.
		context.AfterFunc(t.s.life, func() {
			b.mu.Lock()
			if b.tabs[t.id] == t {
				delete(b.tabs, t.id)
			}
			b.mu.Unlock()
		})
	}
	return t, nil
}

// tabIDOf learns the tabs.Tab id of a page target from a background's
// chrome.debugger.getTargets.
func (b *Browser) tabIDOf(ctx context.Context, tid target.ID) (int, error) {
	list, err := b.debuggerTargets(ctx)
	if err != nil {
		return -1, err
	}
	for _, x := range list {
		if target.ID(x.ID) == tid {
			return x.Tab, nil
		}
	}
	return -1, errors.New("chrome.debugger.getTargets does not list the tab")
}

// loadState follows a tab's main frame over its session: which document
// it shows, and which documents have fired their load event.
type loadState struct {
	mu        sync.Mutex
	main      target.ID // a page target's main frame has the target's id
	known     bool      // cur is set
	cur       cdp.Frame
	loaded    map[string]bool // by loader id
	dcl       map[string]bool // DOMContentLoaded, by loader id
	want      string          // the loader id a Navigate waits for
	navErr    error
	sameDoc   bool // the navigation stayed in the document
	changed   chan struct{}
	settledCh chan struct{}
}

func newLoadState(main target.ID) *loadState {
	return &loadState{main: main, loaded: map[string]bool{}, dcl: map[string]bool{}, changed: make(chan struct{}, 1)}
}

func (l *loadState) poke() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// event updates the state from a session event (on the mux's read loop).
func (l *loadState) event(method string, params jsonv2.Value) {
	switch method {
	case page.FrameNavigated.Method:
		var ev page.EventFrameNavigated
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) != nil || ev.Frame == nil || ev.Frame.ParentID != "" {
			return
		}
		l.mu.Lock()
		l.cur, l.known = *ev.Frame, true
		l.mu.Unlock()
	case page.LifecycleEvent.Method:
		var ev page.EventLifecycleEvent
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) != nil || string(ev.FrameID) != string(l.main) {
			return
		}
		l.mu.Lock()
		switch ev.Name {
		case "load":
			l.loaded[string(ev.LoaderID)] = true
		case "DOMContentLoaded":
			l.dcl[string(ev.LoaderID)] = true
		}
		l.mu.Unlock()
	case page.NavigatedWithinDocument.Method:
		// A fragment navigation loads nothing.
	default:
		return
	}
	l.poke()
}

// waitLoaded waits until the tab's main frame has loaded: with nav nil, a
// document of a tab created at url (not the initial about:blank of a new
// tab, unless url is an about: URL itself); with nav, the document that
// the Page.navigate nav sends loads.
func (t *Tab) waitLoaded(ctx context.Context, url string, nav *page.NavigateParams) error {
	l := newLoadState(t.target)
	stop := t.s.listen(l.event)
	defer stop()
	if nav == nil {
		// Lifecycle events, once on, are sent again for the document
		// shown now; the frame tree tells which document that is. The
		// replies come in order with the events, on the read loop.
		t.s.send(page.Enable.Method, page.EnableParams{}, nil)
		t.s.send(page.SetLifecycleEventsEnabled.Method, page.SetLifecycleEventsEnabledParams{Enabled: true}, nil)
		t.s.send(page.GetFrameTree.Method, nil, func(v jsonv2.Value, err error) {
			var res page.GetFrameTreeResult
			if err == nil {
				err = jsonv2.Unmarshal(v, &res, chromedp.DefaultUnmarshalOptions)
			}
			l.mu.Lock()
			if err != nil {
				l.navErr = err
			} else if !l.known && res.FrameTree != nil && res.FrameTree.Frame != nil {
				l.cur, l.known = *res.FrameTree.Frame, true
			}
			l.mu.Unlock()
			l.poke()
		})
	} else {
		t.s.send(page.Navigate.Method, nav, func(v jsonv2.Value, err error) {
			var res page.NavigateResult
			if err == nil {
				err = jsonv2.Unmarshal(v, &res, chromedp.DefaultUnmarshalOptions)
			}
			l.mu.Lock()
			switch {
			case err != nil:
				l.navErr = err
			case res.ErrorText != "":
				l.navErr = &chromedp.LoadError{ErrorText: res.ErrorText}
			case res.LoaderID == "":
				l.sameDoc = true
			default:
				l.want = string(res.LoaderID)
			}
			l.mu.Unlock()
			l.poke()
		})
	}
	aboutURL := strings.HasPrefix(url, "about:")
	listed := len(t.b.opts.Extensions) == 0
	var listDone chan struct{}
	for {
		l.mu.Lock()
		done, err, failed, doc := false, l.navErr, false, ""
		if err == nil {
			switch {
			case nav != nil:
				done = l.sameDoc || (l.want != "" && l.loaded[l.want])
				doc = l.want
			case l.known && l.cur.UnreachableURL != "":
				failed = true
			case l.known && (aboutURL || l.cur.URL != "about:blank"):
				doc = string(l.cur.LoaderID)
				done = l.loaded[doc]
			}
		}
		interactive := doc != "" && (l.dcl[doc] || l.loaded[doc])
		l.mu.Unlock()
		if interactive && !listed {
			// The extensions' worlds exist once the document is parsed:
			// list them now, beside the rest of the load, for the
			// content-script lookups and Evals to come.
			listed = true
			listDone = make(chan struct{})
			go func() { t.s.prefetchWorlds(); close(listDone) }()
		}
		switch {
		case err != nil:
			return err
		case failed:
			// The browser shows its error page: navigate again for the
			// error text that Page.navigate gives.
			return t.waitLoaded(ctx, url, &page.NavigateParams{URL: url})
		case done:
			if listDone != nil {
				// The listing needs the page's main thread, as does the
				// Eval or content-script lookup that follows, and the page
				// keeps it busy for a few milliseconds after its load: the
				// listing takes that wait here, once, so that what follows
				// finds the worlds listed (measured: ContentScript + Eval
				// 1.2–1.7 ms after this instead of 4.6–7.7 ms, NewTab 5–10
				// ms longer, a typical test the same). A page that keeps
				// its main thread longer does not hold the tab longer than
				// listWait: the listing goes on, and the next lookup waits
				// for it.
				wait := time.NewTimer(listWait)
				defer wait.Stop()
				select {
				case <-listDone:
				case <-wait.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
		select {
		case <-l.changed:
		case <-t.s.done:
			return fmt.Errorf("the tab went away while loading: %w", t.s.err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// listWait bounds how long a load waits for its listing of the worlds.
const listWait = time.Second

// PageURL is the URL of a file of the extension extID.
func (b *Browser) PageURL(extID, path string) string {
	return "chrome-extension://" + extID + "/" + path
}

// OpenPage opens url, a page of an extension, in a new tab and returns once
// it has loaded.
func (b *Browser) OpenPage(ctx context.Context, url string) (*Tab, error) {
	return b.NewTab(ctx, url)
}

// closeWait bounds how long Close waits for a closed tab's target to go: a
// tab with a request that never ends can stay for a long time (chromedp
// gives it half a second too).
const closeWait = 2 * time.Second

// Close closes the tab and returns once its target is gone.
func (t *Tab) Close(ctx context.Context) error {
	t.b.mu.Lock()
	if t.b.tabs[t.id] == t {
		delete(t.b.tabs, t.id)
	}
	t.b.mu.Unlock()
	if err := t.close(ctx); err != nil {
		return fmt.Errorf("failed to close tab %d: %w", t.id, err)
	}
	return nil
}

// close closes the page target and waits for Target.targetDestroyed, as
// Puppeteer's page.close and chromedp's cancel do.
func (t *Tab) close(ctx context.Context) error {
	gone := make(chan struct{})
	var once sync.Once
	stop := t.b.mux.watch(func(method string, params jsonv2.Value) {
		if method != target.TargetDestroyed.Method {
			return
		}
		var ev target.EventTargetDestroyed
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) == nil && ev.TargetID == t.target {
			once.Do(func() { close(gone) })
		}
	})
	defer stop()
	if _, err := browserCall(ctx, t.b.mux, target.CloseTarget, target.CloseTargetParams{TargetID: t.target}); err != nil {
		var ce *cdproto.Error
		if errors.As(err, &ce) && strings.Contains(ce.Message, "No target with given id") {
			return nil // closed already
		}
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, closeWait)
	defer cancel()
	select {
	case <-gone:
	case <-wctx.Done():
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// activate brings the tab to the front of its window, as a user's click on
// it does.
func (t *Tab) activate(ctx context.Context) error {
	_, err := browserCall(ctx, t.b.mux, target.ActivateTarget, target.ActivateTargetParams{TargetID: t.target})
	return err
}

// ClickAction clicks the toolbar button of the extension extID with this
// tab active: it brings the tab to the front first.
func (t *Tab) ClickAction(ctx context.Context, extID string) error {
	if err := t.activate(ctx); err != nil {
		return err
	}
	tab, err := t.tabTargetID(ctx)
	if err != nil {
		return err
	}
	_, err = browserCall(ctx, t.b.mux, cdpext.TriggerAction, cdpext.TriggerActionParams{ID: extID, TargetID: string(tab)})
	return err
}

// tabTargetID finds the "tab" target that holds the page, the one
// Extensions.triggerAction wants. CDP links the two nowhere but in the tab
// target's own auto-attach, so this attaches to each tab target in turn
// and asks which page it holds. It is looked up once, when first needed.
func (t *Tab) tabTargetID(ctx context.Context) (target.ID, error) {
	t.mu.Lock()
	id := t.tabTarget
	t.mu.Unlock()
	if id != "" {
		return id, nil
	}
	res, err := browserCall(ctx, t.b.mux, target.GetTargets, target.GetTargetsParams{Filter: target.Filter{{Type: "tab"}}})
	if err != nil {
		return "", err
	}
	for _, info := range res.TargetInfos {
		holds, err := t.b.tabHolds(ctx, info.TargetID, t.target)
		if err != nil {
			return "", err
		}
		if holds {
			t.mu.Lock()
			t.tabTarget = info.TargetID
			t.mu.Unlock()
			return info.TargetID, nil
		}
	}
	return "", errors.New("no tab target holds this tab's page")
}

// tabHolds reports whether the tab target tab holds the page target pg.
func (b *Browser) tabHolds(ctx context.Context, tab, pg target.ID) (bool, error) {
	s, err := b.mux.attach(ctx, tab)
	if err != nil {
		return false, err
	}
	defer s.detach()
	found := make(chan bool, 1)
	stop := s.listen(func(method string, params jsonv2.Value) {
		if method != target.AttachedToTarget.Method {
			return
		}
		var ev target.EventAttachedToTarget
		if jsonv2.Unmarshal(params, &ev, chromedp.DefaultUnmarshalOptions) == nil && ev.TargetInfo != nil && ev.TargetInfo.Type == "page" {
			select {
			case found <- ev.TargetInfo.TargetID == pg:
			default:
			}
		}
	})
	defer stop()
	flat := true
	if err := s.Call(ctx, target.SetAutoAttach.Method, target.SetAutoAttachParams{AutoAttach: true, Flatten: &flat}, nil); err != nil {
		return false, err
	}
	// A tab target attaches its page before it answers.
	select {
	case ok := <-found:
		return ok, nil
	default:
		return false, nil
	}
}

// Screenshot brings the tab to the front (a background tab has nothing
// drawn) and captures its visible part as a PNG.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	if err := t.activate(ctx); err != nil {
		return nil, err
	}
	res, err := call(ctx, t.s, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	if err != nil {
		return nil, err
	}
	return res.Data, nil
}
