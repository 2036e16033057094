package instrument

import (
	"fmt"
	"slices"
	"strings"
)

// rewriteCSP lets the manifest's content security policies reach the
// bridge's loopback WebSocket.
func (j *job) rewriteCSP() {
	m := j.manifest
	if v, ok := m.get("content_security_policy"); ok {
		switch v := v.(type) {
		case string:
			if p, ok := allowWebSocket(v); ok {
				m.set("content_security_policy", p)
				j.added = append(j.added, fmt.Sprintf("connect-src %s in content_security_policy", webSocketSrc))
			}
		case *object:
			for _, k := range v.keys {
				if p, ok := allowWebSocket(v.vals[k].(string)); ok {
					v.set(k, p)
					j.added = append(j.added, fmt.Sprintf("connect-src %s in content_security_policy.%s", webSocketSrc, k))
				}
			}
		}
	}

	// Firefox's default MV3 policy for extension pages has
	// upgrade-insecure-requests, which turns the bridge's ws://127.0.0.1 into
	// wss:// and breaks it. Give extension pages a policy without it.
	if j.browser == browserFirefox && j.version == 3 {
		const def = "script-src 'self'"
		switch v, _ := m.get("content_security_policy"); v := v.(type) {
		case nil:
			csp := newObject()
			csp.set("extension_pages", def)
			m.set("content_security_policy", csp)
			j.added = append(j.added, fmt.Sprintf("content_security_policy.extension_pages %q (Firefox's default upgrades ws:// to wss://)", def))
		case *object:
			if p, ok := v.vals["extension_pages"].(string); ok {
				if q := dropDirective(p, "upgrade-insecure-requests"); q != p {
					v.set("extension_pages", q)
					j.added = append(j.added, "removed upgrade-insecure-requests from content_security_policy.extension_pages")
				}
			} else {
				v.set("extension_pages", def)
				j.added = append(j.added, fmt.Sprintf("content_security_policy.extension_pages %q (Firefox's default upgrades ws:// to wss://)", def))
			}
		}
	}
}

// allowWebSocket lets a content security policy connect to the bridge's
// loopback WebSocket. It reports whether the policy changed.
func allowWebSocket(policy string) (string, bool) {
	parts := strings.Split(policy, ";")
	defaultSrc := -1
	for i, d := range parts {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "connect-src":
			srcs := f[1:]
			if slices.Contains(srcs, webSocketSrc) {
				return policy, false
			}
			lead := d[:len(d)-len(strings.TrimLeft(d, cspSpace))]
			trail := d[len(strings.TrimRight(d, cspSpace)):]
			parts[i] = lead + strings.Join(append(append([]string{f[0]}, dropNone(srcs)...), webSocketSrc), " ") + trail
			return strings.Join(parts, ";"), true
		case "default-src":
			if defaultSrc < 0 {
				defaultSrc = i
			}
		}
	}
	if defaultSrc < 0 {
		return policy, false
	}
	srcs := dropNone(strings.Fields(parts[defaultSrc])[1:])
	directive := strings.Join(append(append([]string{"connect-src"}, srcs...), webSocketSrc), " ")
	base := strings.TrimRight(policy, cspSpace+";")
	if base == "" {
		return directive, true
	}
	return base + "; " + directive, true
}

// cspSpace is the ASCII whitespace that separates CSP tokens.
const cspSpace = " \t\n\f\r"

// dropNone removes 'none', which is only meaningful alone.
func dropNone(srcs []string) []string {
	var out []string
	for _, s := range srcs {
		if !strings.EqualFold(s, "'none'") {
			out = append(out, s)
		}
	}
	return out
}

// dropDirective removes every directive with this name from a policy.
func dropDirective(policy, name string) string {
	parts := strings.Split(policy, ";")
	out := parts[:0]
	for _, d := range parts {
		f := strings.Fields(d)
		if len(f) > 0 && strings.EqualFold(f[0], name) {
			continue
		}
		out = append(out, d)
	}
	return strings.Join(out, ";")
}
