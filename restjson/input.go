package restjson

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/localcases/localcases/api"
)

// Text rules. Every string a client sends, in a path label, a query value, a
// header or the JSON body, must be valid UTF-8 without U+0000, because
// that is what every store can hold: PostgreSQL refuses both, and storing
// U+FFFD in place of a bad byte would keep something other than what the
// client sent. The answers:
//
//   - a body that is not UTF-8, or that escapes half a surrogate pair
//     (\ud800 alone), is not JSON text (RFC 8259 section 8): 400
//     SerializationException, and nothing is decoded;
//   - a member whose value, path label or query value holds U+0000 or bytes
//     that are not UTF-8: 400 ValidationException naming the member;
//   - a malformed query string (%zz), or a query key the operation reads
//     once given more than once: 400 SerializationException;
//   - a JSON object that gives a key twice: 400 SerializationException,
//     rather than letting the last one win, so no two readers of one body
//     can disagree about it; a member name in another case ("Name" for
//     name) is an unknown member, as it is to the SDKs.

// TextRule names the text rule s breaks, or "": for other ways in (a
// snapshot import) that must hold stored text to the same rules.
func TextRule(s string) string { return textRule(s) }

// textRule names the rule a string breaks, or "".
func textRule(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "Member must be valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "Member must not contain the NUL character (U+0000)"
	}
	return ""
}

func textError(member, rule string) error {
	return api.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: %s", member, rule)
}

// checkBodyText refuses a body that is not UTF-8 JSON text.
func checkBodyText(body []byte) error {
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, n := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return api.Errorf(api.CodeSerializationException, "The request body is not valid JSON: it is not UTF-8 at offset %d.", off)
	}
	if off := loneSurrogate(body); off >= 0 {
		return api.Errorf(api.CodeSerializationException, "The request body is not valid JSON: the escape at offset %d is half a UTF-16 surrogate pair.", off)
	}
	return nil
}

// loneSurrogate returns the offset of a \u escape inside a string that is a
// surrogate without its other half, or -1. encoding/json would turn it into
// U+FFFD without a word.
func loneSurrogate(body []byte) int {
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(body) {
				return -1
			}
			if body[i+1] != 'u' {
				i++
				continue
			}
			u, ok := hex4(body, i+2)
			if !ok {
				return -1 // not JSON; the decoder says so
			}
			switch {
			case u >= 0xDC00 && u <= 0xDFFF:
				return i
			case u >= 0xD800 && u <= 0xDBFF:
				if i+7 >= len(body) || body[i+6] != '\\' || body[i+7] != 'u' {
					return i
				}
				lo, ok := hex4(body, i+8)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return i
				}
				i += 11
			default:
				i += 5
			}
		}
	}
	return -1
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// checkKeys walks body, which has already decoded into a value of type t
// without error, beside t, and refuses what encoding/json lets through: a
// key given twice in one object (it keeps the last), and a member name
// spelt in another case (it matches names case-insensitively, so "NAME"
// would fill name and {"name":"a","Name":"b"} would be a duplicate by
// another route). Map keys are data and stay case-sensitive.
//
// It reads body once, byte by byte: body is known to be one valid JSON
// value, and each request runs it, so it takes no tokens from a
// json.Decoder (an allocation each) and looks members up in a table per
// struct type.
func checkKeys(body []byte, t reflect.Type) error {
	k := keyChecker{b: body}
	return k.value(t)
}

type keyChecker struct {
	b []byte
	i int
}

func (k *keyChecker) space() {
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case ' ', '\t', '\n', '\r':
			k.i++
		default:
			return
		}
	}
}

// value checks the value at k.i, of type t (nil: unknown), and moves past it.
func (k *keyChecker) value(t reflect.Type) error {
	k.space()
	if k.i >= len(k.b) {
		return nil
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch k.b[k.i] {
	case '{':
		return k.object(t)
	case '[':
		k.i++
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for {
			k.space()
			if k.i >= len(k.b) {
				return nil
			}
			if k.b[k.i] == ']' {
				k.i++
				return nil
			}
			if err := k.value(elem); err != nil {
				return err
			}
			k.space()
			if k.i < len(k.b) && k.b[k.i] == ',' {
				k.i++
			}
		}
	case '"':
		k.str()
	default:
		for k.i < len(k.b) {
			switch k.b[k.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return nil
			}
			k.i++
		}
	}
	return nil
}

func (k *keyChecker) object(t reflect.Type) error {
	k.i++
	var members map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		members = structMembers(t)
	}
	var seen []string
	for {
		k.space()
		if k.i >= len(k.b) {
			return nil
		}
		if k.b[k.i] == '}' {
			k.i++
			return nil
		}
		key := k.key()
		if slices.Contains(seen, key) {
			return api.Errorf(api.CodeSerializationException, "The request body gives the key %s twice in one object.", strconv.Quote(api.ClipTo(key, 128)))
		}
		seen = append(seen, key)
		var next reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Map:
				next = t.Elem()
			case reflect.Struct:
				ft, exact := members[key]
				if !exact {
					return api.Errorf(api.CodeSerializationException, "Unknown member %s in the request body.", strconv.Quote(api.ClipTo(key, 128)))
				}
				next = ft
			}
		}
		k.space()
		if k.i < len(k.b) && k.b[k.i] == ':' {
			k.i++
		}
		if err := k.value(next); err != nil {
			return err
		}
		k.space()
		if k.i < len(k.b) && k.b[k.i] == ',' {
			k.i++
		}
	}
}

// str moves past the string at k.i and returns its text as it appears.
func (k *keyChecker) str() []byte {
	start := k.i
	k.i++
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case '\\':
			k.i += 2
			continue
		case '"':
			k.i++
			return k.b[start:k.i]
		}
		k.i++
	}
	return k.b[start:]
}

// key reads an object's key: as written, unless it has escapes or
// characters beyond ASCII, which encoding/json's reading decides.
func (k *keyChecker) key() string {
	raw := k.str()
	plain := len(raw) >= 2
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// memberTables holds structMembers' answer for each struct type.
var memberTables sync.Map

// structMembers maps the JSON names of struct t's body members to their
// types.
func structMembers(t reflect.Type) map[string]reflect.Type {
	if m, ok := memberTables.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		if name, ok := bodyName(t.Field(i)); ok {
			if _, dup := m[name]; !dup {
				m[name] = t.Field(i).Type
			}
		}
	}
	memberTables.Store(t, m)
	return m
}

// bodyName is the JSON name of a struct field that travels in the body;
// false for unexported fields and members bound outside the body.
func bodyName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return "", false
	case "":
		return f.Name, true
	}
	return name, true
}

// badText finds a string in v, the decoded input, that breaks the text
// rules, and names its member the way validation messages do.
func badText(v reflect.Value, path string) (member, rule string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", ""
		}
		return badText(v.Elem(), path)
	case reflect.String:
		if r := textRule(v.String()); r != "" {
			return path, r
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", ""
		}
		for i := 0; i < v.Len(); i++ {
			if m, r := badText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); r != "" {
				return m, r
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if r := textRule(k.String()); r != "" {
					return path, "Map keys: " + r
				}
			}
			if m, r := badText(iter.Value(), path+"["+strconv.Quote(api.ClipTo(strings.ToValidUTF8(k.String(), ""), 128))+"]"); r != "" {
				return m, r
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			name, ok := bodyName(t.Field(i))
			if !ok {
				continue // members bound outside the body are the binding's to check
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			if m, r := badText(v.Field(i), p); r != "" {
				return m, r
			}
		}
	}
	return "", ""
}
