package driver_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/extfixtures"
)

// Launch a browser with an unpacked extension, open a tab, and close it all.
func ExampleLaunch() {
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ext, err := extfixtures.Materialize("echo", dir)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := driver.Launch(ctx, driver.Options{
		Browser:    driver.Chromium, // or driver.Firefox
		Extensions: []string{ext},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	tab, err := b.NewTab(ctx, "data:text/html,<title>hello</title>")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Extensions()[0].Name(), tab.ID() > 0)
	// Output: echo true
}

// Click an extension's toolbar button with a tab active, as the user would.
func ExampleTab_ClickAction() {
	var ctx context.Context
	var b *driver.Browser
	var tab *driver.Tab
	_ = func() error {
		return tab.ClickAction(ctx, b.Extensions()[0]) // runs the extension's action.onClicked listeners
	}
}

// Screenshot captures a tab as PNG, for diagnostics.
func ExampleTab_Screenshot() {
	_ = func(ctx context.Context, tab *driver.Tab) error {
		png, err := tab.Screenshot(ctx)
		if err != nil {
			return err
		}
		return os.WriteFile("tab.png", png, 0o644)
	}
}
