package bridge

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/extbridge/extbridge/internal/instrument"
	"github.com/extbridge/extbridge/internal/native"
)

// fakeBrowser plays the browser's end of a native host: the host's stdin
// and stdout, with the real relay in between.
type fakeBrowser struct {
	toHost   *io.PipeWriter
	fromHost *io.PipeReader
	done     chan error // the relay's result
}

func startHost(t *testing.T, s *session, host string, args ...string) *fakeBrowser {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	fb := &fakeBrowser{toHost: inW, fromHost: outR, done: make(chan error, 1)}
	url, token := s.Wire()
	go func() {
		err := native.Relay(context.Background(), native.Config{URL: url, Token: token, Host: host}, inR, outW, args)
		outW.Close()
		fb.done <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return fb
}

func (fb *fakeBrowser) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-fb.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the relay did not end")
		return nil
	}
}

func nativeListener(t *testing.T, s *session, name string) *Listener {
	t.Helper()
	l, err := s.NativeHost(name)
	if err != nil {
		t.Fatal(err)
	}
	return l.(*Listener)
}

func acceptWithin(t *testing.T, l *Listener) *Port {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func recvWithin(t *testing.T, p *Port) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := p.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return string(m)
}

func TestNativeHostPort(t *testing.T) {
	s, e := newTestSession(t)
	s.ServeNative("ping_pong")
	fb := startHost(t, s, "ping_pong", "chrome-extension://fakeid/")
	go native.WriteMessage(fb.toHost, []byte(`"ping"`)) // before Go accepts: it waits
	l := nativeListener(t, s, "ping_pong")
	p := acceptWithin(t, l)
	if p.Name() != "ping_pong" || p.How() != HowNativeHost {
		t.Errorf("name %q how %q", p.Name(), p.How())
	}
	if snd := p.Sender(); snd == nil || snd.ID != e.ID() || snd.Origin != "chrome-extension://fakeid" || snd.URL != "chrome-extension://fakeid/" {
		t.Errorf("sender %+v", p.Sender())
	}
	if !strings.Contains(p.String(), `native host "ping_pong"`) {
		t.Errorf("String() = %s", p)
	}
	if m := recvWithin(t, p); m != `"ping"` {
		t.Fatalf("got %s", m)
	}
	if err := p.PostMessage(context.Background(), "pong"); err != nil {
		t.Fatal(err)
	}
	if m, err := native.ReadMessage(fb.fromHost, 1<<20); err != nil || string(m) != `"pong"` {
		t.Fatalf("the browser got %q, %v", m, err)
	}
	// The browser closes the host's stdin (the extension disconnected): a
	// clean end.
	fb.toHost.Close()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the port did not end")
	}
	if p.Err() != nil {
		t.Errorf("Err() = %v, want nil", p.Err())
	}
	if err := fb.wait(t); err != nil {
		t.Errorf("relay: %v", err)
	}
}

func TestNativeHostGoDisconnects(t *testing.T) {
	s, _ := newTestSession(t)
	s.ServeNative("h")
	fb := startHost(t, s, "h", "chrome-extension://fakeid/")
	p := acceptWithin(t, nativeListener(t, s, "h"))
	if err := p.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if err := fb.wait(t); err != nil {
		t.Errorf("relay: %v", err)
	}
	// The host's stdout closed: the browser sees the host exit.
	if _, err := native.ReadMessage(fb.fromHost, 1<<20); !errors.Is(err, io.EOF) {
		t.Errorf("after Disconnect the browser reads %v, want EOF", err)
	}
	if p.Err() != nil {
		t.Errorf("Err() = %v", p.Err())
	}
}

func TestNativeHostRefusals(t *testing.T) {
	s, _ := newTestSession(t)
	s.ServeNative("h")
	// A host Go does not serve, and a caller that is no extension of the
	// launch: the relay is refused, so the browser sees the host exit.
	for _, c := range []struct{ host, arg string }{{"other", "chrome-extension://fakeid/"}, {"h", "chrome-extension://stranger/"}} {
		fb := startHost(t, s, c.host, c.arg)
		if err := fb.wait(t); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s for %s: relay returned %v, want refused", c.host, c.arg, err)
		}
	}
	if _, err := s.NativeHost("other"); err == nil || !strings.Contains(err.Error(), "not served by Go") {
		t.Errorf("NativeHost(other): %v", err)
	}
}

func TestNativeBacklog(t *testing.T) {
	s, _ := newTestSession(t)
	s.ServeNative("h")
	accepted := make(chan string, NativeBacklog)
	s.native.accepted = accepted
	l := nativeListener(t, s, "h")
	var fbs []*fakeBrowser
	for i := range NativeBacklog {
		fbs = append(fbs, startHost(t, s, "h", "chrome-extension://fakeid/"))
		select {
		case <-accepted:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d did not arrive", i)
		}
	}
	extra := startHost(t, s, "h", "chrome-extension://fakeid/")
	if err := extra.wait(t); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("connection %d: %v, want refused", NativeBacklog+1, err)
	}
	// Close disconnects those that wait: their relays end.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, fb := range fbs {
		if err := fb.wait(t); err != nil {
			t.Errorf("relay %d: %v", i, err)
		}
	}
	// After Close, connections are refused until NativeHost again.
	if err := startHost(t, s, "h", "chrome-extension://fakeid/").wait(t); err == nil {
		t.Errorf("a connection after Close was not refused")
	}
	l2 := nativeListener(t, s, "h")
	if l2 == l {
		t.Fatal("NativeHost after Close returned the closed listener")
	}
	startHost(t, s, "h", "chrome-extension://fakeid/")
	p := acceptWithin(t, l2)
	p.Disconnect()
}

func TestNativeHostShutdown(t *testing.T) {
	s, _ := newTestSession(t)
	s.ServeNative("h")
	startHost(t, s, "h", "chrome-extension://fakeid/")
	l := nativeListener(t, s, "h")
	p := acceptWithin(t, l)
	s.Shutdown(ErrBrowserClosed)
	<-p.Done()
	if !errors.Is(p.Err(), ErrBrowserClosed) {
		t.Errorf("port after Shutdown: %v", p.Err())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := l.Accept(ctx); !errors.Is(err, ErrListenerClosed) || !errors.Is(err, ErrBrowserClosed) {
		t.Errorf("Accept after Shutdown: %v", err)
	}
	if _, err := s.NativeHost("h"); err == nil {
		t.Errorf("NativeHost after Shutdown: no error")
	}
}

func TestNativeFirefoxSender(t *testing.T) {
	s, err := newSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newExtension(s, 0, &instrument.Result{Name: "fake", BackgroundKind: "scripts", GeckoID: "fake@extbridge.test"}, "firefox")
	s.exts = append(s.exts, e)
	s.ServeNative("h")
	startHost(t, s, "h", "/tmp/x/native-messaging-hosts/h.json", "fake@extbridge.test")
	p := acceptWithin(t, nativeListener(t, s, "h"))
	if snd := p.Sender(); snd == nil || snd.ID != "fake@extbridge.test" {
		t.Errorf("sender %+v", snd)
	}
	p.Disconnect()
}
