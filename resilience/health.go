package resilience

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/smithy-go"
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

// HealthStatus is the result of the latest check.
//
// State is decided, in this order:
//   - outage: OutageAfter probes in a row failed server-side, or AWS Health
//     announces an open issue for Connect and the latest probe failed;
//   - degraded: the latest probe failed (a throttle included); or AWS Health
//     announces an open issue for Connect; or the Kit (HealthConfig.Kit)
//     saw at least 10% of its attempts fail server-side over the last
//     minute, out of 20 or more;
//   - operational: otherwise.
//
// A localcases Endpoint may then refine it (see HealthConfig.Endpoint).
type HealthStatus struct {
	State HealthState
	// Err is the probe's error, nil if it succeeded. A client error such as
	// AccessDeniedException leaves State operational (the service
	// answered) but is reported here.
	Err error
	// Server is the status reported by the localcases health endpoint, ""
	// when not configured or not available.
	Server HealthState
	// Announcement is the open AWS Health issue for Connect, if any (the
	// earliest, when there are several).
	Announcement *Announcement
	// AWSHealth says whether AWS Health could be read: "" when not
	// configured, "ok", or "unavailable: " and the reason (for example the
	// account's SubscriptionRequiredException). Unavailable, the checker
	// goes on with its probes and the Kit's observations.
	AWSHealth string
	// Observed are the Kit's attempts over the last minute and how many of
	// them failed server-side (zero without HealthConfig.Kit).
	Observed, ObservedFailures int
	CheckedAt                  time.Time
	Since                      time.Time // when State last changed
	Latency                    time.Duration
}

// Announcement is an open AWS Health issue for Amazon Connect.
type Announcement struct {
	Arn           string
	EventTypeCode string // e.g. AWS_CONNECT_OPERATIONAL_ISSUE
	Region        string
	StartTime     time.Time
	LastUpdated   time.Time
}

// Message is a sentence for end users, e.g. "Amazon Connect Cases is
// having an operational issue in us-east-1 since 10:02 UTC."
func (a *Announcement) Message() string {
	where := ""
	if a.Region != "" {
		where = " in " + a.Region
	}
	since := ""
	if !a.StartTime.IsZero() {
		since = " since " + a.StartTime.UTC().Format("15:04") + " UTC"
		if y, m, d := a.StartTime.UTC().Date(); y != time.Now().UTC().Year() || m != time.Now().UTC().Month() || d != time.Now().UTC().Day() {
			since = " since " + a.StartTime.UTC().Format("Jan 2 15:04") + " UTC"
		}
	}
	return "Amazon Connect Cases is having an operational issue" + where + since + "."
}

// HealthEventsAPI is the part of *health.Client (the AWS Health API,
// github.com/aws/aws-sdk-go-v2/service/health) the checker uses. The same
// client reads AWS's global endpoint in production and a localcases server
// locally (its BaseEndpoint set to the server's URL).
type HealthEventsAPI interface {
	DescribeEvents(context.Context, *health.DescribeEventsInput, ...func(*health.Options)) (*health.DescribeEventsOutput, error)
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

	// AWSHealth, if set, is asked on every check for open issues of the
	// CONNECT service (in Region, if set). An open issue makes the state at
	// least degraded, and outage if the probe fails too.
	AWSHealth HealthEventsAPI
	// Region limits the AWS Health events that count to this region, e.g.
	// the Cases client's. Default: every region.
	Region string
	// Kit, if set, adds what the Kit observes of real traffic to the
	// probes: its server-side failure rate over the last minute.
	Kit *Kit
	// Logger hears, once per change, when AWS Health becomes unavailable
	// (or available again). Default: none.
	Logger *slog.Logger
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
	// lastAWSHealth is what was last logged about AWS Health availability.
	lastAWSHealth string
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
	announced, awsHealth := h.announcement(sctx)
	scancel()
	var observed, observedFailures int
	if h.cfg.Kit != nil {
		observed, observedFailures = h.cfg.Kit.observed(clock.Now())
	}

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
	case failed && c.serverSide && h.failures >= h.cfg.OutageAfter,
		failed && announced != nil:
		state = HealthOutage
	case failed, announced != nil,
		observed >= minObserved && float64(observedFailures) >= 0.1*float64(observed):
		state = HealthDegraded
	}
	// The emulator knows about its own injected faults and degradations;
	// it refines the state but never hides a failed probe.
	if server != "" && (!failed || server == HealthOutage) {
		state = server
	}
	now := clock.Now()
	prev := h.status
	h.status = HealthStatus{State: state, Err: err, Server: server, Announcement: announced, AWSHealth: awsHealth,
		Observed: observed, ObservedFailures: observedFailures, CheckedAt: now, Since: prev.Since, Latency: latency}
	logAWSHealth := awsHealth != h.lastAWSHealth && awsHealth != ""
	h.lastAWSHealth = awsHealth
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

	if logAWSHealth && h.cfg.Logger != nil {
		if awsHealth == "ok" {
			h.cfg.Logger.Info("AWS Health is available; the health checker reads Connect's open issues from it")
		} else {
			h.cfg.Logger.Warn("AWS Health is not available; the health checker goes on with its own probes and observed errors only",
				slog.String("reason", strings.TrimPrefix(awsHealth, "unavailable: ")))
		}
	}
	for _, fn := range subs {
		fn(st)
	}
	return st
}

// minObserved is how many attempts the Kit must have seen in the last
// minute before its failure rate counts.
const minObserved = 20

// announcement asks AWS Health for open Connect issues. Any error makes
// AWS Health "unavailable" for this check, never a failure of the service.
func (h *HealthChecker) announcement(ctx context.Context) (*Announcement, string) {
	if h.cfg.AWSHealth == nil {
		return nil, ""
	}
	filter := &healthtypes.EventFilter{
		Services:            []string{"CONNECT"},
		EventStatusCodes:    []healthtypes.EventStatusCode{healthtypes.EventStatusCodeOpen},
		EventTypeCategories: []healthtypes.EventTypeCategory{healthtypes.EventTypeCategoryIssue},
	}
	if h.cfg.Region != "" {
		filter.Regions = []string{h.cfg.Region}
	}
	out, err := h.cfg.AWSHealth.DescribeEvents(ctx, &health.DescribeEventsInput{Filter: filter, MaxResults: aws.Int32(10)})
	if err != nil {
		var ae smithy.APIError
		reason := err.Error()
		if errors.As(err, &ae) {
			reason = ae.ErrorCode()
			if reason == "SubscriptionRequiredException" {
				reason += " (the account has no Business, Enterprise On-Ramp or Enterprise Support plan)"
			}
		}
		return nil, "unavailable: " + reason
	}
	var a *Announcement
	for _, e := range out.Events {
		start := aws.ToTime(e.StartTime)
		if a != nil && !start.Before(a.StartTime) {
			continue
		}
		a = &Announcement{Arn: aws.ToString(e.Arn), EventTypeCode: aws.ToString(e.EventTypeCode),
			Region: aws.ToString(e.Region), StartTime: start, LastUpdated: aws.ToTime(e.LastUpdatedTime)}
	}
	return a, "ok"
}

// UserMessage is UserMessage(err), but names an open AWS Health issue
// when there is one and the error is the service's (not the caller's).
func (h *HealthChecker) UserMessage(err error) string {
	a := h.Status().Announcement
	if err == nil || a == nil {
		return UserMessage(err)
	}
	switch codeOf(err) {
	case codeInternal, codeServerError, codeThrottling, codeTimeout, codeNetwork, codeBreakerOpen, codeShed:
		return a.Message() + " Your request did not go through; please try again once it is resolved."
	}
	return UserMessage(err)
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
