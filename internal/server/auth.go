package server

import (
	"sync/atomic"

	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/restjson"
	"github.com/localcases/localcases/service"
)

// verifierBox holds the current verifier; SetAuth swaps it without a lock
// so a reload never stalls or drops a request.
type verifierBox struct{ p atomic.Pointer[auth.Verifier] }

// SetAuth replaces the credentials and policies, e.g. on SIGHUP. Requests in
// flight finish under the configuration they started with.
func (s *Server) SetAuth(cfg auth.Config) error {
	v, err := auth.NewVerifier(cfg, s.cfg.Region, s.cfg.Account)
	if err != nil {
		return err
	}
	s.verifier.p.Store(v)
	s.cfg.Auth = cfg
	return nil
}

// precheck refuses, from the headers alone, a request that the signature
// check would refuse anyway (unsigned in strict mode, an unknown key, a
// wrong scope, an expired date), before its body is received.
func (s *Server) precheck(next restjson.Invoker) restjson.Invoker {
	return func(c *restjson.Call) (any, error) {
		if err := s.verifier.p.Load().Precheck(c.Request, s.cfg.Clock.Now()); err != nil {
			return nil, err
		}
		return next(c)
	}
}

// authenticate runs before the operation and its faults: it verifies the
// signature over the body already received, applies the caller's policy to
// the operation and its target resource, and names the caller for audit
// history.
func (s *Server) authenticate(next restjson.Invoker) restjson.Invoker {
	return func(c *restjson.Call) (any, error) {
		v := s.verifier.p.Load()
		body, err := c.Body()
		if err != nil {
			return nil, err
		}
		id, err := v.Verify(c.Request, body, s.cfg.Clock.Now())
		if err != nil {
			return nil, err
		}
		if err := v.Authorize(id, "cases:"+c.Op.Name, s.resourceARN(c)); err != nil {
			return nil, err
		}
		c.Request = c.Request.WithContext(service.WithPrincipal(c.Request.Context(), id.Principal))
		return next(c)
	}
}

// resourceARN is the resource an operation acts on, for policy checks: the
// most specific ID in its path, or "*" for account-level operations.
func (s *Server) resourceARN(c *restjson.Call) string {
	r := c.Request
	if arn := r.PathValue("arn"); arn != "" {
		return arn
	}
	d := r.PathValue("domainId")
	if d == "" {
		return "*"
	}
	base := "arn:aws:cases:" + s.cfg.Region + ":" + s.cfg.Account + ":domain/" + d
	switch {
	case r.PathValue("relatedItemId") != "":
		return base + "/case/" + r.PathValue("caseId") + "/related-item/" + r.PathValue("relatedItemId")
	case r.PathValue("caseId") != "":
		return base + "/case/" + r.PathValue("caseId")
	case r.PathValue("templateId") != "":
		return base + "/template/" + r.PathValue("templateId")
	case r.PathValue("layoutId") != "":
		return base + "/layout/" + r.PathValue("layoutId")
	case r.PathValue("fieldId") != "":
		return base + "/field/" + r.PathValue("fieldId")
	case r.PathValue("caseRuleId") != "":
		return base + "/case-rule/" + r.PathValue("caseRuleId")
	}
	return base
}
