package bridge

import "errors"

// ErrDisconnected is returned by [Port.Recv] once the port has ended and
// every message that arrived before the end has been received, and by
// [Port.PostMessage] on a port that has ended. Every [*DisconnectError]
// matches it with errors.Is.
var ErrDisconnected = errors.New("extbridge: port disconnected")

// ErrBrowserExited is the cause of everything that ends because the browser
// process went away by itself (it crashed or was killed): ports end with a
// [*DisconnectError] that wraps it.
var ErrBrowserExited = errors.New("the browser process exited")

// ErrBrowserClosed is the cause of everything that ends because the program
// closed the browser (driver.Browser.Close).
var ErrBrowserClosed = errors.New("the browser was closed")

// ErrListenerClosed is returned by [Listener.Accept] after [Listener.Close],
// and wrapped by the error Accept returns once the listener's realm has
// gone.
var ErrListenerClosed = errors.New("extbridge: listener closed")

// ErrWatchClosed is returned by [Watch.Next] after [Watch.Close], and
// wrapped by the error Next returns once the browser session has ended.
var ErrWatchClosed = errors.New("extbridge: watch closed")

// DisconnectError is the error of a port that ended with an error: the
// browser's own message (Chrome's runtime.lastError, Firefox's port.error),
// or why extbridge lost the realm that held the port. It matches
// [ErrDisconnected] with errors.Is, and unwraps to the cause when extbridge
// ended the port itself (for example [ErrBrowserExited]).
type DisconnectError struct {
	Message string // the browser's text, or extbridge's account of the loss
	cause   error
}

// Error says the port disconnected, and why.
func (e *DisconnectError) Error() string { return "extbridge: port disconnected: " + e.Message }

// Unwrap returns the cause when extbridge ended the port itself.
func (e *DisconnectError) Unwrap() error { return e.cause }

// Is reports whether target is [ErrDisconnected].
func (e *DisconnectError) Is(target error) bool { return target == ErrDisconnected }

// endedError is the error of a listener or a watch whose realm or session
// ended: it reads as "<what> ended: <cause>", matches the sentinel and
// unwraps to the cause.
type endedError struct {
	what     string
	sentinel error
	cause    error
}

func (e *endedError) Error() string   { return "extbridge: " + e.what + " ended: " + e.cause.Error() }
func (e *endedError) Unwrap() []error { return []error{e.sentinel, e.cause} }
