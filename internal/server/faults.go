package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/fault/pgshare"
	"github.com/localcases/localcases/fault/redislimit"
	"github.com/localcases/localcases/metrics"
	"github.com/localcases/localcases/restjson"
	"github.com/localcases/localcases/store/postgres"
)

func (s *Server) openFaults(ctx context.Context) error {
	throttler := fault.NewThrottler(s.cfg.Throttle)
	if u := s.cfg.ThrottleRedis; u != "" {
		b, err := redislimit.Open(ctx, u, redislimit.Options{
			Prefix: "localcases:" + s.cfg.Account + ":" + s.cfg.Region + ":",
			Logger: s.cfg.Logger.With("subsystem", "throttle"),
		})
		if err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
		throttler.SetBuckets(b)
		throttler.SetEnabled(true)
		s.buckets = b
	}
	s.faults = fault.NewEngine(
		fault.WithSeed(s.cfg.Seed),
		fault.WithThrottler(throttler),
	)
	s.records = fault.NewRecorder(0)
	s.control = fault.Local(s.faults)
	return nil
}

// shareFaults makes the servers on one PostgreSQL schema inject as one
// service: the rules, scenario and seed move into the database (package
// pgshare). Memory and SQLite (pg nil) keep them in this process.
func (s *Server) shareFaults(ctx context.Context, pg *postgres.Store) error {
	if pg == nil {
		return nil
	}
	// A server configured to throttle says so to all; one that is not
	// adopts what the others run with.
	var throttle *fault.ThrottleSettings
	if t := s.cfg.Throttle; t.Enabled || len(t.Operations) > 0 || s.cfg.ThrottleRedis != "" {
		ts := s.faults.Throttler().Settings()
		throttle = &ts
	}
	sh, err := pgshare.Open(ctx, pg.Pool(), pg.Schema(), s.faults, pgshare.Options{
		Seed:     s.cfg.Seed,
		Throttle: throttle,
		Logger:   s.cfg.Logger.With("subsystem", "faults"),
		OnChange: func() { s.health.svc.Sync(context.Background()) },
	})
	if err != nil {
		return err
	}
	s.share, s.control = sh, sh
	return nil
}

// loadFaultsFile installs the --faults file. On a shared database a file
// equal to what is installed changes nothing, so servers started with the
// same file do not restart each other's rules (their windows and counts).
func (s *Server) loadFaultsFile() error {
	if s.cfg.FaultsFile == "" {
		return nil
	}
	data, err := os.ReadFile(s.cfg.FaultsFile)
	if err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	file, err := fault.ParseFile(data, strings.TrimPrefix(filepath.Ext(s.cfg.FaultsFile), "."))
	if err != nil {
		return fmt.Errorf("faults %s: %w", s.cfg.FaultsFile, err)
	}
	st := s.faults.State()
	if s.share == nil || !sameRules(file.Rules, st.Rules) {
		if err := s.control.SetRules(file.Rules); err != nil {
			return fmt.Errorf("faults %s: %w", s.cfg.FaultsFile, err)
		}
	}
	if file.Scenario != nil && (s.share == nil || !sameScenario(*file.Scenario, st.Scenario)) {
		if err := s.control.StartScenario(*file.Scenario); err != nil {
			return fmt.Errorf("faults %s: %w", s.cfg.FaultsFile, err)
		}
	}
	if s.cfg.Logger != nil {
		admin.LogRules(s.cfg.Logger, "fault rules loaded", s.faults.Rules(), "file", s.cfg.FaultsFile)
		if file.Scenario != nil {
			s.cfg.Logger.Info("fault scenario started", "name", file.Scenario.Name, "file", s.cfg.FaultsFile)
		}
	}
	return nil
}

// sameRules reports whether the file's rules are those installed; a rule
// the file leaves without an ID matches whatever ID it was given.
func sameRules(file []fault.Rule, have []fault.InstalledRule) bool {
	if len(file) != len(have) {
		return false
	}
	for i, r := range file {
		n, err := r.Normalize()
		if err != nil {
			return false
		}
		h := have[i].Rule.Clone()
		if n.ID == "" {
			h.ID = ""
		}
		if !sameJSON(n, h) {
			return false
		}
	}
	return true
}

func sameScenario(file fault.Scenario, have *fault.RunningScenario) bool {
	n, err := file.Normalize()
	return err == nil && have != nil && sameJSON(n, have.Scenario)
}

func sameJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// observe feeds every answered request to the traffic recorder, the health
// report and the metrics.
func (s *Server) observe(c *restjson.Call, o restjson.Outcome) {
	s.metrics.Request(c.Op.Name, metricCode(o), o.Latency)
	req := faultRequest(c)
	rec := fault.Record{
		Time: c.Start, RequestID: c.RequestID, Operation: c.Op.Name,
		ClientID: req.ClientID, InvocationID: req.InvocationID, Attempt: req.Attempt,
		Status: o.Status, ErrorCode: string(o.Code), Injected: c.Injected != "",
		Dropped: o.Dropped, Latency: o.Latency, RuleID: c.Rule,
	}
	if o.RetryAfter > 0 {
		rec.RetryAfter = timeSeconds(o.RetryAfter)
	}
	s.records.Add(rec)
	s.faults.Observe(fault.Outcome{
		Time: c.Start, Operation: c.Op.Name, StatusCode: o.Status, ErrorCode: string(o.Code),
		Dropped: o.Dropped, Injected: rec.Injected,
	})
}

// metricCode is the code label of an answered request: the AWS error code,
// OK, the status of a raw HTTP answer (a load balancer's 503 page), or
// Dropped when no answer was sent.
func metricCode(o restjson.Outcome) string {
	switch {
	case o.Code != "":
		return string(o.Code)
	case o.Dropped:
		return "Dropped"
	case o.Status >= 300:
		return strconv.Itoa(o.Status)
	}
	return metrics.CodeOK
}

// inFlight counts the API calls being served, for localcases_in_flight.
func (s *Server) inFlight(next restjson.Invoker) restjson.Invoker {
	return func(c *restjson.Call) (any, error) {
		s.metrics.Begin()
		defer s.metrics.End()
		return next(c)
	}
}

func timeSeconds(n int) time.Duration { return time.Duration(n) * time.Second }
