package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
	"github.com/extbridge/extbridge/internal/driverinternal"
)

// The native-messaging fixtures: the extensions and the host programs,
// written out once.
var nativeFiles struct {
	once     sync.Once
	err      error
	pingpong string // the nativepingpong extension
	nonative string // the nonative extension
	hosts    map[string]string
}

func nativeFixtures(t *testing.T) {
	t.Helper()
	nativeFiles.once.Do(func() {
		dir, err := os.MkdirTemp("", "e2e-native-")
		if err != nil {
			nativeFiles.err = err
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		if nativeFiles.pingpong, err = extfixtures.Materialize("nativepingpong", dir); err != nil {
			nativeFiles.err = err
			return
		}
		if nativeFiles.nonative, err = extfixtures.Materialize("nonative", dir); err != nil {
			nativeFiles.err = err
			return
		}
		nativeFiles.hosts = map[string]string{}
		for _, h := range extfixtures.Hosts() {
			if nativeFiles.hosts[h], err = extfixtures.MaterializeHost(h, dir); err != nil {
				nativeFiles.err = err
				return
			}
		}
	})
	if nativeFiles.err != nil {
		t.Fatal(nativeFiles.err)
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatalf("the native host fixtures need /usr/bin/python3 (apt-get install python3, or make test): %v", err)
	}
}

// nativeOptions is the shared native launch: nativepingpong (whose
// "ping_pong" is MDN's ping_pong.py) and nonative, with Go serving go_echo
// and the real programs for the error cases.
func nativeOptions(t *testing.T, kind driver.Kind) driver.Options {
	nativeFixtures(t)
	h := nativeFiles.hosts
	return driver.Options{
		Browser:    kind,
		Extensions: []string{nativeFiles.pingpong, nativeFiles.nonative},
		NativeHosts: []driver.NativeHost{
			{Name: "ping_pong", Path: h["ping_pong.py"]},
			{Name: "go_echo"},
			{Name: "exits_at_once", Path: h["exits_at_once.sh"]},
			{Name: "garbage", Path: h["garbage.py"]},
		},
	}
}

type nativeEnv struct {
	kind     driver.Kind
	b        *driver.Browser
	pingpong *bridge.Extension // nativepingpong
	nonative *bridge.Extension
}

func nativeSetup(t *testing.T, kind driver.Kind) *nativeEnv {
	t.Helper()
	b := drivertest.Shared(t, nativeOptions(t, kind))
	exts := b.Extensions()
	return &nativeEnv{kind: kind, b: b, pingpong: exts[0], nonative: exts[1]}
}

// evalBg evaluates js in the background of e, as the extension's own code.
func evalBg(t *testing.T, e *bridge.Extension, js string, out any) {
	t.Helper()
	if err := background(t, e).Eval(drivertest.Context(t), js, out); err != nil {
		t.Fatal(err)
	}
}

// nativeOpen accepts the open event of the extension's own native port to host.
func nativeOpen(host string) func(bridge.Event) bool {
	return func(ev bridge.Event) bool {
		return ev.Kind == bridge.EventOpen && ev.How == bridge.HowConnectNative && ev.Name == host && !ev.ByGo
	}
}

// onPort accepts events of one kind on port p.
func onPort(kind bridge.EventKind, p *bridge.Port, outgoing bool, data string) func(bridge.Event) bool {
	return func(ev bridge.Event) bool {
		if ev.Kind != kind || ev.Port != p {
			return false
		}
		if kind == bridge.EventMessage {
			return ev.Outgoing == outgoing && string(ev.Data) == data
		}
		return true
	}
}

func logged(text string) func(bridge.Event) bool {
	return func(ev bridge.Event) bool { return ev.Kind == bridge.EventLog && ev.Text == text }
}

// drain takes the events a Watch holds now (the history), so that later
// waits see only what comes next.
func drain(w *bridge.Watch) {
	for {
		if _, ok := w.TryNext(); !ok {
			return
		}
	}
}

// hostExited is what the extension's port says when the host ends it.
func hostExited(kind driver.Kind) string {
	if kind == driver.Firefox {
		return "" // Firefox: a clean disconnect
	}
	return "Native host has exited."
}

func wantPortErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("%s: error %v, want a clean end", what, err)
		}
		return
	}
	var de *bridge.DisconnectError
	if !errors.As(err, &de) || de.Message != want {
		t.Fatalf("%s: error %v, want the browser's %q", what, err, want)
	}
}

// MDN's example, as written, with Go as the ping_pong host: the extension
// connects at start-up, posts "ping" on a click of the action, logs
// "Received: pong"; each step is on a Watch.
func TestNativePingPongGoHost(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		nativeFixtures(t)
		b := drivertest.Launch(t, driver.Options{
			Browser: kind, Extensions: []string{nativeFiles.pingpong},
			NativeHosts: []driver.NativeHost{{Name: "ping_pong"}},
		})
		ext := b.Extensions()[0]
		w := drivertest.Watch(t, ext)
		open := drivertest.WaitEvent(t, w, "the extension's connectNative(\"ping_pong\")", nativeOpen("ping_pong"))
		if open.Realm.Kind != bridge.RealmBackground {
			t.Errorf("the native port opened in %v, want the background", open.Realm)
		}

		// The connection waited in the backlog until Go asked for it.
		l, err := b.NativeHost("ping_pong")
		if err != nil {
			t.Fatal(err)
		}
		host, err := l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		if host.Name() != "ping_pong" || host.How() != bridge.HowNativeHost {
			t.Errorf("host port: name %q, how %q", host.Name(), host.How())
		}
		if s := host.Sender(); s == nil || s.ID != ext.ID() || !strings.Contains(s.Origin, "-extension://") {
			t.Errorf("host port sender %+v, want extension %s", s, ext.ID())
		}

		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		if err := tab.ClickAction(drivertest.Context(t), ext); err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, host, `"ping"`)
		drivertest.WaitEvent(t, w, "Sending:  ping", logged("Sending:  ping"))
		drivertest.WaitEvent(t, w, `"ping" out of the extension's port`, onPort(bridge.EventMessage, open.Port, true, `"ping"`))
		post(t, host, "pong")
		drivertest.WaitEvent(t, w, `"pong" into the extension's port`, onPort(bridge.EventMessage, open.Port, false, `"pong"`))
		drivertest.WaitEvent(t, w, "Received: pong", logged("Received: pong"))

		// Go ends the host: the extension sees what the browser says when a
		// host exits.
		if err := host.Disconnect(); err != nil {
			t.Fatal(err)
		}
		ev := drivertest.WaitEvent(t, w, "the end of the extension's port", onPort(bridge.EventDisconnect, open.Port, false, ""))
		wantPortErr(t, "the extension's port", ev.Err, hostExited(kind))
		if host.Err() != nil {
			t.Errorf("Go's own Disconnect: Err() = %v, want nil", host.Err())
		}
	})
}

// The same example against MDN's ping_pong.py, a real program the browser
// runs itself.
func TestNativePingPongRealHost(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		env := nativeSetup(t, kind)
		ext := env.pingpong
		w := drivertest.Watch(t, ext)
		open := drivertest.WaitEvent(t, w, "the extension's connectNative(\"ping_pong\")", nativeOpen("ping_pong"))
		drain(w)
		tab := drivertest.NewTab(t, env.b, pagesURL+"index.html")
		if err := tab.ClickAction(drivertest.Context(t), ext); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, `"ping" out of the extension's port`, onPort(bridge.EventMessage, open.Port, true, `"ping"`))
		drivertest.WaitEvent(t, w, `"pong" from ping_pong.py`, onPort(bridge.EventMessage, open.Port, false, `"pong"`))
		drivertest.WaitEvent(t, w, "Received: pong", logged("Received: pong"))

		// Go as the extension: its own connectNative to the real host.
		p, err := background(t, ext).ConnectNative(drivertest.Context(t), "ping_pong")
		if err != nil {
			t.Fatal(err)
		}
		if p.Name() != "ping_pong" || p.How() != bridge.HowConnectNative || p.Sender() != nil {
			t.Errorf("Go's native port: name %q, how %q, sender %v", p.Name(), p.How(), p.Sender())
		}
		post(t, p, "ping")
		drivertest.RecvMatch(t, p, `"pong"`)
		if err := p.Disconnect(); err != nil {
			t.Fatal(err)
		}

		// sendNativeMessage to the real host: Firefox takes any JSON value,
		// Chromium only an object (and ping_pong.py answers only "ping").
		drain(w)
		var res string
		evalBg(t, ext, `(() => { try { return (globalThis.browser ?? globalThis.chrome).runtime.sendNativeMessage("ping_pong", "ping"); } catch (e) { return "threw: " + e.message; } })()`, &res)
		if kind == driver.Firefox {
			if res != "pong" {
				t.Errorf("sendNativeMessage(\"ping_pong\", \"ping\") = %q, want pong", res)
			}
			send := drivertest.WaitEvent(t, w, "the sendNativeMessage", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventSend && ev.How == bridge.HowSendNativeMessage && ev.Target == "ping_pong" && string(ev.Data) == `"ping"`
			})
			drivertest.WaitEvent(t, w, "its response", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventResponse && ev.MessageID == send.MessageID && string(ev.Data) == `"pong"`
			})
		} else {
			if !strings.HasPrefix(res, "threw: Error in invocation of runtime.sendNativeMessage(") || !strings.Contains(res, "No matching signature.") {
				t.Errorf("Chromium's sendNativeMessage with a string: %q, want its TypeError", res)
			}
			send := drivertest.WaitEvent(t, w, "the refused sendNativeMessage", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventSend && ev.How == bridge.HowSendNativeMessage && ev.Target == "ping_pong"
			})
			ev := drivertest.WaitEvent(t, w, "its failure", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventResponse && ev.MessageID == send.MessageID
			})
			var se *bridge.SendError
			if !errors.As(ev.Err, &se) || !strings.Contains(se.Message, "No matching signature.") {
				t.Errorf("the refused sendNativeMessage's response: %v", ev.Err)
			}
		}

		// Go does not serve a host that is a program.
		if _, err := env.b.NativeHost("ping_pong"); err == nil || !strings.Contains(err.Error(), "runs the program") {
			t.Errorf("NativeHost of a program: %v", err)
		}
		if _, err := env.b.NativeHost("nobody"); err == nil || !strings.Contains(err.Error(), "not in Options.NativeHosts") {
			t.Errorf("NativeHost of an unknown host: %v", err)
		}
	})
}

// The extension's own code and a Go host: messages both ways, a disconnect
// from each side.
func TestNativeGoHostBothWays(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		env := nativeSetup(t, kind)
		ext := env.pingpong
		l, err := env.b.NativeHost("go_echo")
		if err != nil {
			t.Fatal(err)
		}
		w := drivertest.Watch(t, ext)
		drain(w)
		evalBg(t, ext, `globalThis.np = (globalThis.browser ?? globalThis.chrome).runtime.connectNative("go_echo"), true`, nil)
		open := drivertest.WaitEvent(t, w, "connectNative(\"go_echo\")", nativeOpen("go_echo"))
		host, err := l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		evalBg(t, ext, `np.postMessage({n: 1, s: "é€😀"}), true`, nil)
		drivertest.RecvMatch(t, host, `{"n": 1, "s": "é€😀"}`)
		drivertest.WaitEvent(t, w, "the extension's post", onPort(bridge.EventMessage, open.Port, true, `{"n":1,"s":"é€😀"}`))
		post(t, host, map[string]any{"reply": 1})
		drivertest.WaitEvent(t, w, "Go's reply in the extension", onPort(bridge.EventMessage, open.Port, false, `{"reply":1}`))

		// The extension disconnects: Go's port ends cleanly.
		evalBg(t, ext, `np.disconnect(), true`, nil)
		drivertest.ExpectDisconnect(t, host, "")
		if ev := drivertest.WaitEvent(t, w, "the extension's disconnect", onPort(bridge.EventDisconnect, open.Port, false, "")); !ev.Local || ev.Err != nil {
			t.Errorf("the extension's disconnect: local %v, err %v", ev.Local, ev.Err)
		}

		// Go disconnects: the browser's error in the extension.
		evalBg(t, ext, `globalThis.np = (globalThis.browser ?? globalThis.chrome).runtime.connectNative("go_echo"), true`, nil)
		open = drivertest.WaitEvent(t, w, "a second connectNative(\"go_echo\")", nativeOpen("go_echo"))
		host, err = l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := host.Disconnect(); err != nil {
			t.Fatal(err)
		}
		ev := drivertest.WaitEvent(t, w, "the end of the extension's port", onPort(bridge.EventDisconnect, open.Port, false, ""))
		wantPortErr(t, "after Go's Disconnect", ev.Err, hostExited(kind))
	})
}

// sendNativeMessage to a Go host, in the promise and the callback form.
func TestNativeSendNativeMessage(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		env := nativeSetup(t, kind)
		ext := env.pingpong
		l, err := env.b.NativeHost("go_echo")
		if err != nil {
			t.Fatal(err)
		}
		w := drivertest.Watch(t, ext)
		drain(w)
		for i, js := range []string{
			`(globalThis.browser ?? globalThis.chrome).runtime.sendNativeMessage("go_echo", {q: 1})`,
			`new Promise((resolve) => chrome.runtime.sendNativeMessage("go_echo", {q: 2}, (v) => resolve(chrome.runtime.lastError ? {err: chrome.runtime.lastError.message} : v)))`,
		} {
			got := make(chan error, 1)
			var resp json.RawMessage
			go func() { got <- background(t, ext).Eval(drivertest.Context(t), js, &resp) }()
			host, err := l.Accept(drivertest.Context(t))
			if err != nil {
				t.Fatal(err)
			}
			drivertest.RecvMatch(t, host, fmt.Sprintf(`{"q": %d}`, i+1))
			post(t, host, map[string]any{"a": i + 1})
			if err := <-got; err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{"a":%d}`, i+1); string(resp) != want {
				t.Errorf("form %d: the extension got %s, want %s", i, resp, want)
			}
			// The browser closes the host after the answer: a clean end.
			drivertest.ExpectDisconnect(t, host, "")
			send := drivertest.WaitEvent(t, w, "the sendNativeMessage", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventSend && ev.How == bridge.HowSendNativeMessage && ev.Target == "go_echo" && string(ev.Data) == fmt.Sprintf(`{"q":%d}`, i+1)
			})
			drivertest.WaitEvent(t, w, "its response", func(ev bridge.Event) bool {
				return ev.Kind == bridge.EventResponse && ev.MessageID == send.MessageID && ev.Realm.ID == send.Realm.ID && string(ev.Data) == fmt.Sprintf(`{"a":%d}`, i+1)
			})
		}

		// Go ends the host without answering: the browser's rejection.
		got := make(chan error, 1)
		var msg string
		go func() {
			got <- background(t, ext).Eval(drivertest.Context(t), `(globalThis.browser ?? globalThis.chrome).runtime.sendNativeMessage("go_echo", {q: 3}).then(() => "resolved", (e) => e.message)`, &msg)
		}()
		host, err := l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, host, `{"q": 3}`)
		if err := host.Disconnect(); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		want := "Native host has exited."
		if kind == driver.Firefox {
			want = "An unexpected error occurred"
		}
		if msg != want {
			t.Errorf("sendNativeMessage when Go disconnects: %q, want %q", msg, want)
		}
	})
}

// The browser's 1 MiB limit on what a host sends holds for a Go host.
func TestNativeMessageSizes(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		env := nativeSetup(t, kind)
		ext := env.pingpong
		l, err := env.b.NativeHost("go_echo")
		if err != nil {
			t.Fatal(err)
		}
		w := drivertest.Watch(t, ext)
		drain(w)
		evalBg(t, ext, `globalThis.np = (globalThis.browser ?? globalThis.chrome).runtime.connectNative("go_echo"), true`, nil)
		open := drivertest.WaitEvent(t, w, "connectNative(\"go_echo\")", nativeOpen("go_echo"))
		host, err := l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		exact := strings.Repeat("x", 1<<20-2) // 1 MiB of JSON with the quotes
		post(t, host, exact)
		ev := drivertest.WaitEvent(t, w, "the 1 MiB message", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventMessage && ev.Port == open.Port && !ev.Outgoing
		})
		if len(ev.Data) != 1<<20 {
			t.Errorf("the extension got %d bytes, want %d", len(ev.Data), 1<<20)
		}
		post(t, host, exact+"xx") // 1048578 bytes
		ev = drivertest.WaitEvent(t, w, "the end of the extension's port", onPort(bridge.EventDisconnect, open.Port, false, ""))
		want := "Error when communicating with the native messaging host."
		if kind == driver.Firefox {
			want = "Native application tried to send a message of 1048578 bytes, which exceeds the limit of 1048576 bytes."
		}
		wantPortErr(t, "after 1048578 bytes", ev.Err, want)
		select {
		case <-host.Done(): // the browser closed the host
		case <-time.After(drivertest.Timeout):
			t.Fatal("Go's host port is still open after the browser refused its message")
		}
	})
}

// Close leaves no host process: neither the relays of Go's hosts nor a
// real host that ignores the end of its stdin and SIGTERM.
func TestNativeCloseReapsHosts(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		nativeFixtures(t)
		b, err := driver.Launch(drivertest.Context(t), driver.Options{
			Browser: kind, Extensions: []string{nativeFiles.pingpong},
			NativeHosts: []driver.NativeHost{{Name: "ping_pong"}, {Name: "ignores_eof", Path: nativeFiles.hosts["ignores_eof.py"]}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		ext := b.Extensions()[0]
		l, err := b.NativeHost("ping_pong")
		if err != nil {
			t.Fatal(err)
		}
		host, err := l.Accept(drivertest.Context(t)) // the fixture's start-up connection
		if err != nil {
			t.Fatal(err)
		}
		p, err := background(t, ext).ConnectNative(drivertest.Context(t), "ignores_eof")
		if err != nil {
			t.Fatal(err)
		}
		first := drivertest.Recv[struct{ PID int }](t, p)
		pids := append(relayPIDs(driverinternal.Root(b)), first.PID)
		if len(pids) < 2 {
			t.Fatalf("host processes %v: want the relay of ping_pong and ignores_eof.py", pids)
		}
		start := time.Now()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("Close took %v", time.Since(start).Round(time.Millisecond))
		for _, pid := range pids {
			if alive(pid) {
				t.Errorf("host process %d is still running after Close", pid)
			}
		}
		if !errors.Is(host.Err(), bridge.ErrBrowserClosed) {
			t.Errorf("Go's host port after Close: %v, want ErrBrowserClosed", host.Err())
		}
	})
}

// relayPIDs lists the relay processes of the launch whose folder is root.
func relayPIDs(root string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, []byte("EXTBRIDGE_NATIVE_RELAY="+root+"/")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid runs (a zombie has exited).
func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(st, ')')
	return i > 0 && i+2 < len(st) && st[i+2] != 'Z' && st[i+2] != 'X'
}

// The browsers' own errors.
func TestNativeErrors(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		env := nativeSetup(t, kind)
		bg := background(t, env.pingpong)
		cases := []struct {
			host string
			want map[driver.Kind]string
		}{
			{"not_registered", map[driver.Kind]string{driver.Chromium: "Specified native messaging host not found.", driver.Firefox: "No such native application not_registered"}},
			{"exits_at_once", map[driver.Kind]string{driver.Chromium: "Native host has exited.", driver.Firefox: ""}},
			{"garbage", map[driver.Kind]string{driver.Chromium: "Error when communicating with the native messaging host.", driver.Firefox: "Native application tried to send a message of 1819043176 bytes, which exceeds the limit of 1048576 bytes."}},
		}
		for _, c := range cases {
			p, err := bg.ConnectNative(drivertest.Context(t), c.host)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.Done():
			case <-time.After(drivertest.Timeout):
				t.Fatalf("%s: the port did not end", c.host)
			}
			wantPortErr(t, c.host, p.Err(), c.want[kind])
		}

		// The extension's own port to a host that writes garbage: the
		// browser's error on the Watch.
		w := drivertest.Watch(t, env.pingpong)
		drain(w)
		evalBg(t, env.pingpong, `(globalThis.browser ?? globalThis.chrome).runtime.connectNative("garbage"), true`, nil)
		open := drivertest.WaitEvent(t, w, "connectNative(\"garbage\")", nativeOpen("garbage"))
		ev := drivertest.WaitEvent(t, w, "its end", onPort(bridge.EventDisconnect, open.Port, false, ""))
		wantPortErr(t, "the extension's port to garbage", ev.Err, cases[2].want[kind])

		// sendNativeMessage to a host nobody registered rejects.
		var msg string
		evalBg(t, env.pingpong, `(globalThis.browser ?? globalThis.chrome).runtime.sendNativeMessage("not_registered", {q: 1}).then(() => "resolved", (e) => e.message)`, &msg)
		if want := cases[0].want[kind]; msg != want {
			t.Errorf("sendNativeMessage to an unknown host: %q, want %q", msg, want)
		}

		// Without the nativeMessaging permission there is no API at all.
		var api map[string]string
		evalBg(t, env.nonative, `globalThis.nativeAPI`, &api)
		if api["connectNative"] != "undefined" || api["sendNativeMessage"] != "undefined" {
			t.Errorf("without the permission: %v", api)
		}
		if _, err := background(t, env.nonative).ConnectNative(drivertest.Context(t), "go_echo"); err == nil || !strings.Contains(err.Error(), "nativeMessaging permission") {
			t.Errorf("ConnectNative without the permission: %v", err)
		}
	})
}

// MDN's own native-messaging example add-on (webextensions-examples
// native-messaging/add-on), as published: Manifest V2 with a
// browser_action, against MDN's ping_pong.py, every step on a Watch; after
// Close no host process is left. Chromium 139+ refuses Manifest V2, and
// extbridge says so (its Manifest V3 form is nativepingpong, above).
func TestNativeMDNAddon(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		nativeFixtures(t)
		dir := t.TempDir()
		files := map[string]string{
			"manifest.json": `{
  "description": "Native messaging example add-on",
  "manifest_version": 2,
  "name": "Native messaging example",
  "version": "1.0",
  "icons": {"48": "icons/message.svg"},
  "browser_specific_settings": {"gecko": {"id": "ping_pong@example.org", "strict_min_version": "50.0"}},
  "background": {"scripts": ["background.js"]},
  "browser_action": {"default_icon": "icons/message.svg"},
  "permissions": ["nativeMessaging"]
}`,
			"icons/message.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><rect width="48" height="48"/></svg>`,
			"background.js": `/*
On startup, connect to the "ping_pong" app.
*/
let port = browser.runtime.connectNative("ping_pong");

/*
Listen for messages from the app and log them to the console.
*/
port.onMessage.addListener((response) => {
  console.log("Received: " + response);
});

/*
Listen for the native messaging port closing.
*/
port.onDisconnect.addListener((port) => {
  if (port.error) {
    console.log(` + "`Disconnected due to an error: ${port.error.message}`" + `);
  } else {
    // The port closed for an unspecified reason. If this occurred right after
    // calling ` + "`browser.runtime.connectNative()`" + ` there may have been a problem
    // starting the the native messaging client in the first place.
    // https://developer.mozilla.org/en-US/docs/Mozilla/Add-ons/WebExtensions/Native_messaging#troubleshooting
    console.log(` + "`Disconnected:`" + `, port);
  }
});

/*
When the extension's action icon is clicked, send the app a message.
*/
browser.browserAction.onClicked.addListener(() => {
  console.log("Sending:  ping");
  port.postMessage("ping");
});
`,
		}
		for name, text := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		host := nativeFiles.hosts["ping_pong.py"]
		opts := driver.Options{Browser: kind, Extensions: []string{dir}, NativeHosts: []driver.NativeHost{{Name: "ping_pong", Path: host}}}
		if kind == driver.Chromium {
			b, err := driver.Launch(drivertest.Context(t), opts)
			if err == nil {
				b.Close()
				t.Fatal("Chromium launched a Manifest V2 extension")
			}
			if !strings.Contains(err.Error(), "manifest_version 2 is not supported by Chromium") {
				t.Fatalf("Launch: %v", err)
			}
			return
		}
		b, err := driver.Launch(drivertest.Context(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		ext := b.Extensions()[0]
		w := drivertest.Watch(t, ext)
		open := drivertest.WaitEvent(t, w, "connectNative(\"ping_pong\")", nativeOpen("ping_pong"))
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		if err := tab.ClickAction(drivertest.Context(t), ext); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "Sending:  ping", logged("Sending:  ping"))
		drivertest.WaitEvent(t, w, `"ping" to ping_pong.py`, onPort(bridge.EventMessage, open.Port, true, `"ping"`))
		drivertest.WaitEvent(t, w, `"pong" from ping_pong.py`, onPort(bridge.EventMessage, open.Port, false, `"pong"`))
		drivertest.WaitEvent(t, w, "Received: pong", logged("Received: pong"))

		pids := processesRunning(driverinternal.Root(b), host)
		if len(pids) == 0 {
			t.Fatal("no ping_pong.py process while the port is open")
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if alive(pid) {
				t.Errorf("ping_pong.py (pid %d) still runs after Close", pid)
			}
		}
	})
}

// processesRunning lists the processes of the launch whose folder is root
// (they carry its mark, EXTBRIDGE_LAUNCH, in their environment) whose
// command line has path.
func processesRunning(root, path string) []int {
	var pids []int
	mark := []byte("EXTBRIDGE_LAUNCH=" + filepath.Base(root) + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(path)) {
			continue
		}
		if env, err := os.ReadFile(filepath.Join(d, "environ")); err != nil || !bytes.Contains(env, mark) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
