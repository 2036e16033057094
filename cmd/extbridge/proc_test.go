package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/extbridge/extbridge/internal/leakcheck"
)

// The tests in this file run the real CLI as a child process: the test
// binary itself, which runs main when childEnv is set (see TestMain).
const childEnv = "EXTBRIDGE_TEST_CLI"

// waitTimeout bounds each wait for output or for the process to end.
const waitTimeout = 20 * time.Second

// cli is a running child extbridge, on a pseudo-terminal or on pipes.
type cli struct {
	t      *testing.T
	cmd    *exec.Cmd
	tty    *os.File // the pty's controlling side; nil on pipes
	stdin  io.WriteCloser
	stdout io.ReadCloser // on pipes

	mu      sync.Mutex
	out     []byte // everything the child wrote (on a pty: stdout and stderr)
	errOut  []byte // stderr, on pipes
	changed chan struct{}
	cursor  int // expect searches the clean output from here
	exited  chan struct{}
	status  int
}

// startCLI starts `extbridge args…` with a history under a temporary
// XDG_STATE_HOME, on a pty (onTTY) or with stdin from a pipe.
func startCLI(t *testing.T, onTTY bool, env []string, args ...string) *cli {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "TERM=xterm", "XDG_STATE_HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	c := &cli{t: t, cmd: cmd, changed: make(chan struct{}, 1), exited: make(chan struct{})}
	var reader io.Reader
	if onTTY {
		tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 250})
		if err != nil {
			t.Fatalf("failed to start the CLI on a pty: %v", err)
		}
		c.tty, reader = tty, tty
	} else {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = writerFunc(func(p []byte) (int, error) {
			c.mu.Lock()
			c.errOut = append(c.errOut, p...)
			c.mu.Unlock()
			return len(p), nil
		})
		if err := cmd.Start(); err != nil {
			t.Fatalf("failed to start the CLI: %v", err)
		}
		c.stdin, c.stdout, reader = stdin, stdout, stdout
	}
	readDone := make(chan struct{})
	go c.read(reader, readDone)
	go func() {
		<-readDone // the output is all there before the exit is seen
		err := cmd.Wait()
		c.status = cmd.ProcessState.ExitCode()
		if err != nil && c.status < 0 {
			c.status = -1
		}
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			cmd.Process.Kill()
			<-c.exited
			t.Errorf("the CLI was still running at the end of the test; output:\n%s", c.clean())
		}
		if c.tty != nil {
			c.tty.Close()
		}
		checkChildLeaks(t, cmd.Process.Pid)
	})
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// dsr is the terminal's cursor position query; the line editor waits for
// the answer, as a real terminal would give it.
var dsr = []byte("\x1b[6n")

func (c *cli) read(r io.Reader, done chan struct{}) {
	defer close(done)
	buf := make([]byte, 8192)
	answered := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c.mu.Lock()
			c.out = append(c.out, buf[:n]...)
			queries := bytes.Count(c.out, dsr)
			c.mu.Unlock()
			for ; c.tty != nil && answered < queries; answered++ {
				c.tty.Write([]byte("\x1b[1;1R")) // prompts start at the left edge
			}
			select {
			case c.changed <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return // EOF, or EIO once the pty's other side is gone
		}
	}
}

// csi matches the terminal control sequences the editor draws with.
var csi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)

// clean is the output without control sequences and carriage returns.
func (c *cli) clean() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return csi.ReplaceAllString(string(c.out), "")
}

// expect waits until text appears in the output after the previous match,
// and moves past it.
func (c *cli) expect(text string) {
	c.t.Helper()
	c.expectFrom(c.cursor, text)
}

// expectAnywhere waits until text appears anywhere in the output, and
// moves past it.
func (c *cli) expectAnywhere(text string) {
	c.t.Helper()
	c.expectFrom(0, text)
}

func (c *cli) expectFrom(from int, text string) {
	c.t.Helper()
	c.cursor = from
	deadline := time.After(waitTimeout)
	for {
		out := c.clean()
		if i := strings.Index(out[c.cursor:], text); i >= 0 {
			c.cursor += i + len(text)
			return
		}
		select {
		case <-c.changed:
		case <-c.exited:
			out = c.clean()
			if strings.Contains(out[c.cursor:], text) {
				continue
			}
			c.t.Fatalf("the CLI exited (status %d) before printing %q; after the last match it printed:\n%s\nstderr:\n%s", c.status, text, out[c.cursor:], c.stderr())
		case <-deadline:
			c.t.Fatalf("no %q within %s; after the last match the CLI printed:\n%s", text, waitTimeout, out[c.cursor:])
		}
	}
}

// send types keys on the pty, or writes to stdin.
func (c *cli) send(keys string) {
	c.t.Helper()
	w := io.Writer(c.tty)
	if c.tty == nil {
		w = c.stdin
	}
	if _, err := io.WriteString(w, keys); err != nil {
		c.t.Fatalf("failed to type %q: %v", keys, err)
	}
}

// wait waits for the CLI to exit and returns its status.
func (c *cli) wait() int {
	c.t.Helper()
	select {
	case <-c.exited:
		return c.status
	case <-time.After(waitTimeout):
		c.t.Fatalf("the CLI did not exit within %s; it printed:\n%s", waitTimeout, c.clean())
		return 0
	}
}

func (c *cli) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.errOut)
}

// checkChildLeaks fails the test if a browser process or a temporary
// folder of the child pid outlived it (drivertest.Main checks this
// process, not its children).
func checkChildLeaks(t *testing.T, pid int) {
	t.Helper()
	marker := []byte(fmt.Sprintf("%s=%d\x00", leakcheck.OwnerEnv, pid))
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range procs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && bytes.Contains(st, []byte(") Z ")) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		t.Errorf("a browser process of the CLI (pid %d) outlived it: %s %s", pid, filepath.Base(d), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		syscall.Kill(mustAtoi(filepath.Base(d)), syscall.SIGKILL)
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("extbridge-%d-*", pid)))
	for _, d := range dirs {
		t.Errorf("a temporary folder of the CLI (pid %d) outlived it: %s", pid, d)
		os.RemoveAll(d)
	}
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
