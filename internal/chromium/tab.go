package chromium

import (
	"context"
	"errors"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	cdpext "github.com/chromedp/cdproto/extensions"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Tab is a browser tab: its page target, and the "tab" target that holds it.
type Tab struct {
	b         *Browser
	id        int
	ctx       context.Context
	cancel    context.CancelFunc
	tabTarget target.ID // the "tab" target that Extensions.triggerAction wants
}

// ID is the tabs.Tab id the extensions see (-1 when no extension has a
// background to learn it from).
func (t *Tab) ID() int { return t.id }

// quietTab also turns off, on a tab's own session, the domains chromedp
// enables for its DOM queries: the driver only navigates, captures and
// closes the tab (Page), and a page with heavy DOM churn or console spam
// would otherwise flood the connection the same way. Eval uses sessions of
// its own, which keep Runtime.
func quietTab(ctx context.Context) {
	_, _ = chromedp.Call(ctx, runtime.Disable, cdp.Empty{})
	_, _ = chromedp.Call(ctx, css.Disable, cdp.Empty{})
	_, _ = chromedp.Call(ctx, dom.Disable, cdp.Empty{})
}

// NewTab opens a tab at url and returns once it has loaded, with the tab id
// the extensions see.
func (b *Browser) NewTab(ctx context.Context, url string) (*Tab, error) {
	// CDP links a page to its tab target nowhere, so tabs are created one
	// at a time and the tab target that appears is the new one.
	b.tabMu.Lock()
	before, err := b.tabTargets(ctx)
	if err != nil {
		b.tabMu.Unlock()
		return nil, err
	}
	tabCtx, cancel := chromedp.NewContext(b.browserCtx)
	if err := start(tabCtx, cancel, ctx); err != nil {
		b.tabMu.Unlock()
		cancel()
		return nil, err
	}
	quiet(withDeadline(tabCtx, ctx))
	quietTab(withDeadline(tabCtx, ctx))
	after, err := b.tabTargets(ctx)
	b.tabMu.Unlock()
	if err != nil {
		cancel()
		return nil, err
	}
	t := &Tab{b: b, id: -1, ctx: tabCtx, cancel: cancel}
	for id := range after {
		if !before[id] {
			if t.tabTarget != "" { // more than one: another tab opened meanwhile
				t.tabTarget = ""
				break
			}
			t.tabTarget = id
		}
	}
	if err := chromedp.Do(withDeadline(tabCtx, ctx), chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, err
	}
	tid := chromedp.FromContext(tabCtx).Target.TargetID
	if len(b.opts.Extensions) > 0 {
		list, err := b.debuggerTargets(ctx)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("failed to learn the tab id: %w", err)
		}
		for _, x := range list {
			if target.ID(x.ID) == tid {
				t.id = x.Tab
			}
		}
		if t.id < 0 {
			cancel()
			return nil, errors.New("failed to learn the tab id: chrome.debugger.getTargets does not list the tab")
		}
	}
	return t, nil
}

// PageURL is the URL of a file of the extension extID.
func (b *Browser) PageURL(extID, path string) string {
	return "chrome-extension://" + extID + "/" + path
}

// OpenPage opens url, a page of an extension, in a new tab and returns once
// it has loaded.
func (b *Browser) OpenPage(ctx context.Context, url string) (*Tab, error) {
	return b.NewTab(ctx, url)
}

// Close closes the tab.
func (t *Tab) Close(ctx context.Context) error {
	tctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if err := chromedp.Cancel(tctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("failed to close tab %d: %w", t.id, err)
	}
	return nil
}

// ClickAction clicks the toolbar button of the extension extID with this
// tab active.
func (t *Tab) ClickAction(ctx context.Context, extID string) error {
	if t.tabTarget == "" {
		return errors.New("the tab target of this tab is unknown")
	}
	_, err := chromedp.CallBrowser(withDeadline(t.b.browserCtx, ctx), cdpext.TriggerAction,
		cdpext.TriggerActionParams{ID: extID, TargetID: string(t.tabTarget)})
	return err
}

// tabTargets lists the ids of the "tab" targets, the parents of the page
// targets that Extensions.triggerAction wants.
func (b *Browser) tabTargets(ctx context.Context) (map[target.ID]bool, error) {
	res, err := chromedp.CallBrowser(withDeadline(b.browserCtx, ctx), target.GetTargets,
		target.GetTargetsParams{Filter: target.Filter{{Type: "tab"}}})
	if err != nil {
		return nil, err
	}
	out := make(map[target.ID]bool, len(res.TargetInfos))
	for _, x := range res.TargetInfos {
		out[x.TargetID] = true
	}
	return out, nil
}

// Screenshot captures the visible part of the tab as a PNG.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	return chromedp.Run(withDeadline(t.ctx, ctx), chromedp.CaptureScreenshot())
}
