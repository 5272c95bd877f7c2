package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	root   *node
	source string
}

// String returns the pattern's JSON text as given to Compile.
func (p *Pattern) String() string {
	if p == nil {
		return ""
	}
	return p.source
}

// Error is a pattern that Compile refused: Path names the place in the
// pattern (dotted field names, "[i]" for a leaf's i-th alternative) and
// Reason says what is wrong there.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "invalid event pattern: " + e.Reason
	}
	return "invalid event pattern at " + e.Path + ": " + e.Reason
}

// node is one object level of a pattern: every field must match and every
// $or group must have one matching alternative.
type node struct {
	fields []field
	ors    [][]*node
}

// field is one key of a pattern object: either a nested object (child) or a
// leaf list of alternatives.
type field struct {
	key   string
	child *node
	leaf  []matcher
}

type kind int

const (
	kExact       kind = iota // value: JSON text of a string, number, true, false or null
	kPrefix                  // s
	kPrefixFold              // s lower-cased
	kSuffix                  // s
	kSuffixFold              // s lower-cased
	kEqualsFold              // s lower-cased
	kWildcard                // wild
	kNumeric                 // lo/hi bounds
	kExists                  // exists
	kCIDR                    // prefix
	kAnythingBut             // not: the matchers a value must all fail
)

type matcher struct {
	kind kind
	// kExact: the canonical JSON text; strings are stored quoted so that
	// "300" and 300 differ.
	value  string
	s      string
	wild   []string // wildcard split on unescaped '*'
	exists bool
	cidr   netip.Prefix

	// numeric: value must satisfy lo (if hasLo) and hi (if hasHi).
	hasLo, loOpen, hasHi, hiOpen bool
	lo, hi                       float64

	// anything-but: the value must be a string (or number, for numeric
	// lists) that none of these match.
	not        []matcher
	notNumbers []float64
}

// Compile parses an EventBridge event pattern. The error, an *Error, names
// the field and says what is wrong with it.
func Compile(pattern []byte) (*Pattern, error) {
	v, err := decode(pattern)
	if err != nil {
		return nil, &Error{Reason: err.Error()}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Reason: "a pattern must be a JSON object, not " + jsonKind(v)}
	}
	root, err := compileObject(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: root, source: string(pattern)}, nil
}

// decode reads exactly one JSON value, keeping numbers as their text.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty input; a pattern is a JSON object")
		}
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not valid JSON: data after the pattern object")
	}
	return v, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func compileObject(obj map[string]any, path string) (*node, error) {
	if len(obj) == 0 {
		return nil, &Error{Path: path, Reason: "empty object; name at least one field to match"}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors name the same field on every run
	n := &node{}
	for _, k := range keys {
		v := obj[k]
		p := join(path, k)
		if k == "$or" {
			if alts, ok := orAlternatives(v); ok {
				group := make([]*node, 0, len(alts))
				for i, a := range alts {
					child, err := compileObject(a, fmt.Sprintf("%s[%d]", p, i))
					if err != nil {
						return nil, err
					}
					group = append(group, child)
				}
				n.ors = append(n.ors, group)
				continue
			}
		}
		switch v := v.(type) {
		case map[string]any:
			child, err := compileObject(v, p)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, child: child})
		case []any:
			leaf, err := compileLeaf(v, p)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, leaf: leaf})
		default:
			return nil, &Error{Path: p, Reason: "a field's value must be an array of alternatives or a nested object, not " + jsonKind(v) +
				"; write [" + shortJSON(v) + "]"}
		}
	}
	return n, nil
}

// orAlternatives reports whether v is a real "$or": an array of two or more
// objects, none of them an operator object. event-ruler treats anything else
// as a field named "$or".
func orAlternatives(v any) ([]map[string]any, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr) < 2 {
		return nil, false
	}
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		for k := range o {
			if _, reserved := operators[k]; reserved {
				return nil, false
			}
		}
		out = append(out, o)
	}
	return out, true
}

var operators = map[string]struct{}{
	"prefix": {}, "suffix": {}, "equals-ignore-case": {}, "wildcard": {},
	"anything-but": {}, "numeric": {}, "exists": {}, "cidr": {},
}

func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 40 {
		return "..."
	}
	return string(b)
}

func compileLeaf(arr []any, path string) ([]matcher, error) {
	if len(arr) == 0 {
		return nil, &Error{Path: path, Reason: "empty array; list at least one value to match"}
	}
	out := make([]matcher, 0, len(arr))
	for i, e := range arr {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch e := e.(type) {
		case map[string]any:
			m, err := compileOperator(e, p)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		case []any:
			return nil, &Error{Path: p, Reason: "arrays cannot nest inside a pattern's value list"}
		default:
			out = append(out, matcher{kind: kExact, value: literal(e)})
		}
	}
	return out, nil
}

// literal is the canonical text an exact match compares: strings quoted so
// that the string "true" and the literal true differ, numbers as written.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case json.Number:
		return string(v)
	case string:
		return strconv.Quote(v)
	}
	return ""
}

func compileOperator(obj map[string]any, path string) (matcher, error) {
	if len(obj) != 1 {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, strconv.Quote(k))
		}
		sort.Strings(keys)
		return matcher{}, &Error{Path: path, Reason: "an operator object holds exactly one operator, found " +
			strconv.Itoa(len(obj)) + " keys {" + strings.Join(keys, ", ") + "}"}
	}
	var op string
	var arg any
	for k, v := range obj {
		op, arg = k, v
	}
	p := path + "." + op
	switch op {
	case "prefix", "suffix":
		s, fold, err := stringOrFold(arg, p, op)
		if err != nil {
			return matcher{}, err
		}
		k := map[[2]bool]kind{{false, false}: kPrefix, {false, true}: kPrefixFold, {true, false}: kSuffix, {true, true}: kSuffixFold}[[2]bool{op == "suffix", fold}]
		if fold {
			s = foldCase(s)
		}
		return matcher{kind: k, s: s}, nil
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, &Error{Path: p, Reason: "needs a string, not " + jsonKind(arg)}
		}
		return matcher{kind: kEqualsFold, s: foldCase(s)}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, &Error{Path: p, Reason: "needs a string, not " + jsonKind(arg)}
		}
		parts, err := parseWildcard(s)
		if err != nil {
			return matcher{}, &Error{Path: p, Reason: err.Error()}
		}
		return matcher{kind: kWildcard, wild: parts}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return matcher{}, &Error{Path: p, Reason: "needs true or false, not " + jsonKind(arg)}
		}
		return matcher{kind: kExists, exists: b}, nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, &Error{Path: p, Reason: "needs a string such as \"10.0.0.0/24\", not " + jsonKind(arg)}
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return matcher{}, &Error{Path: p, Reason: fmt.Sprintf("%q is not an IPv4 or IPv6 CIDR block", s)}
		}
		return matcher{kind: kCIDR, cidr: pfx.Masked()}, nil
	case "numeric":
		return compileNumeric(arg, p)
	case "anything-but":
		return compileAnythingBut(arg, p)
	}
	return matcher{}, &Error{Path: path, Reason: fmt.Sprintf("unknown operator %q; known: anything-but, cidr, equals-ignore-case, exists, numeric, prefix, suffix, wildcard", op)}
}

// stringOrFold reads the operand of prefix and suffix: a string, or
// {"equals-ignore-case": string}.
func stringOrFold(arg any, path, op string) (string, bool, error) {
	switch a := arg.(type) {
	case string:
		return a, false, nil
	case map[string]any:
		if s, ok := a["equals-ignore-case"].(string); ok && len(a) == 1 {
			return s, true, nil
		}
	}
	return "", false, &Error{Path: path, Reason: op + ` needs a string or {"equals-ignore-case": string}, not ` + jsonKind(arg)}
}

// foldCase is the case-insensitive comparison form of s. Lower-casing the
// upper-cased string folds the pairs (such as ſ and s) that ToLower alone
// keeps apart.
func foldCase(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}

// parseWildcard splits s on unescaped '*'. The parts are literal text; a
// one-part result has no wildcard.
func parseWildcard(s string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, errors.New(`a backslash may only escape "*" or "\"`)
			}
			i++
			cur.WriteByte(s[i])
			prevStar = false
		case '*':
			if prevStar {
				return nil, errors.New(`consecutive wildcard characters "**" are not allowed`)
			}
			parts = append(parts, cur.String())
			cur.Reset()
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	return append(parts, cur.String()), nil
}

var numericOps = map[string]bool{"<": true, "<=": true, "=": true, ">": true, ">=": true}

func compileNumeric(arg any, path string) (matcher, error) {
	arr, ok := arg.([]any)
	if !ok || len(arr) == 0 || len(arr)%2 != 0 || len(arr) > 4 {
		return matcher{}, &Error{Path: path, Reason: `needs one or two comparisons such as [">", 0, "<=", 5]`}
	}
	m := matcher{kind: kNumeric}
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok || !numericOps[op] {
			return matcher{}, &Error{Path: fmt.Sprintf("%s[%d]", path, i), Reason: fmt.Sprintf(`%s is not a comparison; use one of "<", "<=", "=", ">", ">="`, shortJSON(arr[i]))}
		}
		num, ok := arr[i+1].(json.Number)
		if !ok {
			return matcher{}, &Error{Path: fmt.Sprintf("%s[%d]", path, i+1), Reason: op + " needs a JSON number, not " + jsonKind(arr[i+1])}
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || math.IsInf(f, 0) {
			return matcher{}, &Error{Path: fmt.Sprintf("%s[%d]", path, i+1), Reason: fmt.Sprintf("%s is out of range", num)}
		}
		switch op {
		case "=":
			if len(arr) != 2 {
				return matcher{}, &Error{Path: path, Reason: `"=" cannot be combined with another comparison`}
			}
			m.hasLo, m.lo, m.hasHi, m.hi = true, f, true, f
		case ">", ">=":
			if m.hasLo {
				return matcher{}, &Error{Path: path, Reason: "two lower bounds; a range is one lower and one upper bound"}
			}
			m.hasLo, m.loOpen, m.lo = true, op == ">", f
		case "<", "<=":
			if m.hasHi {
				return matcher{}, &Error{Path: path, Reason: "two upper bounds; a range is one lower and one upper bound"}
			}
			m.hasHi, m.hiOpen, m.hi = true, op == "<", f
		}
	}
	if m.hasLo && m.hasHi && (m.lo > m.hi || (m.lo == m.hi && (m.loOpen || m.hiOpen))) {
		return matcher{}, &Error{Path: path, Reason: "the range is empty: its lower bound is not below its upper bound"}
	}
	return m, nil
}

func compileAnythingBut(arg any, path string) (matcher, error) {
	m := matcher{kind: kAnythingBut}
	switch a := arg.(type) {
	case string:
		m.not = []matcher{{kind: kExact, value: literal(a)}}
	case json.Number:
		f, err := strconv.ParseFloat(string(a), 64)
		if err != nil {
			return matcher{}, &Error{Path: path, Reason: fmt.Sprintf("%s is out of range", a)}
		}
		m.notNumbers = []float64{f}
	case []any:
		if len(a) == 0 {
			return matcher{}, &Error{Path: path, Reason: "empty list; list at least one value to exclude"}
		}
		_, firstIsString := a[0].(string)
		for i, e := range a {
			ep := fmt.Sprintf("%s[%d]", path, i)
			switch e := e.(type) {
			case string:
				if !firstIsString {
					return matcher{}, &Error{Path: ep, Reason: "a list is all strings or all numbers, not a mix"}
				}
				m.not = append(m.not, matcher{kind: kExact, value: literal(e)})
			case json.Number:
				if firstIsString {
					return matcher{}, &Error{Path: ep, Reason: "a list is all strings or all numbers, not a mix"}
				}
				f, err := strconv.ParseFloat(string(e), 64)
				if err != nil {
					return matcher{}, &Error{Path: ep, Reason: fmt.Sprintf("%s is out of range", e)}
				}
				m.notNumbers = append(m.notNumbers, f)
			default:
				return matcher{}, &Error{Path: ep, Reason: "needs a string or a number, not " + jsonKind(e)}
			}
		}
	case map[string]any:
		if len(a) != 1 {
			return matcher{}, &Error{Path: path, Reason: "an anything-but object holds exactly one of prefix, suffix, equals-ignore-case, wildcard"}
		}
		for op, v := range a {
			sub := path + "." + op
			switch op {
			case "prefix", "suffix", "equals-ignore-case", "wildcard":
			default:
				return matcher{}, &Error{Path: path, Reason: fmt.Sprintf("anything-but cannot hold %q; use prefix, suffix, equals-ignore-case or wildcard", op)}
			}
			var strs []string
			switch v := v.(type) {
			case string:
				strs = []string{v}
			case []any:
				// event-ruler takes lists here too: anything but any of them.
				if len(v) == 0 {
					return matcher{}, &Error{Path: sub, Reason: "empty list"}
				}
				for i, e := range v {
					s, ok := e.(string)
					if !ok {
						return matcher{}, &Error{Path: fmt.Sprintf("%s[%d]", sub, i), Reason: "needs a string, not " + jsonKind(e)}
					}
					strs = append(strs, s)
				}
			default:
				return matcher{}, &Error{Path: sub, Reason: "needs a string, not " + jsonKind(v)}
			}
			for _, s := range strs {
				switch op {
				case "prefix":
					m.not = append(m.not, matcher{kind: kPrefix, s: s})
				case "suffix":
					m.not = append(m.not, matcher{kind: kSuffix, s: s})
				case "equals-ignore-case":
					m.not = append(m.not, matcher{kind: kEqualsFold, s: foldCase(s)})
				case "wildcard":
					parts, err := parseWildcard(s)
					if err != nil {
						return matcher{}, &Error{Path: sub, Reason: err.Error()}
					}
					m.not = append(m.not, matcher{kind: kWildcard, wild: parts})
				}
			}
		}
	default:
		return matcher{}, &Error{Path: path, Reason: "needs a string, a number, a list, or an object with prefix, suffix, equals-ignore-case or wildcard; not " + jsonKind(arg)}
	}
	return m, nil
}
