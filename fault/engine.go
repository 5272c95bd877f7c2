package fault

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// Decision sources.
const (
	SourceHeader   = "header"
	SourceThrottle = "throttle"
	SourceRule     = "rule"
	SourceScenario = "scenario"
)

// Request is what the engine needs to know about an incoming call.
type Request struct {
	Operation string
	DomainID  string
	// InvocationID and ClientID are not used for matching; they are here so
	// the HTTP layer can pass one struct to both the engine and the recorder.
	InvocationID string
	ClientID     string
	// Attempt is the SDK attempt number (amz-sdk-request: attempt=N); 0 is
	// treated as 1.
	Attempt int
	// Region, when known, is matched against LocalStack-style rule regions.
	Region string
	// Header returns a request header (http.Header.Get fits). It is read
	// for HeaderName; nil means no headers.
	Header func(string) string
	// Time of the request; zero means the engine's clock.
	Time time.Time
}

// Decision tells the HTTP layer what to do. It is fully resolved: status
// codes, messages and Retry-After are filled in.
type Decision struct {
	Action      Action `json:"action"`
	Source      string `json:"source"`
	RuleID      string `json:"ruleId,omitempty"`
	Description string `json:"description,omitempty"`
	Scenario    string `json:"scenario,omitempty"`
	Phase       string `json:"phase,omitempty"`
	// Error is set for ActionError and for ActionCommitThenFail without Drop.
	Error *ErrorSpec `json:"error,omitempty"`
	// HTTPStatus is set for ActionHTTP; the body should be HTTPBody(status).
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Latency is a delay to apply before anything else, for every action.
	Latency time.Duration `json:"latency,omitempty"`
	// Hang is how long to hold the request before closing it (ActionHang).
	Hang time.Duration `json:"hang,omitempty"`
	// CommitFirst means apply the write before failing (ActionCommitThenFail).
	CommitFirst bool `json:"commitFirst,omitempty"`
	// Drop means close the connection without a response (ActionDrop, and
	// ActionCommitThenFail with then=drop).
	Drop bool `json:"drop,omitempty"`
}

// RetryAfter returns the Retry-After value to send, or 0 for none.
func (d Decision) RetryAfter() time.Duration {
	if d.Error == nil || d.Error.RetryAfterSeconds == nil {
		return 0
	}
	return time.Duration(*d.Error.RetryAfterSeconds) * time.Second
}

// Option configures an Engine.
type Option func(*Engine)

// WithSeed seeds the random streams. The same seed, rules and sequence of
// Decide calls (requests and times) produce the same decisions.
func WithSeed(seed int64) Option { return func(e *Engine) { e.seed = seed } }

// WithClock sets the clock used for rule windows and scenarios.
func WithClock(c localcases.Clock) Option { return func(e *Engine) { e.clock = c } }

// WithThrottler makes Decide consult t (after the fault header, before
// rules), so quota throttling and injected faults share one call site.
func WithThrottler(t *Throttler) Option { return func(e *Engine) { e.throttler = t } }

// WithHealthWindow sets how far back observed outcomes count (default 1m).
func WithHealthWindow(d time.Duration) Option { return func(e *Engine) { e.health.window = d } }

// WithHealthThresholds sets the observed error rates at which an operation
// is degraded (default 0.1) and in outage (default 0.9), and the minimum
// number of requests before observations count at all (default 5).
func WithHealthThresholds(degraded, outage float64, minRequests int) Option {
	return func(e *Engine) {
		e.health.degraded, e.health.outage, e.health.minRequests = degraded, outage, minRequests
	}
}

// Engine decides, per request, whether and how to inject a fault. It is safe
// for concurrent use. One mutex serialises decisions: fault injection is not
// a hot path, and serialising is what makes a seeded run replayable.
type Engine struct {
	mu        sync.Mutex
	clock     localcases.Clock
	seed      int64
	throttler *Throttler
	rules     []*ruleState
	nextID    int
	scenario  *scenarioState
	health    healthState
	claimer   Claimer
}

type ruleState struct {
	rule   Rule
	stream string // names the random stream; stable across reseeds
	added  time.Time
	fired  int
	rng    *rand.Rand
	// sinkRNG holds an event rule's streams, one per sink, so that the
	// faults one sink's events meet do not depend on how its delivery
	// interleaves with other sinks'.
	sinkRNG map[string]*rand.Rand
}

// NewEngine returns an engine with no rules.
func NewEngine(opts ...Option) *Engine {
	e := &Engine{clock: localcases.SystemClock{}}
	e.health = healthState{window: time.Minute, degraded: 0.1, outage: 0.9, minRequests: 5, obs: map[string]*opCounts{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// newStream gives every rule its own random stream derived from the seed
// and the rule's identity. A rule's draws therefore depend only on the
// requests that reach it, so adding an unrelated rule or an unrelated
// request pattern elsewhere does not reshuffle its faults.
func newStream(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// Seed returns the engine's seed.
func (e *Engine) Seed() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seed
}

// Reseed restarts every random stream (rules and scenario) from seed.
func (e *Engine) Reseed(seed int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seed = seed
	for _, rs := range e.rules {
		rs.rng = newStream(seed, rs.stream)
		rs.sinkRNG = nil
	}
	if s := e.scenario; s != nil {
		s.seed = seed
		for _, phase := range s.rules {
			for _, rs := range phase {
				rs.rng = newStream(seed, rs.stream)
			}
		}
	}
}

// Throttler returns the throttler given with WithThrottler, or nil.
func (e *Engine) Throttler() *Throttler { return e.throttler }

// Now returns the engine clock's time.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Rules returns the installed rules, normalised, in evaluation order.
func (e *Engine) Rules() []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Rule, len(e.rules))
	for i, rs := range e.rules {
		out[i] = rs.rule.Clone()
	}
	return out
}

// RuleStatus is a rule plus its runtime state, for the admin API.
type RuleStatus struct {
	Rule        Rule      `json:"rule"`
	AddedAt     time.Time `json:"addedAt"`
	ActiveFrom  time.Time `json:"activeFrom"`
	ActiveUntil time.Time `json:"activeUntil,omitzero"`
	Fired       int       `json:"fired"`
	Spent       bool      `json:"spent"`
	Active      bool      `json:"active"`
}

// RuleStatuses reports every rule's state at the engine clock's time.
func (e *Engine) RuleStatuses() []RuleStatus {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleStatus, len(e.rules))
	for i, rs := range e.rules {
		out[i] = rs.status(now)
	}
	return out
}

func (rs *ruleState) status(now time.Time) RuleStatus {
	st := RuleStatus{Rule: rs.rule.Clone(), AddedAt: rs.added, Fired: rs.fired}
	st.ActiveFrom = rs.added.Add(rs.rule.After.D())
	if rs.rule.Duration > 0 {
		st.ActiveUntil = st.ActiveFrom.Add(rs.rule.Duration.D())
	}
	st.Spent = rs.spent()
	st.Active = !st.Spent && rs.activeAt(now)
	return st
}

func (rs *ruleState) spent() bool { return rs.rule.Count != nil && rs.fired >= *rs.rule.Count }

func (rs *ruleState) activeAt(now time.Time) bool {
	start := rs.added.Add(rs.rule.After.D())
	if now.Before(start) {
		return false
	}
	return rs.rule.Duration == 0 || now.Before(start.Add(rs.rule.Duration.D()))
}

// SetRules validates rules and replaces the installed set atomically: on
// error nothing changes. Rules without an ID get one ("rule-N").
func (e *Engine) SetRules(rules []Rule) error {
	return e.install(rules, true)
}

// AddRules validates rules and appends them (they are checked after the
// existing ones). On error nothing changes.
func (e *Engine) AddRules(rules []Rule) error {
	return e.install(rules, false)
}

func (e *Engine) install(rules []Rule, replace bool) error {
	norm, err := validateRules(rules)
	if err != nil {
		return err
	}
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := map[string]bool{}
	if !replace {
		for _, rs := range e.rules {
			ids[rs.rule.ID] = true
		}
	}
	for i, r := range norm {
		if r.ID != "" {
			if ids[r.ID] {
				return ruleError(i, r, errors.New("duplicate rule id"))
			}
			ids[r.ID] = true
		}
	}
	nextID := e.nextID
	states := make([]*ruleState, len(norm))
	for i, r := range norm {
		if r.ID == "" {
			for {
				nextID++
				r.ID = fmt.Sprintf("rule-%d", nextID)
				if !ids[r.ID] {
					break
				}
			}
			ids[r.ID] = true
		}
		states[i] = &ruleState{rule: r, stream: "rule/" + r.ID, added: now, rng: newStream(e.seed, "rule/"+r.ID)}
	}
	e.nextID = nextID
	if replace {
		e.rules = states
	} else {
		e.rules = append(e.rules, states...)
	}
	return nil
}

// RemoveRules deletes the rules for which match returns true and reports
// how many were removed.
func (e *Engine) RemoveRules(match func(Rule) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	kept := e.rules[:0:0]
	for _, rs := range e.rules {
		if !match(rs.rule.Clone()) {
			kept = append(kept, rs)
		}
	}
	n := len(e.rules) - len(kept)
	e.rules = kept
	return n
}

// RemoveRule deletes the rule with the given ID.
func (e *Engine) RemoveRule(id string) bool {
	return e.RemoveRules(func(r Rule) bool { return r.ID == id }) > 0
}

// Clear removes every rule. The scenario, if any, keeps running; see Reset.
func (e *Engine) Clear() {
	e.mu.Lock()
	e.rules = nil
	e.mu.Unlock()
}

// Reset removes rules, stops the scenario and forgets observed outcomes.
func (e *Engine) Reset() {
	e.mu.Lock()
	e.rules = nil
	e.scenario = nil
	e.health.obs = map[string]*opCounts{}
	e.mu.Unlock()
}

// ForgetObservations forgets observed outcomes and keeps rules and
// scenario: the part of Reset that is this process's own when the rules
// are shared.
func (e *Engine) ForgetObservations() {
	e.mu.Lock()
	e.health.obs = map[string]*opCounts{}
	e.mu.Unlock()
}

// Decide returns the fault for r, if any. Precedence: the x-localcases-fault
// header (which, when present, bypasses everything else), then the
// throttler, then rules in order, then the active scenario phase's rules in
// order; the first match wins. A malformed header yields a
// ValidationException naming the problem, so typos are not silent.
func (e *Engine) Decide(r Request) (Decision, bool) {
	now := r.Time
	if now.IsZero() {
		now = e.clock.Now()
	}
	if r.Header != nil {
		if v := strings.TrimSpace(r.Header(HeaderName)); v != "" {
			return decideHeader(v, r.Attempt)
		}
	}
	if d, ok := e.throttler.Decide(r.Operation, now); ok {
		return d, true
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	for _, rs := range e.rules {
		if d, ok := e.try(rs, &r, now); ok {
			d.Source = SourceRule
			return d, true
		}
	}
	if s := e.scenario; s != nil {
		pos := s.position(now)
		if pos.ended {
			return Decision{}, false
		}
		for _, rs := range s.enter(pos) {
			if d, ok := e.try(rs, &r, now); ok {
				d.Source = SourceScenario
				d.Scenario = s.sc.Name
				d.Phase = s.sc.Phases[pos.phase].Name
				return d, true
			}
		}
	}
	return Decision{}, false
}

func decideHeader(v string, attempt int) (Decision, bool) {
	h, err := ParseHeader(v)
	if err != nil {
		spec := ErrorSpec{Code: CodeValidation, Message: "Invalid " + HeaderName + " header: " + err.Error()}.Resolve()
		return Decision{Action: ActionError, Source: SourceHeader, Error: &spec}, true
	}
	if h.Decision.Action == ActionNone || !h.Applies(attempt) {
		return Decision{}, false
	}
	return h.Decision, true
}

// eligible reports whether rs would consider r at now, before probability.
func (e *Engine) eligible(rs *ruleState, op, domain, region string, attempt int, now time.Time) bool {
	rule := &rs.rule
	if rule.isEvent() || !rule.matchesService() || !rule.matchesRegion(region) || !rule.matchesOperation(op) ||
		!rule.matchesDomain(domain) || !rule.Attempts.Contains(attempt) {
		return false
	}
	if rs.spent() || !rs.activeAt(now) {
		return false
	}
	if code := rule.errorCode(); code != "" && !rule.AllowUndeclared && !e.declares(op, code) {
		return false
	}
	return true
}

// declares reports whether the model lists code among op's errors. An
// operation the model does not know declares none.
func (e *Engine) declares(op, code string) bool {
	o := api.OperationByName(op)
	return o != nil && o.Declares(api.ErrorCode(code))
}

func (e *Engine) try(rs *ruleState, r *Request, now time.Time) (Decision, bool) {
	if !e.eligible(rs, r.Operation, r.DomainID, r.Region, r.Attempt, now) {
		return Decision{}, false
	}
	rule := &rs.rule
	// Draw only when the outcome is uncertain, so certain rules do not
	// consume randomness and perturb later draws.
	if p := rule.probability(); p < 1 {
		if p <= 0 || rs.rng.Float64() >= p {
			return Decision{}, false
		}
	}
	if !e.claim(rs) {
		return Decision{}, false
	}
	rs.fired++
	d := Decision{Action: rule.Action, RuleID: rule.ID, Description: rule.Description}
	if l := rule.Latency; l != nil {
		d.Latency = l.Min
		if l.Max > l.Min {
			d.Latency += time.Duration(rs.rng.Uint64N(uint64(l.Max-l.Min) + 1))
		}
	}
	switch rule.Action {
	case ActionHTTP:
		d.HTTPStatus = rule.HTTPStatus
	case ActionDrop:
		d.Drop = true
	case ActionHang:
		d.Hang = rule.Hang.D()
	case ActionCommitThenFail:
		d.CommitFirst = true
		d.Drop = rule.Then == "drop"
	}
	if rule.Error != nil {
		spec := rule.Error.Resolve()
		d.Error = &spec
	}
	return d, true
}
