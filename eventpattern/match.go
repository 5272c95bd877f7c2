package eventpattern

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
)

// Match reports whether event, a JSON object, matches the pattern. An event
// that is not a JSON object matches nothing. A nil Pattern matches every
// well-formed event.
func (p *Pattern) Match(event []byte) bool {
	if p == nil {
		// Every event passes through a sink's pattern, most often none:
		// validating is enough, and costs far less than decoding.
		return json.Valid(event) && bytes.HasPrefix(bytes.TrimLeft(event, " \t\r\n"), []byte("{"))
	}
	v, err := decode(event)
	if err != nil {
		return false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	return p.MatchValue(obj)
}

// MatchValue is Match for an event already decoded into a map, as
// encoding/json does with UseNumber: numbers must be json.Number, since an
// exact numeric match compares the number's text. A caller matching one
// event against many patterns decodes it once.
func (p *Pattern) MatchValue(event map[string]any) bool {
	if p == nil {
		return true
	}
	return p.root.match(event)
}

// match evaluates n against one object; obj is nil when the object is
// absent, so that exists:false leaves below it still match.
func (n *node) match(obj map[string]any) bool {
	for i := range n.fields {
		f := &n.fields[i]
		v, present := obj[f.key]
		if f.child != nil {
			if !f.child.matchValue(v) {
				return false
			}
			continue
		}
		if !matchLeaf(f.leaf, v, present) {
			return false
		}
	}
	for _, group := range n.ors {
		ok := false
		for _, alt := range group {
			if alt.match(obj) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchValue evaluates a nested pattern object against an event value. An
// array is crushed: the pattern object matches when it matches one of the
// objects found in the array (at any depth), so every field of the pattern
// object comes from the same element.
func (n *node) matchValue(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return n.match(v)
	case []any:
		var objs []map[string]any
		collectObjects(v, &objs)
		if len(objs) == 0 {
			return n.match(nil)
		}
		for _, o := range objs {
			if n.match(o) {
				return true
			}
		}
		return false
	}
	return n.match(nil)
}

func collectObjects(arr []any, out *[]map[string]any) {
	for _, e := range arr {
		switch e := e.(type) {
		case map[string]any:
			*out = append(*out, e)
		case []any:
			collectObjects(e, out)
		}
	}
}

// leafValues gathers the scalar values an event field holds: one for a
// scalar, every scalar at any depth for an array, none for an object or an
// absent field.
func leafValues(v any, present bool, out []any) []any {
	if !present {
		return out
	}
	switch v := v.(type) {
	case map[string]any:
		return out
	case []any:
		for _, e := range v {
			out = leafValues(e, true, out)
		}
		return out
	}
	return append(out, v)
}

func matchLeaf(ms []matcher, v any, present bool) bool {
	var buf [4]any
	vals := leafValues(v, present, buf[:0])
	for i := range ms {
		m := &ms[i]
		if m.kind == kExists {
			if m.exists == (len(vals) > 0) {
				return true
			}
			continue
		}
		for _, val := range vals {
			if m.matchScalar(val) {
				return true
			}
		}
	}
	return false
}

func (m *matcher) matchScalar(v any) bool {
	switch m.kind {
	case kExact:
		return literal(v) == m.value
	case kAnythingBut:
		if len(m.notNumbers) > 0 {
			num, ok := v.(json.Number)
			if !ok {
				return true
			}
			f, err := strconv.ParseFloat(string(num), 64)
			if err != nil {
				return true
			}
			for _, x := range m.notNumbers {
				if f == x {
					return false
				}
			}
			return true
		}
		// Operator forms (prefix, suffix, ...) judge strings only; an
		// exact-value list excludes by JSON text and lets other types pass.
		if _, isString := v.(string); !isString && m.not[0].kind != kExact {
			return false
		}
		for i := range m.not {
			if m.not[i].matchScalar(v) {
				return false
			}
		}
		return true
	case kNumeric:
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return false
		}
		if m.hasLo && (f < m.lo || (m.loOpen && f == m.lo)) {
			return false
		}
		if m.hasHi && (f > m.hi || (m.hiOpen && f == m.hi)) {
			return false
		}
		return true
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	switch m.kind {
	case kPrefix:
		return strings.HasPrefix(s, m.s)
	case kSuffix:
		return strings.HasSuffix(s, m.s)
	case kPrefixFold:
		return strings.HasPrefix(foldCase(s), m.s)
	case kSuffixFold:
		return strings.HasSuffix(foldCase(s), m.s)
	case kEqualsFold:
		return foldCase(s) == m.s
	case kWildcard:
		return matchWildcard(m.wild, s)
	case kCIDR:
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		return m.cidr.Contains(addr.Unmap()) || m.cidr.Contains(addr)
	}
	return false
}

// matchWildcard matches s against parts, the literal runs between '*'s:
// the first part anchors the start, the last the end, and the middle ones
// are found left to right, which is enough because '*' matches any run.
func matchWildcard(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	rest := s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}
