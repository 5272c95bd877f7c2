package resilience

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go/middleware"
)

// HealthState summarises service availability.
type HealthState string

const (
	HealthUnknown     HealthState = "unknown" // no probe finished yet
	HealthOperational HealthState = "operational"
	HealthDegraded    HealthState = "degraded"
	HealthOutage      HealthState = "outage"
)

// HealthStatus is the result of the latest probe.
type HealthStatus struct {
	State HealthState
	// Err is the probe's error, nil if it succeeded. A client error such as
	// AccessDeniedException leaves State operational (the service
	// answered) but is reported here.
	Err error
	// Server is the status reported by the localcases health endpoint, ""
	// when not configured or not available.
	Server    HealthState
	CheckedAt time.Time
	Since     time.Time // when State last changed
	Latency   time.Duration
}

// ListDomainsAPI is the part of *connectcases.Client the checker uses.
type ListDomainsAPI interface {
	ListDomains(context.Context, *connectcases.ListDomainsInput, ...func(*connectcases.Options)) (*connectcases.ListDomainsOutput, error)
}

// HealthConfig configures a HealthChecker; zero fields take the defaults.
type HealthConfig struct {
	// Interval between probes in Run. Default 30s.
	Interval time.Duration
	// Timeout of one probe. Default 5s.
	Timeout time.Duration
	// OutageAfter is the number of consecutive server-side probe failures
	// that turns degraded into outage. Default 3.
	OutageAfter int
	// Endpoint, if set, is the base URL of a localcases server, whose
	// GET {Endpoint}/_localcases/health ({"status":"operational|degraded|outage"},
	// other fields ignored) refines the state. A 404, a non-JSON body or
	// another status value is ignored, so pointing it at real AWS is
	// harmless.
	Endpoint string
	// HTTPClient for the Endpoint. Default: a client without timeout (the
	// probe Timeout applies).
	HTTPClient *http.Client
	// Clock for timestamps and Run's interval. Default: wall clock.
	Clock Clock
}

// HealthChecker probes Connect Cases with a cheap read (ListDomains,
// MaxResults 1). The probe bypasses the Kit's retryer and breaker when the
// client has them, so it measures the service, not our own fail-fast state.
//
// To make clients fail fast during an outage, feed a Kit from it.
// Subscribers hear about changes only, so hold the breakers open until the
// checker sees recovery:
//
//	hc.Subscribe(func(s resilience.HealthStatus) {
//		if s.State == resilience.HealthOutage {
//			kit.ForceOpen(time.Hour)
//		} else {
//			kit.ForceOpen(0)
//		}
//	})
type HealthChecker struct {
	api ListDomainsAPI
	cfg HealthConfig

	mu       sync.Mutex
	status   HealthStatus
	failures int
	subs     map[int]func(HealthStatus)
	nextSub  int
}

// NewHealthChecker returns a checker in state HealthUnknown; call Check or
// Run to probe.
func NewHealthChecker(api ListDomainsAPI, cfg HealthConfig) *HealthChecker {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.OutageAfter <= 0 {
		cfg.OutageAfter = 3
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	return &HealthChecker{
		api:    api,
		cfg:    cfg,
		status: HealthStatus{State: HealthUnknown},
		subs:   map[int]func(HealthStatus){},
	}
}

// Status returns the latest status.
func (h *HealthChecker) Status() HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status
}

// Subscribe calls fn (on the probing goroutine) whenever State changes.
// The returned func unsubscribes.
func (h *HealthChecker) Subscribe(fn func(HealthStatus)) (cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.nextSub
	h.nextSub++
	h.subs[id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}
}

// Run probes every Interval until ctx is done.
func (h *HealthChecker) Run(ctx context.Context) {
	for {
		h.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-h.cfg.Clock.After(h.cfg.Interval):
		}
	}
}

// bypassKit strips the Kit from the probe: one raw attempt, no breaker.
func bypassKit(o *connectcases.Options) {
	o.Retryer = aws.NopRetryer{}
	o.APIOptions = append(o.APIOptions[:len(o.APIOptions):len(o.APIOptions)], func(s *middleware.Stack) error {
		_, _ = s.Initialize.Remove(callMiddlewareID)
		_, _ = s.Finalize.Remove(attemptMiddlewareID)
		return nil
	})
}

// Check probes once, updates Status and notifies subscribers on change.
func (h *HealthChecker) Check(ctx context.Context) HealthStatus {
	clock := h.cfg.Clock
	pctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()

	start := clock.Now()
	_, err := h.api.ListDomains(pctx, &connectcases.ListDomainsInput{MaxResults: aws.Int32(1)}, bypassKit)
	latency := clock.Now().Sub(start)
	if ctx.Err() != nil {
		// The caller gave up; that says nothing about the service.
		return h.Status()
	}
	sctx, scancel := context.WithTimeout(ctx, h.cfg.Timeout)
	server := h.serverHealth(sctx)
	scancel()

	h.mu.Lock()
	c := classify(err)
	failed := err != nil && (c.serverSide || c.throttle)
	if failed && c.serverSide {
		h.failures++
	} else if !failed {
		h.failures = 0
	}
	state := HealthOperational
	switch {
	case failed && c.serverSide && h.failures >= h.cfg.OutageAfter:
		state = HealthOutage
	case failed:
		state = HealthDegraded
	}
	// The emulator knows about its own injected faults and degradations;
	// it refines the state but never hides a failed probe.
	if server != "" && (!failed || server == HealthOutage) {
		state = server
	}
	now := clock.Now()
	prev := h.status
	h.status = HealthStatus{State: state, Err: err, Server: server, CheckedAt: now, Since: prev.Since, Latency: latency}
	changed := state != prev.State
	if changed {
		h.status.Since = now
	}
	st := h.status
	var subs []func(HealthStatus)
	if changed {
		for _, fn := range h.subs {
			subs = append(subs, fn)
		}
	}
	h.mu.Unlock()

	for _, fn := range subs {
		fn(st)
	}
	return st
}

// serverHealth reads the localcases health endpoint; any problem means
// "not available" rather than an error, since real AWS has no such path.
func (h *HealthChecker) serverHealth(ctx context.Context) HealthState {
	if h.cfg.Endpoint == "" {
		return ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.cfg.Endpoint+"/_localcases/health", nil)
	if err != nil {
		return ""
	}
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	// Not only 200: an emulator in outage may well answer 503 with a body.
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil {
		return ""
	}
	switch s := HealthState(strings.ToLower(body.Status)); s {
	case HealthOperational, HealthDegraded, HealthOutage:
		return s
	}
	return ""
}
