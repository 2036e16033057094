package native

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/extbridge/extbridge/internal/hub"
)

func TestFramingRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	msgs := []string{`"ping"`, `{"s":"é€😀"}`, ``, strings.Repeat("x", 70000)}
	for _, m := range msgs {
		if err := WriteMessage(&buf, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range msgs {
		got, err := ReadMessage(&buf, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if _, err := ReadMessage(&buf, 1<<20); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestReadMessageErrors(t *testing.T) {
	// "hello\n" read as a length: what a host that ignores the framing writes.
	if _, err := ReadMessage(strings.NewReader("hello\n"), 1<<20); err == nil || !strings.Contains(err.Error(), "1819043176 bytes") {
		t.Fatalf("garbage: %v", err)
	}
	var buf bytes.Buffer
	WriteMessage(&buf, []byte(`"abcdef"`))
	short := buf.Bytes()[:7]
	if _, err := ReadMessage(bytes.NewReader(short), 1<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut short: %v", err)
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"ping_pong", "com.example.host", "a", "x1_2.y3"} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "Ping", "bad name", ".x", "x.", "a..b", "a-b", "é"} {
		if err := ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) = nil, want an error", bad)
		}
	}
}

func TestCheckProgram(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "host.sh")
	plain := filepath.Join(dir, "plain.sh")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644)
	if got, err := CheckProgram(exe); err != nil || got != exe {
		t.Fatalf("CheckProgram(exe) = %q, %v", got, err)
	}
	if _, err := CheckProgram(plain); err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Fatalf("not executable: %v", err)
	}
	if _, err := CheckProgram(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a folder: %v", err)
	}
	if _, err := CheckProgram(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

func TestSender(t *testing.T) {
	id, origin := Sender([]string{"chrome-extension://abcdefghijklmnopabcdefghijklmnop/"})
	if id != "abcdefghijklmnopabcdefghijklmnop" || origin != "chrome-extension://abcdefghijklmnopabcdefghijklmnop" {
		t.Fatalf("chromium: %q %q", id, origin)
	}
	id, origin = Sender([]string{"/tmp/x/native-messaging-hosts/ping_pong.json", "pp@extbridge.test"})
	if id != "pp@extbridge.test" || origin != "" {
		t.Fatalf("firefox: %q %q", id, origin)
	}
}

func TestWriteRelay(t *testing.T) {
	dir := t.TempDir()
	script, err := WriteRelay(dir, "/bin/it's here", Config{URL: "ws://x/", Token: "t", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(script)
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("script mode %v", st.Mode().Perm())
	}
	conf, _ := os.Stat(filepath.Join(dir, "h.conf"))
	if conf.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", conf.Mode().Perm())
	}
	text, _ := os.ReadFile(script)
	if !strings.Contains(string(text), `exec '/bin/it'\''s here' "$@"`) {
		t.Fatalf("script:\n%s", text)
	}
}

// fakeGo is a hub that records the frames of the relays that connect.
type fakeGo struct {
	srv    *hub.Server
	conns  chan *hub.Conn
	frames chan hub.Frame
	ended  chan error
}

type recorder struct{ f *fakeGo }

func (r recorder) Frame(f *hub.Frame)      { r.f.frames <- *f }
func (r recorder) Ended(cause error) error { r.f.ended <- cause; return cause }

func newFakeGo(t *testing.T) *fakeGo {
	f := &fakeGo{conns: make(chan *hub.Conn, 4), frames: make(chan hub.Frame, 64), ended: make(chan error, 4)}
	srv, err := hub.New(hub.Options{Accept: func(c *hub.Conn) (hub.Handler, error) {
		if c.Hello().Realm != "native" {
			return nil, errors.New("not a relay")
		}
		f.conns <- c
		return recorder{f}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() { srv.Close(nil) })
	return f
}

func (f *fakeGo) frame(t *testing.T) hub.Frame {
	t.Helper()
	select {
	case fr := <-f.frames:
		return fr
	case <-time.After(10 * time.Second):
		t.Fatal("no frame from the relay")
		return hub.Frame{}
	}
}

// relayUnderTest runs Relay with pipes as the browser's end.
type relayUnderTest struct {
	browserOut *io.PipeWriter // what the browser writes to the host's stdin
	browserIn  *io.PipeReader // what the host writes to its stdout
	done       chan error
}

func startRelay(t *testing.T, f *fakeGo, token string, args []string) *relayUnderTest {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &relayUnderTest{browserOut: inW, browserIn: outR, done: make(chan error, 1)}
	go func() {
		err := Relay(context.Background(), Config{URL: f.srv.URL(), Token: token, Host: "ping_pong"}, inR, outW, args)
		outW.Close()
		r.done <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return r
}

func (r *relayUnderTest) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not return")
		return nil
	}
}

func TestRelayBothWaysThenBrowserEnds(t *testing.T) {
	f := newFakeGo(t)
	args := []string{"chrome-extension://abc/"}
	r := startRelay(t, f, f.srv.Token(), args)
	var c *hub.Conn
	select {
	case c = <-f.conns:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not connect")
	}
	hi := c.Hello()
	if hi.Realm != "native" || hi.Host != "ping_pong" || hi.Ext != -1 || len(hi.Args) != 1 || hi.Args[0] != args[0] {
		t.Fatalf("hello: %+v", hi)
	}

	// browser → Go
	go func() {
		WriteMessage(r.browserOut, []byte(`"ping"`))
		WriteMessage(r.browserOut, nil) // Firefox's postMessage(undefined)
	}()
	if fr := f.frame(t); fr.T != hub.FrameMessage || fr.P != 1 || string(fr.D) != `"ping"` {
		t.Fatalf("first frame: %+v", fr)
	}
	if fr := f.frame(t); fr.T != hub.FrameMessage || string(fr.D) != `null` {
		t.Fatalf("empty message: %+v", fr)
	}

	// Go → browser, several at once (they may leave as one batch)
	ctx := context.Background()
	for _, m := range []string{`"pong"`, `{"n":1}`, `[1,2]`} {
		if err := c.Send(ctx, hub.EncodePost(1, []byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{`"pong"`, `{"n":1}`, `[1,2]`} {
		got, err := ReadMessage(r.browserIn, 1<<20)
		if err != nil || string(got) != want {
			t.Fatalf("browser got %q, %v; want %q", got, err, want)
		}
	}

	// The browser closes the host's stdin: a clean disconnect, then the end.
	r.browserOut.Close()
	if fr := f.frame(t); fr.T != hub.FrameDisconnect || fr.P != 1 || fr.E != "" {
		t.Fatalf("disc frame: %+v", fr)
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("Relay: %v", err)
	}
}

func TestRelayGoDisconnects(t *testing.T) {
	f := newFakeGo(t)
	r := startRelay(t, f, f.srv.Token(), nil)
	c := <-f.conns
	if err := c.Send(context.Background(), hub.EncodeDisconnect(1)); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("Relay: %v", err)
	}
	// The host's stdout is closed: the browser sees the host exit.
	if _, err := ReadMessage(r.browserIn, 1<<20); !errors.Is(err, io.EOF) {
		t.Fatalf("after the relay: %v", err)
	}
}

func TestRelayGoCloses(t *testing.T) {
	f := newFakeGo(t)
	r := startRelay(t, f, f.srv.Token(), nil)
	c := <-f.conns
	// Once a post went through, the connection runs (its handler is set).
	c.Send(context.Background(), hub.EncodePost(1, []byte(`1`)))
	if m, err := ReadMessage(r.browserIn, 1<<20); err != nil || string(m) != "1" {
		t.Fatalf("post: %q %v", m, err)
	}
	c.End(errors.New("closed by the test"))
	if err := r.wait(t); err != nil {
		t.Fatalf("Relay: %v", err)
	}
}

func TestRelayWrongToken(t *testing.T) {
	f := newFakeGo(t)
	r := startRelay(t, f, strings.Repeat("0", 32), nil)
	err := r.wait(t)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Relay with a wrong token: %v", err)
	}
	select {
	case <-f.conns:
		t.Fatal("the hub accepted a relay without the token")
	default:
	}
}

func TestRelayFrameIsJSON(t *testing.T) {
	for in, want := range map[string]string{`"a"`: `"a"`, ``: `null`, `not json{`: `"not json{"`} {
		var f struct {
			T string          `json:"t"`
			P int             `json:"p"`
			D json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(msgFrame([]byte(in)), &f); err != nil || f.T != "msg" || f.P != 1 || string(f.D) != want {
			t.Errorf("msgFrame(%q) = %s (%v), want d %s", in, msgFrame([]byte(in)), err, want)
		}
	}
}
