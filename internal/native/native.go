// Package native is extbridge's side of native messaging: the framing the
// browsers use on a host's stdio, the host manifests, and the relay that a
// Go-served host runs as.
//
// A host that Go serves is this very program, re-executed: package driver
// writes a small shell wrapper per host that runs os.Executable() with the
// environment variable [EnvRelay] naming a config file (the hub's address,
// the launch's token and the host's name). Package driver's init function
// sees the variable and calls [Main] before anything else happens, so any
// program that imports driver can be its own relay. The relay dials the
// hub, says hello as realm "native" with the host name and the arguments
// the browser gave it, and then copies messages both ways: each message the
// browser writes on stdin becomes a "msg" frame on port 1, Go's "post"
// commands become messages on stdout, the end of stdin becomes a "disc"
// frame, and Go's "disc" or the end of the WebSocket ends the relay (which
// the browser sees as the host exiting).
package native

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxHostMessage is the largest message a host may send to the browser:
// Chromium closes the port on a bigger one ("Error when communicating with
// the native messaging host."), and Firefox refuses it with "Native
// application tried to send a message of N bytes, which exceeds the limit
// of 1048576 bytes.". The relay does not enforce it: it writes what Go
// posts, and the browser fails as it would with any host.
const MaxHostMessage = 1 << 20

// ReadMessage reads one message of the native-messaging framing: a 4-byte
// length in the machine's byte order, then that many bytes of UTF-8 JSON. A
// length above max is an error. At the very start of a message, the end of r
// is io.EOF; within one, io.ErrUnexpectedEOF.
func ReadMessage(r io.Reader, max int) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := binary.NativeEndian.Uint32(head[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("a message of %d bytes is more than the %d the relay takes", n, max)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return msg, nil
}

// WriteMessage writes msg with the native-messaging framing, in one write.
func WriteMessage(w io.Writer, msg []byte) error {
	if uint64(len(msg)) > 1<<32-1 {
		return fmt.Errorf("a message of %d bytes does not fit the 4-byte length", len(msg))
	}
	buf := make([]byte, 4+len(msg))
	binary.NativeEndian.PutUint32(buf, uint32(len(msg)))
	copy(buf[4:], msg)
	_, err := w.Write(buf)
	return err
}

// ValidName reports whether name is a valid native messaging host name by
// Chromium's rule, which is stricter than Firefox's: lowercase letters,
// digits, "_" and ".", not starting or ending with a dot, and no two dots in
// a row (e.g. "com.example.ping_pong").
func ValidName(name string) error {
	if name == "" {
		return errors.New("the name is empty")
	}
	if name[0] == '.' || name[len(name)-1] == '.' {
		return fmt.Errorf("the name %q starts or ends with a dot", name)
	}
	prev := byte(0)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		case c == '.':
			if prev == '.' {
				return fmt.Errorf("the name %q has two dots in a row", name)
			}
		default:
			return fmt.Errorf("the name %q has %q: only lowercase letters, digits, \"_\" and \".\" are allowed", name, c)
		}
		prev = c
	}
	return nil
}

// CheckProgram checks that path is a host program the browser can run: an
// absolute path (after resolving a relative one) to an existing regular
// file with an execute bit. It returns the absolute path.
func CheckProgram(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("failed to resolve %s: %w", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", abs)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s is not executable (mode %v)", abs, st.Mode().Perm())
	}
	return abs, nil
}

// Manifest is a native messaging host manifest: Chromium reads
// AllowedOrigins, Firefox AllowedExtensions.
type Manifest struct {
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Path              string   `json:"path"`
	Type              string   `json:"type"` // "stdio"
	AllowedOrigins    []string `json:"allowed_origins,omitempty"`
	AllowedExtensions []string `json:"allowed_extensions,omitempty"`
}

// WriteManifest writes m as dir/<name>.json, creating dir.
func WriteManifest(dir string, m Manifest) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("failed to make %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, m.Name+".json")
	if err := os.WriteFile(file, append(data, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("failed to write the manifest of native host %q: %w", m.Name, err)
	}
	return file, nil
}
