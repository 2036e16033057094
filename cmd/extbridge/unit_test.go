package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
)

// These tests need no browser: a shell without one runs the commands that
// only read its own state.

func newTestShell(t *testing.T, json bool) (*shell, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s := newShell(context.Background(), nil, &printer{w: &out, json: json}, time.Second)
	t.Cleanup(s.close)
	return s, &out
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"disc", []string{"disconnect"}},      // the start of one command
		{"disconect", []string{"disconnect"}}, // one letter left out
		{"conect", []string{"connect"}},
		{"tconect", []string{"tconnect"}},
		{"quti", []string{"quit"}}, // two letters swapped
		{"exti", []string{"exit", "exts"}},
		{"lsiten", []string{"listen"}},
		{"zzzzzz", nil},
	} {
		if got := suggest(tc.typed); !slices.Equal(got, tc.want) {
			t.Errorf("suggest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
	err := unknownCommand("disconect")
	if want := `unknown command "disconect"; did you mean "disconnect"?`; !strings.Contains(err.Error(), want) {
		t.Errorf("unknownCommand: %q lacks %q", err, want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"post", "post", 0}, {"psot", "post", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// Every command has what help shows; help lists them all; help CMD shows
// the usage and the example.
func TestHelpFromTable(t *testing.T) {
	all := helpText()
	names := map[string]bool{}
	for _, c := range commands {
		if names[c.name] {
			t.Errorf("command %q is in the table twice", c.name)
		}
		names[c.name] = true
		if c.summary == "" || c.example == "" || c.run == nil {
			t.Errorf("command %q lacks a summary, an example or a run func", c.name)
		}
		for _, u := range c.usages() {
			if !strings.Contains(all, u) {
				t.Errorf("help lacks the usage %q", u)
			}
		}
		one := commandHelp(c)
		if !strings.Contains(one, "usage: "+c.usages()[0]) || !strings.Contains(one, "example:\n  "+strings.Split(c.example, "\n")[0]) {
			t.Errorf("help %s lacks its usage or example:\n%s", c.name, one)
		}
		for _, f := range c.forms {
			for i, a := range f {
				if (a.opt || a.rest) && i < len(f)-1 && !f[i+1].opt {
					t.Errorf("command %q: the optional %s comes before a required argument", c.name, a.name)
				}
			}
		}
	}
	for _, old := range []string{"connect", "tconnect", "listen", "post", "disconnect", "ports", "eval", "click", "stop", "exts", "open", "tabs", "frames", "recv", "status", "watch", "help", "quit", "type", "action", "navigate"} {
		if !names[old] {
			t.Errorf("the table lacks %q", old)
		}
	}
}

func TestParse(t *testing.T) {
	s, _ := newTestShell(t, false)
	s.lastTab, s.lastPort = 42, 7
	for _, tc := range []struct {
		line    string
		args    []string
		rest    int
		restIs  string
		wantErr string
	}{
		{line: "connect bg p", args: []string{"bg", "p"}},
		{line: "connect cs $tab 0 p 1", args: []string{"cs", "42", "0", "p", "1"}},
		{line: "connect content 1 0 p", args: []string{"content", "1", "0", "p"}},
		{line: `post $port {"a": "$tab b"}`, args: []string{"7", `{"a":`, `"$tab`, `b"}`}, rest: 1, restIs: `{"a": "$tab b"}`},
		{line: "eval cs 1 0 document.title  +  1", rest: 3, restIs: "document.title  +  1"},
		{line: "recv 3 hi there", rest: 1, restIs: "hi there"},
		{line: "recv 3", rest: 1, restIs: ""},
		{line: "connect cs 1", wantErr: "usage: connect bg NAME [EXT] | connect cs TAB FRAME NAME [EXT] | connect page TAB NAME [EXT] | connect popup NAME [EXT]"},
		{line: "open 0 options.html", args: []string{"0", "options.html"}},
		{line: "click 1 div > a.b", rest: 1, restIs: "div > a.b"},
		{line: "type 1 #name hello  world", rest: 2, restIs: "hello  world"},
		{line: "eval tab 1 document.title", rest: 2, restIs: "document.title"},
		{line: "connect xs 1 0 p", wantErr: "usage: connect"},
		{line: "ports 1", wantErr: "usage: ports"},
		{line: "post $nope 1", wantErr: "unknown variable $nope"},
		{line: "tabz", wantErr: `did you mean "tabs"?`},
	} {
		c, err := s.parse(tc.line)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parse(%q): error %v, want one with %q", tc.line, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parse(%q): %v", tc.line, err)
			continue
		}
		if tc.args != nil && !slices.Equal(c.args, tc.args) {
			t.Errorf("parse(%q): args %q, want %q", tc.line, c.args, tc.args)
		}
		if tc.rest > 0 && c.rest(tc.rest) != tc.restIs {
			t.Errorf("parse(%q): rest(%d) = %q, want %q", tc.line, tc.rest, c.rest(tc.rest), tc.restIs)
		}
	}
	s.lastTab = 0
	if _, err := s.parse("frames $tab"); err == nil || !strings.Contains(err.Error(), "$tab: no tab opened yet") {
		t.Errorf("$tab with no tab: %v", err)
	}
}

func TestComplete(t *testing.T) {
	s, _ := newTestShell(t, false)
	s.tabs[12] = &tabEntry{url: "http://a/"}
	s.tabs[345] = &tabEntry{url: "http://b/"}
	c := completer{s}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"disc", []string{"onnect "}},
		{"", commandNamesSpaced()},
		{"t", []string{"abs ", "connect ", "send ", "ype "}},
		{"connect ", []string{"bg ", "cs ", "page ", "popup ", "native "}},
		{"eval ", []string{"bg ", "cs ", "page ", "popup ", "tab "}},
		{"connect page ", []string{"12 ", "345 "}},
		{"connect c", []string{"s "}},
		{"connect cs ", []string{"12 ", "345 "}},
		{"connect cs 3", []string{"45 "}},
		{"connect cs 12 ", []string{"0 "}}, // no browser to ask: the top frame
		{"connect cs 12 0 ", nil},          // a NAME is the person's to give
		{"listen ", []string{"bg ", "cs ", "page ", "popup ", "native "}},
		{"eval bg ", nil},
		{"click ", []string{"12 ", "345 "}},
		{"help con", []string{"nect "}},
		{"post ", nil}, // no ports
		{"nosuch ", nil},
	} {
		got, n := c.Do([]rune(tc.line), len([]rune(tc.line)))
		var words []string
		for _, g := range got {
			words = append(words, string(g))
		}
		if !slices.Equal(words, tc.want) {
			t.Errorf("complete %q = %q, want %q", tc.line, words, tc.want)
		}
		word := tc.line[strings.LastIndex(tc.line, " ")+1:]
		if n != len(word) {
			t.Errorf("complete %q: length %d, want %d", tc.line, n, len(word))
		}
	}
}

func commandNamesSpaced() []string {
	var out []string
	for _, n := range commandNames() {
		out = append(out, n+" ")
	}
	return out
}

// A script stops at the first error and names its line; -keep-going goes
// on and still fails at the end.
func TestScript(t *testing.T) {
	script := "# a comment\n\ntabs\nhelp tabs\nnonsense\nversion\n"
	s, out := newTestShell(t, false)
	var stderr bytes.Buffer
	err := s.script(context.Background(), strings.NewReader(script), "probe.txt", false, &stderr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), `probe.txt:5: unknown command "nonsense"`) {
		t.Fatalf("script: %v, want exit status 1 naming probe.txt:5", err)
	}
	if !strings.Contains(out.String(), "no tabs") || !strings.Contains(out.String(), "usage: tabs") || strings.Contains(out.String(), "extbridge (devel)") {
		t.Errorf("the script's output is not lines 3 and 4 only:\n%s", out)
	}

	s, out = newTestShell(t, false)
	stderr.Reset()
	err = s.script(context.Background(), strings.NewReader(script+"use 3\nquit\ntabs\n"), "probe.txt", true, &stderr)
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "2 commands failed (lines 5, 7)") {
		t.Errorf("script -keep-going: %v, want exit status 1 naming lines 5 and 7", err)
	}
	if !strings.Contains(stderr.String(), "probe.txt:5: unknown command") || !strings.Contains(stderr.String(), "probe.txt:7: use: no extension 3") {
		t.Errorf("stderr lacks the failed lines:\n%s", stderr.String())
	}
	if !strings.Contains(out.String(), "extbridge (devel)") || strings.Count(out.String(), "no tabs") != 1 {
		t.Errorf("-keep-going did not run line 6, or ran past quit:\n%s", out)
	}
}

// -json: one object per line, with the documented names.
func TestJSONOutput(t *testing.T) {
	s, out := newTestShell(t, true)
	s.tabs[5] = &tabEntry{url: "http://x/"}
	s.script(context.Background(), strings.NewReader("tabs\npost 9 1\n"), "stdin", true, io.Discard)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got:\n%s", out)
	}
	var res, fail map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &res); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &fail); err != nil {
		t.Fatal(err)
	}
	if res["kind"] != "result" || res["cmd"] != "tabs" || res["line"] != 1.0 || res["time"] == nil {
		t.Errorf("result record: %s", lines[0])
	}
	if tabs := res["result"].(map[string]any)["tabs"].([]any); len(tabs) != 1 || tabs[0].(map[string]any)["tab"] != 5.0 {
		t.Errorf("result record's tabs: %s", lines[0])
	}
	if fail["kind"] != "error" || fail["cmd"] != "post" || fail["line"] != 2.0 || !strings.Contains(fail["error"].(string), "no port 9") {
		t.Errorf("error record: %s", lines[1])
	}

	when := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sender := &bridge.MessageSender{ID: "abc", URL: "http://p/", FrameID: 0, Tab: &bridge.TabInfo{ID: 3}}
	for _, tc := range []struct {
		ev   bridge.Event
		want string
	}{
		{bridge.Event{Time: when, Kind: bridge.EventOpen, Realm: bridge.Realm{Kind: "background", URL: "chrome-extension://abc/sw.js", TabID: -1, FrameID: -1}, How: "onConnect", Name: "n", Sender: sender},
			`{"time":"2026-12-01T09:00:00Z","kind":"open","ext":1,"realm":"background","url":"chrome-extension://abc/sw.js","port":4,"name":"n","how":"onConnect","sender":{"id":"abc","url":"http://p/","frameId":0,"tab":{"id":3,"index":0,"windowId":0,"active":false}},"byGo":false}`},
		{bridge.Event{Time: when, Kind: bridge.EventMessage, Realm: bridge.Realm{Kind: "content", URL: "http://p/", Top: true, TabID: 3, FrameID: 0}, Data: json.RawMessage(`{"a":1}`)},
			`{"time":"2026-12-01T09:00:00Z","kind":"message","ext":1,"realm":"content","url":"http://p/","top":true,"tab":3,"frame":0,"port":4,"data":{"a":1},"outgoing":false}`},
		{bridge.Event{Time: when, Kind: bridge.EventDisconnect, Realm: bridge.Realm{Kind: "page", URL: "chrome-extension://abc/popup.html", TabID: -1, FrameID: -1}, Err: &bridge.DisconnectError{Message: "gone"}, Local: true},
			`{"time":"2026-12-01T09:00:00Z","kind":"disconnect","ext":1,"realm":"page","url":"chrome-extension://abc/popup.html","port":4,"error":"gone","local":true}`},
		{bridge.Event{Time: when, Kind: bridge.EventLog, Realm: bridge.Realm{Kind: "background", TabID: -1, FrameID: -1}, Level: "warn", Text: "careful"},
			`{"time":"2026-12-01T09:00:00Z","kind":"log","ext":1,"realm":"background","port":4,"level":"warn","text":"careful"}`},
		{bridge.Event{Time: when, Kind: bridge.EventSend, Realm: bridge.Realm{Kind: "background", TabID: -1, FrameID: -1}, How: bridge.HowTabsSendMessage, MessageID: 7, TabID: 3, Data: json.RawMessage(`"hi"`)},
			`{"time":"2026-12-01T09:00:00Z","kind":"send","ext":1,"realm":"background","port":4,"msg":7,"how":"tabs.sendMessage","toTab":3,"data":"hi"}`},
		{bridge.Event{Time: when, Kind: bridge.EventResponse, Realm: bridge.Realm{Kind: "background", TabID: -1, FrameID: -1}, MessageID: 7, Err: &bridge.SendError{Message: "Could not establish connection. Receiving end does not exist."}},
			`{"time":"2026-12-01T09:00:00Z","kind":"response","ext":1,"realm":"background","port":4,"msg":7,"error":"Could not establish connection. Receiving end does not exist."}`},
		{bridge.Event{Time: when, Kind: bridge.EventOverflow, Dropped: 12},
			`{"time":"2026-12-01T09:00:00Z","kind":"overflow","ext":1,"port":4,"dropped":12}`},
	} {
		var b bytes.Buffer
		(&printer{w: &b, json: true}).emit(eventRecord(tc.ev, 1, 4), "")
		if got := strings.TrimSpace(b.String()); got != tc.want {
			t.Errorf("%s event:\n got %s\nwant %s", tc.ev.Kind, got, tc.want)
		}
	}
}

// The launch steps become progress lines, only when verbose; warnings
// always; the browser's path is kept for status.
func TestProgress(t *testing.T) {
	var b bytes.Buffer
	h := newProgress(&b, false)
	log := slog.New(h)
	log.Info("found browser", "browser", "chromium", "path", "/usr/bin/chromium")
	log.Warn("extbridge: rejected a wire connection without the token", "remote", "127.0.0.1:1")
	if got := b.String(); strings.Contains(got, "found browser") || !strings.Contains(got, "warn: rejected a wire connection without the token remote=127.0.0.1:1") {
		t.Errorf("not verbose:\n%s", got)
	}
	if h.binaryPath() != "/usr/bin/chromium" {
		t.Errorf("binaryPath = %q", h.binaryPath())
	}
	b.Reset()
	h = newProgress(&b, true)
	log = slog.New(h)
	log.Info("found browser", "browser", "chromium", "path", "/usr/bin/chromium")
	log.Info("instrumented extension", "name", "echo", "dir", "/tmp/x/ext-0")
	log.Info("browser started", "browser", "chromium")
	log.Info("background connected", "name", "echo")
	h.done("ready")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{"found browser /usr/bin/chromium", `instrumented extension "echo" into /tmp/x/ext-0`, "browser started", `background connected "echo"`, "ready"}
	if len(lines) != len(want) {
		t.Fatalf("verbose:\n%s", b.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], "extbridge: ") || !strings.HasSuffix(lines[i], "  "+w) || !strings.Contains(lines[i], "ms") {
			t.Errorf("line %d = %q, want the time and %q", i, lines[i], w)
		}
	}
}

func TestHistoryPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	if got := historyPath(); got != filepath.FromSlash("/state/extbridge/history") {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative") // the spec says to ignore it
	t.Setenv("HOME", "/home/u")
	if got := historyPath(); got != "/home/u/.local/state/extbridge/history" {
		t.Errorf("without XDG_STATE_HOME: %q", got)
	}
}

func TestVersion(t *testing.T) {
	for v, want := range map[version]string{
		{Version: "v1.2.0", Revision: "0123456789abcdef", Go: "go1.26.8"}:                                                "extbridge v1.2.0 (go1.26.8)",
		{Version: "(devel)", Revision: "0123456789abcdef", Time: "2026-12-01T09:00:00Z", Modified: true, Go: "go1.26.8"}: "extbridge (devel) 0123456789ab+modified 2026-12-01T09:00:00Z (go1.26.8)",
		{Version: "(devel)", Go: "go1.26.8"}:                                                                             "extbridge (devel) (go1.26.8)",
	} {
		if got := v.String(); got != want {
			t.Errorf("%+v: %q, want %q", v, got, want)
		}
	}
	v := versionInfo()
	if v.Version == "" || !strings.HasPrefix(v.String(), "extbridge "+v.Version) || !strings.Contains(v.String(), "go1.") {
		t.Errorf("version: %+v %q", v, v.String())
	}
	var out bytes.Buffer
	if err := run([]string{"version"}, stdio{nil, &out, &out}); err != nil || !strings.HasPrefix(out.String(), "extbridge ") {
		t.Errorf("extbridge version: %v %q", err, out.String())
	}
}

// While a command runs, Ctrl-C calls the interrupt and is taken out of
// the input; the other keys wait for the editor, in order.
func TestTTYInput(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := newTTYInput(r)
	read := func(want string) {
		t.Helper()
		var got []byte
		buf := make([]byte, 16)
		for len(got) < len(want) {
			n, err := in.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		}
		if string(got) != want {
			t.Errorf("read %q, want %q", got, want)
		}
	}
	w.Write([]byte("ab\x03"))
	read("ab\x03") // at the prompt, Ctrl-C is the editor's

	interrupted := make(chan struct{})
	done := in.whileRunning(func() { close(interrupted) })
	w.Write([]byte("cd\x03ef"))
	<-interrupted
	done()
	read("cdef")
	w.Close()
	if _, err := in.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the end: %v, want EOF", err)
	}
}

func TestWithScheme(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":           "https://example.com",
		"http://example.com/":   "http://example.com/",
		"localhost:8080/a.html": "http://localhost:8080/a.html",
		"127.0.0.1:1/":          "http://127.0.0.1:1/",
		"about:blank":           "about:blank",
	} {
		if got := withScheme(in); got != want {
			t.Errorf("withScheme(%q) = %q, want %q", in, got, want)
		}
	}
}

// The human form of the one-off message events says what was sent, how,
// to whom, and how it ended.
func TestEventTextMessages(t *testing.T) {
	when := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	bg := bridge.Realm{Kind: "background", TabID: -1, FrameID: -1}
	for _, tc := range []struct {
		ev   bridge.Event
		want string
	}{
		{bridge.Event{Time: when, Kind: bridge.EventSend, Realm: bg, How: bridge.HowTabsSendMessage, MessageID: 7, TabID: 3, Data: json.RawMessage(`"hi"`)},
			`09:00:00.000 background message #7 via tabs.sendMessage to tab 3: "hi"`},
		{bridge.Event{Time: when, Kind: bridge.EventSend, Realm: bg, How: "onMessage", MessageID: 2, Sender: &bridge.MessageSender{URL: "http://p/", Tab: &bridge.TabInfo{ID: 3}}, Data: json.RawMessage(`{"a":1}`)},
			`09:00:00.000 background message #2 via onMessage from http://p/ (tab 3 frame 0): {"a":1}`},
		{bridge.Event{Time: when, Kind: bridge.EventResponse, Realm: bg, MessageID: 7, Data: json.RawMessage(`"ok"`)},
			`09:00:00.000 background message #7 answered: "ok"`},
		{bridge.Event{Time: when, Kind: bridge.EventResponse, Realm: bg, MessageID: 7},
			`09:00:00.000 background message #7 answered with no response`},
		{bridge.Event{Time: when, Kind: bridge.EventResponse, Realm: bg, MessageID: 7, Err: &bridge.SendError{Message: "The message port closed before a response was received."}},
			`09:00:00.000 background message #7 failed: The message port closed before a response was received.`},
	} {
		if got := eventText(tc.ev, "", 0); got != tc.want {
			t.Errorf("%s event:\n got %s\nwant %s", tc.ev.Kind, got, tc.want)
		}
	}
}
