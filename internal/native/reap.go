package native

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// EnvLaunch marks the processes of one launch that has native hosts: the
// browser gets "EXTBRIDGE_LAUNCH=<id>" in its environment, and every host
// it starts (the relays and real host programs) inherits it, wherever it
// ends up in the process tree.
const EnvLaunch = "EXTBRIDGE_LAUNCH"

// Reap ends every process whose environment has EnvLaunch=id, other than
// this one: hosts the browser started and left behind (Chromium does not
// signal a host that ignores the end of its stdin, and a host outlives a
// browser that was killed). It gives them grace to exit by themselves,
// then kills what is left with SIGKILL, and returns once all are gone (or
// after a few seconds more). It waits on pidfds, the kernel's exit
// notification, so it never hits a recycled pid.
func Reap(id string, grace time.Duration) {
	fds := marked(id)
	if len(fds) == 0 {
		return
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	left := waitExit(fds, grace)
	for _, fd := range left {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
	waitExit(left, 5*time.Second)
}

// marked opens a pidfd on every live process marked with id.
func marked(id string) []int {
	marker := []byte(EnvLaunch + "=" + id + "\x00")
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var fds []int
	for _, d := range dirs {
		name := filepath.Base(d)
		if name == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		// The pid may have been reused between reading environ and opening
		// the pidfd: check again through the pidfd's process.
		env, err = os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, marker) || zombie(d) {
			unix.Close(fd)
			continue
		}
		fds = append(fds, fd)
	}
	return fds
}

// zombie reports whether the process of /proc/PID has exited already.
func zombie(dir string) bool {
	st, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(st, ')')
	return i < 0 || i+2 >= len(st) || st[i+2] == 'Z' || st[i+2] == 'X'
}

// waitExit waits up to d for the processes of fds to exit and returns the
// ones still running.
func waitExit(fds []int, d time.Duration) []int {
	deadline := time.Now().Add(d)
	left := append([]int(nil), fds...)
	for len(left) > 0 {
		ms := int(time.Until(deadline).Milliseconds())
		if ms <= 0 {
			break
		}
		pfds := make([]unix.PollFd, len(left))
		for i, fd := range left {
			pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		}
		n, err := unix.Poll(pfds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break
		}
		var still []int
		for i, p := range pfds {
			if p.Revents == 0 {
				still = append(still, left[i])
			}
		}
		left = still
	}
	return left
}
