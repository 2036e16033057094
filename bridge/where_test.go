package bridge

import (
	"strings"
	"testing"
)

// A where frame fills in the realm's tab and frame for the events after it;
// a field it lacks stays as it was.
func TestWhereFrame(t *testing.T) {
	h, e := newTestSession(t)
	f := dialRealm(t, h, "page", h.hub.Token())
	ctx := testCtx(t)
	w, err := e.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	next := func() Event {
		t.Helper()
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	f.send(map[string]any{"t": "log", "level": "log", "text": "before"})
	if r := next().Realm; r.TabID != -1 || r.FrameID != 0 || r.ID != "realm-page" {
		t.Fatalf("realm before the where frame = %+v, want tab -1, frame 0 (top)", r)
	}
	f.send(map[string]any{"t": "where", "tab": 42})
	f.send(map[string]any{"t": "log", "level": "log", "text": "after"})
	ev := next()
	if r := ev.Realm; r.TabID != 42 || r.FrameID != 0 {
		t.Fatalf("realm after {tab: 42} = %+v", r)
	}
	if s := ev.String(); !strings.Contains(s, "(tab 42 frame 0) #realm-") {
		t.Errorf("event = %s, want the tab, frame and realm id", s)
	}
	f.send(map[string]any{"t": "where", "frame": 7})
	f.send(map[string]any{"t": "log", "level": "log", "text": "framed"})
	if r := next().Realm; r.TabID != 42 || r.FrameID != 7 {
		t.Fatalf("realm after {frame: 7} = %+v", r)
	}
}
