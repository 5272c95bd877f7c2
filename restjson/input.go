package restjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
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
func checkKeys(body []byte, t reflect.Type) error {
	type frame struct {
		t       reflect.Type // the container's type, pointers removed; nil if unknown
		object  bool
		keys    map[string]bool
		wantKey bool
		next    reflect.Type // the type of the value after the current key
	}
	var stack []*frame
	valueType := func() reflect.Type {
		if len(stack) == 0 {
			return t
		}
		top := stack[len(stack)-1]
		if top.object {
			return top.next
		}
		if top.t != nil && (top.t.Kind() == reflect.Slice || top.t.Kind() == reflect.Array) {
			return top.t.Elem()
		}
		return nil
	}
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if k, ok := tok.(string); ok {
				top := stack[n-1]
				if top.keys[k] {
					return api.Errorf(api.CodeSerializationException, "The request body gives the key %s twice in one object.", strconv.Quote(api.ClipTo(k, 128)))
				}
				top.keys[k] = true
				top.wantKey = false
				top.next = nil
				if top.t != nil {
					switch top.t.Kind() {
					case reflect.Map:
						top.next = top.t.Elem()
					case reflect.Struct:
						ft, exact := structMember(top.t, k)
						if !exact {
							return api.Errorf(api.CodeSerializationException, "Unknown member %s in the request body.", strconv.Quote(api.ClipTo(k, 128)))
						}
						top.next = ft
					}
				}
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			vt := valueType()
			for vt != nil && vt.Kind() == reflect.Pointer {
				vt = vt.Elem()
			}
			f := &frame{t: vt, object: tok == json.Delim('{')}
			if f.object {
				f.keys, f.wantKey = map[string]bool{}, true
			}
			stack = append(stack, f)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// structMember returns the type of the member of struct t whose JSON name
// is exactly name, and whether there is one.
func structMember(t reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tag, ok := bodyName(t.Field(i)); ok && tag == name {
			return t.Field(i).Type, true
		}
	}
	return nil, false
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
