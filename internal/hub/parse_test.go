package hub

import (
	"bytes"
	"encoding/json"
	"testing"
)

// parsePortMessage agrees with encoding/json on every frame it accepts, and
// leaves the rest to it.
func TestParsePortMessage(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		t    string
		p    int
		data string
	}{
		{`{"t":"msg","p":1,"d":1}`, true, "msg", 1, `1`},
		{`{"t":"out","p":123456789,"d":{"a":[1,"}"]}}`, true, "out", 123456789, `{"a":[1,"}"]}`},
		{`{"t":"msg","p":7,"d":null}`, true, "msg", 7, `null`},
		{`{"t":"msg","p":1234567890,"d":1}`, false, "", 0, ""}, // too many digits
		{`{"t":"msg","p":01,"d":1}`, false, "", 0, ""},
		{`{"t":"msg","p":-1,"d":1}`, false, "", 0, ""},
		{`{"t":"msg","p":1,"d":}`, false, "", 0, ""},
		{`{"t":"msg","p":1,"d":1,"x":2}`, false, "", 0, ""},
		{`{"t":"msg","p":1,"d":{"a":1},"x":2}`, false, "", 0, ""},
		{`{"t":"disc","p":1,"e":""}`, false, "", 0, ""},
		{`{"t":"msg","p":1}`, false, "", 0, ""},
		{`{"t":"msg"`, false, "", 0, ""},
		{``, false, "", 0, ""},
	} {
		typ, p, d, ok := parsePortMessage([]byte(c.in))
		if ok != c.ok || typ != c.t || p != c.p || string(d) != c.data {
			t.Errorf("parsePortMessage(%s) = %q, %d, %s, %v; want %q, %d, %s, %v", c.in, typ, p, d, ok, c.t, c.p, c.data, c.ok)
		}
	}
}

func FuzzParsePortMessage(f *testing.F) {
	f.Add([]byte(`{"t":"msg","p":1,"d":1}`))
	f.Add([]byte(`{"t":"out","p":2,"d":{"a":"}"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, p, d, ok := parsePortMessage(data)
		if !ok {
			return
		}
		var f Frame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", data, err)
		}
		if f.T != typ || f.P != p || !bytes.Equal(compact(t, f.D), compact(t, d)) {
			t.Fatalf("%q: got %q %d %s, encoding/json %q %d %s", data, typ, p, d, f.T, f.P, f.D)
		}
	})
}

func compact(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
