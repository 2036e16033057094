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
	"strings"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/extfixtures"
)

// demo runs the MDN runtime.connect example on the embedded pingpong
// fixture, with Go playing the content script beside the page's own, a real
// click on the page and one on the toolbar button, and prints a transcript.
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
	// Ctrl-C ends the demo through ctx, and a closed stdout (demo | head)
	// is a write error the transcript ignores: either way the browser is
	// closed and the folders removed.
	sig := newSignals(cancel)
	defer sig.stop()

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

	// The watch follows every port event of the extension; the demo uses it
	// to wait for the background and to show the background's side.
	w, err := ext.Watch(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	var bgView []bridge.Event
	waitBackground := func(done func(ev bridge.Event) bool) error {
		for {
			ev, err := w.Next(ctx)
			if err != nil {
				return err
			}
			if ev.Realm.Kind != "background" {
				continue
			}
			bgView = append(bgView, ev)
			if done(ev) {
				return nil
			}
		}
	}
	message := func(outgoing bool, text string) func(ev bridge.Event) bool {
		return func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventMessage && ev.Outgoing == outgoing && strings.Contains(string(ev.Data), text)
		}
	}

	// The page's own content script connects first (it listens for clicks
	// from then on), so that Go's port is the one the background answers
	// the toolbar button on: MDN's background keeps the last port.
	if err := waitBackground(func(ev bridge.Event) bool { return ev.Kind == bridge.EventOpen && !ev.ByGo }); err != nil {
		return err
	}
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
	// A real click on the page: the page's own content script posts
	// "they clicked the page!" on its port, as MDN's example does.
	say("  (clicking the page: Tab.Click(%q), a trusted click)", "#content")
	if err := tab.Click(ctx, "#content"); err != nil {
		return err
	}
	if err := waitBackground(message(false, "they clicked the page!")); err != nil {
		return err
	}
	say("  page's content script -> background   %s", bgView[len(bgView)-1].Data)
	say("  (clicking the extension's toolbar button)")
	if err := tab.ClickAction(ctx, ext); err != nil {
		return err
	}
	if err := recv(); err != nil {
		return err
	}

	if err := waitBackground(message(true, "they clicked the button!")); err != nil {
		return err
	}
	say("")
	say("the same exchange seen in the background realm (Extension.Watch), with the")
	say("page's own content script's port first:")
	for _, ev := range bgView {
		say("  %s", ev)
	}
	if err := port.Disconnect(); err != nil {
		return err
	}
	say("")
	say("Go disconnected the port; done in %s", time.Since(start).Round(time.Millisecond))
	return nil
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
