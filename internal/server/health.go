package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/awsjson"
	"github.com/localcases/localcases/health"
	"github.com/localcases/localcases/healthapi"
	"github.com/localcases/localcases/metrics"
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
//
// They count in the metrics as the Cases calls do, under their own
// operation names.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) bool {
	if !awsjson.Match(r) {
		return false
	}
	start := time.Now()
	s.metrics.Begin()
	s.health.handler.ServeHTTP(w, r)
	s.metrics.End()
	code := w.Header().Get("x-amzn-ErrorType")
	if code == "" {
		code = metrics.CodeOK
	}
	s.metrics.Request(healthOperation(r), code, time.Since(start))
	return true
}

// healthOperation names an AWS Health call for the metrics: its operation,
// or UnknownOperation for a target the model does not have, so that no
// client can grow the label set.
func healthOperation(r *http.Request) string {
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), healthapi.TargetPrefix+".")
	if healthapi.OperationByName(name) == nil {
		return "UnknownOperation"
	}
	return name
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
