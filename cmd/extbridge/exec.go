package main

import (
	"context"
	"errors"
	"fmt"
)

// errInterrupted is the cause of a command stopped by Ctrl-C.
var errInterrupted = errors.New("interrupted")

// exec runs one command line (lineNo is its line in a script, else 0) and
// prints its result. Its error names the command; in -json mode it is also
// printed as an "error" record.
func (s *shell) exec(ctx context.Context, line string, lineNo int) error {
	return s.execInterruptible(ctx, line, lineNo, nil)
}

// execInterruptible is exec whose command can be stopped: setInterrupt is
// given the func that stops it while it runs (nil: it cannot be).
func (s *shell) execInterruptible(ctx context.Context, line string, lineNo int, setInterrupt func(func()) (done func())) error {
	c, err := s.parse(line)
	if err != nil {
		s.out.emit(record{Kind: "error", Line: lineNo, Error: err.Error()}, "")
		return err
	}
	if c == nil {
		return nil
	}
	c.lineNo = lineNo
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeout(ctx, s.timeout)
	defer cancelTimeout()
	if setInterrupt != nil {
		done := setInterrupt(func() { cancel(errInterrupted) })
		defer done()
	}
	res, err := c.cmd.run(ctx, s, c)
	if errors.Is(err, errQuit) {
		return err
	}
	if err != nil {
		switch {
		case errors.Is(context.Cause(ctx), errInterrupted):
			err = errInterrupted
		case errors.Is(ctx.Err(), context.DeadlineExceeded) && s.ctx.Err() == nil:
			err = fmt.Errorf("%w (gave up after -timeout %s)", err, s.timeout)
		}
		err = fmt.Errorf("%s: %w", c.cmd.name, err)
		s.out.emit(record{Kind: "error", Cmd: c.cmd.name, Line: lineNo, Error: err.Error()}, "")
		return err
	}
	res.rec.Kind, res.rec.Cmd, res.rec.Line = "result", c.cmd.name, lineNo
	s.out.emit(res.rec, res.text)
	return nil
}
