// Package auth checks who is calling: it verifies AWS Signature Version 4
// on each request against the credentials a shared localcases instance is
// configured with, and evaluates IAM-style access policies per access key.
//
// Signatures are recomputed with the AWS SDK's own v4 signer
// (aws-sdk-go-v2/aws/signer/v4) over the parts of the request the client
// says it signed, never with hand-rolled canonicalisation or crypto, so the
// emulator accepts exactly what AWS accepts from the SDKs and the CLI.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/localcases/localcases/api"
)

// Modes.
const (
	// Permissive accepts any request, signed or not: the laptop default.
	Permissive = "permissive"
	// Strict accepts only requests signed with a configured credential and
	// allowed by its policy.
	Strict = "strict"
)

// DefaultMaxSkew is how far a request's signing time may be from the
// server's clock: AWS's limit is 15 minutes.
const DefaultMaxSkew = 15 * time.Minute

// Config is the auth section of the server configuration.
type Config struct {
	// Mode is Permissive (default) or Strict.
	Mode string `yaml:"mode" json:"mode"`
	// Credentials are the access keys Strict mode accepts.
	Credentials []Credential `yaml:"credentials" json:"credentials"`
	// MaxSkew overrides DefaultMaxSkew.
	MaxSkew time.Duration `yaml:"maxSkew" json:"maxSkew"`
}

// Credential is one access key with its secret and access policy.
type Credential struct {
	AccessKeyID     string `yaml:"accessKeyId" json:"accessKeyId"`
	SecretAccessKey string `yaml:"secretAccessKey" json:"secretAccessKey"`
	// Principal is the IAM ARN the key stands for in audit history and
	// error messages; default arn:aws:iam::{account}:user/{accessKeyId}.
	Principal string `yaml:"principal" json:"principal"`
	// Policy is an IAM-style identity policy. In Strict mode a key with no
	// statement allowing an action is denied it.
	Policy []Statement `yaml:"policy" json:"policy"`
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	switch c.Mode {
	case "", Permissive:
	case Strict:
		if len(c.Credentials) == 0 {
			return fmt.Errorf("auth: strict mode needs at least one credential")
		}
	default:
		return fmt.Errorf("auth: mode %q: want %s or %s", c.Mode, Permissive, Strict)
	}
	seen := map[string]bool{}
	for i, cr := range c.Credentials {
		if cr.AccessKeyID == "" || cr.SecretAccessKey == "" {
			return fmt.Errorf("auth: credential %d needs accessKeyId and secretAccessKey", i)
		}
		if seen[cr.AccessKeyID] {
			return fmt.Errorf("auth: access key %s listed twice", cr.AccessKeyID)
		}
		seen[cr.AccessKeyID] = true
		for j, st := range cr.Policy {
			if err := st.validate(); err != nil {
				return fmt.Errorf("auth: credential %s statement %d: %w", cr.AccessKeyID, j, err)
			}
		}
	}
	return nil
}

// Identity is a verified caller.
type Identity struct {
	AccessKeyID string
	Principal   string
	Region      string // from the credential scope
	policy      []Statement
}

// Verifier checks signatures. It is immutable; a reload builds a new one.
type Verifier struct {
	mode    string
	region  string
	account string
	maxSkew time.Duration
	keys    map[string]Credential
	signer  *v4.Signer
}

// NewVerifier returns a Verifier for cfg; region and account are the
// server's (the endpoint's Region, and the account in default principals).
func NewVerifier(cfg Config, region, account string) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{mode: cfg.Mode, region: region, account: account, maxSkew: cfg.MaxSkew, keys: map[string]Credential{}, signer: v4.NewSigner()}
	if v.mode == "" {
		v.mode = Permissive
	}
	if v.maxSkew <= 0 {
		v.maxSkew = DefaultMaxSkew
	}
	for _, c := range cfg.Credentials {
		if c.Principal == "" {
			c.Principal = "arn:aws:iam::" + account + ":user/" + c.AccessKeyID
		}
		v.keys[c.AccessKeyID] = c
	}
	return v, nil
}

// Mode is Permissive or Strict.
func (v *Verifier) Mode() string { return v.mode }

// Error codes AWS endpoints use for authentication failures. They are not
// in the Cases model: the front door answers them before the service runs.
const (
	CodeMissingToken     api.ErrorCode = "MissingAuthenticationTokenException"
	CodeIncomplete       api.ErrorCode = "IncompleteSignatureException"
	CodeUnrecognized     api.ErrorCode = "UnrecognizedClientException"
	CodeInvalidSignature api.ErrorCode = "InvalidSignatureException"
)

func authError(code api.ErrorCode, status int, format string, args ...any) *api.Error {
	return &api.Error{Code: code, StatusCode: status, Message: fmt.Sprintf(format, args...)}
}

const amzDateFormat = "20060102T150405Z"

// Verify checks the request's signature. body is the request body, already
// read; now is the server's clock. In Permissive mode an unsigned request or
// an unknown key passes with an identity from what the request claims.
func (v *Verifier) Verify(r *http.Request, body []byte, now time.Time) (*Identity, error) {
	pre, err := v.precheck(r, now)
	if err != nil || pre.id != nil {
		return pre.id, err
	}
	want, err := v.sign(r, body, pre.h, pre.cred, pre.signed)
	if err != nil {
		return nil, authError(CodeIncomplete, http.StatusBadRequest, "%s", err.Error())
	}
	if !hmac.Equal([]byte(want), []byte(pre.h.signature)) {
		return nil, authError(CodeInvalidSignature, http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return &Identity{AccessKeyID: pre.h.accessKey, Principal: pre.cred.Principal, Region: pre.h.region, policy: pre.cred.Policy}, nil
}

// Precheck runs every check of Verify that needs no body: a request that is
// unsigned, signed with an unknown key, out of scope or expired is refused
// before its body is read, so an anonymous client cannot make the server
// read megabytes only to refuse them.
func (v *Verifier) Precheck(r *http.Request, now time.Time) error {
	_, err := v.precheck(r, now)
	return err
}

// prechecked is what precheck learned: either a final identity (the request
// passes without a signature check) or what the signature check needs.
type prechecked struct {
	id     *Identity
	h      authHeader
	cred   Credential
	signed time.Time
}

func (v *Verifier) precheck(r *http.Request, now time.Time) (prechecked, error) {
	var p prechecked
	authz := r.Header.Get("Authorization")
	if authz == "" {
		if v.mode == Permissive {
			p.id = &Identity{Principal: "arn:aws:iam::" + v.account + ":root"}
			return p, nil
		}
		return p, authError(CodeMissingToken, http.StatusForbidden, "Missing Authentication Token")
	}
	h, err := parseAuthorization(authz)
	if err != nil {
		return p, authError(CodeIncomplete, http.StatusBadRequest, "%s", err.Error())
	}
	cred, known := v.keys[h.accessKey]
	if v.mode == Permissive && !known {
		p.id = &Identity{AccessKeyID: h.accessKey, Principal: "arn:aws:iam::" + v.account + ":user/" + h.accessKey, Region: h.region}
		return p, nil
	}
	if !known {
		return p, authError(CodeUnrecognized, http.StatusForbidden, "The security token included in the request is invalid.")
	}
	if h.service != "cases" {
		return p, authError(CodeInvalidSignature, http.StatusForbidden, "Credential should be scoped to correct service: 'cases'. ")
	}
	if h.region != v.region {
		return p, authError(CodeInvalidSignature, http.StatusForbidden, "Credential should be scoped to a valid region, not '%s'. ", h.region)
	}
	dateText := r.Header.Get("X-Amz-Date")
	signed, err := time.Parse(amzDateFormat, dateText)
	if err != nil {
		return p, authError(CodeIncomplete, http.StatusBadRequest, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if !strings.HasPrefix(dateText, h.date) {
		return p, authError(CodeInvalidSignature, http.StatusForbidden, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", h.date, dateText[:min(8, len(dateText))], dateText)
	}
	if d := now.Sub(signed); d > v.maxSkew || d < -v.maxSkew {
		return p, authError(CodeInvalidSignature, http.StatusForbidden, "Signature expired: %s is now earlier than %s (%s - %s.)",
			signed.UTC().Format(amzDateFormat), now.Add(-v.maxSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat), v.maxSkew)
	}
	p.h, p.cred, p.signed = h, cred, signed
	return p, nil
}

// sign recomputes the signature over exactly the headers the client signed.
func (v *Verifier) sign(r *http.Request, body []byte, h authHeader, cred Credential, at time.Time) (string, error) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, name := range h.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			vals := r.Header.Values(name)
			if len(vals) == 0 {
				// A signed header that went missing signs as empty, and
				// the signature then fails to match, as at AWS.
				vals = []string{""}
			}
			req.Header[http.CanonicalHeaderKey(name)] = vals
		}
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payload && claimed != "UNSIGNED-PAYLOAD" {
		return "", fmt.Errorf("the provided X-Amz-Content-Sha256 header does not match what was computed")
	}
	creds := aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey, SessionToken: ""}
	if err := v.signer.SignHTTP(context.Background(), creds, req, payload, h.service, h.region, at); err != nil {
		return "", err
	}
	got, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	if strings.Join(got.signedHeaders, ";") != strings.Join(h.signedHeaders, ";") {
		// The signer would sign a different set (e.g. the client listed a
		// header the SDK never signs); the signatures cannot match.
		return got.signature + "-headers", nil
	}
	return got.signature, nil
}

type authHeader struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

// parseAuthorization reads
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/cases/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex".
func parseAuthorization(s string) (authHeader, error) {
	var h authHeader
	alg, rest, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || alg != "AWS4-HMAC-SHA256" {
		return h, fmt.Errorf("Authorization header must use the AWS4-HMAC-SHA256 algorithm")
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return h, fmt.Errorf("Authorization header has a malformed parameter %q", part)
		}
		params[k] = val
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[k] == "" {
			return h, fmt.Errorf("Authorization header requires '%s' parameter. Authorization=%s", k, api.ClipTo(s, 200))
		}
	}
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return h, fmt.Errorf("Credential should be scoped to a valid region, service and date, as ACCESSKEY/YYYYMMDD/REGION/SERVICE/aws4_request")
	}
	h.accessKey, h.date, h.region, h.service = scope[0], scope[1], scope[2], scope[3]
	h.signedHeaders = strings.Split(params["SignedHeaders"], ";")
	h.signature = params["Signature"]
	return h, nil
}

// Scope returns the access key and Region of the request's SigV4
// credential, whatever the mode and whether or not the key is known: traffic
// reports and fault rules name callers by it.
func Scope(r *http.Request) (accessKey, region string, ok bool) {
	h, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", "", false
	}
	return h.accessKey, h.region, true
}
