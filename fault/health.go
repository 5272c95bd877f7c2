package fault

import (
	"fmt"
	"sort"
	"time"
)

// HealthStatus is a service-health-dashboard status.
type HealthStatus string

const (
	StatusOperational HealthStatus = "operational"
	StatusDegraded    HealthStatus = "degraded"
	StatusOutage      HealthStatus = "outage"
)

func (s HealthStatus) rank() int {
	switch s {
	case StatusDegraded:
		return 1
	case StatusOutage:
		return 2
	}
	return 0
}

func worst(a, b HealthStatus) HealthStatus {
	if b.rank() > a.rank() {
		return b
	}
	if a == "" {
		return StatusOperational
	}
	return a
}

// Outcome is what actually happened to a request, reported by the HTTP layer
// after responding. Health combines it with the configured faults so the
// page also reflects failures the rules did not predict (e.g. throttling).
type Outcome struct {
	Time       time.Time
	Operation  string
	StatusCode int
	ErrorCode  string
	// Dropped means no response was sent (drop, hang, commit-then-fail drop).
	Dropped  bool
	Injected bool
}

// failed counts server-side and throttling failures; 4xx client errors
// are the caller's fault and do not make a service unhealthy.
func (o Outcome) failed() bool {
	return o.Dropped || o.StatusCode >= 500 || o.StatusCode == 429
}

type healthState struct {
	window      time.Duration
	degraded    float64
	outage      float64
	minRequests int
	obs         map[string]*opCounts
}

// healthBuckets is how finely the window is counted: observations land in
// one of these per operation, so Observe costs O(1) and no allocation
// however busy the server (a list of observations cost a copy per request).
// The window's edge is thus as sharp as window/healthBuckets.
const healthBuckets = 60

type bucket struct {
	slot          int64 // which window/healthBuckets slice of time it counts
	total, failed int
}

type opCounts struct{ b [healthBuckets]bucket }

func (h *healthState) width() time.Duration {
	return max(h.window/healthBuckets, time.Millisecond)
}

func (h *healthState) slot(t time.Time) int64 { return t.UnixNano() / int64(h.width()) }

// Observe records a request outcome for health derivation.
func (e *Engine) Observe(o Outcome) {
	if o.Time.IsZero() {
		o.Time = e.clock.Now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.health.obs[o.Operation]
	if c == nil {
		c = &opCounts{}
		e.health.obs[o.Operation] = c
	}
	slot := e.health.slot(o.Time)
	b := &c.b[slot%healthBuckets]
	if b.slot != slot {
		*b = bucket{slot: slot}
	}
	b.total++
	if o.failed() {
		b.failed++
	}
}

// counts sums an operation's buckets inside the window ending at now.
func (h *healthState) counts(op string, now time.Time) (total, failed int) {
	c := h.obs[op]
	if c == nil {
		return 0, 0
	}
	last := h.slot(now)
	first := last - healthBuckets + 1
	for _, b := range c.b {
		if b.slot >= first && b.slot <= last {
			total += b.total
			failed += b.failed
		}
	}
	return total, failed
}

// OperationHealth is one row of the health page.
type OperationHealth struct {
	Operation string       `json:"operation"`
	Status    HealthStatus `json:"status"`
	Reasons   []string     `json:"reasons,omitempty"`
	RuleIDs   []string     `json:"ruleIds,omitempty"`
	Requests  int          `json:"requests"`
	Failures  int          `json:"failures"`
	ErrorRate float64      `json:"errorRate"`
}

// HealthReport is the whole health page.
type HealthReport struct {
	Time       time.Time         `json:"time"`
	Status     HealthStatus      `json:"status"`
	Operations []OperationHealth `json:"operations"`
	Scenario   *ScenarioStatus   `json:"scenario,omitempty"`
}

// Health derives per-operation status at now from (a) the faults in force —
// a rule that certainly hits every call of an operation means outage, a
// partial one degraded — and (b) the observed error rate over the health
// window. Each operation takes the worse of the two; the overall status is
// the worst operation.
func (e *Engine) Health(now time.Time) HealthReport {
	e.mu.Lock()
	defer e.mu.Unlock()
	rep := HealthReport{Time: now, Status: StatusOperational, Scenario: e.scenarioStatus(now)}
	ops := map[string]bool{}
	for _, op := range knownOps {
		ops[op] = true
	}
	for op := range e.health.obs {
		ops[op] = true
	}
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	sort.Strings(names)

	var phaseRules []*ruleState
	var pos position
	if s := e.scenario; s != nil {
		pos = s.position(now)
		if !pos.ended {
			phaseRules = s.rules[pos.phase]
		}
	}
	for _, op := range names {
		oh := OperationHealth{Operation: op, Status: StatusOperational}
		e.plannedHealth(&oh, op, now, pos, phaseRules)
		oh.Requests, oh.Failures = e.health.counts(op, now)
		if oh.Requests > 0 {
			oh.ErrorRate = float64(oh.Failures) / float64(oh.Requests)
		}
		if oh.Requests >= e.health.minRequests && oh.Requests > 0 {
			obs := StatusOperational
			switch {
			case oh.ErrorRate >= e.health.outage:
				obs = StatusOutage
			case oh.ErrorRate >= e.health.degraded:
				obs = StatusDegraded
			}
			if obs != StatusOperational {
				oh.Reasons = append(oh.Reasons, fmt.Sprintf("observed %.0f%% failures over the last %v (%d of %d requests)", oh.ErrorRate*100, e.health.window, oh.Failures, oh.Requests))
			}
			oh.Status = worst(oh.Status, obs)
		}
		rep.Status = worst(rep.Status, oh.Status)
		rep.Operations = append(rep.Operations, oh)
	}
	return rep
}

// plannedHealth walks rules in evaluation order. A rule that takes every
// call decides the status and shadows the rules after it, mirroring
// first-match semantics; partial rules only degrade.
func (e *Engine) plannedHealth(oh *OperationHealth, op string, now time.Time, pos position, phaseRules []*ruleState) {
	scenarioName := ""
	if e.scenario != nil {
		scenarioName = e.scenario.sc.Name
	}
	check := func(rs *ruleState, fresh bool) bool {
		rule := &rs.rule
		if rule.isEvent() || !rule.matchesService() || !rule.matchesOperation(op) {
			return false
		}
		spent := rs.spent() && !fresh
		active := rs.activeAt(now)
		if fresh {
			active = (&ruleState{rule: rs.rule, added: pos.phaseStart}).activeAt(now)
		}
		if spent || !active {
			return false
		}
		if code := rule.errorCode(); code != "" && !rule.AllowUndeclared && !e.declares(op, code) {
			return false
		}
		covers := rule.probability() >= 1 && rule.Attempts.all() && anyValue(rule.Domain) &&
			anyValue(rule.Region) && rule.Count == nil
		status := StatusDegraded
		if covers && rule.failing() {
			status = StatusOutage
		}
		what := string(rule.Action)
		if rule.Error != nil {
			what = rule.Error.Code
		}
		src := fmt.Sprintf("rule %q", rule.ID)
		if fresh || phaseRules != nil && contains(phaseRules, rs) {
			src = fmt.Sprintf("scenario %q phase %q", scenarioName, e.scenario.sc.Phases[pos.phase].Name)
		}
		oh.Reasons = append(oh.Reasons, fmt.Sprintf("%s: %s on %.0f%% of calls", src, what, rule.probability()*100))
		oh.RuleIDs = append(oh.RuleIDs, rule.ID)
		oh.Status = worst(oh.Status, status)
		return covers
	}
	for _, rs := range e.rules {
		if check(rs, false) {
			return
		}
	}
	// The scenario's stored state only tracks the phase last seen by Decide;
	// if now is in a later phase, its counts and windows start afresh.
	fresh := e.scenario != nil && (!e.scenario.has || pos.after(e.scenario.cur))
	for _, rs := range phaseRules {
		if check(rs, fresh) {
			return
		}
	}
}

func contains(list []*ruleState, rs *ruleState) bool {
	for _, x := range list {
		if x == rs {
			return true
		}
	}
	return false
}
