package restjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/localcases/localcases/api"
)

// FuzzCheckKeys holds checkKeys to checkKeysReference, the walk with
// json.Decoder tokens it replaced: for every body that decodes into an
// operation's input, both give the same answer.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"name":"a","name":"b"}`,
		`{"Name":"a"}`,
		`{"fields":[{"id":"a","ID":"b"}]}`,
		`{"tags":{"k":"v","k":"w"}}`,
		`{"tags":{"K":"v","k":"w"}}`,
		`{"na\u006de":"a","name":"b"}`,
		`{ "fields" : [ { "id" : "a" , "value" : { "stringValue" : "x\"}" } } ] , "templateId" : "t" }`,
		`{"performedBy":{"customEntity":"é","customEntity":"x"}}`,
		`{"filter":{"andAll":[{"not":{"field":{"equalTo":{"id":"a","value":{"doubleValue":-1.5e3}}}}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range api.Operations {
			in := op.NewInput()
			// checkKeys runs on a body that decoded into in.
			if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, in) != nil {
				continue
			}
			got, want := checkKeys(body, reflect.TypeOf(in)), checkKeysReference(body, reflect.TypeOf(in))
			if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
				t.Fatalf("%s: %q: checkKeys %v, reference %v", op.Name, body, got, want)
			}
		}
	})
}

// checkKeysReference is checkKeys as it was: the same rules, with the
// tokens of a json.Decoder.
func checkKeysReference(body []byte, t reflect.Type) error {
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
