package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/localcases/localcases/api"
)

var (
	now   = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	good  = Credential{AccessKeyID: "AKIDGOOD", SecretAccessKey: "s3cr3t"}
	other = Credential{AccessKeyID: "AKIDOTHER", SecretAccessKey: "0ther", Policy: []Statement{
		{Effect: "Allow", Action: Strings{"cases:Get*", "cases:List*"}, Resource: Strings{"*"}},
		{Effect: "Deny", Action: Strings{"cases:GetDomain"}, Resource: Strings{"arn:aws:cases:us-east-1:000000000000:domain/secret*"}},
	}}
)

func strictVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{Mode: Strict, Credentials: []Credential{good, other}}, "us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signed builds a request signed by the SDK's signer, as a client would.
func signed(t *testing.T, key, secret, region, service string, at time.Time, body string) *http.Request {
	t.Helper()
	r, _ := http.NewRequest("POST", "http://127.0.0.1:4599/tags/arn%3Aaws%3Acases%3Aus-east-1%3A000000000000%3Adomain%2Fd", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func code(err error) api.ErrorCode {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func TestVerify(t *testing.T) {
	v := strictVerifier(t)
	body := `{"tags":{"a":"b"}}`
	tests := []struct {
		name   string
		req    func() *http.Request
		body   string
		want   api.ErrorCode
		status int
	}{
		{"valid", func() *http.Request { return signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now, body) }, body, "", 0},
		{"missing", func() *http.Request {
			r := signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now, body)
			r.Header.Del("Authorization")
			return r
		}, body, CodeMissingToken, 403},
		{"malformed", func() *http.Request {
			r := signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now, body)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDGOOD")
			return r
		}, body, CodeIncomplete, 400},
		{"unknown key", func() *http.Request { return signed(t, "AKIDNOPE", "s3cr3t", "us-east-1", "cases", now, body) }, body, CodeUnrecognized, 403},
		{"wrong secret", func() *http.Request { return signed(t, "AKIDGOOD", "wrong", "us-east-1", "cases", now, body) }, body, CodeInvalidSignature, 403},
		{"tampered body", func() *http.Request { return signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now, body) }, `{"tags":{"a":"c"}}`, CodeInvalidSignature, 403},
		{"tampered path", func() *http.Request {
			r := signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now, body)
			r.URL.Path, r.URL.RawPath = "/tags/other", ""
			return r
		}, body, CodeInvalidSignature, 403},
		{"stale", func() *http.Request {
			return signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now.Add(-16*time.Minute), body)
		}, body, CodeInvalidSignature, 403},
		{"from the future", func() *http.Request {
			return signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now.Add(16*time.Minute), body)
		}, body, CodeInvalidSignature, 403},
		{"within skew", func() *http.Request {
			return signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now.Add(-14*time.Minute), body)
		}, body, "", 0},
		{"wrong region", func() *http.Request { return signed(t, "AKIDGOOD", "s3cr3t", "eu-west-1", "cases", now, body) }, body, CodeInvalidSignature, 403},
		{"wrong service", func() *http.Request { return signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "s3", now, body) }, body, CodeInvalidSignature, 403},
		{"signed header removed", func() *http.Request {
			r := signed(t, "AKIDGOOD", "s3cr3t", "us-east-1", "cases", now, body)
			r.Header.Del("Content-Type")
			return r
		}, body, CodeInvalidSignature, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(tt.req(), []byte(tt.body), now)
			if got := code(err); got != tt.want {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.want)
			}
			if tt.want != "" {
				if s := err.(*api.Error).Status(); s != tt.status {
					t.Errorf("status = %d, want %d", s, tt.status)
				}
			}
		})
	}
}

func TestPermissiveAcceptsAnything(t *testing.T) {
	v, err := NewVerifier(Config{}, "us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("POST", "http://x/domains-list", nil)
	id, err := v.Verify(r, nil, now)
	if err != nil || id.Principal != "arn:aws:iam::000000000000:root" {
		t.Fatalf("unsigned: %v %+v", err, id)
	}
	id, err = v.Verify(signed(t, "ANYKEY", "any", "eu-west-1", "cases", now.Add(-time.Hour), ""), nil, now)
	if err != nil || id.Principal != "arn:aws:iam::000000000000:user/ANYKEY" {
		t.Fatalf("any key: %v %+v", err, id)
	}
	if v.Authorize(id, "cases:DeleteDomain", "*") != nil {
		t.Error("permissive mode denied an action")
	}
}

func TestAuthorize(t *testing.T) {
	v := strictVerifier(t)
	id := func(c Credential) *Identity {
		r := signed(t, c.AccessKeyID, c.SecretAccessKey, "us-east-1", "cases", now, "")
		got, err := v.Verify(r, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	domain := "arn:aws:cases:us-east-1:000000000000:domain/"
	tests := []struct {
		name     string
		who      Credential
		action   string
		resource string
		allowed  bool
	}{
		{"no policy in strict mode", good, "cases:GetDomain", domain + "d", false},
		{"wildcard action", other, "cases:GetCase", domain + "d/case/c", true},
		{"action case-insensitive", other, "CASES:listdomains", "*", true},
		{"not allowed", other, "cases:CreateCase", domain + "d", false},
		{"explicit deny wins", other, "cases:GetDomain", domain + "secret-1", false},
		{"deny is scoped", other, "cases:GetDomain", domain + "public", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Authorize(id(tt.who), tt.action, tt.resource)
			if (err == nil) != tt.allowed {
				t.Fatalf("err = %v, allowed want %v", err, tt.allowed)
			}
			if err != nil && (code(err) != api.CodeAccessDeniedException || !strings.Contains(err.Error(), tt.action)) {
				t.Errorf("err = %v, want AccessDeniedException naming the action", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Mode: "paranoid"},
		{Mode: Strict},
		{Mode: Strict, Credentials: []Credential{{AccessKeyID: "A"}}},
		{Mode: Strict, Credentials: []Credential{good, good}},
		{Mode: Strict, Credentials: []Credential{{AccessKeyID: "A", SecretAccessKey: "s", Policy: []Statement{{Effect: "Maybe", Action: Strings{"*"}}}}}},
		{Mode: Strict, Credentials: []Credential{{AccessKeyID: "A", SecretAccessKey: "s", Policy: []Statement{{Effect: "Allow", Action: Strings{"s3:*"}}}}}},
	}
	for i, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("config %d validated: %+v", i, c)
		}
	}
}

func TestScope(t *testing.T) {
	r, _ := http.NewRequest("POST", "http://x/", nil)
	if _, _, ok := Scope(r); ok {
		t.Error("unsigned request has a scope")
	}
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261125/eu-west-2/cases/aws4_request, SignedHeaders=host, Signature=ab")
	if key, region, ok := Scope(r); !ok || key != "AKID" || region != "eu-west-2" {
		t.Errorf("Scope = %q %q %v", key, region, ok)
	}
	r.Header.Set("Authorization", "Credential=AKID/x")
	if _, _, ok := Scope(r); ok {
		t.Error("malformed header has a scope")
	}
}

// TestPrecheckNeedsNoBody: the refusals that need no body come from
// Precheck, which sees only the headers, and a request that passes it is
// then judged on its signature.
func TestPrecheckNeedsNoBody(t *testing.T) {
	v, err := NewVerifier(Config{Mode: Strict, Credentials: []Credential{{AccessKeyID: "AKID", SecretAccessKey: "s"}}}, "us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, authz, date string
		want              api.ErrorCode
	}{
		{name: "unsigned", want: CodeMissingToken},
		{name: "malformed", authz: "AWS4-HMAC-SHA256 Credential=AKID", want: CodeIncomplete},
		{name: "unknown key", authz: "AWS4-HMAC-SHA256 Credential=NOPE/20261125/us-east-1/cases/aws4_request, SignedHeaders=host, Signature=ab", want: CodeUnrecognized},
		{name: "expired", authz: "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/cases/aws4_request, SignedHeaders=host, Signature=ab", date: "20261124T110000Z", want: CodeInvalidSignature},
		{name: "passes to the signature", authz: "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/cases/aws4_request, SignedHeaders=host, Signature=ab", date: "20261125T120000Z"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("POST", "http://x/domains", nil)
		if c.authz != "" {
			r.Header.Set("Authorization", c.authz)
		}
		if c.date != "" {
			r.Header.Set("X-Amz-Date", c.date)
		}
		err := v.Precheck(r, now)
		var ae *api.Error
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Precheck = %v", c.name, err)
		case c.want != "" && (!errors.As(err, &ae) || ae.Code != c.want):
			t.Errorf("%s: Precheck = %v, want %s", c.name, err, c.want)
		}
	}
}

// FuzzParseAuthorization: the SigV4 header parser never panics, and what it
// accepts has every part a signature check needs.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/cases/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=, Signature=")
	f.Add("Basic dXNlcjpwYXNz")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseAuthorization(s)
		if err != nil {
			return
		}
		if h.accessKey == "" || h.signature == "" || len(h.signedHeaders) == 0 {
			t.Fatalf("accepted %q as %+v", s, h)
		}
	})
}
