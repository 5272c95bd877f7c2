package restjson_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/restjson"
)

func TestBadBodies(t *testing.T) {
	srv := newServer(t, newStub(), restjson.Options{})
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     api.ErrorCode
		msg                      string // substring of the message
	}{
		{name: "truncated JSON", method: "POST", path: "/domains", body: `{"name":`,
			status: 400, code: api.CodeSerializationException},
		{name: "not JSON at all", method: "POST", path: "/domains", body: `name=x`,
			status: 400, code: api.CodeSerializationException, msg: "not valid JSON"},
		{name: "array instead of object", method: "POST", path: "/domains", body: `[{"name":"x"}]`,
			status: 400, code: api.CodeSerializationException, msg: "must be a JSON object"},
		{name: "string instead of object", method: "POST", path: "/domains", body: `"x"`,
			status: 400, code: api.CodeSerializationException},
		{name: "string for maxResults in a body", method: "POST", path: "/domains/d/cases/c/audit-history", body: `{"maxResults":"x"}`,
			status: 400, code: api.CodeSerializationException, msg: "maxResults"},
		{name: "fraction for maxResults", method: "POST", path: "/domains/d/cases/c/audit-history", body: `{"maxResults":1.5}`,
			status: 400, code: api.CodeSerializationException},
		{name: "maxResults beyond int32", method: "POST", path: "/domains/d/cases/c/audit-history", body: `{"maxResults":4294967296}`,
			status: 400, code: api.CodeSerializationException},
		{name: "number for a string member", method: "POST", path: "/domains", body: `{"name":5}`,
			status: 400, code: api.CodeSerializationException, msg: "name"},
		{name: "object for a list", method: "POST", path: "/domains/d/fields-batch", body: `{"fields":{"id":"x"}}`,
			status: 400, code: api.CodeSerializationException, msg: "fields"},
		{name: "unknown member", method: "POST", path: "/domains", body: `{"name":"x","bogus":1}`,
			status: 400, code: api.CodeSerializationException, msg: "bogus"},
		{name: "unknown nested member", method: "POST", path: "/domains/d/fields-batch", body: `{"fields":[{"id":"x","extra":true}]}`,
			status: 400, code: api.CodeSerializationException, msg: "extra"},
		{name: "trailing garbage", method: "POST", path: "/domains", body: `{"name":"x"}garbage`,
			status: 400, code: api.CodeSerializationException},
		{name: "second object", method: "POST", path: "/domains", body: `{"name":"x"} {}`,
			status: 400, code: api.CodeSerializationException, msg: "after the JSON object"},
		{name: "empty body is an empty object", method: "POST", path: "/domains", body: "",
			status: 400, code: api.CodeValidationException, msg: "Value null at 'name'"},
		{name: "whitespace body is an empty object", method: "POST", path: "/domains", body: " \n\t",
			status: 400, code: api.CodeValidationException, msg: "Value null at 'name'"},
		{name: "valid JSON breaking a constraint", method: "POST", path: "/domains", body: `{"name":"abc "}`,
			status: 400, code: api.CodeValidationException, msg: "1 validation error detected: Value 'abc ' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: .*[\\S]"},
		{name: "non-numeric maxResults in the query", method: "POST", path: "/domains-list?maxResults=abc",
			status: 400, code: api.CodeValidationException, msg: "Value 'abc' at 'maxResults' failed to satisfy constraint: Member must be an integer"},
		{name: "maxResults out of range in the query", method: "POST", path: "/domains-list?maxResults=11",
			status: 400, code: api.CodeValidationException, msg: "less than or equal to 10"},
		{name: "enum from the query", method: "POST", path: "/domains/d/templates-list?status=Bogus",
			status: 400, code: api.CodeValidationException, msg: "Value 'Bogus' at 'status[0]'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, srv, tc.method, tc.path, tc.body)
			eb := wantError(t, resp, body, tc.status, tc.code)
			if !strings.Contains(eb.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", eb.Message, tc.msg)
			}
		})
	}
}

func TestBadBodyNeverReachesService(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	do(t, srv, "POST", "/domains", `{"name":"x","bogus":1}`)
	do(t, srv, "POST", "/domains", `{"name":"x "}`)
	if s.called("CreateDomain") {
		t.Error("a request refused by decoding or validation reached the service")
	}
}

func TestOversizedBody(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{MaxBodyBytes: 64})
	resp, body := do(t, srv, "POST", "/domains", `{"name":"`+strings.Repeat("x", 1000)+`"}`)
	eb := wantError(t, resp, body, http.StatusRequestEntityTooLarge, api.CodeRequestEntityTooLarge)
	if !strings.Contains(eb.Message, "64") {
		t.Errorf("message should name the limit: %q", eb.Message)
	}
	if s.called("CreateDomain") {
		t.Error("an oversized request reached the service")
	}
	// At the limit is fine.
	ok := `{"name":"` + strings.Repeat("x", 64-len(`{"name":""}`)) + `"}`
	resp, body = do(t, srv, "POST", "/domains", ok)
	wantOK(t, resp, body)
}

func TestUnknownRoute(t *testing.T) {
	srv := newServer(t, newStub(), restjson.Options{})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"POST", "/"},
		{"POST", "/domains/d/nothing-here"},
		{"POST", "/domains/d/cases/c/d/e/f"},
		{"GET", "/tags"},
		// Without its trailing slash the path is a different resource.
		{"POST", "/domains/d/rules-list"},
		{"POST", "/domains/d/cases/c/related-items"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := do(t, srv, tc.method, tc.path, "")
			wantError(t, resp, body, http.StatusNotFound, api.CodeUnknownOperationException)
		})
	}
}

func TestWrongMethod(t *testing.T) {
	srv := newServer(t, newStub(), restjson.Options{})
	for _, tc := range []struct {
		method, path string
		allow        []string
	}{
		{"GET", "/domains/x", []string{"POST", "DELETE"}},
		{"PATCH", "/domains/x/cases/c", []string{"POST", "PUT", "DELETE"}},
		{"GET", "/domains-list", []string{"POST"}},
		{"PUT", "/tags/arn", []string{"GET", "POST", "DELETE"}},
		{"GET", "/domains/d/rules-list/", []string{"POST"}},
		{"POST", "/domains/d/cases/c/related-items/ri", []string{"PUT", "DELETE"}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := do(t, srv, tc.method, tc.path, "")
			wantError(t, resp, body, http.StatusMethodNotAllowed, api.CodeMethodNotAllowedException)
			allow := strings.Split(resp.Header.Get("Allow"), ", ")
			slices.Sort(allow)
			want := slices.Clone(tc.allow)
			slices.Sort(want)
			if !slices.Equal(allow, want) {
				t.Errorf("Allow = %q, want %v", resp.Header.Get("Allow"), tc.allow)
			}
		})
	}
}

// A "." or ".." path label (a domain or case ID the SDK does not escape)
// must not be cleaned into another path: the router would redirect
// DELETE /domains/d/cases/.. to DELETE /domains/d (DeleteDomain), and
// clients that follow 307s resend the request there.
func TestDotSegmentsAreLabels(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})

	resp, body := do(t, srv, "POST", "/domains/..", "")
	wantOK(t, resp, body)
	if got := api.ToString(input[*api.GetDomainRequest](t, s, "GetDomain").DomainId); got != ".." {
		t.Errorf("GetDomain domainId = %q, want ..", got)
	}

	resp, body = do(t, srv, "DELETE", "/domains/d/cases/..", "")
	// DeleteCase is not implemented by the stub; what matters is that it,
	// not DeleteDomain, answered.
	wantError(t, resp, body, http.StatusNotImplemented, api.CodeNotImplementedException)
	if s.called("DeleteDomain") {
		t.Fatal("DELETE /domains/d/cases/.. reached DeleteDomain")
	}
	if !strings.Contains(string(body), "DeleteCase") {
		t.Errorf("expected DeleteCase to answer: %s", body)
	}

	resp, body = do(t, srv, "POST", "/domains/./rules-list/", "")
	wantOK(t, resp, body)
	if got := api.ToString(input[*api.ListCaseRulesRequest](t, s, "ListCaseRules").DomainId); got != "." {
		t.Errorf("ListCaseRules domainId = %q, want .", got)
	}

	// An empty label cannot be an ID; it is no operation.
	for _, p := range []string{"/domains//cases", "//domains-list", "/domains/d/cases//related-items/"} {
		resp, body = do(t, srv, "POST", p, "")
		wantError(t, resp, body, http.StatusNotFound, api.CodeUnknownOperationException)
	}
}

func TestTrailingSlashRoutes(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})

	resp, body := do(t, srv, "POST", "/domains/d1/rules-list/?maxResults=5", "")
	wantOK(t, resp, body)
	lcr := input[*api.ListCaseRulesRequest](t, s, "ListCaseRules")
	if api.ToString(lcr.DomainId) != "d1" || lcr.MaxResults == nil || *lcr.MaxResults != 5 {
		t.Errorf("ListCaseRules got domainId %q maxResults %v", api.ToString(lcr.DomainId), lcr.MaxResults)
	}

	resp, body = do(t, srv, "POST", "/domains/d1/cases/c1/related-items/", `{"type":"Comment","content":{"comment":{"body":"hi","contentType":"Text/Plain"}}}`)
	wantOK(t, resp, body)
	cri := input[*api.CreateRelatedItemRequest](t, s, "CreateRelatedItem")
	if api.ToString(cri.DomainId) != "d1" || api.ToString(cri.CaseId) != "c1" {
		t.Errorf("CreateRelatedItem got domainId %q caseId %q", api.ToString(cri.DomainId), api.ToString(cri.CaseId))
	}

	resp, body = do(t, srv, "PUT", "/domains/d1/cases/c1/related-items/ri-9", `{"content":{"comment":{"body":"hi","contentType":"Text/Plain"}}}`)
	wantOK(t, resp, body)
	uri := input[*api.UpdateRelatedItemRequest](t, s, "UpdateRelatedItem")
	if api.ToString(uri.RelatedItemId) != "ri-9" || api.ToString(uri.CaseId) != "c1" {
		t.Errorf("UpdateRelatedItem got relatedItemId %q caseId %q", api.ToString(uri.RelatedItemId), api.ToString(uri.CaseId))
	}
}

func TestEncodedARNIsOneSegment(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	const arn = "arn:aws:cases:us-east-1:123456789012:domain/abc/case/def"
	// The exact form botocore sends.
	resp, body := do(t, srv, "GET", "/tags/arn%3Aaws%3Acases%3Aus-east-1%3A123456789012%3Adomain%2Fabc%2Fcase%2Fdef", "")
	wantOK(t, resp, body)
	if got := api.ToString(input[*api.ListTagsForResourceRequest](t, s, "ListTagsForResource").Arn); got != arn {
		t.Errorf("ListTagsForResource arn = %q, want %q", got, arn)
	}
	var out struct{ Tags map[string]string }
	if err := json.Unmarshal(body, &out); err != nil || out.Tags["arn"] != arn {
		t.Errorf("echoed arn = %q (%v)", out.Tags["arn"], err)
	}

	// The Go SDK leaves ":" unescaped; only "/" must be.
	resp, body = do(t, srv, "DELETE", "/tags/arn:aws:cases:us-east-1:123456789012:domain%2Fabc?tagKeys=a&tagKeys=b", "")
	wantOK(t, resp, body)
	ur := input[*api.UntagResourceRequest](t, s, "UntagResource")
	if api.ToString(ur.Arn) != "arn:aws:cases:us-east-1:123456789012:domain/abc" {
		t.Errorf("UntagResource arn = %q", api.ToString(ur.Arn))
	}
	if !slices.Equal(ur.TagKeys, []string{"a", "b"}) {
		t.Errorf("UntagResource tagKeys = %q, want [a b]", ur.TagKeys)
	}

	// An unescaped "/" splits the ARN into segments no route has.
	resp, body = do(t, srv, "GET", "/tags/arn:aws:cases:us-east-1:123456789012:domain/abc", "")
	wantError(t, resp, body, http.StatusNotFound, api.CodeUnknownOperationException)
}

func TestRepeatedQueryKeys(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	resp, body := do(t, srv, "POST", "/domains/d/templates-list?status=Active&status=Inactive&maxResults=3&nextToken=tok", "")
	wantOK(t, resp, body)
	lt := input[*api.ListTemplatesRequest](t, s, "ListTemplates")
	if !slices.Equal(lt.Status, []api.TemplateStatus{"Active", "Inactive"}) {
		t.Errorf("status = %q, want [Active Inactive]", lt.Status)
	}
	if lt.MaxResults == nil || *lt.MaxResults != 3 || api.ToString(lt.NextToken) != "tok" {
		t.Errorf("maxResults %v nextToken %q", lt.MaxResults, api.ToString(lt.NextToken))
	}

	resp, body = do(t, srv, "DELETE", "/tags/arn%3Ax?tagKeys=k1&tagKeys=k2&tagKeys=k3", "")
	wantOK(t, resp, body)
	if got := input[*api.UntagResourceRequest](t, s, "UntagResource").TagKeys; !slices.Equal(got, []string{"k1", "k2", "k3"}) {
		t.Errorf("tagKeys = %q", got)
	}
}

func TestRequestIDOnEveryResponse(t *testing.T) {
	s := newStub()
	s.setHook(func(op string) error {
		if op == "DeleteDomain" {
			return api.NotFound("Domain", "gone")
		}
		return nil
	})
	srv := newServer(t, s, restjson.Options{})
	seen := map[string]bool{}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"success", "POST", "/domains", `{"name":"n"}`, 200},
		{"service error", "DELETE", "/domains/gone", "", 404},
		{"validation", "POST", "/domains", `{}`, 400},
		{"serialization", "POST", "/domains", `{`, 400},
		{"not implemented", "POST", "/domains/d/cases", `{"fields":[],"templateId":"t"}`, 501},
		{"unknown route", "GET", "/nope", "", 404},
		{"wrong method", "GET", "/domains/x", "", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, srv, tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			id := resp.Header.Get("x-amzn-RequestId")
			if id == "" {
				t.Fatal("no x-amzn-RequestId")
			}
			if seen[id] {
				t.Errorf("request ID %s reused", id)
			}
			seen[id] = true
		})
	}
}

func TestFixedRequestID(t *testing.T) {
	srv := newServer(t, newStub(), restjson.Options{RequestID: func() string { return "req-1" }})
	for _, p := range []string{"/domains-list", "/nope"} {
		resp, _ := do(t, srv, "POST", p, "")
		if got := resp.Header.Get("x-amzn-RequestId"); got != "req-1" {
			t.Errorf("%s: x-amzn-RequestId = %q, want the configured req-1", p, got)
		}
	}
}

func TestServiceErrors(t *testing.T) {
	seven, zero := 7, 0
	tests := []struct {
		name       string
		err        error
		status     int
		code       api.ErrorCode
		msg        string
		retryAfter string // "" means the header must be absent
		resID      string
		resType    string
	}{
		{name: "not found carries resource members", err: api.NotFound("Domain", "d-404"),
			status: 404, code: api.CodeResourceNotFoundException, msg: "Domain d-404 not found.", resID: "d-404", resType: "Domain"},
		{name: "retry-after in decimal seconds", err: &api.Error{Code: api.CodeInternalServerException, Message: "try later", RetryAfterSeconds: &seven},
			status: 500, code: api.CodeInternalServerException, msg: "try later", retryAfter: "7"},
		{name: "retry-after zero is still sent", err: &api.Error{Code: api.CodeInternalServerException, Message: "now", RetryAfterSeconds: &zero},
			status: 500, code: api.CodeInternalServerException, retryAfter: "0"},
		{name: "internal error without retry-after", err: api.Errorf(api.CodeInternalServerException, "boom"),
			status: 500, code: api.CodeInternalServerException, msg: "boom"},
		{name: "empty message gets the model's sentence", err: &api.Error{Code: api.CodeThrottlingException},
			status: 429, code: api.CodeThrottlingException, msg: api.CodeThrottlingException.DefaultMessage()},
		{name: "quota is 402", err: api.QuotaExceeded("too many"),
			status: 402, code: api.CodeServiceQuotaExceededException},
		{name: "conflict", err: api.Conflict("dup"), status: 409, code: api.CodeConflictException, msg: "dup"},
		{name: "access denied", err: &api.Error{Code: api.CodeAccessDeniedException, Message: "no"},
			status: 403, code: api.CodeAccessDeniedException},
		{name: "wrapped api error keeps its type", err: errors.Join(errors.New("ctx"), api.Conflict("wrapped")),
			status: 409, code: api.CodeConflictException, msg: "wrapped"},
		{name: "plain Go error is a generic 500", err: errors.New("database exploded at /var/lib/secret"),
			status: 500, code: api.CodeInternalServerException, msg: api.CodeInternalServerException.DefaultMessage()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub()
			s.setHook(func(string) error { return tc.err })
			srv := newServer(t, s, restjson.Options{})
			resp, body := do(t, srv, "POST", "/domains/d1", "")
			eb := wantError(t, resp, body, tc.status, tc.code)
			if tc.msg != "" && eb.Message != tc.msg {
				t.Errorf("message = %q, want %q", eb.Message, tc.msg)
			}
			if strings.Contains(string(body), "secret") {
				t.Errorf("internal detail leaked: %s", body)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			if eb.ResourceID != tc.resID || eb.ResourceType != tc.resType {
				t.Errorf("resourceId/resourceType = %q/%q, want %q/%q", eb.ResourceID, eb.ResourceType, tc.resID, tc.resType)
			}
			if tc.resID == "" && (strings.Contains(string(body), "resourceId") || strings.Contains(string(body), "resourceType")) {
				t.Errorf("resource members on a %s: %s", tc.code, body)
			}
		})
	}
}

func TestPanicIsContained(t *testing.T) {
	s := newStub()
	s.setHook(func(op string) error {
		if op == "GetDomain" {
			panic("secret panic text: nil map in GetDomain")
		}
		return nil
	})
	srv := newServer(t, s, restjson.Options{})
	for range 3 {
		resp, body := do(t, srv, "POST", "/domains/d1", "")
		eb := wantError(t, resp, body, 500, api.CodeInternalServerException)
		if strings.Contains(string(body), "panic") || strings.Contains(string(body), "nil map") {
			t.Errorf("panic text leaked to the client: %s", body)
		}
		if eb.Message != api.CodeInternalServerException.DefaultMessage() {
			t.Errorf("message = %q, want the generic one", eb.Message)
		}
	}
	// The server keeps serving other operations.
	resp, body := do(t, srv, "POST", "/domains-list", "")
	wantOK(t, resp, body)
}

func TestEmptyOutputIsEmptyObject(t *testing.T) {
	srv := newServer(t, newStub(), restjson.Options{})
	for _, tc := range []struct{ method, path, body string }{
		{"DELETE", "/domains/d1", ""},                         // empty output shape
		{"POST", "/tags/arn%3Ax", `{"tags":{"k":"v"}}`},       // no output shape at all
		{"DELETE", "/tags/arn%3Ax?tagKeys=k", ""},             // no output shape, no body
		{"POST", "/tags/arn%3Ax", `{"tags":{"k":null}}`},      // sparse map value
		{"POST", "/tags/arn%3Ax", "{\"tags\":{}}\n\r\n\t   "}, // trailing whitespace is not garbage
	} {
		resp, body := do(t, srv, tc.method, tc.path, tc.body)
		wantOK(t, resp, body)
		if string(body) != "{}" {
			t.Errorf("%s %s: body = %q, want {}", tc.method, tc.path, body)
		}
		if resp.Header.Get("Content-Length") != "2" {
			t.Errorf("%s %s: Content-Length = %q", tc.method, tc.path, resp.Header.Get("Content-Length"))
		}
	}
}

func TestListOperationsIgnoreContentType(t *testing.T) {
	// botocore sends list operations with no body and no Content-Type; some
	// tools send an empty body labelled application/json. Both are fine.
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	resp, body := do(t, srv, "POST", "/domains-list", "", "Content-Length", "0")
	wantOK(t, resp, body)
	resp, body = do(t, srv, "POST", "/domains-list", "", "Content-Type", "application/json")
	wantOK(t, resp, body)
}

func TestObserveAndMiddleware(t *testing.T) {
	// Observe runs after the response is written, so the client can see the
	// response first: hand outcomes over on a channel.
	outcomes := make(chan restjson.Outcome, 4)
	var mu sync.Mutex
	var order []string
	mw := func(name string) restjson.Middleware {
		return func(next restjson.Invoker) restjson.Invoker {
			return func(c *restjson.Call) (any, error) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return next(c)
			}
		}
	}
	srv := newServer(t, newStub(), restjson.Options{
		Middleware: []restjson.Middleware{mw("outer"), mw("inner")},
		Observe:    func(_ *restjson.Call, o restjson.Outcome) { outcomes <- o },
	})
	do(t, srv, "POST", "/domains-list", "")
	do(t, srv, "POST", "/domains-list?maxResults=0", "")
	var got []restjson.Outcome
	for range 2 {
		select {
		case o := <-outcomes:
			got = append(got, o)
		case <-time.After(5 * time.Second):
			t.Fatal("Observe was not called")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []string{"outer", "inner", "outer", "inner"}) {
		t.Errorf("middleware order = %v", order)
	}
	if got[0].Status != 200 || got[1].Status != 400 || got[1].Code != api.CodeValidationException || got[0].RetryAfter != -1 {
		t.Errorf("outcomes = %+v", got)
	}
}
