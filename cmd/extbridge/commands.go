package main

import (
	"context"
	"fmt"
	"strings"
)

// result is what a command gives back: its -json record (kind "result")
// and its human text ("" prints nothing).
type result struct {
	rec  record
	text string
}

// Arguments the commands share.
var (
	argExt   = arg{name: "EXT", opt: true, comp: compExt}
	argTab   = arg{name: "TAB", comp: compTab}
	argFrame = arg{name: "FRAME", comp: compFrame}
	argPort  = arg{name: "PORT", comp: compPort}
	argName  = arg{name: "NAME"}
	argURL   = arg{name: "URL", comp: compURL}
	argJS    = arg{name: "JS", rest: true}
	argJSON  = arg{name: "JSON", rest: true}
	argFile  = arg{name: "FILE"}
	litBg    = lit("bg", "background")
	litCs    = lit("cs", "content")
	litPage  = lit("page")
	litPopup = lit("popup")
	litTab   = lit("tab")
	litNat   = lit("native")
	argSel   = arg{name: "SELECTOR"}
)

// lit is a literal word; the first spelling is the one completion offers.
func lit(words ...string) arg {
	return arg{name: words[0], lit: words, comp: func(*shell, *call) []string { return words[:1] }}
}

// optional makes a an optional argument.
func optional(a arg) arg { a.opt = true; return a }

// commands is the shell's command table, in the order help lists it.
var commands []*command

func init() {
	commands = []*command{
		{
			name: "exts", summary: "list the extensions",
			help:    "Lists the extensions with their index (the EXT of other commands), name, id and what the instrumented copy added to the manifest. A * marks the one commands act on when EXT is left out (see use).",
			example: "exts",
			run:     cmdExts,
		},
		{
			name: "use", forms: [][]arg{{{name: "EXT", comp: compExt}}},
			summary: "make EXT the extension commands act on when EXT is left out",
			help:    "Commands that take an optional EXT use extension 0 unless you say otherwise; use changes that default.",
			example: "use 1",
			run:     cmdUse,
		},
		{
			name: "open", forms: [][]arg{{argURL}, {{name: "EXT", comp: compExt}, {name: "PATH"}}},
			summary: "open a tab at URL, or at the extension's page PATH; prints its tab id ($tab)",
			help:    "Opens a tab and waits until the page has loaded: a web page, or a page of the extension (popup.html, options.html, any HTML file it has) as tabs.create({url: runtime.getURL(PATH)}) would; page $tab then acts in it. The tab id is the one the extension sees (tabs.Tab.id); $tab stands for the last one opened.",
			example: "open https://example.com/\nopen 0 options.html",
			run:     cmdOpen,
		},
		{
			name: "navigate", forms: [][]arg{{argTab, argURL}},
			summary: "load URL in a tab",
			help:    "Navigates the tab and waits until the page has loaded; a URL that starts with ./, ../ or / is taken relative to the tab's. Ports of the page that was there end.",
			example: "navigate $tab https://example.org/\nnavigate $tab ./input.html",
			run:     cmdNavigate,
		},
		{
			name: "tabs", summary: "list the tabs opened here",
			example: "tabs",
			run:     cmdTabs,
		},
		{
			name: "close", forms: [][]arg{{argTab}},
			summary: "close a tab",
			example: "close $tab",
			run:     cmdClose,
		},
		{
			name: "frames", forms: [][]arg{{argTab, argExt}},
			summary: "list a tab's frames (the FRAME of other commands)",
			help:    "Lists the frames of a tab as the extension sees them: frame id, parent frame id, URL. Frame 0 is the top frame.",
			example: "frames $tab",
			run:     cmdFrames,
		},
		{
			name: "connect", forms: [][]arg{{litBg, argName, argExt}, {litCs, argTab, argFrame, argName, argExt}, {litPage, argTab, argName, argExt}, {litPopup, argName, argExt}, {litNat, {name: "HOST"}, argExt}},
			summary: "runtime.connect from the background, a content script or an extension page (or connectNative)",
			help:    "Opens a port with runtime.connect({name: NAME}) as code in that realm would: from the background (bg), the content script of frame FRAME of tab TAB (cs), the extension page shown in tab TAB (page, see open EXT PATH), or the open action popup (popup, after action). With native, the background calls runtime.connectNative(HOST) (the extension needs the nativeMessaging permission, and the host must be registered: -native). The port gets a number ($port); what arrives on it is printed as it comes.",
			example: "connect cs $tab 0 port-from-cs\nconnect page $tab from-options\nconnect native ping_pong",
			run:     cmdConnect,
		},
		{
			name: "tconnect", forms: [][]arg{{argTab, argName, optional(argFrame), argExt}},
			summary: "tabs.connect from the background to a tab's content scripts",
			help:    "Opens a port with tabs.connect(TAB, {name: NAME}) from the background: to every frame of the tab, or to frame FRAME only.",
			example: "tconnect $tab tabs-connect-example\ntconnect $tab to-top 0",
			run:     cmdTconnect,
		},
		{
			name: "listen", forms: [][]arg{{litBg, argExt}, {litCs, argTab, argFrame, argExt}, {litPage, argTab, argExt}, {litPopup, argExt}, {litNat, {name: "HOST"}}},
			summary: "accept the ports that connect to a realm, or to a native host the shell serves",
			help:    "Adds runtime.onConnect and onConnectExternal listeners in that realm, as the extension's code would; each port that connects is printed with a new number. With native HOST, the shell is the native messaging host HOST (given as -native HOST, without a program): each runtime.connectNative(HOST) and sendNativeMessage of the extensions is a port (post answers it, disconnect ends the host); connections that came before wait for it.",
			example: "listen bg\nlisten cs $tab 0\nlisten native ping_pong",
			run:     cmdListen,
		},
		{
			name: "post", forms: [][]arg{{argPort, argJSON}},
			summary: "post a JSON message on a port",
			help:    "port.postMessage(JSON). The message is the rest of the line and must be JSON: a string needs its quotes.",
			example: `post $port {"greeting": "hello from Go"}` + "\npost 1 \"just a string\"",
			run:     cmdPost,
		},
		{
			name: "recv", forms: [][]arg{{argPort, {name: "TEXT", opt: true, rest: true}}},
			summary: "wait for the next message on a port (containing TEXT)",
			help:    "Waits until a message arrives on PORT that no recv took yet (messages that came before count), and prints it, as eval prints a value. With TEXT, it skips messages whose JSON does not contain TEXT. Fails if the port disconnects first or after -timeout; Ctrl-C stops it. Scripts use it to wait for an answer.",
			example: "recv $port\nrecv 1 hi there",
			run:     cmdRecv,
		},
		{
			name: "disconnect", forms: [][]arg{{argPort}},
			summary: "disconnect a port",
			help:    "port.disconnect(): the other end's onDisconnect fires.",
			example: "disconnect 1",
			run:     cmdDisconnect,
		},
		{
			name: "ports", summary: "list the open ports",
			example: "ports",
			run:     cmdPorts,
		},
		{
			name: "send", forms: [][]arg{{litBg, argJSON}, {litCs, argTab, argFrame, argJSON}, {litPage, argTab, argJSON}, {litPopup, argJSON}},
			summary: "runtime.sendMessage from a realm; prints the response",
			help:    "Sends the rest of the line, which must be JSON, with runtime.sendMessage as code in that realm would (of the current extension, see use), and waits for the response; a message nobody answers prints the browser's own error. The extension's background and pages receive it, not content scripts.",
			example: "send cs $tab 0 {\"greeting\": \"hello\"}\nsend bg \"ping\"",
			run:     cmdSend,
		},
		{
			name: "tsend", forms: [][]arg{{argTab, argJSON}, {argTab, lit("frame"), argFrame, argJSON}},
			summary: "tabs.sendMessage from the background to a tab's content scripts",
			help:    "Sends the rest of the line (JSON) with tabs.sendMessage from the background: to every frame of the tab (the first answer wins), or with frame FRAME to that frame only. Prints the response.",
			example: "tsend $tab {\"q\": 1}\ntsend $tab frame 0 \"top only\"",
			run:     cmdTsend,
		},
		{
			name: "onmessage", forms: [][]arg{{litBg, argExt}, {litCs, argTab, argFrame, argExt}, {litPage, argTab, argExt}, {litPopup, argExt}},
			summary: "receive the one-off messages sent to a realm; respond answers them",
			help:    "Adds runtime.onMessage and onMessageExternal listeners in that realm, as the extension's code would. Each message that arrives is printed with a number ($msg) and its sender; respond MSG JSON answers it. A message nobody answers leaves its sender waiting, as with any listener that keeps the channel open.",
			example: "onmessage bg\nonmessage cs $tab 0",
			run:     cmdOnMessage,
		},
		{
			name: "respond", forms: [][]arg{{{name: "MSG", comp: compMsg}, argJSON}},
			summary: "answer a message onmessage printed (sendResponse)",
			help:    "Calls the message's sendResponse with the rest of the line (JSON). MSG is a message's number, or next: the next message that arrives unanswered (it waits, as recv does; scripts use it). A message takes one answer: a second one, or one after another listener answered, is an error.",
			example: "respond $msg {\"farewell\": \"goodbye\"}\nrespond next \"ok\"",
			run:     cmdRespond,
		},
		{
			name: "eval", forms: [][]arg{{litBg, argJS}, {litCs, argTab, argFrame, argJS}, {litPage, argTab, argJS}, {litPopup, argJS}, {litTab, argTab, argJS}},
			summary: "evaluate JavaScript in a realm, or in a web page itself",
			help:    "Evaluates the rest of the line as an expression in that realm of the current extension (see use) — bg, cs TAB FRAME, page TAB, popup — or, with tab TAB, in the page's own main world (Tab.Eval), where the page's scripts run. It awaits a promise and prints the value as JSON.",
			example: "eval bg chrome.runtime.getManifest().name\neval cs $tab 0 document.title\neval tab $tab window.location.href",
			run:     cmdEval,
		},
		{
			name: "click", forms: [][]arg{{argTab, {name: "SELECTOR", rest: true}}, {argTab, argExt}},
			summary: "a real mouse click on the first element matching SELECTOR (or the toolbar button)",
			help:    "With a CSS selector, clicks the first matching element of the page as a person would (a trusted event, Tab.Click). With no selector, or an extension index, it clicks the toolbar button, as action does.",
			example: "click $tab #go\nclick $tab form > button[type=submit]",
			run:     cmdClick,
		},
		{
			name: "type", forms: [][]arg{{argTab, argSel, {name: "TEXT", rest: true}}},
			summary: "focus the element matching SELECTOR and type TEXT with real key presses",
			help:    "Focuses the first element matching the selector (one word: no spaces) and types the rest of the line with trusted key events (Tab.Type).",
			example: "type $tab #name hello world",
			run:     cmdType,
		},
		{
			name: "action", forms: [][]arg{{argTab, argExt}},
			summary: "click the extension's toolbar button with a tab active",
			help:    "Clicks the action (browserAction) as a person would, so the extension's action.onClicked listeners run with that tab, or its popup opens (then popup is a realm: eval popup JS, connect popup NAME).",
			example: "action $tab",
			run:     cmdAction,
		},
		{
			name: "stop", forms: [][]arg{{argExt}},
			summary: "stop the background, as the browser does when it is idle",
			help:    "Stops the service worker (Chromium) or suspends the event page (Firefox). The next command that needs the background wakes it.",
			example: "stop",
			run:     cmdStop,
		},
		{
			name: "watch", forms: [][]arg{{argExt}},
			summary: "show every port event of the extension's own code",
			help:    "Prints the ports the extension's own code opens, every message and disconnect, and its console output, from launch on, until unwatch. Each port gets a number, so post and disconnect work on it.",
			example: "watch",
			run:     cmdWatch,
		},
		{
			name: "unwatch", forms: [][]arg{{argExt}},
			summary: "stop showing the extension's events",
			example: "unwatch",
			run:     cmdUnwatch,
		},
		{
			name: "screenshot", forms: [][]arg{{argTab, argFile}},
			summary: "save a PNG of a tab's visible part",
			example: "screenshot $tab page.png",
			run:     cmdScreenshot,
		},
		{
			name: "status", summary: "the browser, extensions, tabs, open ports, listeners and watches",
			example: "status",
			run:     cmdStatus,
		},
		{
			name: "help", forms: [][]arg{{{name: "CMD", opt: true, comp: compCommand}}},
			summary: "list the commands, or explain one",
			example: "help connect",
			run:     cmdHelp,
		},
		{
			name: "version", summary: "the version of extbridge",
			example: "version",
			run:     cmdVersion,
		},
		{
			name: "quit", aliases: []string{"exit"}, summary: "close the browser and leave (Ctrl-D too)",
			example: "quit",
			run:     func(context.Context, *shell, *call) (result, error) { return result{}, errQuit },
		},
	}
	for _, c := range commands {
		if c.forms == nil {
			c.forms = [][]arg{{}}
		}
	}
}

// helpText is `help`: every command's usage and summary.
func helpText() string {
	var b strings.Builder
	b.WriteString("commands:\n")
	width := 0
	for _, c := range commands {
		for _, u := range c.usages() {
			width = max(width, len(u))
		}
	}
	width = min(width, 40)
	for _, c := range commands {
		us := c.usages()
		for i, u := range us {
			if i < len(us)-1 {
				fmt.Fprintf(&b, "  %s\n", u)
				continue
			}
			if len(u) > width {
				fmt.Fprintf(&b, "  %s\n  %-*s  %s\n", u, width, "", c.summary)
			} else {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, u, c.summary)
			}
		}
	}
	b.WriteString("TAB is a tab id, FRAME a frame id (0: the top frame), PORT a port number, EXT an\n" +
		"extension index (default 0, or what use chose); $tab, $port and $msg stand for the\n" +
		"last tab opened, port Go got and message onmessage got. Messages that arrive are\n" +
		"printed as they come.\n" +
		"help CMD explains one command. Tab completes commands and their arguments; Up and\n" +
		"Ctrl-R search the history; Ctrl-C stops a command; Ctrl-D quits.")
	return b.String()
}

// commandHelp is `help CMD`.
func commandHelp(c *command) string {
	var b strings.Builder
	for _, u := range c.usages() {
		fmt.Fprintf(&b, "usage: %s\n", u)
	}
	if len(c.aliases) > 0 {
		fmt.Fprintf(&b, "also: %s\n", strings.Join(c.aliases, ", "))
	}
	b.WriteString("\n" + c.summary + ".\n")
	if c.help != "" {
		b.WriteString(wrap(c.help, 76) + "\n")
	}
	if c.example != "" {
		b.WriteString("\nexample:\n")
		for _, l := range strings.Split(c.example, "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// wrap breaks text into lines of at most width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(text) {
		if col > 0 && col+1+len(w) > width {
			b.WriteString("\n")
			col = 0
		} else if col > 0 {
			b.WriteString(" ")
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

func cmdHelp(_ context.Context, s *shell, c *call) (result, error) {
	if !c.has(0) {
		return result{text: helpText()}, nil
	}
	cmd := lookup(c.args[0])
	if cmd == nil {
		return result{}, unknownCommand(c.args[0])
	}
	return result{text: commandHelp(cmd)}, nil
}

func cmdVersion(context.Context, *shell, *call) (result, error) {
	v := versionInfo()
	return result{rec: record{Result: v}, text: v.String()}, nil
}
