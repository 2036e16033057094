package driver

import (
	"context"
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

// Screenshot captures the visible part of the tab as a PNG.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	png, err := t.impl.Screenshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to capture tab %d: %w", t.ID(), err)
	}
	return png, nil
}

// ClickAction clicks the extension's toolbar button (its action or
// browserAction) with this tab active, so the extension's
// action.onClicked listeners run with this tab.
func (t *Tab) ClickAction(ctx context.Context, e *bridge.Extension) error {
	if err := t.impl.ClickAction(ctx, e.ID()); err != nil {
		return fmt.Errorf("failed to click the action of %s: %w", e.Name(), err)
	}
	return nil
}
