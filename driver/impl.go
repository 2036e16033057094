package driver

import (
	"context"

	"github.com/extbridge/extbridge/internal/chromium"
	"github.com/extbridge/extbridge/internal/firefox"
)

// The adapters from each browser's driver to browserImpl.
type (
	chromiumImpl struct{ *chromium.Browser }
	firefoxImpl  struct{ *firefox.Browser }
)

func (c chromiumImpl) openTab(ctx context.Context, url string) (tabImpl, error) {
	return c.NewTab(ctx, url)
}

func (c chromiumImpl) openPage(ctx context.Context, url string) (tabImpl, error) {
	return c.OpenPage(ctx, url)
}

func (f firefoxImpl) openTab(ctx context.Context, url string) (tabImpl, error) {
	return f.NewTab(ctx, url)
}

func (f firefoxImpl) openPage(ctx context.Context, url string) (tabImpl, error) {
	return f.OpenPage(ctx, url)
}
