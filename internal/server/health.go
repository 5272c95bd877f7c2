package server

import (
	"context"
	"net/http"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/awsjson"
	"github.com/localcases/localcases/health"
)

// healthAPI is the emulated AWS Health API: the service and its handler.
type healthAPI struct {
	svc     *health.Service
	handler http.Handler
}

// openHealth builds the emulated AWS Health API on the fault engine and
// registers its admin endpoints.
func (s *Server) openHealth() {
	svc := health.New(health.Config{
		Region: s.cfg.Region, Account: s.cfg.Account, Faults: s.faults,
		Domains: s.domainARNs, Clock: s.cfg.Clock, Logger: s.cfg.Logger.With("subsystem", "health"),
	})
	svc.SetSubscriptionRequired(s.cfg.HealthSubscriptionRequired)
	s.health = healthAPI{svc, awsjson.NewHandler(svc, s.cfg.Logger.With("subsystem", "healthapi"))}
	admin.RegisterHealthEvents(s.admin, svc)
}

// serveHealth answers an AWS Health call and reports true, or reports
// false for anything else. Health calls skip the Cases middleware: faults
// are never injected into the API that reports them, and the signing scope
// is "health", not "cases".
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) bool {
	if awsjson.Match(r) {
		s.health.handler.ServeHTTP(w, r)
		return true
	}
	return false
}

// adminChanged keeps the Health events in step with an admin request that
// may have changed the faults (a scenario stopped, a rule removed), so an
// event closes when the fault ends, not when it is next read.
func (s *Server) adminChanged(r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.health.svc.Sync(r.Context())
	}
}

// Health returns the emulated AWS Health service.
func (s *Server) Health() *health.Service { return s.health.svc }

// domainARNs lists every domain's ARN: the entities an account-wide
// incident affects.
func (s *Server) domainARNs(ctx context.Context) ([]string, error) {
	var arns []string
	in := &api.ListDomainsRequest{MaxResults: api.Int32(100)}
	for {
		out, err := s.svc.ListDomains(ctx, in)
		if err != nil {
			return arns, err
		}
		for _, d := range out.Domains {
			arns = append(arns, api.ToString(d.DomainArn))
		}
		if out.NextToken == nil {
			return arns, nil
		}
		in.NextToken = out.NextToken
	}
}
