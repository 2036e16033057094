package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
)

func TestMain(m *testing.M) { drivertest.Main(m) }

// launchFixture starts Chromium with one fixture extension and serves the
// fixture pages; the examples share it.
func launchFixture(name string) (b *driver.Browser, pages string, done func()) {
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	ext, err := extfixtures.Materialize(name, dir)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(extfixtures.PagesHandler())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err = driver.Launch(ctx, driver.Options{Extensions: []string{ext}})
	if err != nil {
		log.Fatal(err)
	}
	return b, srv.URL + "/", func() { b.Close(); srv.Close(); os.RemoveAll(dir) }
}

// Go plays a content script of a tab: runtime.connect, post, receive.
func ExampleExtension_ContentScript() {
	b, pages, done := launchFixture("echo")
	defer done()
	ctx := context.Background()
	tab, err := b.NewTab(ctx, pages+"index.html")
	if err != nil {
		log.Fatal(err)
	}
	cs, err := b.Extensions()[0].ContentScript(ctx, tab.ID(), 0)
	if err != nil {
		log.Fatal(err)
	}
	port, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "from-go"})
	if err != nil {
		log.Fatal(err)
	}
	defer port.Disconnect()
	if err := port.PostMessage(ctx, map[string]string{"greeting": "hello"}); err != nil {
		log.Fatal(err)
	}
	msg, err := port.Recv(ctx) // the echo fixture's background echoes it
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	// Output: {"greeting":"hello"}
}

// Go listens in the background like a runtime.onConnect listener, and gets
// the content script's port with the browser's sender.
func ExampleContext_Listen() {
	b, pages, done := launchFixture("pingpong")
	defer done()
	ctx := context.Background()
	bg, err := b.Extensions()[0].Background(ctx)
	if err != nil {
		log.Fatal(err)
	}
	l, err := bg.Listen(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	tab, err := b.NewTab(ctx, pages+"index.html") // its content script connects
	if err != nil {
		log.Fatal(err)
	}
	port, err := l.Accept(ctx)
	if err != nil {
		log.Fatal(err)
	}
	msg, err := port.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(port.Name(), port.Sender().Tab.ID == tab.ID(), string(msg))
	// Output: port-from-cs true {"greeting":"hello from content script"}
}

// The background connects to every frame of a tab with tabs.connect.
func ExampleContext_TabsConnect() {
	b, pages, done := launchFixture("echo")
	defer done()
	ctx := context.Background()
	tab, err := b.NewTab(ctx, pages+"index.html")
	if err != nil {
		log.Fatal(err)
	}
	bg, err := b.Extensions()[0].Background(ctx)
	if err != nil {
		log.Fatal(err)
	}
	port, err := bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "to-tab"})
	if err != nil {
		log.Fatal(err)
	}
	defer port.Disconnect()
	if err := port.PostMessage(ctx, "ping"); err != nil {
		log.Fatal(err)
	}
	msg, err := port.Recv(ctx) // the content script echoes
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	// Output: "ping"
}

// Watch shows the ports the extension's own code opens, with their traffic.
func ExampleExtension_Watch() {
	b, pages, done := launchFixture("pingpong")
	defer done()
	ctx := context.Background()
	ext := b.Extensions()[0]
	w, err := ext.Watch(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	if _, err := b.NewTab(ctx, pages+"index.html"); err != nil {
		log.Fatal(err)
	}
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if ev.Kind == bridge.EventMessage && ev.Realm.Kind == "background" && !ev.Outgoing {
			fmt.Printf("the background received %s on %q\n", ev.Data, ev.Port.Name())
			return
		}
	}
	// Output: the background received {"greeting":"hello from content script"} on "port-from-cs"
}

// Eval runs code in a realm and decodes its (awaited) value.
func ExampleContext_Eval() {
	b, _, done := launchFixture("echo")
	defer done()
	ctx := context.Background()
	bg, err := b.Extensions()[0].Background(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var name string
	if err := bg.Eval(ctx, `Promise.resolve((globalThis.browser ?? chrome).runtime.getManifest().name)`, &name); err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	// Output: echo
}

// A port the other end disconnects ends cleanly; Recv drains, then reports
// the end.
func ExamplePort_Done() {
	b, pages, done := launchFixture("echo")
	defer done()
	ctx := context.Background()
	tab, err := b.NewTab(ctx, pages+"index.html")
	if err != nil {
		log.Fatal(err)
	}
	cs, err := b.Extensions()[0].ContentScript(ctx, tab.ID(), 0)
	if err != nil {
		log.Fatal(err)
	}
	port, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "short-lived"})
	if err != nil {
		log.Fatal(err)
	}
	// The echo fixture disconnects on {cmd: "disconnect"}.
	if err := port.PostMessage(ctx, map[string]string{"cmd": "disconnect"}); err != nil {
		log.Fatal(err)
	}
	<-port.Done()
	_, err = port.Recv(ctx)
	fmt.Println(port.Err(), err)
	// Output: <nil> extbridge: port disconnected
}

// Background acts in the service worker (woken if asleep) or event page.
func ExampleExtension_Background() {
	_ = func(ctx context.Context, ext *bridge.Extension) error {
		bg, err := ext.Background(ctx)
		if err != nil {
			return err
		}
		port, err := bg.Connect(ctx, bridge.ConnectInfo{Name: "from-the-background"})
		if err != nil {
			return err
		}
		return port.Disconnect()
	}
}

// Frames lists a tab's frames; ContentScript reaches the world of any one.
func ExampleExtension_Frames() {
	_ = func(ctx context.Context, ext *bridge.Extension, tabID int) error {
		frames, err := ext.Frames(ctx, tabID)
		if err != nil {
			return err
		}
		for _, f := range frames {
			cs, err := ext.ContentScript(ctx, tabID, f.ID)
			if err != nil {
				return err
			}
			var href string
			if err := cs.Eval(ctx, "location.href", &href); err != nil {
				return err
			}
			fmt.Println(f.ID, f.ParentID, href)
		}
		return nil
	}
}

// StopBackground stops the service worker as the browser does when idle;
// ports to it end as in real life.
func ExampleExtension_StopBackground() {
	_ = func(ctx context.Context, ext *bridge.Extension, port *bridge.Port) error {
		if err := ext.StopBackground(ctx); err != nil {
			return err
		}
		<-port.Done()
		return port.Err() // nil: the end is clean, as the browser makes it
	}
}

// Accept takes the ports that connected, in order.
func ExampleListener_Accept() {
	_ = func(ctx context.Context, l *bridge.Listener) {
		for {
			port, err := l.Accept(ctx)
			if err != nil {
				return // the listener closed or its realm ended
			}
			go func() {
				for {
					m, err := port.Recv(ctx)
					if err != nil {
						return
					}
					_ = port.PostMessage(ctx, m) // echo
				}
			}()
		}
	}
}

// Page acts as an extension page open in a tab: its ports carry the page
// as their sender.
func ExampleExtension_Page() {
	_ = func(ctx context.Context, b *driver.Browser, ext *bridge.Extension) error {
		tab, err := b.OpenPage(ctx, ext, "options.html")
		if err != nil {
			return err
		}
		page, err := ext.Page(ctx, tab.ID())
		if err != nil {
			return err
		}
		port, err := page.Connect(ctx, bridge.ConnectInfo{Name: "from-options"})
		if err != nil {
			return err
		}
		return port.PostMessage(ctx, "hello from the options page")
	}
}

// Popup is the action's popup once the action click opened it.
func ExampleExtension_Popup() {
	_ = func(ctx context.Context, tab *driver.Tab, ext *bridge.Extension) error {
		if err := tab.ClickAction(ctx, ext); err != nil { // an action with a default_popup
			return err
		}
		popup, err := ext.Popup(ctx)
		if err != nil {
			return err
		}
		var title string
		return popup.Eval(ctx, "document.title", &title)
	}
}

// SendMessage is runtime.sendMessage from a realm, with the response.
func ExampleContext_SendMessage() {
	_ = func(ctx context.Context, cs *bridge.Context) error {
		var resp struct{ Farewell string }
		err := cs.SendMessage(ctx, map[string]string{"greeting": "hello"}, &resp)
		var se *bridge.SendError
		if errors.As(err, &se) {
			fmt.Println("the browser says:", se.Message) // e.g. "Could not establish connection. Receiving end does not exist."
		}
		return err
	}
}

// OnMessage listens like a runtime.onMessage listener; Respond is its
// sendResponse.
func ExampleContext_OnMessage() {
	_ = func(ctx context.Context, bg *bridge.Context) error {
		in, err := bg.OnMessage(ctx)
		if err != nil {
			return err
		}
		defer in.Close()
		m, err := in.Next(ctx)
		if err != nil {
			return err
		}
		fmt.Println("from", m.Sender.URL, string(m.Data))
		return m.Respond(ctx, map[string]string{"farewell": "goodbye"})
	}
}

// TabsSendMessage reaches the content scripts of a tab.
func ExampleContext_TabsSendMessage() {
	_ = func(ctx context.Context, bg *bridge.Context, tabID int) error {
		top := 0
		var resp any
		return bg.TabsSendMessage(ctx, tabID, "ping", &top, &resp) // the top frame only; nil for every frame
	}
}

// Go as the extension's background, with runtime.connectNative: the
// browser starts the host (a real program registered with
// driver.Options.NativeHosts, or Go's own through Browser.NativeHost), and
// a host it cannot start ends the port with the browser's own error.
func ExampleContext_ConnectNative() {
	_ = func(ctx context.Context, bg *bridge.Context) error {
		port, err := bg.ConnectNative(ctx, "ping_pong")
		if err != nil {
			return err // e.g. no nativeMessaging permission: the API does not exist
		}
		if err := port.PostMessage(ctx, "ping"); err != nil {
			return err
		}
		msg, err := port.Recv(ctx) // "pong" from MDN's ping_pong.py
		if err != nil {
			var de *bridge.DisconnectError
			if errors.As(port.Err(), &de) {
				fmt.Println("the browser says:", de.Message) // e.g. "Specified native messaging host not found."
			}
			return err
		}
		fmt.Println(string(msg))
		return port.Disconnect()
	}
}
