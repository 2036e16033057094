package bidi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/extbridge/extbridge/internal/bidi"
	"github.com/extbridge/extbridge/internal/browserbin"
	"github.com/extbridge/extbridge/internal/firefox"
)

// TestFirefox runs the typed commands against a real firefox-esr.
func TestFirefox(t *testing.T) {
	if _, err := browserbin.Find(browserbin.Firefox, ""); err != nil {
		t.Fatalf("this test needs a real Firefox: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := firefox.Launch(ctx, firefox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := p.BiDi()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>t</title><iframe src='about:blank'></iframe>")
	}))
	defer srv.Close()

	tab, err := c.BrowsingContextCreate(ctx, bidi.CreateParams{Type: "tab"})
	if err != nil {
		t.Fatal(err)
	}
	nav, err := c.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: tab, URL: srv.URL + "/", Wait: "complete"})
	if err != nil {
		t.Fatal(err)
	}
	if nav.URL != srv.URL+"/" || nav.Navigation == "" {
		t.Errorf("navigate returned %+v", nav)
	}

	tree, err := c.BrowsingContextGetTree(ctx, bidi.GetTreeParams{Root: tab})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || len(tree[0].Children) != 1 {
		t.Errorf("tree: %+v", tree)
	}

	v, err := c.ScriptEvaluate(ctx, bidi.EvaluateParams{
		Expression:   `new Promise(r => setTimeout(() => r({title: document.title, n: [1, 2.5], ok: true}), 1))`,
		Target:       bidi.Target{Context: tab},
		AwaitPromise: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Title string
		N     []float64
		OK    bool
	}
	if err := v.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Title != "t" || len(got.N) != 2 || got.N[1] != 2.5 || !got.OK {
		t.Errorf("evaluate: %+v", got)
	}

	arg, err := bidi.LocalValueOf(map[string]any{"a": 40, "b": []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	v, err = c.ScriptCallFunction(ctx, bidi.CallFunctionParams{
		FunctionDeclaration: `async (o) => o.a + o.b[0]`,
		Target:              bidi.Target{Context: tab, Sandbox: "extbridge"},
		AwaitPromise:        true,
		Arguments:           []bidi.LocalValue{arg},
	})
	var sum int
	if err != nil || v.Decode(&sum) != nil || sum != 42 {
		t.Errorf("callFunction: %v %+v %v", sum, v, err)
	}

	_, err = c.ScriptEvaluate(ctx, bidi.EvaluateParams{Expression: `Promise.reject(new Error("boom"))`, Target: bidi.Target{Context: tab}, AwaitPromise: true})
	var se *bidi.ScriptError
	if !errors.As(err, &se) {
		t.Errorf("rejection: got %v, want *ScriptError", err)
	}

	_, err = c.ScriptEvaluate(ctx, bidi.EvaluateParams{Expression: `1`, Target: bidi.Target{Context: "nope"}})
	var be *bidi.Error
	if !errors.As(err, &be) || be.Code != "no such frame" {
		t.Errorf("bad context: got %v, want *Error no such frame", err)
	}

	png, err := c.BrowsingContextCaptureScreenshot(ctx, bidi.ScreenshotParams{Context: tab})
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot: %d bytes, %v", len(png), err)
	}

	if err := c.BrowsingContextClose(ctx, tab); err != nil {
		t.Fatal(err)
	}

	// A call whose context ends returns ctx.Err and leaves the connection
	// usable.
	short, cancelShort := context.WithCancel(ctx)
	cancelShort()
	if _, err := c.BrowsingContextGetTree(short, bidi.GetTreeParams{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: got %v", err)
	}
	if _, err := c.BrowsingContextGetTree(ctx, bidi.GetTreeParams{}); err != nil {
		t.Errorf("after a canceled call: %v", err)
	}

	// browser.close ends the connection; pending and later calls say so.
	if err := c.BrowserClose(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("the connection did not end after browser.close")
	}
	if _, err := c.BrowsingContextGetTree(ctx, bidi.GetTreeParams{}); !errors.Is(err, bidi.ErrClosed) {
		t.Errorf("after browser.close: got %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
