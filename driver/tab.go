package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/extbridge/extbridge/bridge"
)

// Tab is a browser tab.
type Tab struct {
	b    *Browser
	impl tabImpl

	mu     sync.Mutex
	closed bool
}

// tabImpl is a tab of internal/chromium or internal/firefox.
type tabImpl interface {
	ID() int
	Close(ctx context.Context) error
	ClickAction(ctx context.Context, extID string) error
	Screenshot(ctx context.Context) ([]byte, error)
	Eval(ctx context.Context, js string) (json.RawMessage, error)
	Click(ctx context.Context, selector string) error
	Type(ctx context.Context, selector, text string) error
	Navigate(ctx context.Context, url string) error
}

// ID is the tabs.Tab id the extension sees for this tab.
func (t *Tab) ID() int { return t.impl.ID() }

// Close closes the tab. It is idempotent.
func (t *Tab) Close(ctx context.Context) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	return t.impl.Close(ctx)
}

// Screenshot captures the visible part of the tab as a PNG. In Chromium it
// brings the tab to the front first: a tab in the background has nothing
// drawn.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	png, err := t.impl.Screenshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to capture tab %d: %w", t.ID(), err)
	}
	return png, nil
}

// ClickAction clicks the extension's toolbar button (its action or
// browserAction) with this tab active, so the extension's
// action.onClicked listeners run with this tab: it brings the tab to the
// front of its window first, as a user would.
func (t *Tab) ClickAction(ctx context.Context, e *bridge.Extension) error {
	if err := t.impl.ClickAction(ctx, e.ID()); err != nil {
		return fmt.Errorf("failed to click the action of %s: %w", e.Name(), err)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page's own main world (the
// page's globals, not an extension's), awaits it if it is a promise, and
// JSON-decodes the value into out (out may be nil). An exception is an error
// that carries its message. To run code as an extension's content script,
// use bridge.Extension.ContentScript; in an extension page, Extension.Page.
// Firefox does not let the browser's protocol into extension pages: there,
// use Extension.Page(ctx, tab.ID()).Eval.
func (t *Tab) Eval(ctx context.Context, js string, out any) error {
	raw, err := t.impl.Eval(ctx, js)
	if err != nil {
		return fmt.Errorf("failed to eval in the page of tab %d: %w", t.ID(), err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("failed to decode the result of eval in tab %d: %w", t.ID(), err)
	}
	return nil
}

// Click clicks the first element that the CSS selector matches, as a user
// does: it scrolls the element into view and presses and releases the left
// mouse button at its centre, with real (trusted, isTrusted === true) mouse
// events from the browser's input pipeline (CDP Input.dispatchMouseEvent;
// BiDi input.performActions). A selector that matches nothing, an element
// with no box (not rendered, or of no size) and an element that another one
// covers at its centre are errors that say so.
func (t *Tab) Click(ctx context.Context, selector string) error {
	if err := t.impl.Click(ctx, selector); err != nil {
		return fmt.Errorf("failed to click in tab %d: %w", t.ID(), err)
	}
	return nil
}

// Type focuses the first element that the CSS selector matches and presses
// and releases a key for every character of text, with real (trusted) key
// events: any Unicode character types itself, "\n" is the Enter key and
// "\t" the Tab key. A selector that matches nothing, or an element that
// cannot take the focus, is an error that says so.
func (t *Tab) Type(ctx context.Context, selector, text string) error {
	if err := t.impl.Type(ctx, selector, text); err != nil {
		return fmt.Errorf("failed to type in tab %d: %w", t.ID(), err)
	}
	return nil
}

// Navigate loads url in the tab and returns once the page has loaded. The
// old document's content-script realms and their ports end, as when the
// user navigates; bridge.Extension.ContentScript gives the new document's.
func (t *Tab) Navigate(ctx context.Context, url string) error {
	if err := t.impl.Navigate(ctx, url); err != nil {
		return fmt.Errorf("failed to navigate tab %d to %s: %w", t.ID(), url, err)
	}
	return nil
}
