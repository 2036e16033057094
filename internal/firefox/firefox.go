// Package firefox launches and controls Firefox over WebDriver BiDi.
//
// [Launch] starts Firefox with a fresh temporary profile, reads the BiDi
// address from its output, connects and starts a session. [Process.BiDi] is
// the connection, [Process.InstallExtension] installs an unpacked extension as
// a temporary add-on, and [Process.Close] ends the browser, its whole process
// group and its profile.
package firefox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/extbridge/extbridge/internal/bidi"
	"github.com/extbridge/extbridge/internal/browserbin"
)

// Options configure [Launch]. The zero value starts a headless Firefox found
// on the PATH.
type Options struct {
	// BinaryPath is the Firefox executable. Empty means the environment
	// variable EXTBRIDGE_FIREFOX, then firefox-esr, then firefox on the PATH.
	BinaryPath string
	// Headful shows the browser window; the default is headless.
	Headful bool
	// Args are extra command-line arguments.
	Args []string
	// Stderr receives the browser's own output, stdout and stderr; nil
	// discards it.
	Stderr io.Writer
	// ExtensionUUIDs pins the moz-extension:// UUID of extensions, from the
	// gecko id to the UUID (pref extensions.webextensions.uuids).
	ExtensionUUIDs map[string]string
	// Prefs are extra prefs for user.js; values are bool, int or string.
	// They win over the defaults.
	Prefs map[string]any
	// Env is extra environment, "KEY=value", for the browser and every
	// process it starts.
	Env []string
	// TempDir is the folder the temporary profile is created in; empty
	// means os.TempDir().
	TempDir string
}

// Process is a running Firefox with a BiDi session.
//
// Its methods are safe for concurrent use. [Process.Close] must be called to
// end the browser and remove the profile; the browser also dies with the Go
// process (Pdeathsig).
type Process struct {
	cmd        *exec.Cmd
	conn       *bidi.Conn
	profile    string
	binary     string
	version    string
	exited     chan struct{} // closed when the main process was reaped
	waitErr    error         // valid after exited closes
	outputDone chan struct{} // closed when the output copier ended
	outR       *os.File

	closeOnce sync.Once
	closeErr  error
}

var listenRE = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// Launch starts Firefox and a BiDi session on it. The context bounds only the
// start: once Launch returns, the browser runs until [Process.Close].
func Launch(ctx context.Context, opts Options) (_ *Process, err error) {
	bin, err := browserbin.Find(browserbin.Firefox, opts.BinaryPath)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	js, err := userJS(opts.ExtensionUUIDs, opts.Prefs)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp(opts.TempDir, "extbridge-firefox-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the profile directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(profile)
		}
	}()
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(js), 0o600); err != nil {
		return nil, fmt.Errorf("failed to write user.js: %w", err)
	}

	args := []string{"--remote-debugging-port=0", "--profile", profile, "--no-remote", "--new-instance"}
	if !opts.Headful {
		args = append([]string{"--headless"}, args...)
	}
	args = append(args, opts.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"MOZ_CRASHREPORTER_DISABLE=1",
		"MOZ_CRASHREPORTER_SHUTDOWN=0",
		// A release build (ESR) ignores the services.settings.server pref
		// that points remote settings at the remote agent's dummy server,
		// and polls firefox.settings.services.mozilla.com, unless this is
		// set (services-settings/Utils.sys.mjs, allowServerURL).
		"MOZ_REMOTE_SETTINGS_DEVTOOLS=1",
	)
	cmd.Env = append(cmd.Env, opts.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("failed to create the output pipe: %w", err)
	}
	cmd.Stdout = outW
	cmd.Stderr = outW

	p := &Process{
		cmd:        cmd,
		profile:    profile,
		binary:     bin,
		exited:     make(chan struct{}),
		outputDone: make(chan struct{}),
		outR:       outR,
	}
	started := make(chan error, 1)
	go p.run(started)
	startErr := <-started
	outW.Close() // the children have their own copies now
	if startErr != nil {
		outR.Close()
		return nil, fmt.Errorf("failed to start %s: %w", bin, startErr)
	}

	// From here on, a failure must kill the browser.
	defer func() {
		if err != nil {
			p.kill()
			os.RemoveAll(profile)
		}
	}()

	wsURL := make(chan string, 1)
	head := &headBuffer{max: 4096}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	go p.copyOutput(stderr, head, wsURL)

	var addr string
	select {
	case addr = <-wsURL:
	case <-p.exited:
		return nil, fmt.Errorf("failed to start Firefox: it exited (%v) before BiDi listened; output:\n%s", p.waitErr, head.String())
	case <-ctx.Done():
		return nil, fmt.Errorf("failed to start Firefox: %w; output:\n%s", ctx.Err(), head.String())
	}

	conn, err := bidi.Dial(ctx, addr+"/session")
	if err != nil {
		return nil, fmt.Errorf("failed to connect to Firefox: %w", err)
	}
	p.conn = conn
	res, err := conn.SessionNew(ctx, bidi.SessionNewParams{
		Capabilities: bidi.CapabilitiesRequest{AlwaysMatch: bidi.Capabilities{
			"acceptInsecureCerts":     true,
			"unhandledPromptBehavior": map[string]any{"default": "ignore"},
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("failed to start a BiDi session: %w", err)
	}
	if v, ok := res.Capabilities["browserVersion"].(string); ok {
		p.version = v
	}
	return p, nil
}

// run starts the browser and waits for it on one goroutine locked to its OS
// thread: Pdeathsig fires when the thread that started the child exits, not
// the process, so the thread must live as long as the browser
// (https://go.dev/issue/27505).
func (p *Process) run(started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := p.cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// copyOutput copies the browser output to w until every process that holds
// the pipe has exited, and sends the BiDi address once it appears.
func (p *Process) copyOutput(w io.Writer, head *headBuffer, wsURL chan<- string) {
	defer close(p.outputDone)
	defer p.outR.Close()
	r := bufio.NewReader(p.outR)
	found := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			w.Write(line)
			if !found {
				head.Write(line)
				if m := listenRE.FindSubmatch(line); m != nil {
					found = true
					wsURL <- string(m[1])
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// BiDi returns the BiDi connection of the session.
func (p *Process) BiDi() *bidi.Conn { return p.conn }

// PID returns the process id of the main browser process, which is also its
// process group id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// ProfileDir returns the temporary profile directory.
func (p *Process) ProfileDir() string { return p.profile }

// Version returns the browser version, such as "153.7.0".
func (p *Process) Version() string { return p.version }

// Exited returns a channel that is closed when the main browser process has
// exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// InstallExtension installs the unpacked extension in dir as a temporary
// add-on (BiDi webExtension.install) and returns its id. The manifest must
// have browser_specific_settings.gecko.id for the id to be stable and for
// [Options.ExtensionUUIDs] to apply.
func (p *Process) InstallExtension(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("failed to resolve %s: %w", dir, err)
	}
	id, err := p.conn.WebExtensionInstall(ctx, abs)
	if err != nil {
		return "", fmt.Errorf("failed to install the extension %s: %w", abs, err)
	}
	return id, nil
}

// Close ends the browser: it asks it to close over BiDi for a moment, then
// kills its whole process group, waits for every process, closes the
// connection and removes the profile. It is idempotent and returns when all
// of that is done.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := p.conn.BrowserClose(ctx); err == nil {
			select {
			case <-p.exited:
			case <-ctx.Done():
			}
		}
		cancel()
		p.kill()
		p.conn.Close()
		p.closeErr = removeAll(p.profile)
	})
	return p.closeErr
}

// kill kills the process group and any helper that left it, then waits for
// the main process, the rest of the group and the output copier.
func (p *Process) kill() {
	pid := p.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGKILL)
	<-p.exited
	// The crash helper runs in its own session and watches the browser's
	// pid; it and what is left of the group are not our children, so each is
	// killed and awaited through a pidfd (the kernel's exit notification).
	for range 10 { // a straggler may start another before it dies
		if killStragglers(pid) == 0 {
			break
		}
	}
	select {
	case <-p.outputDone:
	case <-time.After(5 * time.Second):
		// Something outside the group still holds the pipe; stop reading.
		p.outR.Close()
		<-p.outputDone
	}
}

// killStragglers kills the processes of the process group pgid and the crash
// helpers of the browser pgid, waits until each has exited, and returns how
// many it found alive.
func killStragglers(pgid int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses:
		// state ppid pgrp ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 {
			continue
		}
		if f[0] == "Z" || f[0] == "X" {
			continue // dead, waiting for its parent
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		mine := pgrp == pgid || ppid == pgid
		if !mine {
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			args := bytes.Split(cmdline, []byte{0})
			mine = len(args) > 1 && bytes.HasSuffix(args[0], []byte("crashhelper")) &&
				string(args[1]) == strconv.Itoa(pgid)
		}
		if mine {
			killAndWait(pid)
			n++
		}
	}
	return n
}

// killAndWait kills pid, which need not be our child, and waits up to a few
// seconds for it to exit: a pidfd names the process itself (a recycled pid
// cannot be hit) and becomes readable when it has exited.
func killAndWait(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		syscall.Kill(pid, syscall.SIGKILL) // gone already, or an old kernel
		return
	}
	defer unix.Close(fd)
	if unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) != nil {
		return
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, 5000)
		if err != unix.EINTR {
			return
		}
	}
}

// removeAll removes dir. Every process that could write into it has exited
// by now.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("failed to remove the profile %s: %w", dir, err)
	}
	return nil
}

// headBuffer keeps the first max bytes written, for error messages.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *headBuffer) Write(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.buf.Len(); room > 0 {
		t.buf.Write(b[:min(len(b), room)])
	}
}

func (t *headBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
