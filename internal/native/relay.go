package native

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/extbridge/extbridge/internal/hub"
)

// EnvRelay is the environment variable that makes a program that imports
// package driver run as a native-messaging relay: the path of its
// [Config] file.
const EnvRelay = "EXTBRIDGE_NATIVE_RELAY"

// Config is what a relay needs: where the hub is, the launch's token, and
// the host it relays for. Package driver writes it, mode 0600.
type Config struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	Host  string `json:"host"`
}

// WriteRelay writes the config file and the wrapper script of a Go-served
// host into dir and returns the script's path, for the host manifest. The
// script runs exe (this program) as the relay, with the arguments the
// browser gives it.
func WriteRelay(dir, exe string, cfg Config) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("failed to make %s: %w", dir, err)
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	conf := filepath.Join(dir, cfg.Host+".conf")
	if err := os.WriteFile(conf, data, 0o600); err != nil {
		return "", fmt.Errorf("failed to write the relay config of native host %q: %w", cfg.Host, err)
	}
	script := filepath.Join(dir, cfg.Host+".sh")
	text := fmt.Sprintf("#!/bin/sh\n# extbridge: the relay of native host %s to the Go program that launched the browser\n%s=%s exec %s \"$@\"\n",
		cfg.Host, EnvRelay, shellQuote(conf), shellQuote(exe))
	if err := os.WriteFile(script, []byte(text), 0o700); err != nil {
		return "", fmt.Errorf("failed to write the relay of native host %q: %w", cfg.Host, err)
	}
	return script, nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Main runs the relay if this process was started as one ([EnvRelay] is
// set) and exits with its status; otherwise it returns at once. Package
// driver calls it from its init function.
func Main() {
	path, ok := os.LookupEnv(EnvRelay)
	if !ok {
		return
	}
	os.Exit(run(path))
}

func run(path string) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "extbridge native relay: %v\n", err)
		return 1
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(fmt.Errorf("failed to read the config: %w", err))
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fail(fmt.Errorf("failed to read the config %s: %w", path, err))
	}
	// A write to a closed stdout must be an error the relay handles, not a
	// SIGPIPE that kills it before it tells Go.
	signal.Ignore(syscall.SIGPIPE)
	if err := Relay(context.Background(), cfg, os.Stdin, os.Stdout, os.Args[1:]); err != nil {
		return fail(err)
	}
	return 0
}

// maxIn is the largest message the relay takes from the browser: what fits
// in one frame of the wire. Chromium sends at most 64 MiB.
const maxIn = hub.MaxFrame - 64

// dialTimeout bounds the relay's connection to the hub and its hello.
const dialTimeout = 10 * time.Second

// Relay connects to the hub as the host cfg.Host, started with args, and
// copies messages between the browser (in, out) and Go until one of them
// ends. It returns nil when the browser closed in (its end of the port),
// when Go disconnected, or when Go closed the connection; an error when the
// hub refused it or the wire broke. It does not wait for a read of in that
// is still blocked when it returns.
func Relay(ctx context.Context, cfg Config, in io.Reader, out io.Writer, args []string) error {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, cfg.URL, nil)
	if err != nil {
		return fmt.Errorf("failed to reach the Go program at %s: %w", cfg.URL, err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(hub.MaxFrame)
	if args == nil {
		args = []string{}
	}
	hello, _ := json.Marshal(hub.Hello{T: "hello", Token: cfg.Token, Ext: -1, Realm: "native", Host: cfg.Host, Args: args})
	if err := ws.Write(dctx, websocket.MessageText, hello); err != nil {
		return fmt.Errorf("failed to say hello to the Go program: %w", err)
	}
	cancel()

	// The browser's messages go to Go from their own goroutine; what Go
	// sends is handled here.
	var (
		endOnce sync.Once
		ended   = make(chan struct{})
	)
	end := func() { endOnce.Do(func() { close(ended) }) }
	go func() {
		defer end()
		for {
			msg, err := ReadMessage(in, maxIn)
			if err != nil {
				e := ""
				if !errors.Is(err, io.EOF) {
					e = "failed to read from the browser: " + err.Error()
				}
				frame, _ := json.Marshal(map[string]any{"t": "disc", "p": 1, "e": e})
				_ = ws.Write(ctx, websocket.MessageText, frame)
				return
			}
			if err := ws.Write(ctx, websocket.MessageText, msgFrame(msg)); err != nil {
				return
			}
		}
	}()

	reads := make(chan []byte)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case reads <- data:
			case <-quit:
				return
			}
		}
	}()
	for {
		select {
		case <-ended: // the browser closed stdin: the port is over
			ws.Close(websocket.StatusNormalClosure, "")
			return nil
		case err := <-readErr:
			if websocket.CloseStatus(err) == websocket.StatusPolicyViolation {
				return errors.New("the Go program refused the connection")
			}
			if websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) {
				return nil // Go closed the connection
			}
			return fmt.Errorf("lost the Go program: %w", err)
		case data := <-reads:
			done, err := handle(data, out)
			if err != nil {
				frame, _ := json.Marshal(map[string]any{"t": "disc", "p": 1, "e": "failed to write to the browser: " + err.Error()})
				_ = ws.Write(ctx, websocket.MessageText, frame)
				ws.Close(websocket.StatusNormalClosure, "")
				return nil
			}
			if done {
				ws.Close(websocket.StatusNormalClosure, "")
				return nil
			}
		}
	}
}

// msgFrame is {"t":"msg","p":1,"d":MSG}. The browser writes compact JSON;
// Firefox writes an empty message for postMessage(undefined), which becomes
// null, and anything else that is not JSON goes to Go as a JSON string.
func msgFrame(msg []byte) []byte {
	d := msg
	if len(bytes.TrimSpace(d)) == 0 {
		d = []byte("null")
	} else if !json.Valid(d) {
		d, _ = json.Marshal(string(msg))
	}
	frame := make([]byte, 0, len(d)+24)
	frame = append(frame, `{"t":"msg","p":1,"d":`...)
	frame = append(frame, d...)
	return append(frame, '}')
}

// command is what Go sends a relay: {"c":"post","p":1,"d":…} or
// {"c":"disc","p":1}; others (a watch frame) are ignored.
type command struct {
	C string          `json:"c"`
	D json.RawMessage `json:"d"`
}

// handle carries out one WebSocket message from Go (a command, or a batch
// of them as a JSON array) and reports whether Go disconnected.
func handle(data []byte, out io.Writer) (bool, error) {
	var cmds []command
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(data, &cmds); err != nil {
			return false, nil
		}
	} else {
		var c command
		if err := json.Unmarshal(data, &c); err != nil {
			return false, nil
		}
		cmds = []command{c}
	}
	for _, c := range cmds {
		switch c.C {
		case "post":
			d := c.D
			if len(d) == 0 {
				d = json.RawMessage("null")
			}
			if err := WriteMessage(out, d); err != nil {
				return false, err
			}
		case "disc":
			return true, nil
		}
	}
	return false, nil
}

// Sender is who started a relay, from its arguments: Chromium passes the
// caller's origin ("chrome-extension://ID/"), Firefox the manifest's path
// and the extension's id.
func Sender(args []string) (id, origin string) {
	for _, a := range args {
		if rest, ok := strings.CutPrefix(a, "chrome-extension://"); ok {
			id = strings.TrimSuffix(rest, "/")
			return id, "chrome-extension://" + id
		}
	}
	if len(args) >= 2 && strings.HasSuffix(args[0], ".json") {
		return args[1], ""
	}
	return "", ""
}
