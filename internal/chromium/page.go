package chromium

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/extbridge/extbridge/internal/js"
)

// Eval evaluates code in the page's own main world, awaiting a promise,
// and returns its value as JSON.
func (t *Tab) Eval(ctx context.Context, code string) (json.RawMessage, error) {
	return evalIn(ctx, t.s, "", code)
}

// Navigate loads url in the tab and returns once it has loaded.
func (t *Tab) Navigate(ctx context.Context, url string) error {
	return t.waitLoaded(ctx, url, &page.NavigateParams{URL: url})
}

// hitPoint is where a click or key press goes: the centre of an element, in
// CSS pixels of the viewport.
type hitPoint struct {
	X, Y  float64
	Error string
}

// locate finds the element a real click (or, with focus, key presses) goes
// to, in an isolated world of the page so that the page's scripts cannot
// change what it sees.
func (t *Tab) locate(ctx context.Context, selector string, focus bool) (hitPoint, error) {
	frame := cdp.FrameID(t.target) // a page's main frame has its target's id
	world, err := call(ctx, t.s, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frame, WorldName: "extbridge-input"})
	if err != nil {
		return hitPoint{}, fmt.Errorf("failed to reach the page: %w", err)
	}
	sel, _ := json.Marshal(selector)
	foc, _ := json.Marshal(focus)
	yes := true
	res, err := call(ctx, t.s, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: js.PageLocate,
		ExecutionContextID:  world.ExecutionContextID,
		Arguments:           []*runtime.CallArgument{{Value: sel}, {Value: foc}},
		ReturnByValue:       &yes,
	})
	if err != nil {
		return hitPoint{}, err
	}
	if res.ExceptionDetails != nil {
		return hitPoint{}, fmt.Errorf("failed to find %q: %s", selector, res.ExceptionDetails.Text)
	}
	var tg hitPoint
	if err := json.Unmarshal(res.Result.Value, &tg); err != nil {
		return hitPoint{}, err
	}
	if tg.Error != "" {
		return hitPoint{}, fmt.Errorf("the selector %q %s", selector, tg.Error)
	}
	return tg, nil
}

// Click clicks the centre of the first element selector matches with the
// mouse: real (trusted) mouse events, after scrolling it into view.
func (t *Tab) Click(ctx context.Context, selector string) error {
	tg, err := t.locate(ctx, selector, false)
	if err != nil {
		return err
	}
	for _, p := range []input.DispatchMouseEventParams{
		{Type: input.DispatchMouseEventTypeMouseMoved, X: tg.X, Y: tg.Y},
		{Type: input.DispatchMouseEventTypeMousePressed, X: tg.X, Y: tg.Y, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1},
		{Type: input.DispatchMouseEventTypeMouseReleased, X: tg.X, Y: tg.Y, Button: input.MouseButtonLeft, ClickCount: 1},
	} {
		if _, err := call(ctx, t.s, input.DispatchMouseEvent, p); err != nil {
			return err
		}
	}
	return nil
}

// Type focuses the first element selector matches and presses a key for
// every character of text: real (trusted) key events.
func (t *Tab) Type(ctx context.Context, selector, text string) error {
	if _, err := t.locate(ctx, selector, true); err != nil {
		return err
	}
	for _, r := range text {
		down, up := keyEvents(r)
		for _, p := range []input.DispatchKeyEventParams{down, up} {
			if _, err := call(ctx, t.s, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyEvents are the key down and up of one character: Enter and Tab as
// those keys, anything else as a key that types the character.
func keyEvents(r rune) (down, up input.DispatchKeyEventParams) {
	switch r {
	case '\n', '\r':
		down = input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r"}
	case '\t':
		down = input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Tab", Code: "Tab", WindowsVirtualKeyCode: 9, NativeVirtualKeyCode: 9}
	default:
		s := string(r)
		down = input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: s, Text: s, UnmodifiedText: s}
		switch { // an ASCII letter or digit is its own Windows key code, in upper case
		case r >= 'a' && r <= 'z':
			down.WindowsVirtualKeyCode = int64(r - 32)
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			down.WindowsVirtualKeyCode = int64(r)
		}
	}
	up = input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: down.Key, Code: down.Code, WindowsVirtualKeyCode: down.WindowsVirtualKeyCode, NativeVirtualKeyCode: down.NativeVirtualKeyCode}
	return down, up
}
