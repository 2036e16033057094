package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
)

// pages serves the fixture pages, and /release, which answers once the
// test calls free: a page (or a content script) that fetches it does
// something at the moment the test chooses. /clicker.html clicks its body
// then.
type pages struct {
	url     string
	once    sync.Once
	release chan struct{}
}

func servePagesWithRelease(t *testing.T) *pages {
	t.Helper()
	p := &pages{release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/", extfixtures.PagesHandler())
	mux.HandleFunc("/clicker.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><body>clicks once released<script>fetch("/release").then(() => document.body.click())</script>`))
	})
	mux.HandleFunc("/release", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-p.release:
		case <-r.Context().Done():
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write([]byte("released"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { p.free(); srv.Close() })
	p.url = "http://" + ln.Addr().String() + "/"
	return p
}

func (p *pages) free() { p.once.Do(func() { close(p.release) }) }

// The shell on a terminal, as a person uses it: prompt, history from the
// last run and of this one, Tab completion, Ctrl-C, output that arrives
// while a line is typed, Ctrl-D.
func TestInteractive(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "echo")
		srv := servePagesWithRelease(t)
		history := filepath.Join(t.TempDir(), "history")
		if err := os.WriteFile(history, []byte("tabs\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := startCLI(t, true, nil, "run", "-browser", string(kind), "-ext", dir, "-url", srv.url+"index.html", "-history", history)
		c.expect("found browser") // launch progress, on a terminal
		c.expect("ready: ")
		c.expect("tab ") // -url opened a tab
		c.expect(prompt) // the prompt
		c.send("\x1b[A") // Up: the last command of the last run
		c.expect(prompt + "tabs")
		c.send("\r")
		c.expect("tab ") // it ran
		c.expect("index.html")
		c.expect(prompt)
		c.send("connect cs $tab 0 p1\r")
		c.expect(`port 1 "p1" (runtime.connect)`)
		c.expect(prompt)
		c.send("ports\r")
		c.expect(`port 1: port "p1"`)
		c.expect(prompt)
		c.send("\x1b[A") // Up: this run's last command
		c.expect(prompt + "ports")
		c.send("\r")
		c.expect(`port 1: port "p1"`)
		c.expect(prompt)

		// Ctrl-C stops a command that would wait, and the shell goes on.
		c.send("recv 1\r")
		c.expect("waiting for a message on port 1")
		c.send("\x03")
		c.expect("recv: interrupted")
		c.expect(prompt)
		c.send("post 1 \"still here\"\r")
		c.expect(`port 1 <- "still here"`)
		c.expect(prompt)
		// Ctrl-C at the prompt drops the line.
		c.send("post 1 \"dropped\"\x03")
		c.expect("^C")
		c.expect(prompt)

		// A port that connects while a line is half typed prints above the
		// prompt, and the line is drawn again below it, intact.
		c.send("listen bg\r")
		c.expect("listening in the background")
		c.expect(prompt)
		c.send("eval cs $tab 0 void fetch(location.origin + '/release').then(() => chrome.runtime.connect({name: 'late'}))\r")
		c.expect("null")
		c.expect(prompt)
		c.send(`post 1 "par`)
		c.expect(`post 1 "par`)
		srv.free()
		c.expect(`port 2 "late" (onConnect)`)
		c.expect(prompt + `post 1 "par`)
		c.send("tial\"\r")
		c.expect(`port 1 -> "partial"`)
		c.expect(`port 1 <- "partial"`)
		c.expect(prompt)

		// Tab completes a command's name, then its argument.
		c.send("disc\t")
		c.expect(prompt + "disconnect ")
		c.send("\t") // two ports: both offered
		c.expect("1  2")
		c.send("1\r")
		c.expect("port 1 disconnected (by this end)")
		c.expect(prompt)

		c.send("\x04") // Ctrl-D: quit
		if status := c.wait(); status != 0 {
			t.Fatalf("Ctrl-D: exit status %d, want 0; output:\n%s", status, c.clean())
		}
		saved, err := os.ReadFile(history)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(saved), "connect cs $tab 0 p1\n") || strings.Contains(string(saved), "dropped") {
			t.Errorf("the history file holds:\n%s", saved)
		}
	})
}

// Commands piped on stdin run as a script: one after another, each waiting
// for what it started; -keep-going goes on past an error, and the exit
// status still says it failed.
func TestScriptOnStdin(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "echo")
		srv := servePagesWithRelease(t)
		c := startCLI(t, false, nil, "run", "-browser", string(kind), "-ext", dir, "-url", srv.url+"index.html", "-keep-going")
		c.send(strings.Join([]string{
			"connect cs $tab 0 s1",
			`post $port {"n": 1}`,
			"recv $port",
			"nonsense",
			`eval bg globalThis.received.length`,
			"ports",
		}, "\n") + "\n")
		c.stdin.Close()
		if status := c.wait(); status != 1 {
			t.Errorf("exit status %d, want 1 (a line failed)", status)
		}
		out := c.clean()
		for _, want := range []string{"tab ", `port 1 "s1" (runtime.connect)`, `port 1 -> {"n":1}`, `port 1 <- {"n":1}`, "\n1\n", `port 1: port "s1"`} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, prompt) || strings.Contains(out, "found browser") {
			t.Errorf("a script shows no prompt and no progress:\n%s", out)
		}
		if want := `stdin:4: unknown command "nonsense"`; !strings.Contains(c.stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, c.stderr())
		}
	})
}

// -script FILE stops at the first error, naming the file and line; -json
// prints one JSON object per line.
func TestScriptFileJSON(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "echo")
		srv := servePagesWithRelease(t)
		script := filepath.Join(t.TempDir(), "probe.txt")
		os.WriteFile(script, []byte(strings.Join([]string{
			"# probe the echo extension",
			"connect cs $tab 0 j1",
			`post $port "ping"`,
			"recv $port ping",
			"post 9 1",
			"ports",
		}, "\n")+"\n"), 0o600)
		c := startCLI(t, false, nil, "run", "-browser", string(kind), "-ext", dir, "-url", srv.url+"index.html", "-script", script, "-json")
		if status := c.wait(); status != 1 {
			t.Errorf("exit status %d, want 1", status)
		}
		if want := script + ":5: post: no port 9"; !strings.Contains(c.stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, c.stderr())
		}
		var recs []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(c.clean()), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("a line of -json output is not JSON: %q: %v", line, err)
			}
			if r["time"] == nil || r["kind"] == nil {
				t.Errorf("a record without time or kind: %s", line)
			}
			recs = append(recs, r)
		}
		find := func(kind, cmd string) map[string]any {
			for _, r := range recs {
				if r["kind"] == kind && (cmd == "" || r["cmd"] == cmd) {
					return r
				}
			}
			t.Errorf("no %s record for %q in %v", kind, cmd, recs)
			return map[string]any{}
		}
		if r := find("result", "open"); r["tab"] == nil || r["url"] != srv.url+"index.html" {
			t.Errorf("open: %v", r)
		}
		if r := find("open", ""); r["port"] != 1.0 || r["name"] != "j1" || r["how"] != "runtime.connect" || r["realm"] != "content" || r["byGo"] != true {
			t.Errorf("open event: %v", r)
		}
		if r := find("result", "recv"); r["data"] != "ping" || r["line"] != 4.0 {
			t.Errorf("recv: %v", r)
		}
		if r := find("error", "post"); r["line"] != 5.0 || !strings.Contains(r["error"].(string), "no port 9") {
			t.Errorf("error: %v", r)
		}
		for _, r := range recs {
			if r["cmd"] == "ports" {
				t.Errorf("the script went on past line 5: %v", r)
			}
		}
	})
}

// watch -json on an extension it has never seen (an embedded fixture, whose
// page -fixture serves and opens) prints one JSON object per event, from
// the first port on; an interrupt ends it with status 0.
func TestWatchJSON(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		c := startCLI(t, false, nil, "watch", "-browser", string(kind), "-fixture", "pingpong", "-json")
		c.expectAnywhere(`"realm":"content","url":`) // in any order: the two ends of the page's port,
		c.expectAnywhere(`"how":"runtime.connect"`)  // their messages
		c.expectAnywhere(`"how":"onConnect"`)
		c.expectAnywhere(`"greeting":"hi there content script!"},"outgoing":false`)
		c.cmd.Process.Signal(syscall.SIGINT)
		if status := c.wait(); status != 0 {
			t.Errorf("exit status %d after an interrupt, want 0; stderr:\n%s", status, c.stderr())
		}
		opens := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(c.clean()), "\n") {
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("a line of watch -json is not JSON: %q: %v", line, err)
			}
			if r.Kind == "open" {
				if r.Port == 0 || r.Name != "port-from-cs" || r.How == "" || r.ByGo == nil {
					t.Errorf("open event without port, name, how or byGo: %s", line)
				}
				opens[r.Realm+" "+r.How] = true
			}
		}
		if !opens["content runtime.connect"] || !opens["background onConnect"] {
			t.Errorf("want the content script's runtime.connect and the background's onConnect ends, got %v", opens)
		}
	})
}

// watch stops by itself, closing the browser and removing its folders, when
// its output is closed (extbridge watch | head -1), rather than dying of
// SIGPIPE and leaving them.
func TestWatchClosedOutput(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "pingpong")
		srv := servePagesWithRelease(t)
		c := startCLI(t, false, nil, "watch", "-browser", string(kind), "-ext", dir, "-url", srv.url+"clicker.html", "-json")
		c.expectAnywhere(`"how":"runtime.connect"`)
		c.stdout.Close() // as head does once it has its line
		srv.free()       // the page clicks: the next events find the pipe closed
		if status := c.wait(); status != 0 {
			t.Errorf("exit status %d after stdout closed, want 0; stderr:\n%s", status, c.stderr())
		}
	})
}

// demo | head: the demo goes on to its end with its output closed, closes
// the browser and removes its folders, rather than dying of SIGPIPE.
func TestDemoClosedOutput(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		tmp := t.TempDir()
		c := startCLI(t, false, []string{"TMPDIR=" + tmp}, "demo", "-browser", string(kind))
		c.expectAnywhere("launched")
		c.stdout.Close() // as head does once it has its lines
		if status := c.wait(); status != 0 {
			t.Errorf("exit status %d after stdout closed, want 0; stderr:\n%s", status, c.stderr())
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("the demo left %d folders in TMPDIR: %v", len(left), left)
		}
	})
}

// The page's own input and the extension's pages: click and type with
// trusted events, eval in the page's main world, the action's popup and a
// page opened with open EXT PATH as realms.
func TestPageCommands(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "extpages")
		srv := servePagesWithRelease(t)
		c := startCLI(t, false, nil, "run", "-browser", string(kind), "-ext", dir, "-url", srv.url+"index.html")
		c.send(strings.Join([]string{
			"navigate $tab ./input.html",
			"click $tab #go",
			"type $tab #name hi there",
			`eval tab $tab [window.clicks, document.getElementById("name").value]`,
			"action $tab",
			"eval popup globalThis.ran",
			"open 0 options.html",
			"eval page $tab globalThis.ran",
			"connect page $tab p2",
			`post $port "y"`,
			"recv $port options.html",
		}, "\n") + "\n")
		c.stdin.Close()
		if status := c.wait(); status != 0 {
			t.Fatalf("exit status %d; stdout:\n%s\nstderr:\n%s", status, c.clean(), c.stderr())
		}
		for _, want := range []string{
			"/input.html\n",
			`[[{"id":"go","trusted":true}],"hi there"]`,
			"\n\"popup\"\n",
			"options.html of extpages",
			"\n\"options\"\n",
			`port 1 "p2" (runtime.connect)`,
			`{"echo":"y","from":`,
		} {
			c.expect(want)
		}
	})
}

// One-off messages from the shell: send and tsend print the response;
// onmessage prints what arrives with a number and respond answers it.
func TestMessageCommands(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "messages")
		srv := servePagesWithRelease(t)
		c := startCLI(t, false, nil, "run", "-browser", string(kind), "-ext", dir, "-url", srv.url+"index.html")
		c.send(strings.Join([]string{
			`watch`,
			`send cs $tab 0 {"kind": "sync"}`,
			`tsend $tab {"to": "cs"}`,
			`onmessage cs $tab 0`,
			`eval bg globalThis.asked = (globalThis.browser ?? chrome).tabs.query({}).then((ts) => askTab(ts.find((t) => t.url.endsWith("index.html")).id, {q: "for the shell"})), "asked"`,
			`respond next {"a": "from the shell"}`,
			`eval bg globalThis.asked`,
		}, "\n") + "\n")
		c.expect(`{"farewell":"goodbye","from":"` + srv.url + `index.html"}`)
		c.expect(`{"in":"` + srv.url + `index.html"}`)
		c.expect("receiving messages in the content script")
		c.expect(`message 1 (onMessage) from`)
		c.expect("answered message 1")
		c.expect(`{"response":{"a":"from the shell"}}`)
		// The watch shows the extension's own one-off messages in full.
		c.expectAnywhere(`via runtime.sendMessage: {"kind":"sync","greeting":"hello from the content script"}`)
		c.expectAnywhere(`via onMessage from ` + srv.url + `index.html`)
		c.stdin.Close()
		if status := c.wait(); status != 0 {
			t.Fatalf("exit status %d; stdout:\n%s\nstderr:\n%s", status, c.clean(), c.stderr())
		}
	})
}
