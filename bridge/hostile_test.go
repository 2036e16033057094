package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/extbridge/extbridge/internal/hub"
)

// Hostile input to the Hub. (The instrumenter's hostile-input tests are in
// internal/instrument.)

// Before it proves it holds the token, a connection may send at most
// hub.HelloLimit bytes: a larger first frame is refused without buffering
// hub.MaxFrame, and the Hub goes on serving realms.
func TestHostileHugeHello(t *testing.T) {
	h, e := newTestSession(t)
	ctx := testCtx(t)
	ws, _, err := websocket.Dial(ctx, h.hub.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	big := bytes.Repeat([]byte("x"), hub.HelloLimit+1)
	_ = ws.Write(ctx, websocket.MessageText, big) // may fail once the Hub closes
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig && err == nil {
		t.Errorf("after a %d-byte hello: read = %v, want the connection closed", len(big), err)
	}
	// A hello just under the limit with the wrong token is refused as well.
	ws2, _, err := websocket.Dial(ctx, h.hub.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.CloseNow()
	hi, _ := json.Marshal(map[string]any{"t": "hello", "token": "wrong", "url": strings.Repeat("u", hub.HelloLimit-100)})
	if err := ws2.Write(ctx, websocket.MessageText, hi); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws2.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("wrong token: read = %v, want policy violation", err)
	}
	// The real bridge still gets in.
	dialRealm(t, h, "background", h.hub.Token())
	if _, err := e.Background(ctx); err != nil {
		t.Fatal(err)
	}
	_ = context.Background
}
