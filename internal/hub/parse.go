package hub

import (
	"bytes"
	"encoding/json"
)

// parsePortMessage reads the bridge's most frequent frames, a port message
// in or out, {"t":"msg"|"out","p":N,"d":DATA}, exactly as the bridge's
// JSON.stringify writes them (that key order, no spaces). ok is false for
// anything else, which then goes through encoding/json. DATA is checked to
// be valid JSON and shares data's memory.
func parsePortMessage(data []byte) (t string, p int, d json.RawMessage, ok bool) {
	const head = `{"t":"msg","p":`
	if len(data) < len(head) || !bytes.HasPrefix(data[len(`{"t":"msg"`):], []byte(`,"p":`)) {
		return "", 0, nil, false
	}
	switch string(data[:len(`{"t":"msg"`)]) {
	case `{"t":"msg"`:
		t = "msg"
	case `{"t":"out"`:
		t = "out"
	default:
		return "", 0, nil, false
	}
	rest := data[len(head):]
	n := 0
	for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
		p = p*10 + int(rest[n]-'0')
		n++
	}
	rest = rest[n:]
	const mid = `,"d":`
	if n == 0 || (n > 1 && data[len(head)] == '0') || !bytes.HasPrefix(rest, []byte(mid)) || rest[len(rest)-1] != '}' {
		return "", 0, nil, false
	}
	d = rest[len(mid) : len(rest)-1]
	if !json.Valid(d) {
		return "", 0, nil, false
	}
	return t, p, d, true
}
