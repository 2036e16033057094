package e2e

import (
	"errors"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// Go's listeners in the background survive the background's stops: a
// Listener keeps accepting the ports that connect after the service worker
// or event page stopped and started again, including the connection that
// woke it when the extension has an onConnect listener of its own.
func TestListenerSurvivesBackgroundRestart(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		ctx := drivertest.Context(t)
		l, err := background(t, ext).Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for round := range 3 {
			name := "restart-" + itoa(round)
			p := connect(t, cs, name) // after the first round, this connection wakes the background
			in := acceptWhere(t, l, "after "+itoa(round)+" stops", named(name))
			post(t, in, "from Go as the background")
			drivertest.RecvMatch(t, p, `"from Go as the background"`)
			if err := ext.StopBackground(ctx); err != nil {
				t.Fatal(err)
			}
			drivertest.ExpectDisconnect(t, in, "stopped") // the accepted end ended with its background
		}
	})
}

// An Inbox in the background survives the background's stops too.
func TestInboxSurvivesBackgroundRestart(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo") // no onMessage listener of its own
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		ctx := drivertest.Context(t)
		in, err := background(t, ext).OnMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		for round := range 2 {
			if round > 0 {
				if err := ext.StopBackground(ctx); err != nil {
					t.Fatal(err)
				}
				if kind == driver.Chromium {
					// Chromium's service worker has no synchronous storage:
					// Go adds the listener again once the bridge connects, so
					// a message that wakes it reaches no listener. Wake it.
					background(t, ext)
				}
			}
			answered := make(chan error, 1)
			go func() {
				var got string
				err := cs.SendMessage(ctx, "round "+itoa(round), &got)
				if err == nil && got != "ok "+itoa(round) {
					err = errors.New("the answer was " + got)
				}
				answered <- err
			}()
			for {
				m, err := in.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if string(m.Data) == `"round `+itoa(round)+`"` {
					if err := m.Respond(ctx, "ok "+itoa(round)); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			if err := <-answered; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	})
}

// A Listener closed while the background is stopped stays closed in the
// backgrounds that start after (Firefox's event page keeps Go's listeners
// in its storage to add them again at start-up): a port that connects later
// reaches the extension's own listener and Go's new Listener, and nothing
// disconnects it.
func TestListenerClosedWhileBackgroundStopped(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo") // echoes every port message itself
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		ctx := drivertest.Context(t)
		old, err := background(t, ext).Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := ext.StopBackground(ctx); err != nil {
			t.Fatal(err)
		}
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		l, err := background(t, ext).Listen(ctx) // wakes the background
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		p := connect(t, cs, "after-close")
		in := acceptWhere(t, l, "after the old Listener closed", named("after-close"))
		post(t, p, "to the echo")
		drivertest.RecvMatch(t, p, `"to the echo"`) // the extension's own listener answers
		post(t, in, "from Go as the background")
		drivertest.RecvMatch(t, p, `"from Go as the background"`)
		if _, err := old.Accept(ctx); err == nil {
			t.Fatal("the closed Listener accepted a port")
		}
	})
}
