package bidi

import (
	"context"
	"encoding/base64"
	"fmt"
)

// Capabilities is a set of WebDriver capabilities, such as
// {"acceptInsecureCerts": true}.
type Capabilities map[string]any

// CapabilitiesRequest is the "capabilities" parameter of session.new.
type CapabilitiesRequest struct {
	// AlwaysMatch is the set of capabilities the session must have.
	AlwaysMatch Capabilities `json:"alwaysMatch,omitempty"`
	// FirstMatch is a list of alternative sets; the first that matches wins.
	FirstMatch []Capabilities `json:"firstMatch,omitempty"`
}

// SessionNewParams are the parameters of session.new.
type SessionNewParams struct {
	// Capabilities is what the session asks for.
	Capabilities CapabilitiesRequest `json:"capabilities"`
}

// SessionNewResult is the result of session.new.
type SessionNewResult struct {
	// SessionID identifies the session.
	SessionID string `json:"sessionId"`
	// Capabilities is what the browser granted, such as browserName and
	// browserVersion.
	Capabilities map[string]any `json:"capabilities"`
}

// SessionNew starts a BiDi session (session.new). A browser has at most one.
func (c *Conn) SessionNew(ctx context.Context, p SessionNewParams) (SessionNewResult, error) {
	return Call[SessionNewResult](ctx, c, "session.new", p)
}

// BrowserClose asks the browser to close all its windows and exit
// (browser.close). The connection drops soon after.
func (c *Conn) BrowserClose(ctx context.Context) error {
	_, err := Call[struct{}](ctx, c, "browser.close", nil)
	return err
}

// WebExtensionInstall installs the unpacked extension in the folder dir
// (webExtension.install with extensionData type "path") and returns its id.
// Firefox installs it as a temporary add-on; the manifest needs
// browser_specific_settings.gecko.id for a stable id.
func (c *Conn) WebExtensionInstall(ctx context.Context, dir string) (string, error) {
	r, err := Call[struct {
		Extension string `json:"extension"`
	}](ctx, c, "webExtension.install", map[string]any{
		"extensionData": map[string]any{"type": "path", "path": dir},
	})
	if err != nil {
		return "", err
	}
	return r.Extension, nil
}

// CreateParams are the parameters of browsingContext.create.
type CreateParams struct {
	// Type is "tab" or "window".
	Type string `json:"type"`
	// ReferenceContext is an existing context the new one opens next to.
	ReferenceContext string `json:"referenceContext,omitempty"`
	// Background opens it without focusing it.
	Background bool `json:"background,omitempty"`
	// UserContext is the user context (container) to open it in.
	UserContext string `json:"userContext,omitempty"`
}

// BrowsingContextCreate opens a tab or a window (browsingContext.create) at
// about:blank and returns its browsing context id.
func (c *Conn) BrowsingContextCreate(ctx context.Context, p CreateParams) (string, error) {
	if p.Type == "" {
		p.Type = "tab"
	}
	r, err := Call[struct {
		Context string `json:"context"`
	}](ctx, c, "browsingContext.create", p)
	return r.Context, err
}

// NavigateParams are the parameters of browsingContext.navigate.
type NavigateParams struct {
	// Context is the browsing context to navigate.
	Context string `json:"context"`
	// URL is where to go.
	URL string `json:"url"`
	// Wait is "none", "interactive" or "complete" (the load event).
	Wait string `json:"wait,omitempty"`
}

// NavigateResult is the result of browsingContext.navigate.
type NavigateResult struct {
	// Navigation identifies the navigation; empty for a same-document one.
	Navigation string `json:"navigation"`
	// URL is the URL navigated to.
	URL string `json:"url"`
}

// BrowsingContextNavigate navigates a context (browsingContext.navigate). An
// empty Wait means "complete".
func (c *Conn) BrowsingContextNavigate(ctx context.Context, p NavigateParams) (NavigateResult, error) {
	if p.Wait == "" {
		p.Wait = "complete"
	}
	r, err := Call[struct {
		Navigation *string `json:"navigation"`
		URL        string  `json:"url"`
	}](ctx, c, "browsingContext.navigate", p)
	if err != nil {
		return NavigateResult{}, err
	}
	res := NavigateResult{URL: r.URL}
	if r.Navigation != nil {
		res.Navigation = *r.Navigation
	}
	return res, nil
}

// BrowsingContextClose closes a top-level context, a tab or a window
// (browsingContext.close).
func (c *Conn) BrowsingContextClose(ctx context.Context, context string) error {
	_, err := Call[struct{}](ctx, c, "browsingContext.close", map[string]any{"context": context})
	return err
}

// ContextInfo describes a browsing context, as getTree returns it.
type ContextInfo struct {
	// Context is the browsing context id.
	Context string `json:"context"`
	// URL is the URL of its document.
	URL string `json:"url"`
	// Parent is the id of its parent; empty for a top-level context. getTree
	// sets it only on the root of what it returns.
	Parent string `json:"parent,omitempty"`
	// Children are its child frames; nil when not requested.
	Children []ContextInfo `json:"children"`
	// UserContext is its user context (container).
	UserContext string `json:"userContext,omitempty"`
	// ClientWindow is the id of its window.
	ClientWindow string `json:"clientWindow,omitempty"`
	// OriginalOpener is the context that opened it, if any.
	OriginalOpener string `json:"originalOpener,omitempty"`
}

// GetTreeParams are the parameters of browsingContext.getTree.
type GetTreeParams struct {
	// MaxDepth limits the depth of Children; nil means no limit.
	MaxDepth *int `json:"maxDepth,omitempty"`
	// Root is the context to start at; empty means all top-level contexts.
	Root string `json:"root,omitempty"`
}

// BrowsingContextGetTree returns the tree of browsing contexts
// (browsingContext.getTree).
func (c *Conn) BrowsingContextGetTree(ctx context.Context, p GetTreeParams) ([]ContextInfo, error) {
	r, err := Call[struct {
		Contexts []ContextInfo `json:"contexts"`
	}](ctx, c, "browsingContext.getTree", p)
	return r.Contexts, err
}

// ScreenshotParams are the parameters of browsingContext.captureScreenshot.
type ScreenshotParams struct {
	// Context is the top-level browsing context to capture.
	Context string `json:"context"`
	// Origin is "viewport" (default) or "document".
	Origin string `json:"origin,omitempty"`
	// Format is the image format, such as {"type": "image/jpeg",
	// "quality": 0.8}; nil means PNG.
	Format map[string]any `json:"format,omitempty"`
}

// BrowsingContextCaptureScreenshot captures a screenshot
// (browsingContext.captureScreenshot) and returns the decoded image bytes.
func (c *Conn) BrowsingContextCaptureScreenshot(ctx context.Context, p ScreenshotParams) ([]byte, error) {
	r, err := Call[struct {
		Data string `json:"data"`
	}](ctx, c, "browsingContext.captureScreenshot", p)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return nil, fmt.Errorf("failed to decode the screenshot: %w", err)
	}
	return b, nil
}

// Target is where a script runs: a browsing context (optionally in a named
// sandbox, an isolated world of BiDi's own) or a realm id.
type Target struct {
	// Context is a browsing context id.
	Context string `json:"context,omitempty"`
	// Sandbox names a BiDi sandbox in Context; empty means the page's world.
	Sandbox string `json:"sandbox,omitempty"`
	// Realm is a realm id; it is used instead of Context when set.
	Realm string `json:"realm,omitempty"`
}

// SerializationOptions control how results are serialized.
type SerializationOptions struct {
	// MaxDomDepth limits the depth of serialized DOM nodes.
	MaxDomDepth *int `json:"maxDomDepth,omitempty"`
	// MaxObjectDepth limits the depth of serialized objects.
	MaxObjectDepth *int `json:"maxObjectDepth,omitempty"`
	// IncludeShadowTree is "none", "open" or "all".
	IncludeShadowTree string `json:"includeShadowTree,omitempty"`
}

// EvaluateParams are the parameters of script.evaluate.
type EvaluateParams struct {
	// Expression is the JavaScript to evaluate.
	Expression string `json:"expression"`
	// Target is where it runs.
	Target Target `json:"target"`
	// AwaitPromise waits for a returned promise to settle.
	AwaitPromise bool `json:"awaitPromise"`
	// ResultOwnership is "root" to keep a handle to the result, or "none".
	ResultOwnership string `json:"resultOwnership,omitempty"`
	// SerializationOptions control the serialized result.
	SerializationOptions *SerializationOptions `json:"serializationOptions,omitempty"`
	// UserActivation runs it as if the user had interacted with the page.
	UserActivation bool `json:"userActivation,omitempty"`
}

// CallFunctionParams are the parameters of script.callFunction.
type CallFunctionParams struct {
	// FunctionDeclaration is the source of a function, such as
	// "(a, b) => a + b".
	FunctionDeclaration string `json:"functionDeclaration"`
	// Target is where it runs.
	Target Target `json:"target"`
	// AwaitPromise waits for a returned promise to settle.
	AwaitPromise bool `json:"awaitPromise"`
	// Arguments are the arguments; see [LocalValueOf].
	Arguments []LocalValue `json:"arguments,omitempty"`
	// This is the value of this; nil means undefined.
	This *LocalValue `json:"this,omitempty"`
	// ResultOwnership is "root" to keep a handle to the result, or "none".
	ResultOwnership string `json:"resultOwnership,omitempty"`
	// SerializationOptions control the serialized result.
	SerializationOptions *SerializationOptions `json:"serializationOptions,omitempty"`
	// UserActivation runs it as if the user had interacted with the page.
	UserActivation bool `json:"userActivation,omitempty"`
}

// ScriptError is a JavaScript exception that script.evaluate or
// script.callFunction reported.
type ScriptError struct {
	// Text is the exception message, such as "ReferenceError: x is not
	// defined".
	Text string `json:"text"`
	// LineNumber is zero-based.
	LineNumber int `json:"lineNumber"`
	// ColumnNumber is zero-based.
	ColumnNumber int `json:"columnNumber"`
	// Exception is the thrown value.
	Exception RemoteValue `json:"exception"`
}

// Error implements error.
func (e *ScriptError) Error() string { return "javascript exception: " + e.Text }

type scriptResult struct {
	Type             string       `json:"type"`
	Result           RemoteValue  `json:"result"`
	ExceptionDetails *ScriptError `json:"exceptionDetails"`
	Realm            string       `json:"realm"`
}

func (r scriptResult) value() (RemoteValue, error) {
	if r.Type == "exception" {
		if r.ExceptionDetails == nil {
			return RemoteValue{}, &ScriptError{Text: "unknown exception"}
		}
		return RemoteValue{}, r.ExceptionDetails
	}
	return r.Result, nil
}

// ScriptEvaluate evaluates an expression (script.evaluate). A thrown
// exception or a rejected promise is returned as a *[ScriptError].
func (c *Conn) ScriptEvaluate(ctx context.Context, p EvaluateParams) (RemoteValue, error) {
	r, err := Call[scriptResult](ctx, c, "script.evaluate", p)
	if err != nil {
		return RemoteValue{}, err
	}
	return r.value()
}

// ScriptCallFunction calls a function (script.callFunction). A thrown
// exception or a rejected promise is returned as a *[ScriptError].
func (c *Conn) ScriptCallFunction(ctx context.Context, p CallFunctionParams) (RemoteValue, error) {
	r, err := Call[scriptResult](ctx, c, "script.callFunction", p)
	if err != nil {
		return RemoteValue{}, err
	}
	return r.value()
}
