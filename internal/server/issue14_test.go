package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// passes, as a browserCase's want, is any answer but the guard's 403.
const passes = -1

type browserCase struct {
	name                    string
	method, path, body      string
	host, origin, fetchSite string
	contentType             string
	want                    int
}

func doBrowser(t *testing.T, base string, c browserCase) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "" {
		req.Host = c.host
	}
	for k, v := range map[string]string{"Origin": c.origin, "Sec-Fetch-Site": c.fetchSite, "Content-Type": c.contentType} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := servertest.RawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// TestIssue14WebPagesCannotDriveLocalcases: what a web page in the
// developer's browser can send (cross-site simple requests, DNS-rebound
// reads) is refused on the admin namespace and on the permissive API, and
// changes nothing; what the SDKs, the CLI and same-origin pages send passes.
func TestIssue14WebPagesCannotDriveLocalcases(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.AllowedHosts = []string{"cases.test", "*.ci.test"} }))
	ctx := context.Background()
	cc := servertest.Client(srv.URL())
	if _, err := cc.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	port := srv.Addr().String()[strings.LastIndexByte(srv.Addr().String(), ':'):]
	rule := `[{"operation":"GetCase","error":{"code":"InternalServerException"}}]`
	cases := []browserCase{
		{name: "cross-site reset, text/plain", method: "POST", path: "/_localcases/reset", origin: "http://evil.example", contentType: "text/plain", body: "x", want: 403},
		{name: "cross-site reset, no body", method: "POST", path: "/_localcases/reset", origin: "http://evil.example", want: 403},
		{name: "cross-site reset, Sec-Fetch-Site only", method: "POST", path: "/_localcases/reset", fetchSite: "cross-site", want: 403},
		{name: "same-site reset from another port", method: "POST", path: "/_localcases/reset", origin: "http://localhost:3000", fetchSite: "same-site", want: 403},
		{name: "cross-site faults, JSON", method: "POST", path: "/_localcases/faults", origin: "http://evil.example", contentType: "application/json", body: rule, want: 403},
		{name: "faults as text/plain", method: "POST", path: "/_localcases/faults", contentType: "text/plain;charset=UTF-8", body: rule, want: 403},
		{name: "faults as a form", method: "PATCH", path: "/_localcases/faults", contentType: "application/x-www-form-urlencoded", body: rule, want: 403},
		{name: "faults with no type", method: "POST", path: "/_localcases/faults", body: rule, want: 403},
		{name: "rebound export", method: "GET", path: "/_localcases/export", host: "rebind.evil.example" + port, want: 403},
		{name: "rebound health", method: "GET", path: "/_localcases/health", host: "rebind.evil.example", want: 403},
		{name: "rebound metrics", method: "GET", path: "/metrics", host: "rebind.evil.example" + port, want: 403},
		{name: "rebound API read", method: "POST", path: "/domains-list", host: "rebind.evil.example" + port, want: 403},
		{name: "cross-site CreateDomain, text/plain", method: "POST", path: "/domains", origin: "http://evil.example", contentType: "text/plain", body: `{"name":"evil"}`, want: 403},
		{name: "CreateDomain as text/plain", method: "POST", path: "/domains", contentType: "text/plain", body: `{"name":"evil"}`, want: 403},
		{name: "CreateDomain as multipart", method: "POST", path: "/domains", contentType: "multipart/form-data; boundary=x", body: `{"name":"evil"}`, want: 403},
		{name: "origin null", method: "POST", path: "/domains", origin: "null", contentType: "application/json", body: `{"name":"evil"}`, want: 403},

		{name: "CLI-style health by localhost", method: "GET", path: "/_localcases/health", host: "localhost" + port, want: 200},
		{name: "health by a .localhost name", method: "GET", path: "/_localcases/health", host: "app.localhost" + port, want: 200},
		{name: "health by IPv6 loopback", method: "GET", path: "/_localcases/health", host: "[::1]" + port, want: 200},
		{name: "health by a configured name", method: "GET", path: "/_localcases/health", host: "cases.test" + port, want: 200},
		{name: "health by a configured wildcard", method: "GET", path: "/_localcases/health", host: "runner-7.ci.test", want: 200},
		{name: "same-origin page", method: "POST", path: "/_localcases/faults", origin: srv.URL(), fetchSite: "same-origin", contentType: "application/json", body: "[]", want: 200},
		{name: "JSON with no Origin (SDK, CLI)", method: "POST", path: "/domains-list", contentType: "application/json", body: "{}", want: 200},
		{name: "no body, no type (SDK)", method: "POST", path: "/domains-list", want: 200},
		{name: "awsJson1_1 passes the guard", method: "POST", path: "/", contentType: "application/x-amz-json-1.1", body: "{}", want: passes},
		{name: "a preflight is not granted", method: "OPTIONS", path: "/domains", origin: "http://evil.example", want: 405},
	}
	for _, c := range cases {
		resp, body := doBrowser(t, srv.URL(), c)
		if c.want == passes && resp.StatusCode != 403 {
			continue
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, got)
		}
		if resp.StatusCode == 403 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: refusal is %s, not JSON", c.name, resp.Header.Get("Content-Type"))
		}
		if resp.StatusCode == 403 && !strings.HasPrefix(c.path, admin.Prefix) && c.path != "/metrics" && resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Errorf("%s: API refusal is %q", c.name, resp.Header.Get("X-Amzn-ErrorType"))
		}
	}
	out, err := cc.ListDomains(ctx, &connectcases.ListDomainsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Domains) != 1 || aws.ToString(out.Domains[0].Name) != "kept" {
		t.Errorf("state changed by refused requests: %d domains", len(out.Domains))
	}
	rules, err := admin.NewClient(srv.URL()).Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 0 {
		t.Errorf("a refused request set fault rules: %+v", rules)
	}
}

// TestGuardWhereCredentialsProtect: with an admin token, the admin
// namespace answers any Host (the token is what protects it) but still
// refuses cross-site state changes; in strict mode the API answers any Host
// (a browser cannot sign).
func TestGuardWhereCredentialsProtect(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
		c.AdminToken = "s3cret"
		c.Auth = auth.Config{Mode: auth.Strict, Credentials: []auth.Credential{{AccessKeyID: "AKID", SecretAccessKey: "s",
			Policy: []auth.Statement{{Effect: "Allow", Action: auth.Strings{"cases:*"}, Resource: auth.Strings{"*"}}}}}}
	}))
	bearer := func(c browserCase) int {
		req, _ := http.NewRequest(c.method, srv.URL()+c.path, strings.NewReader(c.body))
		req.Host = c.host
		req.Header.Set("Authorization", "Bearer s3cret")
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		resp, err := servertest.RawClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := bearer(browserCase{method: "GET", path: "/_localcases/health", host: "cases.internal.example"}); got != 200 {
		t.Errorf("admin by name with the token: %d", got)
	}
	if got := bearer(browserCase{method: "POST", path: "/_localcases/reset", host: "cases.internal.example", origin: "http://evil.example"}); got != 403 {
		t.Errorf("cross-site admin call with the token: %d", got)
	}
	resp, body := doBrowser(t, srv.URL(), browserCase{method: "POST", path: "/domains-list", host: "cases.internal.example"})
	var e struct {
		Type string `json:"__type"`
	}
	json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != 403 || e.Type != string(auth.CodeMissingToken) {
		t.Errorf("strict API by name, unsigned: %d %s; want the signature check to answer", resp.StatusCode, body)
	}
}

// TestIssue14BadTextNeverReachesTheStore: the requests that made
// PostgreSQL answer 500 (NUL or bytes that are not UTF-8 in an ID, a token
// or a value), a body that is not UTF-8, and a body giving a key twice get
// the same 400 on every engine (LOCALCASES_TEST_STORE), and store nothing.
func TestIssue14BadTextNeverReachesTheStore(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx := context.Background()
	cc := servertest.Client(srv.URL())
	dom, err := cc.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("text")})
	if err != nil {
		t.Fatal(err)
	}
	d := aws.ToString(dom.DomainId)
	fld, err := cc.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: &d, Name: aws.String("sel"), Type: types.FieldTypeSingleSelect})
	if err != nil {
		t.Fatal(err)
	}
	f := aws.ToString(fld.FieldId)
	tpl, err := cc.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: &d, Name: aws.String("t"), Status: types.TemplateStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	tp := aws.ToString(tpl.TemplateId)
	cs, err := cc.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: &d, TemplateId: &tp, Fields: []types.FieldValue{
		{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "t"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := aws.ToString(cs.CaseId)
	createCase := func(token, template, value string) string {
		b, _ := json.Marshal(map[string]any{"clientToken": token, "templateId": template,
			"fields": []any{map[string]any{"id": f, "value": map[string]any{"stringValue": value}}}})
		return string(b)
	}
	tests := []struct {
		name, method, path, body string
		code, member             string
	}{
		{"NUL in a domain ID", "POST", "/domains/abc%00def", "", "ValidationException", "domainId"},
		{"bytes that are not UTF-8 in a domain ID", "POST", "/domains/%FF%FE", "", "ValidationException", "domainId"},
		{"NUL in a case ID", "POST", "/domains/" + d + "/cases/a%00b", `{"fields":[]}`, "ValidationException", "caseId"},
		{"NUL in a clientToken", "POST", "/domains/" + d + "/cases", createCase("tok\x00en", tp, "v"), "ValidationException", "clientToken"},
		{"NUL in a templateId", "POST", "/domains/" + d + "/cases", createCase("tok", tp+"\x00", "v"), "ValidationException", "templateId"},
		{"NUL in a SingleSelect value", "POST", "/domains/" + d + "/cases", createCase("tok", tp, "v\x00"), "ValidationException", "fields[0].value.stringValue"},
		{"NUL in field options", "PUT", "/domains/" + d + "/fields/" + f + "/options", `{"options":[{"name":"n\u0000","value":"v","active":true}]}`, "ValidationException", "options[0].name"},
		{"NUL in a contactArn to relate", "POST", "/domains/" + d + "/cases/" + c + "/related-items/", `{"type":"Contact","content":{"contact":{"contactArn":"arn:aws:connect:us-east-1:1:instance/i/contact/c\u0000"}}}`, "ValidationException", "content.contact.contactArn"},
		{"NUL in a contactArn to list by", "POST", "/domains/" + d + "/list-cases-for-contact", `{"contactArn":"arn:aws:connect:us-east-1:1:instance/i/contact/\u0000"}`, "ValidationException", "contactArn"},
		{"NUL in a search term", "POST", "/domains/" + d + "/cases-search", `{"searchTerm":"\u0000"}`, "ValidationException", "searchTerm"},
		{"NUL in a nextToken", "POST", "/domains/" + d + "/fields-list?nextToken=%00", "", "ValidationException", "nextToken"},
		{"body that is not UTF-8", "POST", "/domains", "{\"name\":\"bad\xff\xfe\"}", "SerializationException", ""},
		{"body giving a key twice", "POST", "/domains", `{"name":"one","name":"two"}`, "SerializationException", ""},
	}
	for _, tc := range tests {
		var rd io.Reader
		if tc.body != "" {
			rd = strings.NewReader(tc.body)
		}
		req, _ := http.NewRequest(tc.method, srv.URL()+tc.path, rd)
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := servertest.RawClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != tc.code || (tc.member != "" && !strings.Contains(string(body), "'"+tc.member+"'")) {
			t.Errorf("%s: %d %s %s, want 400 %s naming %q", tc.name, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, tc.code, tc.member)
		}
	}
	doms, err := cc.ListDomains(ctx, &connectcases.ListDomainsInput{})
	if err != nil || len(doms.Domains) != 1 {
		t.Errorf("domains after refused writes: %v %v", doms, err)
	}
	found, err := cc.SearchCases(ctx, &connectcases.SearchCasesInput{DomainId: &d})
	if err != nil || len(found.Cases) != 1 {
		t.Errorf("cases after refused writes: %v %v", found, err)
	}
	opts, err := cc.ListFieldOptions(ctx, &connectcases.ListFieldOptionsInput{DomainId: &d, FieldId: &f})
	if err != nil || len(opts.Options) != 0 {
		t.Errorf("field options after refused writes: %v %v", opts, err)
	}
}

// TestIssue14GoOwnAnswersAreAWSShaped: what net/http answers before any
// handler runs (a request line or headers over the limit, a request it
// cannot parse) carries the service's error shape, so an SDK can type it.
func TestIssue14GoOwnAnswersAreAWSShaped(t *testing.T) {
	srv := servertest.MustOpen(t)
	tests := []struct {
		name, raw string
		status    int
		code      string
	}{
		{"100 KB URL", "POST /domains/" + strings.Repeat("x", 100<<10) + " HTTP/1.1\r\nHost: localhost\r\n\r\n", 431, "RequestHeaderFieldsTooLargeException"},
		{"1 MiB header", "POST /domains-list HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("x", 1<<20) + "\r\n\r\n", 431, "RequestHeaderFieldsTooLargeException"},
		{"raw NUL in the request line", "POST /domains/a\x00b HTTP/1.1\r\nHost: localhost\r\n\r\n", 400, "SerializationException"},
		{"no Host", "POST /domains-list HTTP/1.1\r\n\r\n", 400, "SerializationException"},
		{"bad header name", "POST /domains-list HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n", 400, "SerializationException"},
		{"unknown transfer encoding", "POST /domains-list HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked2\r\n\r\n", 501, "NotImplementedException"},
	}
	for _, tc := range tests {
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		go conn.Write([]byte(tc.raw)) // the answer may come before the request has all gone
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.code || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("x-amzn-RequestId") == "" || json.Unmarshal(body, &e) != nil || e.Type != tc.code || e.Message == "" {
			t.Errorf("%s: %d %v %s", tc.name, resp.StatusCode, resp.Header, body)
		}
	}
}

// TestIssue14ImportHoldsToTheTextRules: a snapshot carrying NUL or bytes
// that are not UTF-8 is refused whole by every engine, as the API would
// refuse the same text.
func TestIssue14ImportHoldsToTheTextRules(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx := context.Background()
	ac := admin.NewClient(srv.URL())
	cc := servertest.Client(srv.URL())
	if _, err := cc.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("before")}); err != nil {
		t.Fatal(err)
	}
	good, err := ac.Export(ctx)
	if err != nil || len(good.Records) == 0 {
		t.Fatalf("export: %v %v", good, err)
	}
	for name, spoil := range map[string]func(*localcases.SnapshotRecord){
		"NUL in data":       func(r *localcases.SnapshotRecord) { r.Data = []byte(`{"name":"a\u0000b"}`) },
		"NUL in a data key": func(r *localcases.SnapshotRecord) { r.Data = []byte(`{"a\u0000":"b"}`) },
		"NUL in an ID":      func(r *localcases.SnapshotRecord) { r.ID = "x\x00" },
		"data not UTF-8":    func(r *localcases.SnapshotRecord) { r.Data = []byte("{\"name\":\"\xff\"}") },
	} {
		snap := *good
		snap.Records = append([]localcases.SnapshotRecord(nil), good.Records...)
		spoil(&snap.Records[0])
		if err := ac.Import(ctx, &snap); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
	// Bytes that are not UTF-8 in an ID: a JSON encoder would not send
	// them, so they go raw.
	raw, _ := json.Marshal(good)
	raw = bytes.Replace(raw, []byte(`"id":"`), []byte("\"id\":\"\xff"), 1)
	resp, err := http.Post(srv.URL()+"/_localcases/import", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("snapshot with an ID not UTF-8: %d", resp.StatusCode)
	}
	out, err := cc.ListDomains(ctx, &connectcases.ListDomainsInput{})
	if err != nil || len(out.Domains) != 1 || aws.ToString(out.Domains[0].Name) != "before" {
		t.Errorf("state after refused imports: %+v %v", out, err)
	}
}

// TestIssue14AdminQueryIsStrict: the admin namespace parses query strings
// as the API does: a bad escape or a repeated key is a 400.
func TestIssue14AdminQueryIsStrict(t *testing.T) {
	srv := servertest.MustOpen(t)
	for target, want := range map[string]int{
		"/_localcases/requests?limit=5":         200,
		"/_localcases/requests?limit=%zz":       400,
		"/_localcases/requests?x=%zz":           400,
		"/_localcases/requests?limit=1&limit=2": 400,
		"/_localcases/requests?limit=-1":        400,
	} {
		resp, body := doBrowser(t, srv.URL(), browserCase{method: "GET", path: target})
		if resp.StatusCode != want || !json.Valid([]byte(body)) {
			t.Errorf("%s: %d %s, want %d", target, resp.StatusCode, body, want)
		}
	}
}
