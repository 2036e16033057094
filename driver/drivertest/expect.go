package drivertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/bridge"
)

// Recv receives the next message on p and decodes it into a T. It fails the
// test if none arrives within [Timeout], if the port ends first, or if the
// message does not decode.
func Recv[T any](t testing.TB, p *bridge.Port) T {
	t.Helper()
	var v T
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	m, err := p.Recv(ctx)
	if err != nil {
		t.Fatalf("drivertest: no message on %s within %s: %v%s", p, Timeout, err, portState(p))
	}
	if err := json.Unmarshal(m, &v); err != nil {
		t.Fatalf("drivertest: message on %s does not decode into %T: %v\nmessage: %s", p, v, err, m)
	}
	return v
}

// RecvMatch receives messages on p until one matches the partial JSON
// pattern, and returns it. An object pattern matches an object that has at
// least its keys, each matching; other values must be equal. Messages that
// do not match are skipped, and listed if the wait fails.
func RecvMatch(t testing.TB, p *bridge.Port, pattern string) json.RawMessage {
	t.Helper()
	var pat any
	if err := json.Unmarshal([]byte(pattern), &pat); err != nil {
		t.Fatalf("drivertest: the pattern %s is not JSON: %v", pattern, err)
	}
	return recvWhere(t, p, "matching "+pattern, func(m json.RawMessage) bool {
		var v any
		return json.Unmarshal(m, &v) == nil && Match(pat, v)
	})
}

// RecvWhere receives messages on p until pred accepts one, and returns it.
// Messages that pred rejects are skipped, and listed if the wait fails.
func RecvWhere(t testing.TB, p *bridge.Port, pred func(json.RawMessage) bool) json.RawMessage {
	t.Helper()
	return recvWhere(t, p, "that the predicate accepts", pred)
}

func recvWhere(t testing.TB, p *bridge.Port, what string, pred func(json.RawMessage) bool) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var seen []json.RawMessage
	for {
		m, err := p.Recv(ctx)
		if err != nil {
			t.Fatalf("drivertest: no message %s on %s within %s: %v\n%s%s", what, p, Timeout, err, listSeen(seen), portState(p))
			return nil
		}
		if pred(m) {
			return m
		}
		seen = append(seen, m)
	}
}

// ExpectDisconnect waits until p ends. With errContains empty the end must
// be clean (the other end called disconnect); otherwise the port's error
// must contain errContains. It receives what arrives meanwhile, and lists it
// on failure.
func ExpectDisconnect(t testing.TB, p *bridge.Port, errContains string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var seen []json.RawMessage
	for {
		m, err := p.Recv(ctx)
		if errors.Is(err, bridge.ErrDisconnected) {
			break
		}
		if err != nil {
			t.Fatalf("drivertest: %s did not disconnect within %s\n%s", p, Timeout, listSeen(seen))
			return
		}
		seen = append(seen, m)
	}
	err := p.Err()
	switch {
	case errContains == "" && err != nil:
		t.Fatalf("drivertest: %s ended with an error, want a clean disconnect: %v", p, err)
	case errContains != "" && err == nil:
		t.Fatalf("drivertest: %s ended cleanly, want an error containing %q", p, errContains)
	case errContains != "" && !strings.Contains(err.Error(), errContains):
		t.Fatalf("drivertest: %s ended with %q, want an error containing %q", p, err, errContains)
	}
	if errContains != "" {
		var de *bridge.DisconnectError
		if !errors.As(err, &de) {
			t.Fatalf("drivertest: %s ended with %T, want *bridge.DisconnectError", p, err)
		}
	}
}

// Match reports whether v matches the partial pattern pat, both decoded from
// JSON: objects match when v has every key of pat with a matching value,
// arrays element by element with the same length, other values when equal.
func Match(pat, v any) bool {
	switch pt := pat.(type) {
	case map[string]any:
		vm, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range pt {
			x, ok := vm[k]
			if !ok || !Match(pv, x) {
				return false
			}
		}
		return true
	case []any:
		va, ok := v.([]any)
		if !ok || len(va) != len(pt) {
			return false
		}
		for i := range pt {
			if !Match(pt[i], va[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(pat, v)
	}
}

func listSeen(seen []json.RawMessage) string {
	if len(seen) == 0 {
		return "received instead: nothing\n"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "received instead (%d):\n", len(seen))
	for i, m := range seen {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, m)
	}
	return b.String()
}

func portState(p *bridge.Port) string {
	select {
	case <-p.Done():
		if err := p.Err(); err != nil {
			return fmt.Sprintf("\nthe port ended: %v", err)
		}
		return "\nthe port ended: disconnected cleanly by the other end"
	default:
		return "\nthe port is still open"
	}
}
