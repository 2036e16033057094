// Package bridgeinternal is the seam between package driver and package
// bridge, in the manner of x/tools' internal/packagesinternal: package
// bridge sets [NewSession] when it is initialised, and package driver calls
// it, so that neither package exports its plumbing.
//
// Across the seam, the driver gives the bridge a [Browser] (what only the
// browser's own protocol can do: stop and wake a background, Eval through
// CDP or the chrome scope) and the bridge gives the driver a [Session] (the
// hub of one launch and its extensions).
package bridgeinternal

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Browser is what package bridge needs from the browser driver.
type Browser interface {
	// StopBackground stops the extension's background the way the browser
	// does when it is idle. It returns an error wrapping
	// errors.ErrUnsupported where the browser cannot.
	StopBackground(ctx context.Context, ext Extension) error
	// WakeBackground starts the extension's background (service worker or
	// event page) if it is not running; its bridge then connects by itself.
	WakeBackground(ctx context.Context, ext Extension) error
	// EvalBackground evaluates js in the extension's background and
	// returns its value as JSON, awaiting a promise.
	EvalBackground(ctx context.Context, ext Extension, js string) (json.RawMessage, error)
	// EvalContent evaluates js in the content-script world of a frame,
	// the one the bridge realm realmID runs in.
	EvalContent(ctx context.Context, ext Extension, tabID, frameID int, realmID, js string) (json.RawMessage, error)
	// EvalPage evaluates js in an extension page: the one in tab tabID, or
	// with tabID -1 the one (a popup, any page not in a tab) whose bridge
	// realm is realmID. With both, the page in the tab must be that realm.
	EvalPage(ctx context.Context, ext Extension, tabID int, realmID, js string) (json.RawMessage, error)
	// LocateContent finds the bridge realm of the extension's
	// content-script world in the top frame of a tab through the browser's
	// own protocol, without asking the background. It returns "" where it
	// finds none (the caller then asks the background, which also injects
	// the bridge into a page that predates it).
	LocateContent(ctx context.Context, ext Extension, tabID int) (realmID string, err error)
	// Exited reports whether the browser process is gone. The bridge asks
	// when a realm's wire breaks, to tell a dead browser from a dead realm.
	Exited() bool
}

// Extension names an extension of the launch for the driver.
type Extension struct {
	Index int    // in the order of driver.Options.Extensions
	ID    string // what runtime.id returns in its realms
}

// Session is one launch's bridge: the hub and its extensions.
type Session interface {
	// AddExtension copies the extension folder src to dst, instruments it
	// for browser ("chromium" or "firefox") and registers it; it returns
	// the *bridge.Extension and what the driver needs to know of it.
	AddExtension(src, dst, browser string) (ext any, facts Facts, err error)
	// SetBrowser gives the session its driver once the browser runs.
	SetBrowser(b Browser)
	// WaitBackground waits until the background bridge of extension index
	// is connected, without waking it.
	WaitBackground(ctx context.Context, index int) error
	// DebuggerTargets lists chrome.debugger.getTargets' tabs, as the
	// background of extension index sees them: the one place where CDP
	// target ids and extension tab ids meet.
	DebuggerTargets(ctx context.Context, index int) ([]DebuggerTarget, error)
	// Shutdown ends every realm with cause, so every port still open ends
	// with a *bridge.DisconnectError that carries it.
	Shutdown(cause error)
	// Close ends everything and waits for the session's goroutines.
	Close() error

	// Wire is the hub's WebSocket address and the launch's token, for the
	// native-messaging relays.
	Wire() (url, token string)
	// ServeNative makes Go the native host name: the relays of that host
	// are accepted, and their ports wait for NativeHost's listener.
	ServeNative(name string)
	// NativeHost returns the *bridge.Listener of a host ServeNative
	// registered.
	NativeHost(name string) (any, error)
}

// Facts is what the driver needs to know of an instrumented extension.
type Facts struct {
	Index         int
	ID            string // the Chromium id or the gecko id
	Name          string
	HasBackground bool
}

// DebuggerTarget is a page target as chrome.debugger.getTargets lists it.
type DebuggerTarget struct {
	ID  string `json:"id"`  // the CDP target id
	Tab int    `json:"tab"` // the tabs.Tab id
}

// NewSession starts a session with its hub on loopback. Package bridge sets
// it.
var NewSession func(logger *slog.Logger) (Session, error)
