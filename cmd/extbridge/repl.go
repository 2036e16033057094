package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ergochat/readline"
)

// prompt is the shell's prompt.
const prompt = "extbridge> "

// historyPath is where the shell keeps its history across runs:
// $XDG_STATE_HOME/extbridge/history, else ~/.local/state/extbridge/history
// (the XDG default) on Linux and the BSDs, else the user's cache folder
// (os.UserCacheDir) on macOS and Windows. "" if none can be found.
func historyPath() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "extbridge", "history")
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "state", "extbridge", "history")
		}
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "extbridge", "history")
	}
	return ""
}

// repl is the interactive shell on a terminal: a line editor with a
// prompt, history, Ctrl-R search and Tab completion. What arrives while
// the person types is printed above the prompt. Ctrl-C stops the running
// command or drops the line; Ctrl-D on an empty line (or quit) leaves.
func (s *shell) repl(sig *signals, in *ttyInput, stdin, stdout, stderr *os.File, history string) error {
	restore, err := rawTerminal(int(stdin.Fd()))
	if err != nil {
		return fmt.Errorf("failed to set up the terminal: %w", err)
	}
	defer restore()
	if history != "" {
		if err := os.MkdirAll(filepath.Dir(history), 0o700); err != nil {
			s.out.text("extbridge: no history across runs: %v", err)
			history = ""
		}
	}
	var typed atomic.Int64 // the length of the line being edited, for the Ctrl-C hint
	rl, err := readline.NewFromConfig(&readline.Config{
		Prompt:            prompt,
		HistoryFile:       history,
		HistoryLimit:      1000,
		HistorySearchFold: true,
		AutoComplete:      completer{s},
		Stdin:             in,
		Stdout:            stdout,
		Stderr:            stderr,
		FuncIsTerminal:    func() bool { return true },
		Listener: func(line []rune, pos int, _ rune) ([]rune, int, bool) {
			typed.Store(int64(len(line)))
			return nil, 0, false
		},
	})
	if err != nil {
		return fmt.Errorf("failed to start the line editor: %w", err)
	}
	defer rl.Close()
	s.out.setWriter(rl.Stdout())
	defer s.out.setWriter(stdout)
	if s.l != nil {
		s.l.progress.setWriter(rl.Stderr())
		defer s.l.progress.setWriter(stderr)
	}

	// Signals from outside: SIGINT stops the running command (a Ctrl-C on
	// the terminal is a key, see ttyInput); SIGTERM and SIGHUP end the shell.
	sig.set(in.interrupt, func() { s.stopAll(); rl.Close() })
	defer sig.set(nil, nil)

	hinted := false
	for {
		line, err := rl.ReadLine()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if !hinted && typed.Load() == 0 {
				s.out.text("(Ctrl-D or quit leaves; Ctrl-C while a command runs stops it)")
				hinted = true
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("failed to read the terminal: %w", err)
		}
		if s.ctx.Err() != nil {
			return nil
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		err = s.execInterruptible(s.ctx, line, 0, in.whileRunning)
		if errors.Is(err, errQuit) {
			return nil
		}
		if err != nil && !s.out.json {
			s.out.text("error: %v", err)
		}
		if s.ctx.Err() != nil {
			return nil
		}
	}
}

// signals routes SIGINT, SIGTERM and SIGHUP: by default each calls
// cancel; the shell's prompt makes SIGINT stop the running command. It
// also keeps SIGPIPE from killing the process.
type signals struct {
	mu        sync.Mutex
	cancel    func()
	interrupt func()
	quit      func()
	ch        chan os.Signal
	pipe      chan os.Signal
	done      chan struct{}
}

func newSignals(cancel func()) *signals {
	g := &signals{cancel: cancel, ch: make(chan os.Signal, 1), pipe: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(g.ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// A closed stdout (extbridge watch | head) is a write error for the
	// printer to act on, not a SIGPIPE that kills the process before it
	// closes the browser and removes its folders. (Notify, not Ignore: an
	// ignored signal would stay ignored in the browser.)
	signal.Notify(g.pipe, syscall.SIGPIPE)
	go func() {
		for {
			select {
			case sig := <-g.ch:
				g.mu.Lock()
				f := g.quit
				if sig == os.Interrupt && g.interrupt != nil {
					f = g.interrupt
				}
				if f == nil {
					f = g.cancel
				}
				g.mu.Unlock()
				f()
			case <-g.done:
				return
			}
		}
	}()
	return g
}

// set replaces what SIGINT and the other signals do (nil: cancel).
func (g *signals) set(interrupt, quit func()) {
	g.mu.Lock()
	g.interrupt, g.quit = interrupt, quit
	g.mu.Unlock()
}

// stop restores the signals' default handling.
func (g *signals) stop() {
	signal.Stop(g.ch)
	signal.Stop(g.pipe)
	close(g.done)
}
