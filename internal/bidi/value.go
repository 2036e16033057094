package bidi

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// RemoteValue is a JavaScript value as BiDi serializes it, such as
// {"type": "number", "value": 3}. Use [RemoteValue.Decode] to get a Go value.
type RemoteValue struct {
	// Type is the JavaScript type: "undefined", "null", "string", "number",
	// "boolean", "bigint", "array", "object", "map", "set", "date",
	// "regexp", "function", "node", "window", "promise" and so on.
	Type string `json:"type"`
	// Value is the type-specific serialized value, if any.
	Value json.RawMessage `json:"value,omitempty"`
	// Handle refers to the object in its realm when ownership was "root".
	Handle string `json:"handle,omitempty"`
	// SharedID refers to a DOM node across realms.
	SharedID string `json:"sharedId,omitempty"`
	// InternalID identifies an object within one serialization.
	InternalID string `json:"internalId,omitempty"`
}

// Plain converts the value into plain Go data, the way encoding/json would
// decode JSON.stringify of it: objects and maps with string keys become
// map[string]any, arrays and sets []any, numbers float64, bigints and dates
// strings, undefined and non-serializable values (functions, nodes, windows,
// promises, …) nil. NaN and ±Infinity become nil as in JSON.stringify, and
// -0 becomes 0.
func (v RemoteValue) Plain() (any, error) {
	switch v.Type {
	case "", "undefined", "null", "function", "symbol", "weakmap", "weakset",
		"generator", "error", "proxy", "promise", "typedarray", "arraybuffer",
		"nodelist", "htmlcollection", "node", "window":
		return nil, nil
	case "string", "bigint", "date":
		var s string
		if err := json.Unmarshal(v.Value, &s); err != nil {
			return nil, fmt.Errorf("failed to decode a %s: %w", v.Type, err)
		}
		return s, nil
	case "boolean":
		var b bool
		if err := json.Unmarshal(v.Value, &b); err != nil {
			return nil, fmt.Errorf("failed to decode a boolean: %w", err)
		}
		return b, nil
	case "number":
		var f float64
		if err := json.Unmarshal(v.Value, &f); err == nil {
			if f == 0 {
				return 0.0, nil
			}
			return f, nil
		}
		var s string
		if err := json.Unmarshal(v.Value, &s); err != nil {
			return nil, fmt.Errorf("failed to decode a number: %w", err)
		}
		if s == "-0" {
			return 0.0, nil
		}
		return nil, nil // NaN, Infinity, -Infinity
	case "regexp":
		var r struct {
			Pattern string `json:"pattern"`
			Flags   string `json:"flags"`
		}
		if err := json.Unmarshal(v.Value, &r); err != nil {
			return nil, fmt.Errorf("failed to decode a regexp: %w", err)
		}
		return map[string]any{}, nil // as JSON.stringify
	case "array", "set":
		var items []RemoteValue
		if len(v.Value) == 0 {
			return nil, nil // beyond maxObjectDepth
		}
		if err := json.Unmarshal(v.Value, &items); err != nil {
			return nil, fmt.Errorf("failed to decode an %s: %w", v.Type, err)
		}
		out := make([]any, len(items))
		for i, item := range items {
			p, err := item.Plain()
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case "object", "map":
		if len(v.Value) == 0 {
			return nil, nil // beyond maxObjectDepth
		}
		var pairs [][2]json.RawMessage
		if err := json.Unmarshal(v.Value, &pairs); err != nil {
			return nil, fmt.Errorf("failed to decode an %s: %w", v.Type, err)
		}
		out := make(map[string]any, len(pairs))
		for _, pair := range pairs {
			var key string
			if err := json.Unmarshal(pair[0], &key); err != nil {
				// A map key that is not a string is itself a remote value.
				var kv RemoteValue
				if err := json.Unmarshal(pair[0], &kv); err != nil {
					return nil, fmt.Errorf("failed to decode a key: %w", err)
				}
				k, err := kv.Plain()
				if err != nil {
					return nil, err
				}
				key = fmt.Sprint(k)
			}
			var val RemoteValue
			if err := json.Unmarshal(pair[1], &val); err != nil {
				return nil, fmt.Errorf("failed to decode the value of %q: %w", key, err)
			}
			if val.Type == "undefined" || val.Type == "function" || val.Type == "symbol" {
				continue // JSON.stringify drops these
			}
			p, err := val.Plain()
			if err != nil {
				return nil, err
			}
			out[key] = p
		}
		return out, nil
	default:
		return nil, nil
	}
}

// Decode stores the value into out as encoding/json would store the JSON of
// [RemoteValue.Plain].
func (v RemoteValue) Decode(out any) error {
	p, err := v.Plain()
	if err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("failed to encode the remote value: %w", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("failed to decode the remote value: %w", err)
	}
	return nil
}

// LocalValue is a value serialized for BiDi, an argument of
// script.callFunction.
type LocalValue = json.RawMessage

// LocalValueOf serializes the JSON encoding of v as a BiDi local value: v is
// marshalled with encoding/json, then objects become "object", arrays
// "array", and so on.
func LocalValueOf(v any) (LocalValue, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("failed to encode an argument: %w", err)
	}
	var plain any
	if err := json.Unmarshal(b, &plain); err != nil {
		return nil, fmt.Errorf("failed to decode an argument: %w", err)
	}
	out, err := json.Marshal(localValue(plain))
	if err != nil {
		return nil, fmt.Errorf("failed to encode an argument: %w", err)
	}
	return out, nil
}

func localValue(v any) map[string]any {
	switch v := v.(type) {
	case nil:
		return map[string]any{"type": "null"}
	case bool:
		return map[string]any{"type": "boolean", "value": v}
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return map[string]any{"type": "null"}
		}
		return map[string]any{"type": "number", "value": v}
	case string:
		return map[string]any{"type": "string", "value": v}
	case []any:
		items := make([]any, len(v))
		for i, item := range v {
			items[i] = localValue(item)
		}
		return map[string]any{"type": "array", "value": items}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := make([]any, len(keys))
		for i, k := range keys {
			pairs[i] = []any{k, localValue(v[k])}
		}
		return map[string]any{"type": "object", "value": pairs}
	default:
		return map[string]any{"type": "null"}
	}
}
