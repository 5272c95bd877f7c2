package fault

import (
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/localcases/localcases/api"
)

// Limit is a token bucket: Rate requests per second refill, Burst capacity.
type Limit struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// Unlimited disables throttling for an operation.
var Unlimited = Limit{Rate: math.Inf(1), Burst: 0}

// defaultUnlistedLimit covers operations the published quota table omits.
var defaultUnlistedLimit = Limit{Rate: 2, Burst: 5}

// connectCasesQuotas is the published Amazon Connect Cases API quota table
// (BEHAVIOR.md §13.2). The operations it leaves out are listed with the
// default limit, so that a configured Default changes only operations the
// model does not know.
var connectCasesQuotas = func() map[string]Limit {
	m := map[string]Limit{}
	set := func(l Limit, ops ...string) {
		for _, op := range ops {
			m[op] = l
		}
	}
	set(Limit{2, 10}, "CreateCase", "SearchCases", "ListTemplates", "ListLayouts",
		"CreateRelatedItem", "SearchRelatedItems", "ListCaseRules", "ListTagsForResource",
		"TagResource", "UntagResource", "GetCaseAuditEvents", "GetCaseEventConfiguration",
		"PutCaseEventConfiguration")
	set(Limit{4, 10}, "GetCase")
	set(Limit{2, 2}, "UpdateCase", "ListCasesForContact")
	set(Limit{2, 5}, "CreateField", "ListFields", "UpdateField", "BatchPutFieldOptions",
		"CreateDomain", "GetDomain", "ListDomains", "CreateTemplate", "UpdateTemplate",
		"CreateLayout", "UpdateLayout", "CreateCaseRule", "UpdateCaseRule", "DeleteCaseRule")
	set(Limit{8, 25}, "BatchGetField", "BatchGetCaseRule")
	set(Limit{6, 16}, "ListFieldOptions")
	set(Limit{6, 20}, "GetTemplate", "GetLayout")
	for _, op := range knownOps {
		if _, ok := m[op]; !ok {
			m[op] = defaultUnlistedLimit
		}
	}
	return m
}()

// DefaultQuotas returns a copy of the Connect Cases quota table.
func DefaultQuotas() map[string]Limit {
	return maps.Clone(connectCasesQuotas)
}

// knownOps are the operations of the API model, sorted.
var knownOps = func() []string {
	out := make([]string, 0, len(api.Operations))
	for _, op := range api.Operations {
		out = append(out, op.Name)
	}
	slices.Sort(out)
	return out
}()

// KnownOperations lists every Connect Cases operation, sorted.
func KnownOperations() []string { return slices.Clone(knownOps) }

// ThrottleConfig configures a Throttler. The zero value is a disabled
// throttler, because most local runs want speed, not quotas.
type ThrottleConfig struct {
	Enabled bool `json:"enabled"`
	// Operations overrides the quota of individual operations.
	Operations map[string]Limit `json:"operations,omitempty"`
	// Default applies to operations not in the quota table or Operations;
	// nil means 2 req/s, burst 5.
	Default *Limit `json:"default,omitempty"`
}

// Throttler enforces per-operation token buckets with the real Connect Cases
// quotas. Buckets are per operation, as the real quotas are per account and
// Region, not per caller. Times are passed in explicitly so a fake clock can
// drive refills.
type Throttler struct {
	mu       sync.Mutex
	enabled  bool
	limits   map[string]Limit
	def      Limit
	limiters map[string]*rate.Limiter
	buckets  Buckets

	failedOpen atomic.Int64
}

// Buckets keeps the token buckets outside the process, so that several
// servers enforce one quota in sum (package redislimit keeps them in
// Redis). Take takes one token for op from its bucket, whose rate and
// burst are l, on the buckets' own clock; an error means the buckets could
// not be reached.
type Buckets interface {
	Take(op string, l Limit) (bool, error)
}

// SetBuckets makes the throttler take its tokens from b instead of from
// in-process buckets; nil goes back to in-process buckets. The limits, and
// whether throttling is on, stay this throttler's.
//
// When b cannot be reached the call is allowed (fails open) and counted in
// FailedOpen: a quota the emulator cannot check should not turn into an
// outage nobody asked for, and the count and b's log say it happened.
func (t *Throttler) SetBuckets(b Buckets) {
	t.mu.Lock()
	t.buckets = b
	t.mu.Unlock()
}

// Buckets returns the buckets given to SetBuckets, or nil for in-process
// buckets.
func (t *Throttler) Buckets() Buckets {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buckets
}

// FailedOpen counts the calls allowed because the shared buckets could not
// be reached.
func (t *Throttler) FailedOpen() int64 { return t.failedOpen.Load() }

// NewThrottler builds a throttler from cfg.
func NewThrottler(cfg ThrottleConfig) *Throttler {
	t := &Throttler{
		enabled:  cfg.Enabled,
		limits:   DefaultQuotas(),
		def:      defaultUnlistedLimit,
		limiters: map[string]*rate.Limiter{},
	}
	if cfg.Default != nil {
		t.def = *cfg.Default
	}
	for op, l := range cfg.Operations {
		t.limits[op] = l
	}
	return t
}

// Enabled reports whether the throttler limits anything.
func (t *Throttler) Enabled() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.enabled
}

// SetEnabled turns throttling on or off. Turning it on starts from full
// buckets, as a freshly started service would.
func (t *Throttler) SetEnabled(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if on && !t.enabled {
		t.limiters = map[string]*rate.Limiter{}
	}
	t.enabled = on
}

// SetLimit overrides the quota of op and resets its bucket.
func (t *Throttler) SetLimit(op string, l Limit) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.limits[op] = l
	delete(t.limiters, op)
}

// ThrottleSettings are what PUT /_localcases/throttle changes: whether
// throttling is on, and the limits that differ from the quota table.
type ThrottleSettings struct {
	Enabled    bool             `json:"enabled"`
	Operations map[string]Limit `json:"operations,omitempty"`
}

// Settings returns whether throttling is on and the limits that differ
// from the published quotas.
func (t *Throttler) Settings() ThrottleSettings {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := ThrottleSettings{Enabled: t.enabled}
	for op, l := range t.limits {
		if def, ok := connectCasesQuotas[op]; !ok || def != l {
			if s.Operations == nil {
				s.Operations = map[string]Limit{}
			}
			s.Operations[op] = l
		}
	}
	return s
}

// Apply makes the throttler hold s: the published quotas with s's limits
// over them, on or off. A bucket whose limit changed starts full; so do
// all when throttling is turned on, as with SetEnabled.
func (t *Throttler) Apply(s ThrottleSettings) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limits := DefaultQuotas()
	maps.Copy(limits, s.Operations)
	for op, l := range limits {
		if old, ok := t.limits[op]; !ok || old != l {
			delete(t.limiters, op)
		}
	}
	t.limits = limits
	if s.Enabled && !t.enabled {
		t.limiters = map[string]*rate.Limiter{}
	}
	t.enabled = s.Enabled
}

// Limit returns the quota in force for op.
func (t *Throttler) Limit(op string) Limit {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limitLocked(op)
}

func (t *Throttler) limitLocked(op string) Limit {
	if l, ok := t.limits[op]; ok {
		return l
	}
	return t.def
}

// Allow takes one token for op at now and reports whether the call may
// proceed. A disabled throttler always allows.
func (t *Throttler) Allow(op string, now time.Time) bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	if !t.enabled {
		t.mu.Unlock()
		return true
	}
	if b := t.buckets; b != nil {
		l := t.limitLocked(op)
		t.mu.Unlock()
		if math.IsInf(l.Rate, 1) {
			return true
		}
		ok, err := b.Take(op, l)
		if err != nil {
			t.failedOpen.Add(1)
			return true
		}
		return ok
	}
	lim, ok := t.limiters[op]
	if !ok {
		l := t.limitLocked(op)
		r := rate.Limit(l.Rate)
		if math.IsInf(l.Rate, 1) {
			r = rate.Inf
		}
		// NewLimiter starts full, so the first burst is served as in AWS.
		lim = rate.NewLimiter(r, l.Burst)
		t.limiters[op] = lim
	}
	t.mu.Unlock()
	return lim.AllowN(now, 1)
}

// Decide is Allow phrased as a fault decision: a throttled call yields a
// ThrottlingException decision with Source "throttle".
func (t *Throttler) Decide(op string, now time.Time) (Decision, bool) {
	if t.Allow(op, now) {
		return Decision{}, false
	}
	return throttleDecision(), true
}

func throttleDecision() Decision {
	e := ErrorSpec{Code: CodeThrottling}.Resolve()
	return Decision{Action: ActionError, Source: SourceThrottle, Error: &e}
}
