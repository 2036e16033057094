package drivertest

import (
	"context"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
)

// Click clicks the first element the CSS selector matches in tab, as a
// user does (see [driver.Tab.Click]), and fails the test if it cannot.
func Click(t testing.TB, tab *driver.Tab, selector string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	if err := tab.Click(ctx, selector); err != nil {
		t.Fatalf("drivertest: %v", err)
	}
}

// Type types text into the first element the CSS selector matches in tab,
// with real key presses (see [driver.Tab.Type]), and fails the test if it
// cannot.
func Type(t testing.TB, tab *driver.Tab, selector, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	if err := tab.Type(ctx, selector, text); err != nil {
		t.Fatalf("drivertest: %v", err)
	}
}

// OpenPage opens a page of the extension e in a new tab (see
// [driver.Browser.OpenPage]) that closes when the test ends, and returns the
// tab and the page as a realm Go acts in ([bridge.Extension.Page]).
func OpenPage(t testing.TB, b *driver.Browser, e *bridge.Extension, path string) (*driver.Tab, *bridge.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	tab, err := b.OpenPage(ctx, e, path)
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	closeWithTest(t, b, tab)
	page, err := e.Page(ctx, tab.ID())
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	return tab, page
}
