package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/extfixtures"
)

// demo runs the MDN runtime.connect example on the embedded pingpong
// fixture, with Go playing the content script, and prints a transcript.
func demo(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	browser := fs.String("browser", "chromium", "browser: chromium or firefox")
	headful := fs.Bool("headful", false, "show the browser window")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	tmp, err := os.MkdirTemp("", "extbridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir, err := extfixtures.Materialize("pingpong", tmp)
	if err != nil {
		return err
	}
	srv, url, err := servePages()
	if err != nil {
		return err
	}
	defer srv.Close()

	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	start := time.Now()
	b, err := driver.Launch(ctx, driver.Options{Browser: driver.Kind(*browser), Extensions: []string{dir}, Headful: *headful})
	if err != nil {
		return err
	}
	defer b.Close()
	ext := b.Extensions()[0]
	say("launched %s with %q (id %s) in %s", *browser, ext.Name(), ext.ID(), time.Since(start).Round(time.Millisecond))

	tab, err := b.NewTab(ctx, url+"index.html")
	if err != nil {
		return err
	}
	say("opened tab %d at %sindex.html", tab.ID(), url)

	cs, err := ext.ContentScript(ctx, tab.ID(), 0)
	if err != nil {
		return err
	}
	port, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "port-from-cs"})
	if err != nil {
		return err
	}
	say("")
	say("Go, as a content script of tab %d: runtime.connect({name: %q})", tab.ID(), port.Name())
	recv := func() error {
		m, err := port.Recv(ctx)
		if err != nil {
			return err
		}
		say("  background -> Go   %s", m)
		return nil
	}
	if err := recv(); err != nil {
		return err
	}
	post := func(v any) error {
		data, _ := json.Marshal(v)
		say("  Go -> background   %s", data)
		return port.PostMessage(ctx, v)
	}
	if err := post(map[string]string{"greeting": "hello from content script"}); err != nil {
		return err
	}
	if err := post(map[string]string{"greeting": "they clicked the page!"}); err != nil {
		return err
	}
	say("  (clicking the extension's toolbar button)")
	if err := tab.ClickAction(ctx, ext); err != nil {
		return err
	}
	if err := recv(); err != nil {
		return err
	}

	// What the background logged, read back from its realm.
	bg, err := ext.Background(ctx)
	if err != nil {
		return err
	}
	var got []json.RawMessage
	if err := bg.Eval(ctx, waitReceivedJS(3), &got); err != nil {
		return err
	}
	say("")
	say("the background's own log of what it received:")
	for _, m := range got {
		say("  %s", m)
	}
	if err := port.Disconnect(); err != nil {
		return err
	}
	say("")
	say("Go disconnected the port; done in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitReceivedJS waits, inside the realm, until the fixture's
// globalThis.received holds n entries from ports named port-from-cs, and
// returns their messages.
func waitReceivedJS(n int) string {
	return fmt.Sprintf(`new Promise((resolve) => {
  const pick = () => (globalThis.received || []).map((r) => r && r.msg !== undefined ? r.msg : r);
  const check = () => { const m = pick(); if (m.length >= %d) resolve(m); else setTimeout(check, 10); };
  check();
})`, n)
}

// servePages serves the fixture pages on loopback.
func servePages() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: extfixtures.PagesHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String() + "/", nil
}
