package restjson_test

import (
	"strings"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/restjson"
)

// TestTextRules: NUL and bytes that are not UTF-8 are refused wherever a
// client can put them, with the member named, before the service runs; a
// body that is not UTF-8 JSON text is not JSON. Lenient parses (a bad query
// escape, a scalar query key given twice, a JSON key given twice) are
// refused rather than guessed at. The rules are restjson/input.go's.
func TestTextRules(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	tests := []struct {
		name, method, path, body string
		code                     api.ErrorCode
		msg                      string
	}{
		{name: "NUL in a path label", method: "POST", path: "/domains/abc%00def",
			code: api.CodeValidationException, msg: "Value at 'domainId' failed to satisfy constraint: Member must not contain the NUL character (U+0000)"},
		{name: "bytes that are not UTF-8 in a path label", method: "POST", path: "/domains/%FF%FE",
			code: api.CodeValidationException, msg: "Value at 'domainId' failed to satisfy constraint: Member must be valid UTF-8"},
		{name: "NUL in a query value", method: "POST", path: "/domains-list?nextToken=a%00b",
			code: api.CodeValidationException, msg: "'nextToken'"},
		{name: "bytes that are not UTF-8 in a repeated query value", method: "DELETE", path: "/tags/arn%3Ax?tagKeys=ok&tagKeys=%C3",
			code: api.CodeValidationException, msg: "'tagKeys[1]'"},
		{name: "NUL in a body string", method: "POST", path: "/domains", body: `{"name":"bad\u0000name"}`,
			code: api.CodeValidationException, msg: "Value at 'name' failed to satisfy constraint: Member must not contain the NUL character"},
		{name: "NUL deep in a body", method: "POST", path: "/domains/d/cases/c/related-items/", body: `{"type":"Contact","content":{"contact":{"contactArn":"arn\u0000"}}}`,
			code: api.CodeValidationException, msg: "'content.contact.contactArn'"},
		{name: "NUL in a list of a body", method: "POST", path: "/domains/d/fields-batch", body: `{"fields":[{"id":"ok"},{"id":"x\u0000"}]}`,
			code: api.CodeValidationException, msg: "'fields[1].id'"},
		{name: "NUL in a map key", method: "POST", path: "/tags/arn%3Ax", body: `{"tags":{"k\u0000":"v"}}`,
			code: api.CodeValidationException, msg: "'tags'"},
		{name: "body that is not UTF-8", method: "POST", path: "/domains", body: "{\"name\":\"bad\xff\xfe\"}",
			code: api.CodeSerializationException, msg: "not UTF-8 at offset 12"},
		{name: "half a surrogate pair", method: "POST", path: "/domains", body: `{"name":"a\ud800b"}`,
			code: api.CodeSerializationException, msg: "surrogate"},
		{name: "a low surrogate alone", method: "POST", path: "/domains", body: `{"name":"\udc00"}`,
			code: api.CodeSerializationException, msg: "surrogate"},
		{name: "a high surrogate before another escape", method: "POST", path: "/domains", body: `{"name":"\ud800\u0041"}`,
			code: api.CodeSerializationException, msg: "surrogate"},
		{name: "bad query escape", method: "POST", path: "/domains-list?maxResults=%zz",
			code: api.CodeSerializationException, msg: `invalid URL escape "%zz"`},
		{name: "bad escape in an unbound query key", method: "POST", path: "/domains-list?x=%zz",
			code: api.CodeSerializationException, msg: "query string is malformed"},
		{name: "scalar query key given twice", method: "POST", path: "/domains-list?maxResults=1&maxResults=2",
			code: api.CodeSerializationException, msg: "maxResults is given 2 times"},
		{name: "scalar query key given 1,000 times", method: "POST", path: "/domains-list?" + strings.Repeat("maxResults=1&", 1000),
			code: api.CodeSerializationException, msg: "given 1000 times"},
		{name: "duplicate JSON key", method: "POST", path: "/domains", body: `{"name":"a","name":"b"}`,
			code: api.CodeSerializationException, msg: `key "name" twice`},
		{name: "duplicate JSON key, escaped", method: "POST", path: "/domains", body: `{"name":"a","n\u0061me":"b"}`,
			code: api.CodeSerializationException, msg: `key "name" twice`},
		{name: "member name in another case", method: "POST", path: "/domains", body: `{"NAME":"a"}`,
			code: api.CodeSerializationException, msg: `Unknown member "NAME"`},
		{name: "duplicate by case", method: "POST", path: "/domains", body: `{"name":"a","Name":"b"}`,
			code: api.CodeSerializationException, msg: `Unknown member "Name"`},
		{name: "nested member name in another case", method: "POST", path: "/domains/d/fields-batch", body: `{"fields":[{"ID":"a"}]}`,
			code: api.CodeSerializationException, msg: `Unknown member "ID"`},
		{name: "duplicate nested JSON key", method: "POST", path: "/domains/d/fields-batch", body: `{"fields":[{"id":"a","id":"b"}]}`,
			code: api.CodeSerializationException, msg: `key "id" twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, srv, tc.method, tc.path, tc.body)
			eb := wantError(t, resp, body, 400, tc.code)
			if !strings.Contains(eb.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", eb.Message, tc.msg)
			}
		})
	}
	for _, op := range []string{"CreateDomain", "GetDomain", "ListDomains", "UntagResource", "TagResource", "CreateRelatedItem", "BatchGetField"} {
		if s.called(op) {
			t.Errorf("%s: a refused request reached the service", op)
		}
	}
}

// TestTextRulesKeepGoodText: what the rules must not touch.
func TestTextRulesKeepGoodText(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	for _, tc := range []struct{ name, method, path, body string }{
		{"a surrogate pair", "POST", "/domains", `{"name":"\ud83d\ude00 ok"}`},
		{"U+FFFD itself", "POST", "/domains", `{"name":"\ufffd ok"}`},
		{"an escaped backslash before u0000", "POST", "/domains", `{"name":"a\\u0000b"}`},
		{"the same key in two objects", "POST", "/domains/d/fields-batch", `{"fields":[{"id":"a"},{"id":"b"}]}`},
		{"map keys differing in case", "POST", "/tags/arn%3Ax", `{"tags":{"Env":"a","env":"b"}}`},
		{"a deep union in the model's spelling", "POST", "/domains/d/cases/c/related-items/", `{"type":"Comment","content":{"comment":{"body":"b","contentType":"Text/Plain"}}}`},
		{"multi-byte text in a path", "POST", "/domains/%C3%A9t%C3%A9", ""},
		{"a list query key given twice", "DELETE", "/tags/arn%3Ax?tagKeys=a&tagKeys=b", ""},
		{"an unknown query key given twice", "POST", "/domains-list?x=1&x=2", ""},
	} {
		resp, body := do(t, srv, tc.method, tc.path, tc.body)
		if resp.StatusCode == 400 {
			t.Errorf("%s: refused: %s", tc.name, body)
		}
	}
}
