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
// # Realms and their lifetime
//
// A background Context follows the background across restarts. A
// content-script Context is bound to one document: when the page is closed
// or navigated, its ports end with a [*DisconnectError] that says so, and
// [Extension.ContentScript] gives the new document's world.
package bridge
