package auth

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/localcases/localcases/api"
)

// Statement is one IAM-style policy statement: Effect Allow or Deny, over
// actions ("cases:CreateCase", "cases:Get*", "*") and resources (ARNs, with
// * and ? wildcards).
type Statement struct {
	Effect   string  `yaml:"effect" json:"effect"`
	Action   Strings `yaml:"action" json:"action"`
	Resource Strings `yaml:"resource" json:"resource"`
}

// Strings is a list that also accepts a single string, as IAM policies do.
type Strings []string

func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings")
	}
	*s = many
	return nil
}

func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Strings{n.Value}
		return nil
	}
	var many []string
	if err := n.Decode(&many); err != nil {
		return err
	}
	*s = many
	return nil
}

func (st Statement) validate() error {
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return fmt.Errorf("effect %q: want Allow or Deny", st.Effect)
	}
	if len(st.Action) == 0 {
		return fmt.Errorf("no action")
	}
	for _, a := range st.Action {
		if a != "*" && !strings.HasPrefix(strings.ToLower(a), "cases:") {
			return fmt.Errorf("action %q: want cases:<Operation> (wildcards allowed) or *", a)
		}
		if _, err := path.Match(strings.ToLower(a), ""); err != nil {
			return fmt.Errorf("action %q: %w", a, err)
		}
	}
	for _, r := range st.Resource {
		if _, err := path.Match(r, ""); err != nil {
			return fmt.Errorf("resource %q: %w", r, err)
		}
	}
	return nil
}

// match reports whether pattern, with IAM's * and ? wildcards, matches s.
// path.Match treats "/" specially; IAM does not, so slashes are swapped for
// a byte that cannot appear in an ARN before matching.
func match(pattern, s string) bool {
	const sep = "\x00"
	ok, _ := path.Match(strings.ReplaceAll(pattern, "/", sep), strings.ReplaceAll(s, "/", sep))
	return ok
}

func (st Statement) applies(action, resource string) bool {
	actionHit := false
	for _, a := range st.Action {
		// Actions are case-insensitive in IAM; resources are not.
		if match(strings.ToLower(a), strings.ToLower(action)) {
			actionHit = true
			break
		}
	}
	if !actionHit {
		return false
	}
	if len(st.Resource) == 0 {
		return true
	}
	for _, r := range st.Resource {
		if match(r, resource) {
			return true
		}
	}
	return false
}

// Authorize decides whether id may perform action ("cases:CreateCase") on
// resource (an ARN, or "*" for account-level operations): an explicit Deny
// wins; otherwise an Allow is needed in Strict mode. A caller whose key has
// no policy is allowed everything in Permissive mode.
func (v *Verifier) Authorize(id *Identity, action, resource string) error {
	if v.mode == Permissive && len(id.policy) == 0 {
		return nil
	}
	allowed := false
	for _, st := range id.policy {
		if !st.applies(action, resource) {
			continue
		}
		if st.Effect == "Deny" {
			return denied(id, action, resource, "with an explicit deny in an identity-based policy")
		}
		allowed = true
	}
	if !allowed {
		return denied(id, action, resource, "because no identity-based policy allows the "+action+" action")
	}
	return nil
}

func denied(id *Identity, action, resource, why string) error {
	return &api.Error{
		Code:    api.CodeAccessDeniedException,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", id.Principal, action, resource, why),
	}
}
