package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultHang is how long ActionHang holds a request when the rule does not
// say: longer than the SDK's usual socket timeouts, short enough that a
// forgotten rule does not pin server goroutines for ever.
const DefaultHang = 60 * time.Second

// DefaultHTTPStatus is used by ActionHTTP when httpStatus is not set.
const DefaultHTTPStatus = 503

// Rule is one fault-injection rule. The basic fields match LocalStack's chaos
// API (service, region, operation, probability, error{code,statusCode}) so
// existing LocalStack fault files load unchanged; the rest are localcases
// extensions. docs/FAULTS.md documents the format.
type Rule struct {
	ID          string `json:"id,omitempty"`
	Description string `json:"description,omitempty"`

	// Service and Region come from LocalStack. A rule naming another service
	// never matches; Region only matches when the request carries a region.
	Service string `json:"service,omitempty"`
	Region  string `json:"region,omitempty"`

	// Operation names Connect Cases operations; empty or "*" means any.
	Operation StringList `json:"operation,omitempty"`
	// Domain restricts the rule to one domain ID (or domain ARN); empty or "*" means any.
	Domain string `json:"domain,omitempty"`

	// Probability of injecting on a matching request; nil means 1.
	Probability *float64 `json:"probability,omitempty"`
	// Attempts restricts the rule to SDK attempt numbers, which is how
	// "fail twice then succeed" is expressed.
	Attempts Attempts `json:"attempts,omitzero"`
	// Count caps the total number of injections; the rule is then spent.
	Count *int `json:"count,omitempty"`
	// After delays activation relative to when the rule was added (or the
	// scenario phase began); Duration then bounds how long it stays active.
	After    Duration `json:"after,omitzero"`
	Duration Duration `json:"duration,omitzero"`

	// Action defaults to "error" when error is set or nothing else is, and to
	// "latency" when only latency is set.
	Action Action     `json:"action,omitempty"`
	Error  *ErrorSpec `json:"error,omitempty"`
	// HTTPStatus is the raw status for action "http" (500, 502, 503, 504).
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Latency is added before any action; for action "latency" it is the fault.
	Latency *Latency `json:"latency,omitempty"`
	// Hang is how long action "hang" holds the request (default 60s).
	Hang Duration `json:"hang,omitzero"`
	// Then selects how commit-then-fail fails: "error" (default) or "drop".
	Then string `json:"then,omitempty"`
	// AllowUndeclared lets the rule inject an error the operation does not
	// declare in its API model. Off by default because SDKs may mishandle an
	// error shape the real service can never return, which tests nothing.
	AllowUndeclared bool `json:"allowUndeclared,omitempty"`
	// Sink makes the rule an event rule: it acts on case events on their
	// way to the named event sink ("*": every sink), never on API
	// requests; Domain then narrows it to one domain's events. Its action
	// is drop, duplicate, delay (by latency) or reorder. See events.go.
	Sink string `json:"sink,omitempty"`
	// Copies is how many extra copies action "duplicate" delivers; default 1.
	Copies int `json:"copies,omitempty"`
	// Announced makes the emulated AWS Health API post an operational
	// issue for the rule while it is active, as AWS does for an incident
	// it has acknowledged. Unannounced faults stay silent, like an
	// incident AWS has not posted yet.
	Announced bool `json:"announced,omitempty"`
}

// UnmarshalJSON rejects unknown fields so a typo such as "probabilty" fails
// loudly instead of producing a rule that always fires.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	var p plain
	if err := decodeStrict(b, &p); err != nil {
		return err
	}
	*r = Rule(p)
	return nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after JSON value")
	}
	return nil
}

// Clone returns a deep copy.
func (r Rule) Clone() Rule {
	c := r
	c.Operation = append(StringList(nil), r.Operation...)
	if len(r.Operation) == 0 {
		c.Operation = nil
	}
	if r.Probability != nil {
		p := *r.Probability
		c.Probability = &p
	}
	c.Attempts = AttemptsOf(r.Attempts.ranges...)
	if r.Count != nil {
		n := *r.Count
		c.Count = &n
	}
	c.Error = r.Error.clone()
	if r.Latency != nil {
		l := *r.Latency
		c.Latency = &l
	}
	return c
}

// probability returns the effective probability.
func (r Rule) probability() float64 {
	if r.Probability == nil {
		return 1
	}
	return *r.Probability
}

// Validate checks the rule, including that operation names are real Connect
// Cases operations: a misspelt operation would otherwise never match.
func (r Rule) Validate() error {
	_, err := r.normalize()
	return err
}

// Normalize validates r and returns it with defaults made explicit (action,
// error code, canonical operation names), which is what Engine.Rules shows.
func (r Rule) Normalize() (Rule, error) { return r.normalize() }

func (r Rule) normalize() (Rule, error) {
	r = r.Clone()
	if r.Probability != nil {
		p := *r.Probability
		if math.IsNaN(p) || p < 0 || p > 1 {
			return r, fmt.Errorf("probability %v out of range [0,1]", p)
		}
	}
	if r.Count != nil && *r.Count < 1 {
		return r, fmt.Errorf("count %d must be >= 1 (omit it for an unlimited rule)", *r.Count)
	}
	if r.After < 0 {
		return r, fmt.Errorf("after %v must not be negative", r.After.D())
	}
	if r.Duration < 0 {
		return r, fmt.Errorf("duration %v must not be negative", r.Duration.D())
	}
	for _, rg := range r.Attempts.ranges {
		if err := validateRange(rg); err != nil {
			return r, err
		}
	}
	if r.isEvent() {
		return r.normalizeEvent()
	}
	if eventActions[r.Action] {
		return r, fmt.Errorf("action %q acts on case events: name the event sink it applies to with \"sink\" (\"*\" for every sink)", r.Action)
	}
	if r.Copies != 0 {
		return r, errors.New("copies is only used by action \"duplicate\" of an event rule")
	}
	if r.Latency != nil {
		if err := r.Latency.validate(); err != nil {
			return r, err
		}
	}
	if r.Hang < 0 {
		return r, fmt.Errorf("hang %v must not be negative", r.Hang.D())
	}
	for i, op := range r.Operation {
		if op == "*" {
			continue
		}
		if strings.TrimSpace(op) == "" {
			return r, errors.New("operation: empty name")
		}
		c, ok := canonical(knownOps, op)
		if !ok {
			return r, fmt.Errorf("operation: unknown operation %q", op)
		}
		r.Operation[i] = c
	}

	if r.Action == "" {
		switch {
		case r.Error != nil:
			r.Action = ActionError
		case r.Latency != nil && r.HTTPStatus == 0 && r.Hang == 0 && r.Then == "":
			r.Action = ActionLatency
		default:
			r.Action = ActionError
		}
	}
	if !validActions[r.Action] {
		return r, fmt.Errorf("unknown action %q; valid actions: error, http, latency, drop, hang, commit-then-fail (and for event rules drop, duplicate, delay, reorder)", r.Action)
	}
	if r.HTTPStatus != 0 && r.Action != ActionHTTP {
		return r, fmt.Errorf("httpStatus is only used by action \"http\"")
	}
	if r.Hang != 0 && r.Action != ActionHang {
		return r, fmt.Errorf("hang is only used by action \"hang\"")
	}
	if r.Then != "" && r.Action != ActionCommitThenFail {
		return r, fmt.Errorf("then is only used by action \"commit-then-fail\"")
	}
	needsError := r.Action == ActionError || (r.Action == ActionCommitThenFail && r.Then != "drop")
	if r.Error != nil && !needsError {
		return r, fmt.Errorf("error is not used by action %q", r.Action)
	}
	switch r.Action {
	case ActionHTTP:
		if r.HTTPStatus == 0 {
			r.HTTPStatus = DefaultHTTPStatus
		}
		if !validLBStatus(r.HTTPStatus) {
			return r, fmt.Errorf("httpStatus %d not allowed; use one of %v", r.HTTPStatus, LoadBalancerStatuses)
		}
	case ActionLatency:
		if r.Latency == nil {
			return r, errors.New("action \"latency\" needs a latency")
		}
	case ActionHang:
		if r.Hang == 0 {
			r.Hang = Duration(DefaultHang)
		}
	case ActionCommitThenFail:
		if r.Then == "" {
			r.Then = "error"
		}
		if r.Then != "error" && r.Then != "drop" {
			return r, fmt.Errorf("then %q must be \"error\" or \"drop\"", r.Then)
		}
	}
	if needsError {
		if r.Error == nil {
			r.Error = &ErrorSpec{Code: CodeInternalServer}
		}
		e, err := r.Error.validate()
		if err != nil {
			return r, err
		}
		r.Error = &e
	}
	return r, nil
}

// errorCode is the code the rule would inject, or "" for non-error actions.
func (r *Rule) errorCode() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

// failing reports whether the action makes the call fail rather than slow.
func (r *Rule) failing() bool { return r.Action != ActionLatency }

// isEvent reports whether the rule acts on case events rather than on API
// requests.
func (r *Rule) isEvent() bool { return r.Sink != "" }

func (r *Rule) matchesOperation(op string) bool {
	if len(r.Operation) == 0 {
		return true
	}
	for _, o := range r.Operation {
		if o == "*" || strings.EqualFold(o, op) {
			return true
		}
	}
	return false
}

func (r *Rule) allOperations() bool {
	if len(r.Operation) == 0 {
		return true
	}
	for _, o := range r.Operation {
		if o == "*" {
			return true
		}
	}
	return false
}

func anyValue(s string) bool { return s == "" || s == "*" }

// matchesService accepts the names LocalStack and the AWS SDKs use for
// Connect Cases so that multi-service LocalStack files can be loaded as is.
func (r *Rule) matchesService() bool {
	if anyValue(r.Service) {
		return true
	}
	switch strings.ToLower(r.Service) {
	case "connectcases", "connect-cases", "cases", "connect cases":
		return true
	}
	return false
}

func (r *Rule) matchesDomain(domain string) bool {
	if anyValue(r.Domain) {
		return true
	}
	if r.Domain == domain {
		return true
	}
	// Accept a domain ARN in the rule (arn:aws:cases:region:acct:domain/ID).
	return domain != "" && strings.HasSuffix(r.Domain, "/"+domain)
}

func (r *Rule) matchesRegion(region string) bool {
	return anyValue(r.Region) || region == "" || strings.EqualFold(r.Region, region)
}

// ParseRules parses a JSON array of rules (the body LocalStack's
// /_localstack/chaos/faults endpoint takes) and validates each one.
func ParseRules(data []byte) ([]Rule, error) {
	var rules []Rule
	if err := decodeStrict(data, &rules); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return validateRules(rules)
}

func validateRules(rules []Rule) ([]Rule, error) {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		n, err := r.normalize()
		if err != nil {
			return nil, ruleError(i, r, err)
		}
		out[i] = n
	}
	return out, nil
}

func ruleError(i int, r Rule, err error) error {
	if r.ID != "" {
		return fmt.Errorf("rule %d (id %q): %w", i, r.ID, err)
	}
	return fmt.Errorf("rule %d: %w", i, err)
}

// Summary describes the rule in one line for logs: its ID, operations,
// what it does and when, e.g.
// "rule-1 CreateCase: InternalServerException, attempts 1-2".
func (r Rule) Summary() string {
	ops := "*"
	if len(r.Operation) > 0 {
		ops = strings.Join(r.Operation, ",")
	}
	what := string(r.Action)
	switch {
	case r.Action == ActionHTTP:
		what = fmt.Sprintf("HTTP %d", r.HTTPStatus)
	case r.Error != nil && (r.Action == ActionError || r.Action == ""):
		what = r.Error.Code
	}
	var when []string
	if r.Probability != nil {
		when = append(when, fmt.Sprintf("p=%g", *r.Probability))
	}
	if s := r.Attempts.String(); s != "" {
		when = append(when, "attempts "+s)
	}
	if r.Count != nil {
		when = append(when, fmt.Sprintf("count %d", *r.Count))
	}
	if r.Latency != nil {
		when = append(when, "latency "+r.Latency.Min.String())
	}
	if r.Domain != "" {
		when = append(when, "domain "+r.Domain)
	}
	if r.isEvent() {
		ops = "events to sink " + r.Sink
		if r.Action == ActionDuplicate {
			when = append(when, fmt.Sprintf("copies %d", r.Copies))
		}
	}
	s := r.ID + " " + ops + ": " + what
	if len(when) > 0 {
		s += ", " + strings.Join(when, ", ")
	}
	return s
}
