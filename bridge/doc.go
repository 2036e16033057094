// Package bridge gives Go live WebExtension ports: the ones Go opens with
// runtime.connect and tabs.connect, the ones a Go listener receives on
// runtime.onConnect and runtime.onConnectExternal, and the ones the
// extension's own code opens.
//
// Entry points, once package driver has launched a browser:
//   - [Extension.Background], [Extension.ContentScript], [Extension.Page]
//     (an extension page in a tab) and [Extension.Popup] give a [Context]:
//     a realm Go acts in, as the extension's own code would.
//   - [Context.Connect] and [Context.TabsConnect] open a [Port];
//     [Context.Listen] returns a [Listener] whose [Listener.Accept] gives the
//     ports that connect; [Context.Eval] runs code in the realm.
//   - [Port.PostMessage], [Port.Recv], [Port.Disconnect], [Port.Done] and
//     [Port.Err] mirror postMessage, onMessage, disconnect and onDisconnect.
//   - [Context.SendMessage], [Context.SendMessageTo] and
//     [Context.TabsSendMessage] send one-off messages and return the
//     response or a [*SendError]; [Context.OnMessage] returns an [Inbox]
//     whose [Message] values Go answers with [Message.Respond].
//   - [Extension.Watch] follows everything the extension does, from its first
//     instruction: its ports, its one-off messages, its console and errors.
//   - [Extension.Frames] lists a tab's frames; [Extension.StopBackground]
//     stops the service worker as the browser does when it is idle.
//   - [Context.ConnectNative] opens a native port as the extension would;
//     driver's Browser.NativeHost gives a [Listener] of the connections to
//     a native host that Go serves (see Native messaging below).
//
// # How it works
//
// The instrumented copy of the extension runs a bridge script before any
// extension code in every realm: the service worker or background page,
// every frame's content-script world, and extension pages. The bridge wraps
// runtime.connect, tabs.connect, runtime.onConnect,
// runtime.onConnectExternal, runtime.sendMessage, tabs.sendMessage,
// runtime.onMessage and runtime.onMessageExternal in both the chrome and
// browser namespaces, gives every live port a mirror id and every one-off
// message an id, and reports every event to Go over a
// loopback WebSocket that only holders of a per-launch 128-bit token may
// use. Bridge traffic never goes through extension messaging, so the
// extension's own listeners see nothing of it. Go's commands to a realm go
// over the same WebSocket; port traffic never goes through the DevTools
// protocol.
//
// # Messages
//
// Messages are JSON values. PostMessage encodes a Go value with
// encoding/json; a value JSON cannot encode (a channel, a func, a cyclic
// structure) is an error and the port keeps working. Recv returns the JSON
// of what arrived. Chromium serialises extension messages as JSON, so what
// the extension posts arrives as JSON.stringify would make it: undefined
// becomes null (in arrays) or is dropped (in objects), a Date becomes its
// ISO string, a Map or Set becomes {}, NaN and Infinity become null.
// Firefox clones messages with the structured clone algorithm, so the
// extension's own listeners can receive a Date, a Map, a BigInt or a cyclic
// object; the bridge then hands Go their JSON form, with a BigInt as its
// decimal string and a repeated reference (a cycle) as null. Numbers beyond
// 2^53 lose precision in JavaScript, as they would in the extension.
//
// # Ordering and buffering
//
// Messages arrive on a Port in the order the realm received them, and
// wait in an unbounded per-port queue until Recv takes them, so nothing is
// lost and no slow reader stalls the wire or another port. The events of
// ports Go holds leave the realm at once; those of the extension's own
// ports are batched off the extension's critical path, for up to 4 ms while
// a [Watch] of the extension is open and up to 50 ms while none is, and
// flushed when a Watch opens, when a page hides and before
// [Extension.StopBackground] stops a background. Only a realm that dies
// abruptly (a crash, a killed browser) can take its last batch of such
// events with it. PostMessage
// queues the message on the wire and returns; the realm posts messages in
// the order Go sent them. If the browser refuses a message, the next
// PostMessage returns that error.
//
// # Differences between the browsers
//
//   - Errors: Chromium reports a port's error through runtime.lastError
//     during onDisconnect; Firefox sets port.error. Both end up in
//     [Port.Err] as a [*DisconnectError] with the browser's own message.
//     Reading runtime.lastError in the bridge marks it checked, so Chromium
//     no longer logs "Unchecked runtime.lastError" for ports.
//   - Background: Chromium runs a Manifest V3 service worker, which the
//     browser stops when idle and [Extension.Background] wakes; Firefox runs
//     background scripts as an event page (or a persistent background page
//     in Manifest V2).
//   - Idle: Chromium stops an idle service worker after about 30 s; Firefox
//     suspends an idle event page after 30 s without extension events, even
//     with ports and the bridge's WebSocket open. Ports to it end cleanly in
//     both, as in real life; [Extension.Background] wakes it again.
//     [Extension.StopBackground] does the same on demand (Firefox: a
//     persistent Manifest V2 background page cannot be stopped, and the
//     error wraps errors.ErrUnsupported).
//   - Eval: Manifest V3 forbids eval inside an extension, in both browsers.
//     On Chromium [Context.Eval] runs the code through the DevTools
//     protocol, in the service worker or in the content-script world of the
//     frame. On Firefox it runs in the event page's own global through the
//     Debugger API (as the DevTools console does), and in the content
//     script's own sandbox; neither is subject to the extension's CSP. An
//     exception reads "the code threw: Error: boom" on Firefox and carries
//     the stack on Chromium.
//   - Error stacks: Firefox's Error.stack has no "Error: message" line; the
//     bridge adds it to [EventLog] texts so both browsers read alike.
//   - Action clicks: Firefox's triggerAction acts on the selected tab, so
//     driver.Tab.ClickAction selects the tab first.
//   - Tab ids without extensions: Firefox's built-in add-ons give every tab
//     an id; Chromium gives -1 when no extension has a background.
//   - Messages: see above (JSON in Chromium, structured clone in Firefox).
//   - One-off messages: a message a listener got but nobody answered fails
//     in Chromium with "The message port closed before a response was
//     received." and resolves with no response (null) in Firefox. A message
//     nobody receives, and a tabs.sendMessage to a tab without the content
//     script or to no tab, fail with "Could not establish connection.
//     Receiving end does not exist." in both. A response no message can
//     carry (a function) fails with "Could not serialize message." in
//     Chromium and with "Could not establish connection. Receiving end does
//     not exist." in Firefox. A listener that throws fails the send with its
//     message in both. Go sends with Chromium's callback form (whose
//     runtime.lastError carries the first of those texts) and with
//     Firefox's promise, always naming the extension (null for this one), so
//     a string message is never taken for an extension id.
//   - Go's onMessage listener returns true in both browsers, as a listener
//     that answers later with sendResponse does; a returned promise would
//     win over the extension's own sendResponse in Firefox. The first
//     answer wins; [Message.Respond] after another listener answered returns
//     [ErrResponded] when the bridge saw that answer.
//   - The page itself: real input is CDP Input.dispatch*Event in Chromium and
//     BiDi input.performActions in Firefox, both trusted events. BiDi does
//     not reach extension pages, so in Firefox driver's Tab.Eval, Click and
//     Type work on web pages only; [Extension.Page] reaches extension
//     pages in both.
//   - A page that enters the back/forward cache (Chromium caches pages
//     navigated away from) leaves the wire: its content-script realm and
//     ports end, as the browser disconnects the extension's ports of a
//     cached page; if it is restored, the realm connects again.
//   - Firefox runs with --remote-allow-system-access, which the bridge needs
//     for exact tab ids, the action click, stop/wake and Eval. The BiDi
//     endpoint listens on loopback only, and extbridge takes its single
//     session right after start-up.
//
// # Native messaging
//
// driver.Options.NativeHosts registers native messaging hosts in the
// launch's own profile. A host with a program is run by the browser as in
// production, and Go is not in between. A host without one is served by
// Go: the browser starts a relay, and each runtime.connectNative(name) and
// each runtime.sendNativeMessage(name, msg) of the extension becomes one
// [Port] out of the host's [Listener] (How [HowNativeHost], Name the host,
// Sender the calling extension). The relay writes what Go posts to the
// browser, so Go's first PostMessage answers a sendNativeMessage; neither
// Go nor a real host can tell the two kinds of connection apart.
//
// The relay is the Go program itself, re-executed: for each Go-served host
// the launch writes a #!/bin/sh wrapper (mode 0700) into its temporary
// folder that execs os.Executable() with EXTBRIDGE_NATIVE_RELAY naming a
// config file (mode 0600: the wire's address, the launch's token, the
// host). Package driver's init function sees the variable and runs only
// the relay, so any program that imports driver is its own relay (test
// binaries, the CLI, go run binaries, which exist while they run); nothing
// is downloaded. The relay authenticates with the token like every realm,
// as realm "native" with the host's name and the arguments the browser gave
// it (Chromium: the caller's origin; Firefox: the manifest's path and the
// extension's id, from which Sender comes). It reads the browser's framing
// (a 4-byte native-endian length, then UTF-8 JSON) from stdin and sends
// each message to Go; the end of stdin is the extension's end of the port
// (its port.disconnect(), or the browser closing the host after a
// sendNativeMessage got its answer), a clean end of Go's Port (Err nil),
// unless the browser died, which is [ErrBrowserExited]. [Port.Disconnect]
// makes the relay exit, which the extension sees as its host exiting
// (Chromium: "Native host has exited."; Firefox: a clean disconnect, or
// "An unexpected error occurred" for a sendNativeMessage). The relay also
// exits when the wire ends. Every host process, relay or program, inherits
// a per-launch mark in its environment; driver's Browser.Close kills any
// that outlived the browser (Chromium never signals a host that ignores
// the end of its stdin, and a host outlives a killed browser), giving it
// until one second after Close began, and returns once they are gone.
//
// Connections that come before Go accepts (an extension that connects at
// start-up) wait in the Listener, at most [NativeBacklog], until accepted,
// until the Listener is closed (they are then disconnected) or until the
// browser closes. Meanwhile the extension sees an open port, or a
// sendNativeMessage that has not settled, as with a host that does not
// answer: neither browser has a timeout. A connection beyond the backlog,
// or one after Listener.Close (until Browser.NativeHost is called again),
// is refused, and the extension sees its host exit.
//
// The browsers' own limits hold, since the relay does what any host does:
// a host may send at most 1 MiB a message, and a bigger one that Go posts
// fails the extension's port with the browser's error (Chromium: "Error
// when communicating with the native messaging host."; Firefox: "Native
// application tried to send a message of N bytes, which exceeds the limit
// of 1048576 bytes."). The extension may send up to 64 MiB (Chromium;
// Firefox takes more, slowly).
//
// The bridge wraps runtime.connectNative and runtime.sendNativeMessage in
// both namespaces where they exist (they do not without the
// nativeMessaging permission, which the instrumented copy never adds, nor
// in Chromium's content scripts). The extension's own native port is an
// [EventOpen] with How [HowConnectNative] and Name the host's name (where
// Chromium's port.name is ""), then its messages both ways and its
// disconnect with the browser's error, whether Go or a program is the host;
// a sendNativeMessage is an [EventSend] with How [HowSendNativeMessage] and
// Target the host, then its [EventResponse], as for the other one-off
// messages (a sendNativeMessage the browser refuses by throwing, such as
// Chromium's with a message that is not an object, is a response with that
// error); a connectNative the browser refuses by throwing (Firefox: a bad
// name) is not reported, as no port opened. The host end of a port Go serves is on no
// Watch: it is not a realm of the extension, and the extension's end shows
// the same traffic.
//
// Differences, measured (Chromium 156, Firefox 153): the unknown host is
// "Specified native messaging host not found." in Chromium and "No such
// native application NAME" in Firefox (which also says that for a
// manifest that does not allow the extension); a host that exits is
// "Native host has exited." in Chromium and no error in Firefox; garbage
// on the host's stdout is "Error when communicating with the native
// messaging host." in Chromium and Firefox's size error (the text read as
// a length); Chromium's sendNativeMessage takes only an object message;
// Firefox offers connectNative in content scripts, where it fails with "An
// unexpected error occurred". A host that ignores the end of its stdin is
// killed by Chromium about 2 s later (SIGKILL), by Firefox with SIGTERM at
// 3 s and SIGKILL at 6 s, while the browser runs. Chromium keeps its
// service worker alive while a native port is open.
//
// # Realms and their lifetime
//
// A background Context follows the background across restarts. A
// content-script Context is bound to one document: when the page is closed
// or navigated, its ports end with a [*DisconnectError] that says so, and
// [Extension.ContentScript] gives the new document's world.
package bridge
