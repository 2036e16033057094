package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/internal/bidi"
	"github.com/extbridge/extbridge/internal/chromium"
	"github.com/extbridge/extbridge/internal/firefox"
	"github.com/extbridge/extbridge/internal/leakcheck"
)

// bareBrowser is a browser started without extbridge, with an extension
// loaded as it is (no bridge): the floor.
type bareBrowser interface {
	// open opens a tab at url, waits for the load, and returns a function
	// that closes the tab.
	open(ctx context.Context, url string) (func(), error)
	Close() error
}

func launchBare(ctx context.Context, kind driver.Kind, ext string) (bareBrowser, error) {
	if kind == driver.Firefox {
		return launchBareFirefox(ctx, ext)
	}
	return launchBareChromium(ctx, ext)
}

// bareChromium is Debian's Chromium with the flags extbridge uses
// (chromium.Flags), started with chromedp and --load-extension.
type bareChromium struct {
	profile     string
	allocCancel context.CancelFunc
	browserCtx  context.Context
	cancel      context.CancelFunc
}

func launchBareChromium(ctx context.Context, ext string) (*bareChromium, error) {
	profile, err := os.MkdirTemp("", leakcheck.TempPrefix()+"bare-")
	if err != nil {
		return nil, err
	}
	opts := append(chromium.Flags(),
		chromedp.Headless,
		chromedp.UserDataDir(profile),
		chromedp.Env(leakcheck.OwnerValue()),
		chromedp.CombinedOutput(io.Discard),
		chromedp.Flag("load-extension", ext),
	)
	if p := os.Getenv("EXTBRIDGE_CHROMIUM"); p != "" {
		opts = append(opts, chromedp.ExecPath(p))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	c := &bareChromium{profile: profile, allocCancel: allocCancel, browserCtx: browserCtx, cancel: cancel}
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(browserCtx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("failed to start bare Chromium: %w", err)
	}
	return c, nil
}

func (c *bareChromium) open(ctx context.Context, url string) (func(), error) {
	tabCtx, cancel := chromedp.NewContext(c.browserCtx)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	// chromedp enables the Network domain on every page it attaches to,
	// which turns every WebSocket frame into a CDP event; a plain browser
	// has no such observer, so the floor turns it off.
	err := chromedp.Do(tabCtx)
	if err == nil {
		_, err = chromedp.Call(tabCtx, network.Disable, cdp.Empty{})
	}
	if err == nil {
		err = chromedp.Do(tabCtx, chromedp.Navigate(url))
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return cancel, nil
}

func (c *bareChromium) Close() error {
	c.cancel()
	c.allocCancel()
	return os.RemoveAll(c.profile)
}

// bareFirefox is Firefox ESR started with extbridge's launcher, with the
// extension installed as a temporary add-on.
type bareFirefox struct {
	p *firefox.Process
}

func launchBareFirefox(ctx context.Context, ext string) (*bareFirefox, error) {
	p, err := firefox.Launch(ctx, firefox.Options{
		Env: []string{leakcheck.OwnerValue()},
	})
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(ext)
	if _, err := p.InstallExtension(ctx, abs); err != nil {
		p.Close()
		return nil, err
	}
	return &bareFirefox{p: p}, nil
}

func (f *bareFirefox) open(ctx context.Context, url string) (func(), error) {
	c := f.p.BiDi()
	id, err := c.BrowsingContextCreate(ctx, bidi.CreateParams{Type: "tab"})
	if err != nil {
		return nil, err
	}
	closeTab := func() { c.BrowsingContextClose(context.Background(), id) }
	if _, err := c.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: id, URL: url}); err != nil {
		closeTab()
		return nil, err
	}
	return closeTab, nil
}

func (f *bareFirefox) Close() error { return f.p.Close() }
