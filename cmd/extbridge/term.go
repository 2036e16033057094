package main

import (
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether v is an *os.File on a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// rawTerminal puts the terminal of fd in raw mode, as the line editor
// does, but keeps output processing, so "\n" still starts a new line.
// It stays so between prompts too: then the keys a person types while a
// command runs wait for the next prompt, and Ctrl-C reaches the shell as a
// key rather than as SIGINT to the whole process group, which the browser
// is in. The returned func restores the terminal.
func rawTerminal(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// keyInterrupt is Ctrl-C as a raw terminal sends it.
const keyInterrupt = 0x03

// ttyInput owns the terminal's input: one goroutine reads it for as long
// as the process lives, and hands what it read to the line editor (Read).
// While a command runs (onInterrupt set), a Ctrl-C is taken out of the
// input and calls onInterrupt instead; other keys wait for the editor.
//
// The reading goroutine cannot be stopped (a read of a terminal is not
// interruptible), so a ttyInput is made once per process, in main.
type ttyInput struct {
	mu          sync.Mutex
	buf         []byte
	err         error
	avail       chan struct{} // signalled when buf or err changes
	onInterrupt func()
}

func newTTYInput(r io.Reader) *ttyInput {
	t := &ttyInput{avail: make(chan struct{}, 1)}
	go t.loop(r)
	return t
}

func (t *ttyInput) loop(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		t.mu.Lock()
		data := b[:n]
		if t.onInterrupt != nil {
			kept := data[:0]
			interrupted := false
			for _, c := range data {
				if c == keyInterrupt {
					interrupted = true
					continue
				}
				kept = append(kept, c)
			}
			data = kept
			if interrupted {
				t.onInterrupt()
			}
		}
		t.buf = append(t.buf, data...)
		if err != nil {
			t.err = err
		}
		t.mu.Unlock()
		select {
		case t.avail <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// Read gives the editor what was typed, waiting for a key.
func (t *ttyInput) Read(p []byte) (int, error) {
	for {
		t.mu.Lock()
		if len(t.buf) > 0 {
			n := copy(p, t.buf)
			t.buf = t.buf[n:]
			more := len(t.buf) > 0
			t.mu.Unlock()
			if more {
				select {
				case t.avail <- struct{}{}:
				default:
				}
			}
			return n, nil
		}
		if t.err != nil {
			err := t.err
			t.mu.Unlock()
			return 0, err
		}
		t.mu.Unlock()
		<-t.avail
	}
}

// whileRunning makes Ctrl-C call interrupt until the returned func is
// called.
func (t *ttyInput) whileRunning(interrupt func()) (done func()) {
	t.mu.Lock()
	t.onInterrupt = interrupt
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		t.onInterrupt = nil
		t.mu.Unlock()
	}
}

// interrupt stops the running command, if any, as a Ctrl-C does.
func (t *ttyInput) interrupt() {
	t.mu.Lock()
	f := t.onInterrupt
	t.mu.Unlock()
	if f != nil {
		f()
	}
}
