package drivertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/bridge"
)

// Watch starts a watch on e's port events that closes with the test.
//
// Like [bridge.Extension.Watch], it starts at the oldest event the
// extension kept. On a [Shared] browser that history holds the events of
// the tests that ran before (and of earlier runs of this one, with
// -count), so a test picks its own out by something only it has: its
// tab's id or a URL with the test's name and a run number in it, a
// message it posted, or an event's Time after the test began.
func Watch(t testing.TB, e *bridge.Extension) *bridge.Watch {
	t.Helper()
	w, err := e.Watch(context.Background())
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// WaitEvent returns the next event of w that pred accepts, waiting up to
// [Timeout]. On failure it lists the events that came instead. what
// describes the awaited event for the failure message.
func WaitEvent(t testing.TB, w *bridge.Watch, what string, pred func(bridge.Event) bool) bridge.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var seen []string
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			var b strings.Builder
			fmt.Fprintf(&b, "drivertest: no event %s within %s: %v\n", what, Timeout, err)
			if len(seen) == 0 {
				b.WriteString("events instead: none\n")
			} else {
				fmt.Fprintf(&b, "events instead (%d):\n", len(seen))
				for _, s := range seen {
					b.WriteString("  " + s + "\n")
				}
			}
			t.Fatal(b.String())
		}
		if pred(ev) {
			return ev
		}
		seen = append(seen, ev.String())
	}
}
