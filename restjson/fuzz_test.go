package restjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/localcases/localcases/api"
)

// Bodies real clients send, one or more per shape family, so the fuzzer
// starts from inputs that get past the JSON decoder and into Validate.
var bodySeeds = []string{
	``,
	`{}`,
	`null`,
	`{"name":"My domain"}`,
	`{"name":"abc "}`,
	`{"fields":[{"id":"status"},{"id":"title"}]}`,
	`{"fields":[{"id":"f1","value":{"stringValue":"hello"}},{"id":"f2","value":{"doubleValue":1.5}},{"id":"f3","value":{"booleanValue":true}},{"id":"f4","value":{"emptyValue":{}}},{"id":"f5","value":{"userArnValue":"arn:aws:connect:us-east-1:1:instance/i/agent/a"}}],"templateId":"t1","clientToken":"tok","tags":{"team":"a","aws:x":"b"},"performedBy":{"userArn":"arn:u"}}`,
	`{"fields":[{"id":"f1","value":{"stringValue":"x","booleanValue":false}}]}`,
	`{"filter":{"andAll":[{"field":{"equalTo":{"id":"status","value":{"stringValue":"open"}}}},{"not":{"tag":{"equalTo":{"key":"k","value":"v"}}}},{"orAll":[{"field":{"contains":{"id":"title","value":{"stringValue":"x"}}}}]}]},"searchTerm":"q","sorts":[{"fieldId":"created_datetime","sortOrder":"Desc"}],"maxResults":25,"fields":[{"id":"title"}]}`,
	`{"maxResults":"x"}`,
	`{"maxResults":1e3}`,
	`{"maxResults":-2147483649}`,
	`{"type":"Comment","content":{"comment":{"body":"hi","contentType":"Text/Plain"}},"performedBy":{"customEntity":"bot"}}`,
	`{"type":"Sla","content":{"sla":{"slaInputConfiguration":{"name":"s","type":"CaseField","fieldId":"status","targetFieldValues":[{"stringValue":"closed"}],"targetSlaMinutes":1051201}}}}`,
	`{"type":"Contact","content":{"contact":{"contactArn":"arn:c"}}}`,
	`{"name":"layout","content":{"basic":{"topPanel":{"sections":[{"fieldGroup":{"name":"g","fields":[{"id":"title"}]}}]},"moreInfo":{"sections":[]}}}}`,
	`{"name":"rule","rule":{"required":{"defaultValue":false,"conditions":[{"equalTo":{"operandOne":{"fieldId":"status"},"operandTwo":{"stringValue":"open"},"result":true}}]}}}`,
	`{"name":"t","description":"d","layoutConfiguration":{"defaultLayout":"l"},"requiredFields":[{"fieldId":"title"}],"status":"Active","rules":[{"caseRuleId":"r","fieldId":"f"}],"tagPropagationConfigurations":[{"resourceType":"Cases","tagMap":{"k":"v"}}]}`,
	`{"name":"f","type":"SingleSelect","description":"d","attributes":{"text":{"isMultiline":true}}}`,
	`{"options":[{"name":"Open","value":"open","active":true},{"name":"x ","value":"","active":false}]}`,
	`{"eventBridge":{"enabled":true,"includedData":{"caseData":{"fields":[{"id":"status"}]},"relatedItemData":{"includeContent":true}}}}`,
	`{"tags":{"k":"v","n":null}}`,
	`{"contactArn":"arn:aws:connect:us-east-1:1:instance/i/contact/c"}`,
	`{"filters":[{"contact":{"channel":["VOICE"],"contactArn":"arn"}},{"comment":{}}]}`,
	`{"createdTime":"2022-03-16T23:16:57.893Z"}`,
	`{"name":"x"}{"name":"y"}`,
	`{"name":"x"} trailing`,
	`[]`,
	`"string"`,
	`{"name":"\ud800"}`,
	`{"name":"\ud83d\ude00","name":"x"}`,
	"{\"name\":\"bad\xff\xfe\"}",
	`{"name":"a\u0000b"}`,
	`{"name":"` + strings.Repeat("é", 101) + `"}`,
	`{"filter":` + strings.Repeat(`{"not":`, 200) + `{}` + strings.Repeat(`}`, 200) + `}`,
}

// FuzzDecode feeds arbitrary bytes to every operation's body decoder and then
// to Validate. Whatever the bytes, the result is nil or an *api.Error the
// handler can send as a 4xx, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range api.Operations {
			in := op.NewInput()
			err := decodeJSON(body, in)
			if err == nil {
				err = in.Validate()
			}
			if err == nil {
				continue
			}
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("%s: decode/validate returned %T %v, want *api.Error", op.Name, err, err)
			}
			if st := ae.Code.Status(); st < 400 || st >= 500 {
				t.Fatalf("%s: %s has status %d, want a 4xx", op.Name, ae.Code, st)
			}
			if ae.Message == "" {
				t.Fatalf("%s: %s without a message", op.Name, ae.Code)
			}
		}
	})
}

// routeStub answers a few operations successfully so FuzzRoute reaches
// output encoding; the rest answer NotImplementedException (501).
type routeStub struct{ api.NotImplemented }

func (routeStub) GetDomain(_ context.Context, in *api.GetDomainRequest) (*api.GetDomainResponse, error) {
	return &api.GetDomainResponse{DomainId: in.DomainId}, nil
}

func (routeStub) DeleteDomain(context.Context, *api.DeleteDomainRequest) (*api.DeleteDomainResponse, error) {
	return &api.DeleteDomainResponse{}, nil
}

func (routeStub) ListDomains(context.Context, *api.ListDomainsRequest) (*api.ListDomainsResponse, error) {
	return &api.ListDomainsResponse{Domains: []api.DomainSummary{}}, nil
}

func (routeStub) ListTagsForResource(_ context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	return &api.ListTagsForResourceResponse{Tags: map[string]*string{"arn": in.Arn}}, nil
}

func (routeStub) UntagResource(context.Context, *api.UntagResourceRequest) error { return nil }

func (routeStub) ListCaseRules(context.Context, *api.ListCaseRulesRequest) (*api.ListCaseRulesResponse, error) {
	return &api.ListCaseRulesResponse{CaseRules: []api.CaseRuleSummary{}}, nil
}

func (routeStub) ListTemplates(_ context.Context, in *api.ListTemplatesRequest) (*api.ListTemplatesResponse, error) {
	return &api.ListTemplatesResponse{Templates: []api.TemplateSummary{}}, nil
}

// validMethod mirrors net/http's check on the request line: a method the
// server would refuse before any handler runs is not worth fuzzing.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range []byte(m) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// FuzzRoute sends arbitrary methods, request targets and bodies through the
// handler. Every answer must be one an AWS SDK can parse: 200 with a JSON
// body, or the error shape with X-Amzn-ErrorType, and never a 5xx the stub
// did not produce, a redirect, or a panic.
func FuzzRoute(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"POST", "/domains", `{"name":"d"}`},
		{"POST", "/domains/d1", ""},
		{"DELETE", "/domains/d1", ""},
		{"GET", "/domains/d1", ""},
		{"POST", "/domains-list?maxResults=5&nextToken=abc", ""},
		{"POST", "/domains-list?maxResults=abc", ""},
		{"POST", "/domains-list?maxResults=99999999999", ""},
		{"GET", "/tags/arn%3Aaws%3Acases%3Aus-east-1%3A123456789012%3Adomain%2Fabc%2Fcase%2Fdef", ""},
		{"DELETE", "/tags/arn%3Ax?tagKeys=a&tagKeys=b", ""},
		{"DELETE", "/tags/arn%3Ax?tagKeys=aws%3Ax", ""},
		{"POST", "/tags/arn%3Ax", `{"tags":{"k":"v"}}`},
		{"POST", "/domains/d/rules-list/", ""},
		{"POST", "/domains/d/rules-list", ""},
		{"POST", "/domains/d/cases/c/related-items/", `{"type":"Comment","content":{"comment":{"body":"b","contentType":"Text/Plain"}}}`},
		{"POST", "/domains/d/cases/c/related-items", ""},
		{"PUT", "/domains/d/cases/c/related-items/r", `{}`},
		{"POST", "/domains/d/templates-list?status=Active&status=Inactive", ""},
		{"POST", "/domains/d/cases/c/audit-history", `{"maxResults":"x"}`},
		{"DELETE", "/domains/d/cases/..", ""},
		{"POST", "/domains/./cases/.", ""},
		{"POST", "/domains//cases", ""},
		{"POST", "//", ""},
		{"GET", "/", ""},
		{"OPTIONS", "*", ""},
		{"CONNECT", "/domains", ""},
		{"HEAD", "/tags/x", ""},
		{"BREW", "/domains/d/fields/f", ""},
		{"POST", "/domains/%2E%2E/cases", `{}`},
		{"POST", "/domains/d%00x/cases-search", `{"filter":{}}`},
		{"POST", "/domains/" + strings.Repeat("x", 600), ""},
		{"GET", "http://example.com/domains/x?x=%zz", ""},
		{"POST", "/domains/%FF%FE", ""},
		{"POST", "/domains-list?maxResults=1&maxResults=2", ""},
		{"DELETE", "/tags/arn%3Ax?tagKeys=a%00&tagKeys=b", ""},
		{"POST", "/domains", "{\"name\":\"\xc3\"}"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, []byte(s.body))
	}
	h := NewHandler(routeStub{}, Options{MaxBodyBytes: 1 << 16})
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		if !validMethod(method) {
			t.Skip()
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Skip()
		}
		req := &http.Request{
			Method:     method,
			URL:        u,
			RequestURI: target,
			Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{},
			Host:          "localhost",
			Body:          http.NoBody,
			ContentLength: int64(len(body)),
		}
		if len(body) > 0 {
			req.Body = bodyReader(body)
		}
		req = req.WithContext(context.Background())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAWSResponse(t, method, target, rec)
	})
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func bodyReader(b []byte) nopCloser { return nopCloser{bytes.NewReader(b)} }

func checkAWSResponse(t *testing.T, method, target string, rec *httptest.ResponseRecorder) {
	t.Helper()
	res := rec.Result()
	body := rec.Body.Bytes()
	where := method + " " + target
	if res.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("%s: no x-amzn-RequestId (status %d)", where, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: status %d with Content-Type %q, body %q", where, res.StatusCode, ct, body)
	}
	if res.StatusCode == http.StatusOK {
		if !json.Valid(body) {
			t.Fatalf("%s: 200 with a body that is not JSON: %q", where, body)
		}
		return
	}
	code := api.ErrorCode(res.Header.Get("X-Amzn-ErrorType"))
	if code == "" {
		t.Fatalf("%s: status %d without X-Amzn-ErrorType, body %q", where, res.StatusCode, body)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("%s: error body is not JSON: %v: %q", where, err, body)
	}
	if eb.Type != string(code) || eb.Message == "" {
		t.Fatalf("%s: error body %q does not match X-Amzn-ErrorType %s", where, body, code)
	}
	if res.StatusCode != code.Status() {
		t.Fatalf("%s: %s sent with status %d, want %d", where, code, res.StatusCode, code.Status())
	}
	// The stub's only 5xx is NotImplementedException; anything else is the
	// protocol layer failing on client input.
	if res.StatusCode >= 500 && code != api.CodeNotImplementedException {
		t.Fatalf("%s: %d %s from client input: %s", where, res.StatusCode, code, eb.Message)
	}
}
