// Package extfixtures holds small fixture extensions, one per documented
// WebExtension messaging pattern, and the test pages they run on.
//
// Entry points: [Names] lists the extensions, [Materialize] writes one to a
// folder that can be loaded unpacked (or handed to the driver), and [Pages]
// serves the test pages.
//
// Every extension has one cross-browser manifest (manifest_version 3 with
// both background.service_worker and background.scripts, and a
// browser_specific_settings.gecko.id of "<name>@extbridge.test"), so it runs
// as a service worker in Chromium and as an event page in Firefox. Every
// realm appends what it receives to globalThis.received and logs like the MDN
// examples do. A headless browser has no toolbar, so backgrounds that react
// to a click on the action expose the handler as a global function,
// buttonClicked().
//
// The extensions:
//
//   - pingpong: MDN's runtime.connect / runtime.onConnect / runtime.Port
//     example. The content script connects as "port-from-cs" and posts
//     {greeting: "hello from content script"} (and {greeting: "they clicked
//     the page!"} on each click); the background answers {greeting: "hi there
//     content script!"} and posts {greeting: "they clicked the button!"} from
//     buttonClicked().
//   - tabsconnect: MDN's tabs.connect example. buttonClicked() connects to
//     the active tab as "tabs-connect-example" and posts {greeting: "Hi from
//     background script"}; the content script runs in all frames, records
//     {port, sender, msg} and answers {greeting: "hi from content script",
//     frame: location.href}.
//   - messages: one-off messages. The background's runtime.onMessage
//     listener answers by the message's kind: "sync" at once with {farewell:
//     "goodbye", from: sender.url}, "async" 20 ms later with {late: true},
//     "promise" with a promise of {promised: true}, "none" never, "throw" by
//     throwing, "fn" with a function; its onMessageExternal listener answers
//     {external: true, from: sender.id, msg}; askTab(tabId, msg, frameId)
//     sends to a tab and resolves with {response} or {error}. The content
//     script sends {kind: "sync", greeting: "hello from the content script"}
//     at start (top frame) and answers messages {to: "cs"} with {in:
//     location.href}.
//   - multiport: MDN's "multiple content scripts" pattern. Two content scripts
//     connect as "port-from-cs-a" and "port-from-cs-b"; the background keeps
//     an array of ports per tab and broadcasts {greeting: "they clicked the
//     button!"} from buttonClicked().
//   - nolistener: no runtime.onConnect listener anywhere, for "Receiving end
//     does not exist". The content script's tryConnect(name) connects to the
//     background and resolves to {port, error} when the port disconnects.
//   - echo: the background and every frame's content script echo each
//     message back on its port; {cmd: "disconnect"} makes that end call
//     port.disconnect(). For round trips and benchmarks.
//   - extpages: extension pages and the user's input. An action popup
//     (popup.html), an options page (options.html) and page.html each set
//     globalThis.ran to their name, connect as "from-<name>" and post
//     {hello: "<name>"}, and echo what connects to them as {echo, in:
//     "<name>"}; the background answers every port message with {echo: msg,
//     from: sender.url}; the content script connects as "input-cs" and posts
//     {click: id, trusted} and {key, trusted} for each click and key press on
//     the page, and echoes tabs.connect ports as {echo, in: location.href}.
//   - nativepingpong: MDN's runtime.connectNative example, as written. The
//     background connects to the native application "ping_pong" at start-up,
//     logs "Received: " + each message from it, and on a click on the action
//     logs "Sending:  ping" and posts "ping". It has the nativeMessaging
//     permission.
//   - nonative: no nativeMessaging permission, so runtime.connectNative and
//     sendNativeMessage do not exist in it; globalThis.nativeAPI says what
//     typeof gives for each.
//   - hostile: replaces runtime.connect and tabs.connect with its own
//     wrappers, replaces the globals a bridge might use (WebSocket, JSON,
//     Object.assign, Symbol.for, Array.from, Array.prototype.splice) with
//     throwing stand-ins, and throws in every listener (runtime.onConnect,
//     a port's onMessage and onDisconnect, runtime.onMessage); its onConnect
//     listeners (background and content script) echo each message first. The
//     content script connects as "hostile-cs" through its own wrapper and
//     sends a one-off message, which the background's onMessage answers
//     with a tabs.sendMessage to its tab before throwing.
//   - breakall: one script, breakall.js, in every realm (the background,
//     every frame's content script, page.html). After registering its
//     listeners it walks the prototypes and statics of the builtins a
//     bridge might use (Object, Reflect, Function.prototype, Array and the
//     iterator prototypes, Map, Set, WeakMap, WeakSet, Promise, JSON,
//     String, Number, Math, Symbol, Error, WebSocket, EventTarget, Event,
//     MessageEvent, ErrorEvent, PromiseRejectionEvent, crypto, console) and
//     replaces every configurable own method and accessor it finds with one
//     that throws, and the global's timers too; its own code then uses
//     only what it saved before. The content script opens "breakall-cs"
//     and the page "breakall-page"; every end it holds answers a message m
//     with {echo: m, realm} unless m is an echo. The background's
//     {cmd: "open", path} opens an extension page in a new tab and
//     {cmd: "close", tab} closes it. globalThis.brokenCount says how many
//     members it replaced; it logs "breakall: <realm> replaced N builtin
//     members (K kept)", and the content script and page post {realm,
//     broken: N} on their port.
//
// The native host programs ([Hosts], [MaterializeHost]): ping_pong.py
// (MDN's: "pong" for every "ping", exits at the end of its stdin),
// exits_at_once.sh (exits without reading), garbage.py (writes "hello\n"
// instead of a framed message) and ignores_eof.py (sends {"pid": N},
// answers "ping", then ignores the end of its stdin and SIGTERM). The
// Python ones need /usr/bin/python3.
//
// The pages ([Pages]): index.html (a page with a body), input.html (a
// button #go, an input #name, a button #under covered by #over, a hidden
// #hidden, a button #far 3000 px down; window.clicks and window.keys record
// every click and key press with isTrusted; window.pageGlobal is "from the
// page"), frames.html (two
// same-origin iframes, frame-a.html and frame-b.html), csp.html (to be
// served with the header Content-Security-Policy: default-src 'self') and
// hostile.html (tries to reach the wire and tampers with page globals; it
// writes what it achieved as JSON into #report).
package extfixtures

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// files holds the fixture extensions and the test pages, one folder each.
//
//go:embed all:breakall all:echo all:extpages all:extpair-a all:extpair-b all:hostile all:messages all:multiport all:nativepingpong all:nolistener all:nonative all:pingpong all:tabsconnect all:pages all:hosts
var files embed.FS

// pagesDir is the folder of the test pages, and hostsDir the folder of the
// native hosts; neither is an extension.
const (
	pagesDir = "pages"
	hostsDir = "hosts"
)

// Names lists the fixture extensions, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".") // the embedded root always exists
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != pagesDir && e.Name() != hostsDir {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// Materialize writes the named fixture extension to a new folder under dir
// and returns its path. The folder's name starts with the fixture's name, and
// each call creates a new one.
func Materialize(name, dir string) (string, error) {
	if !slices.Contains(Names(), name) {
		return "", fmt.Errorf("failed to materialize %q: no such fixture extension (known: %s)", name, strings.Join(Names(), ", "))
	}
	out, err := os.MkdirTemp(dir, name+"-")
	if err != nil {
		return "", fmt.Errorf("failed to materialize %s: %w", name, err)
	}
	sub, err := fs.Sub(files, name)
	if err == nil {
		err = writeTree(sub, out)
	}
	if err != nil {
		os.RemoveAll(out)
		return "", fmt.Errorf("failed to materialize %s: %w", name, err)
	}
	return out, nil
}

// writeTree copies every file of fsys into the existing folder dst.
func writeTree(fsys fs.FS, dst string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(p))
		if d.IsDir() {
			if p == "." {
				return nil
			}
			return os.Mkdir(target, 0o755)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// Hosts lists the native messaging host programs, sorted.
func Hosts() []string {
	entries, _ := fs.ReadDir(files, hostsDir) // the embedded folder always exists
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// MaterializeHost writes the named host program (one of [Hosts], e.g.
// "ping_pong.py") into the existing folder dir, executable (mode 0755:
// embedded files carry no mode), and returns its path.
func MaterializeHost(name, dir string) (string, error) {
	if !slices.Contains(Hosts(), name) {
		return "", fmt.Errorf("failed to materialize %q: no such host program (known: %s)", name, strings.Join(Hosts(), ", "))
	}
	data, err := fs.ReadFile(files, hostsDir+"/"+name)
	if err != nil {
		return "", fmt.Errorf("failed to materialize %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		return "", fmt.Errorf("failed to materialize %s: %w", name, err)
	}
	// WriteFile keeps the mode of a file that exists, and the umask applies.
	if err := os.Chmod(path, 0o755); err != nil {
		return "", fmt.Errorf("failed to materialize %s: %w", name, err)
	}
	return path, nil
}

// Pages returns the test pages: index.html, input.html, frames.html,
// frame-a.html, frame-b.html, csp.html and hostile.html. Serve them with
// http.FileServerFS.
func Pages() fs.FS {
	sub, err := fs.Sub(files, pagesDir)
	if err != nil {
		// fs.Sub fails only for an invalid path, and pagesDir is valid.
		return files
	}
	return sub
}
