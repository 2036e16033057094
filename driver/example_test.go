package driver_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
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

// Click and type into a page as the user does: real, trusted input events
// that the page and the extension's content scripts both see.
func ExampleTab_Click() {
	srv := httptest.NewServer(extfixtures.PagesHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := driver.Launch(ctx, driver.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	tab, err := b.NewTab(ctx, srv.URL+"/input.html")
	if err != nil {
		log.Fatal(err)
	}
	if err := tab.Type(ctx, "#name", "Zoë"); err != nil {
		log.Fatal(err)
	}
	if err := tab.Click(ctx, "#go"); err != nil {
		log.Fatal(err)
	}
	var clicks []struct {
		ID      string
		Trusted bool
	}
	if err := tab.Eval(ctx, "window.clicks", &clicks); err != nil { // the page's own globals
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", clicks)
	err = tab.Click(ctx, "#under")
	fmt.Println(err)
	// Output:
	// [{ID:go Trusted:true}]
	// failed to click in tab -1: the selector "#under" matches button#under, which is covered by div#over at its centre
}

// Eval runs code in the page's own main world and awaits its promise.
func ExampleTab_Eval() {
	_ = func(ctx context.Context, tab *driver.Tab) (string, error) {
		var title string
		err := tab.Eval(ctx, `new Promise((resolve) => setTimeout(() => resolve(document.title), 10))`, &title)
		return title, err
	}
}

// Navigate loads another page in the tab; the old document's content-script
// ports end.
func ExampleTab_Navigate() {
	_ = func(ctx context.Context, tab *driver.Tab) error {
		return tab.Navigate(ctx, "https://example.com/")
	}
}

// OpenPage opens an extension page in a tab; Extension.Page acts as its
// code.
func ExampleBrowser_OpenPage() {
	_ = func(ctx context.Context, b *driver.Browser) error {
		ext := b.Extensions()[0]
		tab, err := b.OpenPage(ctx, ext, "options.html")
		if err != nil {
			return err
		}
		defer tab.Close(ctx)
		page, err := ext.Page(ctx, tab.ID())
		if err != nil {
			return err
		}
		var ready bool
		return page.Eval(ctx, `document.readyState === "complete"`, &ready)
	}
}

// Be the native messaging host of MDN's ping_pong example: the extension
// connects with runtime.connectNative("ping_pong") and Go answers its
// "ping".
func ExampleBrowser_NativeHost() {
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ext, err := extfixtures.Materialize("nativepingpong", dir)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := driver.Launch(ctx, driver.Options{
		Extensions:  []string{ext},
		NativeHosts: []driver.NativeHost{{Name: "ping_pong"}}, // no Path: Go is the host
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	host, err := b.NativeHost("ping_pong")
	if err != nil {
		log.Fatal(err)
	}
	port, err := host.Accept(ctx) // the extension connected at start-up
	if err != nil {
		log.Fatal(err)
	}
	tab, err := b.NewTab(ctx, "data:text/html,<title>hello</title>")
	if err != nil {
		log.Fatal(err)
	}
	if err := tab.ClickAction(ctx, b.Extensions()[0]); err != nil { // the extension posts "ping"
		log.Fatal(err)
	}
	msg, err := port.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(port.Name(), string(msg))
	if err := port.PostMessage(ctx, "pong"); err != nil { // the extension logs "Received: pong"
		log.Fatal(err)
	}
	// Output: ping_pong "ping"
}

// A real host program: the browser runs it as it would for the user, and Go
// is not in between; a Watch still sees the extension's side of it.
func ExampleNativeHost() {
	_ = driver.Options{
		Extensions: []string{"./my-extension"},
		NativeHosts: []driver.NativeHost{
			{Name: "ping_pong", Path: "./ping_pong.py"}, // registered in the launch's own profile
			{Name: "com.example.mock"},                  // Go serves it: Browser.NativeHost("com.example.mock")
		},
	}
}
