package auth

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The policy example of docs/SECURITY.md, read from the doc itself, denies
// the domain it names by ID and what that domain holds, and nothing else.
// It once named domain/restricted-*, which no domain ARN can match.
func TestDocumentedDenyByDomainID(t *testing.T) {
	doc, err := os.ReadFile("../docs/SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n# localcases.yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/SECURITY.md has no ```yaml block starting # localcases.yaml")
	}
	const restricted = "0b6c3d0e-5a0e-4d55-9a1f-2d3e4f5a6b7c"
	block = os.Expand(block, func(k string) string {
		if k == "RESTRICTED_DOMAIN_ID" {
			return restricted
		}
		return "x"
	})
	var file struct {
		Auth Config `yaml:"auth"`
	}
	if err := yaml.Unmarshal([]byte(block), &file); err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(file.Auth, "us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard Credential
	for _, c := range file.Auth.Credentials {
		if c.AccessKeyID == "AKIDDASHBOARD" {
			dashboard = c
		}
	}
	id := &Identity{AccessKeyID: dashboard.AccessKeyID, Principal: dashboard.Principal, policy: dashboard.Policy}
	arn := "arn:aws:cases:us-east-1:000000000000:domain/"
	for _, tt := range []struct {
		action, resource string
		allowed          bool
	}{
		{"cases:GetDomain", arn + restricted, false},
		{"cases:GetCase", arn + restricted + "/case/c1", false},
		{"cases:GetDomain", arn + "5f1e2d3c-0000-4000-8000-000000000000", true},
		{"cases:ListDomains", "*", true},
	} {
		err := v.Authorize(id, tt.action, tt.resource)
		if (err == nil) != tt.allowed {
			t.Errorf("%s on %s: err = %v, want allowed %v", tt.action, tt.resource, err, tt.allowed)
		}
	}
}
