package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/internal/native"
)

// A program that imports driver can be the relay of a native host that Go
// serves: the browser starts this very program, re-executed by a wrapper
// script with native.EnvRelay set, and then nothing but the relay runs (no
// main, no tests).
func init() { native.Main() }

// NativeHost registers a native messaging host in the launch's own profile
// (never in the user's home), allowed for every launched extension.
//
// Chromium reads it from <user-data-dir>/NativeMessagingHosts/<name>.json
// (allowed_origins: chrome-extension://<id>/ of every extension); Firefox
// from the folder its dirsvc key XREUserNativeManifests names, which
// extbridge points at the launch's temporary folder before any extension
// runs (allowed_extensions: every gecko id), so Firefox's HOME is the
// user's own and a real host sees it.
type NativeHost struct {
	Name string // what the extension passes to runtime.connectNative / sendNativeMessage
	Path string // a host program to run (the user's real host); empty: Go is the host
}

// nativeGrace is how long, from the start of Close, a host that outlives
// the browser has to exit by itself (its stdin is closed as the browser
// goes) before Close kills it.
const nativeGrace = time.Second

// checkNativeHosts validates Options.NativeHosts: Chromium's name rule, no
// name twice, and a Path that is an executable file (made absolute).
func checkNativeHosts(hosts []NativeHost) ([]NativeHost, error) {
	seen := map[string]bool{}
	out := make([]NativeHost, 0, len(hosts))
	for _, h := range hosts {
		if err := native.ValidName(h.Name); err != nil {
			return nil, fmt.Errorf("failed to launch: native host %q: %w", h.Name, err)
		}
		if seen[h.Name] {
			return nil, fmt.Errorf("failed to launch: native host %q is in Options.NativeHosts twice", h.Name)
		}
		seen[h.Name] = true
		if h.Path != "" {
			abs, err := native.CheckProgram(h.Path)
			if err != nil {
				return nil, fmt.Errorf("failed to launch: native host %q: its program: %w", h.Name, err)
			}
			h.Path = abs
		}
		out = append(out, h)
	}
	return out, nil
}

// registerNative writes a manifest for every host into dir, the folder the
// browser reads host manifests from, allowing every extension of the
// launch; a host Go serves gets a relay script in the launch's folder.
func (b *Browser) registerNative(dir string) error {
	var exe string
	url, token := b.session.Wire()
	for _, h := range b.natives {
		path := h.Path
		if path == "" {
			if exe == "" {
				var err error
				if exe, err = os.Executable(); err != nil {
					return fmt.Errorf("failed to launch: native host %q is served by Go, which needs this program's path: %w", h.Name, err)
				}
			}
			var err error
			path, err = native.WriteRelay(filepath.Join(b.root, "native", "relay"), exe, native.Config{URL: url, Token: token, Host: h.Name})
			if err != nil {
				return fmt.Errorf("failed to launch: %w", err)
			}
			b.session.ServeNative(h.Name)
		}
		m := native.Manifest{Name: h.Name, Path: path, Type: "stdio", Description: "extbridge: native host " + h.Name}
		for _, f := range b.facts {
			if b.kind == Chromium {
				m.AllowedOrigins = append(m.AllowedOrigins, "chrome-extension://"+f.ID+"/")
			} else {
				m.AllowedExtensions = append(m.AllowedExtensions, f.ID)
			}
		}
		file, err := native.WriteManifest(dir, m)
		if err != nil {
			return fmt.Errorf("failed to launch: %w", err)
		}
		b.logger.Info("registered native host", "name", h.Name, "manifest", file, "program", path, "go", h.Path == "")
	}
	return nil
}

// NativeHost gives the connections to a host that Go serves (Path empty):
// one *bridge.Port per runtime.connectNative, and one per sendNativeMessage
// (its single message in, Go's first PostMessage is the reply).
//
// Every call returns the same Listener until it is closed; connections
// that arrive before the first call wait in it (at most
// [bridge.NativeBacklog], until Close). After Listener.Close, connections
// are refused (the extension sees the host exit) until NativeHost is
// called again. A name that is not in Options.NativeHosts, or a host with a
// Path, is an error.
//
// Each Port is the host's end: Name is the host's name, How
// [bridge.HowNativeHost], Sender the calling extension (ID, Origin, URL).
// PostMessage reaches the extension's onMessage (a message over 1 MiB
// fails the port as the browser fails any host's); Disconnect ends the host
// process, so the extension's onDisconnect fires with the browser's own
// error (Chromium: "Native host has exited."; Firefox: none); the
// extension's port.disconnect() ends the Port cleanly.
func (b *Browser) NativeHost(name string) (*bridge.Listener, error) {
	h, ok := b.nativeByName(name)
	if !ok {
		return nil, fmt.Errorf("failed to serve native host %q: it is not in Options.NativeHosts", name)
	}
	if h.Path != "" {
		return nil, fmt.Errorf("failed to serve native host %q: it runs the program %s (Go serves the hosts without a Path)", name, h.Path)
	}
	l, err := b.session.NativeHost(name)
	if err != nil {
		return nil, fmt.Errorf("failed to serve native host %q: %w", name, err)
	}
	return l.(*bridge.Listener), nil
}

func (b *Browser) nativeByName(name string) (NativeHost, bool) {
	for _, h := range b.natives {
		if h.Name == name {
			return h, true
		}
	}
	return NativeHost{}, false
}

// reapNative ends the host processes of the launch that outlived the
// browser: relays and real hosts that ignore the end of their stdin. Close
// began at start.
func (b *Browser) reapNative(start time.Time) error {
	if b.nativeMark == "" {
		return nil
	}
	native.Reap(b.nativeMark, max(nativeGrace-time.Since(start), 0))
	return nil
}
