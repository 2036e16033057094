package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/internal/driverinternal"
	"github.com/extbridge/extbridge/internal/leakcheck"
)

// Faults: each test ends with every affected Port done, with an error that
// names the cause. The leak check of TestMain (drivertest.RunMain) fails the
// run if a goroutine, process or temp dir outlives the tests.

// expectEnded waits for p to end and checks that its error names the cause.
func expectEnded(t *testing.T, what string, p *bridge.Port, cause string) {
	t.Helper()
	ctx := drivertest.Context(t)
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatalf("%s: %s did not end within %s", what, p, drivertest.Timeout)
	}
	err := p.Err()
	var de *bridge.DisconnectError
	if !errors.As(err, &de) {
		t.Fatalf("%s: %s ended with %v (%T), want a *bridge.DisconnectError naming %q", what, p, err, err, cause)
	}
	if !strings.Contains(err.Error(), cause) {
		t.Fatalf("%s: %s ended with %q, want it to name %q", what, p, err, cause)
	}
	if _, err := p.Recv(ctx); err != nil && !errors.Is(err, bridge.ErrDisconnected) {
		t.Errorf("%s: Recv after the end = %v, want ErrDisconnected (or a queued message)", what, err)
	}
	t.Logf("%s: %v", what, err)
}

// browserPID finds the main process of b: a child of this process that
// carries leakcheck.OwnerEnv with our pid and has b's temporary folder on its
// command line.
func browserPID(t *testing.T, b *driver.Browser) int {
	t.Helper()
	root := driverinternal.Root(b)
	marker := []byte(leakcheck.OwnerValue() + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var found []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		if !bytes.Contains(cmd, []byte(root)) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ")".
		rest := stat[bytes.LastIndexByte(stat, ')')+2:]
		f := strings.Fields(string(rest))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one browser process under %s, found %v", root, found)
	}
	return found[0]
}

// trafficPorts opens ports of every kind on the echo fixture in tab:
// Go as a content script (runtime.connect), Go as the background
// (tabs.connect), and a port Go accepted in the background.
func trafficPorts(t *testing.T, ext *bridge.Extension, tab *driver.Tab, prefix string) map[string]*bridge.Port {
	t.Helper()
	ctx := drivertest.Context(t)
	cs := contentScript(t, ext, tab, 0)
	bg := background(t, ext)
	ports := map[string]*bridge.Port{}
	ports["content runtime.connect"] = connect(t, cs, prefix+"-cs")
	tp, err := bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: prefix + "-tabs"})
	if err != nil {
		t.Fatal(err)
	}
	ports["background tabs.connect"] = tp
	l, err := bg.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ports["content accepted"] = connect(t, cs, prefix+"-accepted")
	for {
		p, err := l.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name() == prefix+"-accepted" {
			ports["background accepted"] = p
			break
		}
	}
	// Each port carries messages both ways: the echo fixture answers on
	// the ports Go opens; the accepted port gets what its content end posts.
	for name, p := range ports {
		post(t, p, name)
		if name != "background accepted" {
			drivertest.RecvMatch(t, p, strconv.Quote(name))
		}
	}
	drivertest.RecvMatch(t, ports["background accepted"], strconv.Quote("content accepted"))
	return ports
}

// traffic keeps messages going on every port until it ends: a ping-pong
// per port (post, then receive the echo), and a receiver that drains the
// background's accepted end (it gets what its content end posts). stop
// waits for the goroutines and returns what went wrong.
func traffic(ports map[string]*bridge.Port) (stop func() []error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	report := func(err error) {
		if !errors.Is(err, bridge.ErrDisconnected) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	for name, p := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if name != "background accepted" {
					if err := p.PostMessage(context.Background(), map[string]any{"port": name, "n": i}); err != nil {
						report(fmt.Errorf("%s: PostMessage: %w", name, err))
						return
					}
				}
				if _, err := p.Recv(context.Background()); err != nil {
					report(fmt.Errorf("%s: Recv: %w", name, err))
					return
				}
			}
		}()
	}
	return func() []error { wg.Wait(); return errs }
}

// The browser is killed with SIGKILL in the middle of traffic: every port
// ends with an error that says the browser exited, and Close cleans up.
func TestFaultBrowserKilled(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{fixtureDir(t, "echo")}})
		ext := b.Extensions()[0]
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		ports := trafficPorts(t, ext, tab, "killed")
		stop := traffic(ports)
		// Let the traffic run: wait until the background has seen some of it.
		w := drivertest.Watch(t, ext)
		for range 20 {
			drivertest.WaitEvent(t, w, "traffic in the background", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventMessage && ev.Realm.Kind == "background" && !ev.Outgoing
			})
		}
		pid := browserPID(t, b)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for name, p := range ports {
			expectEnded(t, name, p, "the browser process exited")
		}
		for _, err := range stop() {
			t.Error(err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close after the kill: %v", err)
		}
	})
}

// A tab is closed: the ports in its content scripts end with an error that
// says the page went away.
func TestFaultTabClosed(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := drivertest.NewTab(t, e.b, pagesURL+"index.html?"+unique(t))
		cs := contentScript(t, ext, tab, 0)
		p := connect(t, cs, "tab-closed")
		post(t, p, "hi")
		drivertest.RecvMatch(t, p, `"hi"`)
		// Go's own mirror of the content script's end of a tabs.connect port.
		w := drivertest.Watch(t, ext)
		tp, err := background(t, ext).TabsConnect(drivertest.Context(t), tab.ID(), bridge.ConnectInfo{Name: "tab-closed-tabs"})
		if err != nil {
			t.Fatal(err)
		}
		ev := drivertest.WaitEvent(t, w, "the content script accepting tab-closed-tabs", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content" && ev.Name == "tab-closed-tabs"
		})
		stop := traffic(map[string]*bridge.Port{"cs": p, "tabs": tp})
		if err := tab.Close(drivertest.Context(t)); err != nil {
			t.Fatal(err)
		}
		expectEnded(t, "content runtime.connect", p, "went away (the page was closed")
		expectEnded(t, "content end of tabs.connect", ev.Port, "went away (the page was closed")
		// The background's end ends as the browser ends it: the other end
		// went away, which is a clean disconnect in both browsers.
		drivertest.ExpectDisconnect(t, tp, "")
		for _, err := range stop() {
			t.Error(err)
		}
		if _, err := cs.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "after"}); err == nil || !contains(err.Error(), "went away") {
			t.Errorf("Connect in a closed tab = %v, want an error saying the page went away", err)
		}
	})
}

// A subframe navigates away, another is removed: their content-script ports
// end with an error that says the page went away; the top frame's port
// keeps working.
func TestFaultFrameNavigatedOrRemoved(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "frames.html")
		ctx := drivertest.Context(t)
		frames, err := ext.Frames(ctx, tab.ID())
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		for _, f := range frames {
			ids[strings.TrimPrefix(f.URL, pagesURL)] = f.ID
		}
		top := contentScript(t, ext, tab, 0)
		pa := connect(t, contentScript(t, ext, tab, ids["frame-a.html"]), "frame-a")
		pb := connect(t, contentScript(t, ext, tab, ids["frame-b.html"]), "frame-b")
		ptop := connect(t, top, "top")
		for _, p := range []*bridge.Port{pa, pb, ptop} {
			post(t, p, p.Name())
			drivertest.RecvMatch(t, p, strconv.Quote(p.Name()))
		}
		if err := top.Eval(ctx, `document.getElementById("frame-a").src = "index.html"; true`, nil); err != nil {
			t.Fatal(err)
		}
		expectEnded(t, "navigated frame", pa, "went away (the page was closed, navigated")
		if err := top.Eval(ctx, `document.getElementById("frame-b").remove(); true`, nil); err != nil {
			t.Fatal(err)
		}
		expectEnded(t, "removed frame", pb, "went away (the page was closed, navigated or its frame removed)")
		post(t, ptop, "still here")
		drivertest.RecvMatch(t, ptop, `"still here"`)
	})
}

// The service worker (Chromium) or event page (Firefox) is stopped: the
// ports Go holds in the background end with an error that says it stopped;
// the content script's ends see the browser's own disconnect.
func TestFaultBackgroundStopped(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{fixtureDir(t, "echo")}})
		ext := b.Extensions()[0]
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		ports := trafficPorts(t, ext, tab, "stopped")
		stop := traffic(ports)
		err := ext.StopBackground(drivertest.Context(t))
		if err != nil {
			t.Fatalf("StopBackground: %v", err)
		}
		expectEnded(t, "background tabs.connect", ports["background tabs.connect"], "stopped (the service worker or background page ended)")
		expectEnded(t, "background accepted", ports["background accepted"], "stopped (the service worker or background page ended)")
		drivertest.ExpectDisconnect(t, ports["content runtime.connect"], "")
		drivertest.ExpectDisconnect(t, ports["content accepted"], "")
		for _, err := range stop() {
			t.Error(err)
		}
		// The next call wakes it, and new ports work.
		q := connect(t, contentScript(t, ext, tab, 0), "after-stop")
		post(t, q, "after")
		drivertest.RecvMatch(t, q, `"after"`)
	})
}

// The caller's context ends in the middle of Connect, Recv and
// PostMessage: the call returns the context's error, the port (if any)
// keeps working, and a Connect cut short leaves no port open in the browser.
func TestFaultContextCancelled(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		tab := e.tab(t, "index.html")
		cs := contentScript(t, ext, tab, 0)
		w := drivertest.Watch(t, ext)

		// Connect: cancelled before, and while the command is in flight.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if p, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "cancelled-before"}); !errors.Is(err, context.Canceled) {
			t.Errorf("Connect(cancelled) = %v, %v; want context.Canceled", p, err)
		}
		const inflight = 20
		var wg sync.WaitGroup
		var opened sync.Map
		for i := range inflight {
			ctx, cancel := context.WithCancel(context.Background())
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := cs.Connect(ctx, bridge.ConnectInfo{Name: fmt.Sprintf("cancelled-%d", i)})
				if err == nil {
					opened.Store(i, p)
				} else if !errors.Is(err, context.Canceled) {
					t.Errorf("Connect cut short = %v, want context.Canceled", err)
				}
			}()
			// Cancel as soon as the realm opened the port (or at once for
			// odd i): the reply is then in flight.
			if i%2 == 0 {
				drivertest.WaitEvent(t, w, "the content script opening cancelled-N", func(ev bridge.Event) bool {
					return ev.Kind == bridge.EventOpen && ev.Name == fmt.Sprintf("cancelled-%d", i) && ev.Realm.Kind == "content"
				})
			}
			cancel()
		}
		wg.Wait()
		opened.Range(func(_, v any) bool { v.(*bridge.Port).Disconnect(); return true })
		// Every cancelled-N port that the content script opened ends: either
		// Go returned it (and disconnected it above) or nobody was waiting
		// for it and it was disconnected for that. The background's end of
		// each sees the disconnect. A marker port opened after them all
		// tells when every open has been seen (one realm's events are in
		// order).
		marker := connect(t, cs, "marker")
		all := drivertest.Watch(t, ext)
		openedCS, endedBG := map[string]bool{}, map[string]bool{}
		seenMarker := false
		drivertest.WaitEvent(t, all, "every cancelled port ended in the background", func(ev bridge.Event) bool {
			if ev.Port == nil {
				return false
			}
			name := ev.Port.Name()
			switch {
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content" && name == "marker":
				seenMarker = true
			case !strings.HasPrefix(name, "cancelled-") || name == "cancelled-calls":
			case ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content":
				openedCS[name] = true
			case ev.Kind == bridge.EventDisconnect && ev.Realm.Kind == "background":
				endedBG[name] = true
			}
			if !seenMarker {
				return false
			}
			for n := range openedCS {
				if !endedBG[n] {
					return false
				}
			}
			return true
		})
		t.Logf("%d of %d cancelled Connects had opened a port in the browser; all ended", len(openedCS), inflight)
		marker.Disconnect()

		// Recv and PostMessage cut short leave the port working.
		p := connect(t, cs, "cancelled-calls")
		rctx, rcancel := context.WithCancel(context.Background())
		got := make(chan error, 1)
		go func() { _, err := p.Recv(rctx); got <- err }()
		rcancel()
		if err := <-got; !errors.Is(err, context.Canceled) {
			t.Errorf("Recv cut short = %v, want context.Canceled", err)
		}
		pctx, pcancel := context.WithCancel(context.Background())
		pcancel()
		sent := 0
		for i := range 100 {
			err := p.PostMessage(pctx, i)
			switch {
			case err == nil:
				sent++ // a PostMessage that returns nil has queued its message
			case !errors.Is(err, context.Canceled):
				t.Errorf("PostMessage(cancelled) = %v", err)
			}
		}
		for range sent {
			drivertest.Recv[int](t, p)
		}
		post(t, p, "after")
		drivertest.RecvMatch(t, p, `"after"`)
		select {
		case <-p.Done():
			t.Errorf("the port ended: %v", p.Err())
		default:
		}
	})
}

// Close is called while other goroutines post, receive, connect and
// accept: every call returns, every port ends with an error that says the
// browser was closed.
func TestFaultCloseDuringUse(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{fixtureDir(t, "echo")}})
		ext := b.Extensions()[0]
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		ports := trafficPorts(t, ext, tab, "closed")
		stop := traffic(ports)
		cs := contentScript(t, ext, tab, 0)
		l, err := background(t, ext).Listen(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // connect in a loop
			defer wg.Done()
			for {
				p, err := cs.Connect(context.Background(), bridge.ConnectInfo{Name: "closing"})
				if err != nil {
					return
				}
				p.PostMessage(context.Background(), "x")
			}
		}()
		go func() { // accept in a loop
			defer wg.Done()
			for {
				if _, err := l.Accept(context.Background()); err != nil {
					return
				}
			}
		}()
		w := drivertest.Watch(t, ext)
		for range 20 {
			drivertest.WaitEvent(t, w, "traffic in the background", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventMessage && ev.Realm.Kind == "background" && !ev.Outgoing
			})
		}
		closed := make(chan error, 2)
		go func() { closed <- b.Close() }()
		go func() { closed <- b.Close() }()
		for range 2 {
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		for name, p := range ports {
			expectEnded(t, name, p, "the browser was closed")
		}
		for _, err := range stop() {
			t.Error(err)
		}
		wg.Wait()
		if _, err := l.Accept(context.Background()); err == nil {
			t.Error("Accept after Close returned a port")
		}
	})
}

// fixtureDir is the materialized folder of the fixture with this name.
func fixtureDir(t *testing.T, name string) string {
	t.Helper()
	for i, n := range fixtureNames {
		if n == name {
			return fixtureDirs[i]
		}
	}
	t.Fatalf("no fixture %q", name)
	return ""
}
