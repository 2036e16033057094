package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// exitError is an error with the exit status it calls for.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// stdio is a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// script runs commands one line at a time, without a prompt: each command
// ends (with what it started: a connect has its port, a recv its message)
// before the next line is read. Blank lines and lines starting with # are
// skipped. An error stops the script with exit status 1 and the line's
// number, unless keepGoing: then the script goes on and exits 1 at the end.
func (s *shell) script(ctx context.Context, r io.Reader, name string, keepGoing bool, stderr io.Writer) error {
	type scanned struct {
		text string
		err  error
		eof  bool
	}
	lines := make(chan scanned)
	go func() { // so that an interrupt need not wait for the next line
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			select {
			case lines <- scanned{text: sc.Text()}:
			case <-ctx.Done():
				return
			}
		}
		select {
		case lines <- scanned{err: sc.Err(), eof: true}:
		case <-ctx.Done():
		}
	}()
	var failed []string
	for n := 1; ; n++ {
		var l scanned
		select {
		case l = <-lines:
		case <-ctx.Done():
			return s.stopped(name, n)
		}
		if l.eof {
			if l.err != nil {
				return &exitError{1, fmt.Errorf("failed to read %s: %w", name, l.err)}
			}
			break
		}
		line := strings.TrimSpace(l.text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		err := s.exec(ctx, line, n)
		if errors.Is(err, errQuit) {
			break
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return s.stopped(name, n)
		}
		if !keepGoing {
			return &exitError{1, fmt.Errorf("%s:%d: %w", name, n, err)}
		}
		fmt.Fprintf(stderr, "extbridge: %s:%d: %v\n", name, n, err)
		failed = append(failed, strconv.Itoa(n))
	}
	if len(failed) > 0 {
		return &exitError{1, fmt.Errorf("%s: %d commands failed (lines %s)", name, len(failed), strings.Join(failed, ", "))}
	}
	return nil
}

// stopped says why the script stopped at line n before its end: its
// output was closed, or it was interrupted.
func (s *shell) stopped(name string, n int) error {
	if err := s.out.failed(); err != nil {
		return &exitError{1, fmt.Errorf("%s:%d: failed to write the output: %w", name, n, err)}
	}
	return &exitError{130, fmt.Errorf("%s:%d: interrupted", name, n)}
}

// runShell is `extbridge run`: the shell, interactive on a terminal, a
// script otherwise.
func runShell(args []string, std stdio) error {
	var c common
	fs := newFlags("run", "usage: extbridge run [flags] -ext DIR [-ext DIR…] [-url URL]\n\n"+
		"A shell to take part in the extension's port messaging. On a terminal it is\n"+
		"interactive (type help); otherwise, or with -script FILE, it runs the commands\n"+
		"one per line and stops at the first error, naming the line (exit status 1).", &c, std)
	scriptFile := fs.String("script", "", "run the commands in FILE, then quit (as when stdin is not a terminal)")
	keepGoing := fs.Bool("keep-going", false, "in a script, go on after a command fails (the exit status is still 1)")
	noHistory := fs.Bool("no-history", false, "keep no history across runs")
	historyFile := fs.String("history", historyPath(), "the history file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run: unexpected argument %q (flags come before; commands go in the shell or a -script)", fs.Arg(0))
	}
	stdinF, _ := std.in.(*os.File)
	stdoutF, _ := std.out.(*os.File)
	interactive := *scriptFile == "" && isTerminal(std.in) && isTerminal(std.out)
	var input io.Reader = std.in
	name := "stdin"
	if *scriptFile != "" {
		f, err := os.Open(*scriptFile)
		if err != nil {
			return fmt.Errorf("failed to open the script: %w", err)
		}
		defer f.Close()
		input, name = f, *scriptFile
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := newSignals(cancel)
	defer sig.stop()
	l, err := c.launch(ctx, std.err)
	if err != nil {
		return err
	}
	defer l.close()
	s := newShell(ctx, l, &printer{w: std.out, json: c.json, onFail: func(error) { cancel() }}, c.timeout)
	s.interactive = interactive
	defer s.close()
	if interactive && !c.json {
		for i, e := range l.b.Extensions() {
			s.out.text("extension %d: %s (id %s)", i, e.Name(), e.ID())
		}
	}
	if l.url != "" {
		if err := s.exec(ctx, "open "+l.url, 0); err != nil {
			return err
		}
	}
	if interactive {
		s.out.text("type help for the commands, help CMD for one; Tab completes, Ctrl-D quits")
		hist := *historyFile
		if *noHistory {
			hist = ""
		}
		return s.repl(sig, newTTYInput(stdinF), stdinF, stdoutF, stderrFile(std.err), hist)
	}
	return s.script(ctx, input, name, *keepGoing, std.err)
}

// stderrFile is w as a file, or os.Stderr.
func stderrFile(w io.Writer) *os.File {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return os.Stderr
}
