package restjson_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/restjson"
)

// stub is an api.Service for protocol tests: it records the input each
// overridden operation receives, echoes path members back where the output
// has room for them, and lets a test make every call fail or panic. The
// service logic is not under test here, only what reaches it and what comes
// back over the wire.
type stub struct {
	api.NotImplemented

	mu   sync.Mutex
	last map[string]any // operation name -> last input
	// hook, if set, runs first in every overridden method; a non-nil error
	// is returned as the operation's error. It may panic.
	hook func(op string) error
}

func newStub() *stub { return &stub{last: map[string]any{}} }

func (s *stub) record(op string, in any) error {
	s.mu.Lock()
	s.last[op] = in
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		return hook(op)
	}
	return nil
}

func (s *stub) setHook(fn func(op string) error) {
	s.mu.Lock()
	s.hook = fn
	s.mu.Unlock()
}

// input returns the last input op received, or nil.
func input[T any](t *testing.T, s *stub, op string) T {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.last[op].(T)
	if !ok {
		t.Fatalf("%s was not called (last inputs: %v)", op, s.last)
	}
	return v
}

func (s *stub) called(op string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.last[op]
	return ok
}

func (s *stub) CreateDomain(_ context.Context, in *api.CreateDomainRequest) (*api.CreateDomainResponse, error) {
	if err := s.record("CreateDomain", in); err != nil {
		return nil, err
	}
	st := api.DomainStatusActive
	return &api.CreateDomainResponse{DomainId: api.String("d-1"), DomainArn: api.String("arn:aws:cases:us-east-1:000000000000:domain/d-1"), DomainStatus: &st}, nil
}

func (s *stub) GetDomain(_ context.Context, in *api.GetDomainRequest) (*api.GetDomainResponse, error) {
	if err := s.record("GetDomain", in); err != nil {
		return nil, err
	}
	return &api.GetDomainResponse{DomainId: in.DomainId, Name: api.String("echo")}, nil
}

func (s *stub) DeleteDomain(_ context.Context, in *api.DeleteDomainRequest) (*api.DeleteDomainResponse, error) {
	if err := s.record("DeleteDomain", in); err != nil {
		return nil, err
	}
	return &api.DeleteDomainResponse{}, nil
}

func (s *stub) ListDomains(_ context.Context, in *api.ListDomainsRequest) (*api.ListDomainsResponse, error) {
	if err := s.record("ListDomains", in); err != nil {
		return nil, err
	}
	return &api.ListDomainsResponse{Domains: []api.DomainSummary{}}, nil
}

func (s *stub) GetCaseAuditEvents(_ context.Context, in *api.GetCaseAuditEventsRequest) (*api.GetCaseAuditEventsResponse, error) {
	if err := s.record("GetCaseAuditEvents", in); err != nil {
		return nil, err
	}
	return &api.GetCaseAuditEventsResponse{AuditEvents: []api.AuditEvent{}}, nil
}

func (s *stub) CreateRelatedItem(_ context.Context, in *api.CreateRelatedItemRequest) (*api.CreateRelatedItemResponse, error) {
	if err := s.record("CreateRelatedItem", in); err != nil {
		return nil, err
	}
	return &api.CreateRelatedItemResponse{RelatedItemId: api.String("ri-1"), RelatedItemArn: api.String("arn")}, nil
}

func (s *stub) UpdateRelatedItem(_ context.Context, in *api.UpdateRelatedItemRequest) (*api.UpdateRelatedItemResponse, error) {
	if err := s.record("UpdateRelatedItem", in); err != nil {
		return nil, err
	}
	return &api.UpdateRelatedItemResponse{RelatedItemId: in.RelatedItemId}, nil
}

func (s *stub) ListCaseRules(_ context.Context, in *api.ListCaseRulesRequest) (*api.ListCaseRulesResponse, error) {
	if err := s.record("ListCaseRules", in); err != nil {
		return nil, err
	}
	return &api.ListCaseRulesResponse{CaseRules: []api.CaseRuleSummary{}}, nil
}

func (s *stub) ListTemplates(_ context.Context, in *api.ListTemplatesRequest) (*api.ListTemplatesResponse, error) {
	if err := s.record("ListTemplates", in); err != nil {
		return nil, err
	}
	return &api.ListTemplatesResponse{Templates: []api.TemplateSummary{}}, nil
}

func (s *stub) ListTagsForResource(_ context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	if err := s.record("ListTagsForResource", in); err != nil {
		return nil, err
	}
	return &api.ListTagsForResourceResponse{Tags: map[string]*string{"arn": in.Arn}}, nil
}

func (s *stub) TagResource(_ context.Context, in *api.TagResourceRequest) error {
	return s.record("TagResource", in)
}

func (s *stub) UntagResource(_ context.Context, in *api.UntagResourceRequest) error {
	return s.record("UntagResource", in)
}

// newServer serves h on a loopback port for the length of the test.
func newServer(t *testing.T, svc api.Service, opts restjson.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(restjson.NewHandler(svc, opts))
	t.Cleanup(srv.Close)
	return srv
}

// rawClient does not follow redirects, so a 3xx from the router is seen
// rather than silently turned into another operation.
var rawClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request exactly as given: path is sent as written (escapes
// included) and body as bytes, with no Content-Type unless a header says so.
func do(t *testing.T, srv *httptest.Server, method, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, data
}

type errBody struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	ResourceID   string `json:"resourceId"`
	ResourceType string `json:"resourceType"`
}

// wantError checks the shape every AWS SDK relies on to type an error: the
// status, X-Amzn-ErrorType, a JSON body with __type and message, and a
// request ID. It returns the decoded body.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code api.ErrorCode) errBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if got := resp.Header.Get("X-Amzn-ErrorType"); got != string(code) {
		t.Errorf("X-Amzn-ErrorType = %q, want %q", got, code)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("error response has no x-amzn-RequestId")
	}
	var eb errBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, body)
	}
	if eb.Type != string(code) {
		t.Errorf("__type = %q, want %q", eb.Type, code)
	}
	if eb.Message == "" {
		t.Errorf("error body has no message: %s", body)
	}
	return eb
}

func wantOK(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %s)", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("response has no x-amzn-RequestId")
	}
	if !json.Valid(body) {
		t.Errorf("body is not JSON: %q", body)
	}
}
