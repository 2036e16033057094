package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Fuzzing the wire: a fake realm (see fakeRealm) sends arbitrary frames to
// an in-process Hub after its hello. Whatever they are, the Hub must not
// panic or stall, must go on serving the realm, and once closed must have
// ended every port it ever reported.

const syncPort = 1 << 30 // a port id the fuzzer's frames are unlikely to use

// wireSeeds are frames a bridge sends, and broken variants of them.
var wireSeeds = [][]string{
	{`{"t":"open","p":1,"how":"runtime.connect","name":"a"}`, `{"t":"msg","p":1,"d":{"x":1}}`, `{"t":"disc","p":1,"e":"gone"}`},
	{`{"t":"open","p":1,"how":"onConnect","name":"a","sender":{"id":"x","frameId":0,"tab":{"id":1,"index":0,"windowId":1,"active":true}}}`, `{"t":"out","p":1,"d":[1,2]}`, `{"t":"perr","p":1,"e":"too big"}`},
	{`{"t":"open","p":1,"name":"a"}`, `{"t":"open","p":1,"name":"b"}`},
	{`{"t":"open","p":2,"go":true,"i":7,"name":"g"}`, `{"t":"r","i":7,"ok":2}`, `{"t":"r","i":7,"err":"x"}`},
	{`{"t":"acc","l":1,"p":1}`, `{"t":"msg","p":-1}`, `{"t":"disc","p":99,"self":true}`},
	{`{"t":"msg","p":1,"d":`, `not json`, `[]`, `null`, `""`, `{"t":1}`, `{"t":"open","p":"1"}`, `{"t":"open","sender":[]}`},
	{`{"t":"log","level":"log","text":"hi"}`, `{"t":"hello","token":"x"}`, "{\"t\":\"msg\",\"p\":1,\"d\":\"\xff\"}"},
	{`{"t":"open","p":3,"name":"x"}`, `{"t":"msg","p":3,"d":null}`, `{"t":"msg","p":3}`, `{"t":"disc","p":3,"e":""}`, `{"t":"msg","p":3,"d":1}`},
}

func FuzzWire(f *testing.F) {
	for _, frames := range wireSeeds {
		f.Add([]byte(joinFrames(frames)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, e := newTestSession(t)
		w, err := e.Watch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		fr := dialRealm(t, h, "background", h.hub.Token())
		for _, frame := range bytes.Split(data, []byte{'\n'}) {
			if err := fr.ws.Write(context.Background(), websocket.MessageText, frame); err != nil {
				t.Fatalf("the Hub dropped the realm: %v", err)
			}
		}
		// One realm's frames are handled in order: once the sync port's
		// open is seen, every fuzzed frame was.
		fr.send(map[string]any{"t": "open", "p": syncPort, "how": "runtime.connect", "name": "sync"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var ports []*Port
		for {
			ev, err := w.Next(ctx)
			if err != nil {
				t.Fatalf("the sync frame never arrived: %v", err)
			}
			if ev.Port != nil {
				ports = append(ports, ev.Port)
			}
			if ev.Kind == EventOpen && ev.Name == "sync" && ev.Port != nil && ev.Port.id == syncPort {
				break
			}
		}
		// The realm still works: Go opens a port and posts on it.
		bg, err := e.Background(ctx)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			m := <-fr.cmds
			for m["c"] != "connect" { // e.g. Go disconnecting a fuzzed port
				m = <-fr.cmds
			}
			fr.send(map[string]any{"t": "open", "p": syncPort + 1, "how": "runtime.connect", "name": "after", "go": true})
			fr.send(map[string]any{"t": "r", "i": m["i"], "ok": syncPort + 1})
		}()
		p, err := bg.Connect(ctx, ConnectInfo{Name: "after"})
		if err != nil {
			t.Fatalf("Connect after the fuzzed frames: %v", err)
		}
		if err := p.PostMessage(ctx, "x"); err != nil {
			t.Fatalf("PostMessage after the fuzzed frames: %v", err)
		}
		for posted := false; !posted; {
			select {
			case m := <-fr.cmds:
				posted = m["c"] == "post" && m["p"] == float64(syncPort+1)
			case <-ctx.Done():
				t.Fatal("the post never reached the realm")
			}
		}
		// Every port the Hub reported ends when it closes.
		ports = append(ports, p)
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		for _, q := range ports {
			select {
			case <-q.Done():
			default:
				t.Fatalf("%s is still open after the session closed", q)
			}
		}
	})
}

// FuzzWireHello fuzzes the first frame of a connection, the one that must
// carry the token: anything but a valid hello is refused, and the Hub goes
// on serving the real bridge.
func FuzzWireHello(f *testing.F) {
	for _, s := range []string{
		`{"t":"hello","token":"TOKEN","ext":0,"realm":"background","id":"r"}`,
		`{"t":"hello","token":"TOKEN","ext":1,"realm":"content"}`,
		`{"t":"hello","token":"TOKEN","ext":-1}`,
		`{"t":"hello","token":"TOKEN ","ext":0}`,
		`{"t":"hello","token":["TOKEN"],"ext":0}`,
		`{"t":"hello","token":null}`,
		`{"t":"hello","token":"TOKEN","ext":0,"realm":"page","url":"` + "\xff" + `"}`,
		`{"t":"open","p":1}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, e := newTestSession(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, h.hub.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		// The fuzzer may use the real token: "TOKEN" stands for it.
		hello := bytes.ReplaceAll(data, []byte("TOKEN"), []byte(h.hub.Token()))
		if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
			t.Fatal(err)
		}
		var hi struct {
			T     string `json:"t"`
			Token string `json:"token"`
			Ext   int    `json:"ext"`
		}
		valid := json.Unmarshal(hello, &hi) == nil && hi.T == "hello" && hi.Token == h.hub.Token() && hi.Ext == 0
		if !valid {
			if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("hello %q: read = %v, want the connection refused", hello, err)
			}
		}
		// The real bridge still gets in, whatever came before.
		real := dialRealm(t, h, "background", h.hub.Token())
		_ = real
		if _, err := e.Background(ctx); err != nil {
			t.Fatal(err)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func joinFrames(frames []string) string {
	var b bytes.Buffer
	for i, f := range frames {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprint(&b, f)
	}
	return b.String()
}
