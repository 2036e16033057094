package firefox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/extbridge/extbridge/internal/bidi"
	"github.com/extbridge/extbridge/internal/js"
)

// Eval evaluates code in the page's own main world (BiDi script.evaluate in
// the tab's browsing context), awaiting a promise, and returns its value as
// JSON: BiDi serialises it, then Go encodes it as JSON.stringify would.
func (t *Tab) Eval(ctx context.Context, code string) (json.RawMessage, error) {
	v, err := t.f.conn.ScriptEvaluate(ctx, bidi.EvaluateParams{
		Expression:      code,
		Target:          bidi.Target{Context: t.context},
		AwaitPromise:    true,
		ResultOwnership: "none",
	})
	if err != nil {
		var se *bidi.ScriptError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("the code threw: %s", se.Text)
		}
		return nil, err
	}
	plain, err := v.Plain()
	if err != nil {
		return nil, err
	}
	return json.Marshal(plain)
}

// Navigate loads url in the tab and returns once it has loaded.
func (t *Tab) Navigate(ctx context.Context, url string) error {
	_, err := t.f.conn.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: t.context, URL: url, Wait: "complete"})
	return err
}

// hitPoint is where a click or key press goes: the centre of an element,
// in CSS pixels of the viewport.
type hitPoint struct {
	X, Y  float64
	Error string
}

// locate finds the element a real click (or, with focus, key presses) goes
// to, in a BiDi sandbox of the page so that the page's scripts cannot
// change what it sees.
func (t *Tab) locate(ctx context.Context, selector string, focus bool) (hitPoint, error) {
	sel, _ := bidi.LocalValueOf(selector)
	foc, _ := bidi.LocalValueOf(focus)
	v, err := t.f.conn.ScriptCallFunction(ctx, bidi.CallFunctionParams{
		FunctionDeclaration: js.PageLocate,
		Target:              bidi.Target{Context: t.context, Sandbox: "extbridge-input"},
		Arguments:           []bidi.LocalValue{sel, foc},
		ResultOwnership:     "none",
	})
	if err != nil {
		return hitPoint{}, fmt.Errorf("failed to find %q: %w", selector, err)
	}
	var hp hitPoint
	if err := v.Decode(&hp); err != nil {
		return hitPoint{}, err
	}
	if hp.Error != "" {
		return hitPoint{}, fmt.Errorf("the selector %q %s", selector, hp.Error)
	}
	return hp, nil
}

// performActions runs one BiDi input source's actions in the tab.
func (t *Tab) performActions(ctx context.Context, source map[string]any) error {
	_, err := bidi.Call[json.RawMessage](ctx, t.f.conn, "input.performActions", map[string]any{
		"context": t.context,
		"actions": []any{source},
	})
	return err
}

// Click clicks the centre of the first element selector matches with the
// mouse: real (trusted) pointer events from input.performActions, after
// scrolling it into view.
func (t *Tab) Click(ctx context.Context, selector string) error {
	hp, err := t.locate(ctx, selector, false)
	if err != nil {
		return err
	}
	// BiDi wants whole pixels; the centre rounded down stays inside the box.
	x, y := int(math.Floor(hp.X)), int(math.Floor(hp.Y))
	return t.performActions(ctx, map[string]any{
		"type":       "pointer",
		"id":         "extbridge-mouse",
		"parameters": map[string]any{"pointerType": "mouse"},
		"actions": []any{
			map[string]any{"type": "pointerMove", "x": x, "y": y},
			map[string]any{"type": "pointerDown", "button": 0},
			map[string]any{"type": "pointerUp", "button": 0},
		},
	})
}

// Type focuses the first element selector matches and presses a key for
// every character of text: real (trusted) key events.
func (t *Tab) Type(ctx context.Context, selector, text string) error {
	if _, err := t.locate(ctx, selector, true); err != nil {
		return err
	}
	var actions []any
	for _, r := range text {
		v := string(r)
		switch r {
		case '\n', '\r':
			v = "\uE007" // WebDriver's Enter
		case '\t':
			v = "\uE004" // WebDriver's Tab
		}
		actions = append(actions, map[string]any{"type": "keyDown", "value": v}, map[string]any{"type": "keyUp", "value": v})
	}
	if len(actions) == 0 {
		return nil
	}
	return t.performActions(ctx, map[string]any{"type": "key", "id": "extbridge-keyboard", "actions": actions})
}
