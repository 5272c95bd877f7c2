package resilience

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Clock is the source of time for backoff, Retry-After dates, the retry
// budget window, breaker open periods and health probes. Tests inject a
// fake one; the default is the wall clock.
//
// The SDK's retry middleware still sleeps on a real timer for the delay the
// Retryer returns; Clock only decides how long that delay is.
type Clock interface {
	Now() time.Time
	// After is used by HealthChecker.Run to wait between probes.
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option configures a Kit. Every option documents its default; zero or
// negative values restore that default unless stated otherwise.
type Option func(*config)

// BreakerSettings tunes the per-operation circuit breakers. Zero fields
// take the documented default.
type BreakerSettings struct {
	// Disabled turns breakers off entirely.
	Disabled bool
	// ConsecutiveFailures trips the breaker after that many server-side
	// failures in a row. Default 20: the count runs across concurrent
	// calls, so 5 trips by chance about once in 3,100 attempts at a 20%
	// fault rate (a brownout the retries ride out); 20 needs a real outage,
	// which the failure ratio also catches.
	ConsecutiveFailures uint32
	// FailureRatio trips the breaker when at least this fraction of the
	// attempts in Window failed, once MinRequests attempts were seen.
	// Default 0.5.
	FailureRatio float64
	// MinRequests is the volume needed before FailureRatio applies, so
	// that two failures out of three calls do not open it. Default 20.
	MinRequests uint32
	// Window is the rolling window of FailureRatio (ten buckets).
	// Default 60s. Note: gobreaker measures it on the wall clock.
	Window time.Duration
	// OpenFor is how long an open breaker fails fast before letting a
	// half-open probe through. Default 5s: a probe is one request, so
	// probing often costs the service nothing, and recovery is noticed
	// within 5s of the service coming back rather than up to 30s.
	OpenFor time.Duration
	// HalfOpenProbes is how many probes may run at once while half-open,
	// and how many consecutive successes close the breaker. Default 1.
	HalfOpenProbes uint32
}

type config struct {
	maxAttempts    int
	baseDelay      time.Duration
	maxDelay       time.Duration
	maxRetryAfter  time.Duration
	attemptTimeout time.Duration

	budgetRatio  float64
	budgetFloor  int
	budgetWindow time.Duration

	breaker BreakerSettings

	logger *slog.Logger
	events Events
	clock  Clock
	rnd    func(n int64) int64 // uniform in [0, n), n > 0
}

// Defaults. They are documented on the options below; keep both in sync.
const (
	defaultMaxAttempts    = 4
	defaultBaseDelay      = 100 * time.Millisecond
	defaultMaxDelay       = 20 * time.Second
	defaultMaxRetryAfter  = 30 * time.Second
	defaultAttemptTimeout = 15 * time.Second
	defaultBudgetRatio    = 0.3
	defaultBudgetFloor    = 10
	defaultBudgetWindow   = 10 * time.Second

	defaultBreakerConsecutive = 20
	defaultBreakerRatio       = 0.5
	defaultBreakerMinRequests = 20
	defaultBreakerWindow      = 60 * time.Second
	defaultBreakerOpenFor     = 5 * time.Second
	defaultBreakerProbes      = 1
)

func newConfig(opts []Option) config {
	c := config{
		maxAttempts:    defaultMaxAttempts,
		baseDelay:      defaultBaseDelay,
		maxDelay:       defaultMaxDelay,
		maxRetryAfter:  defaultMaxRetryAfter,
		attemptTimeout: defaultAttemptTimeout,
		budgetRatio:    defaultBudgetRatio,
		budgetFloor:    defaultBudgetFloor,
		budgetWindow:   defaultBudgetWindow,
		clock:          wallClock{},
		rnd:            rand.Int64N,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	b := &c.breaker
	if b.ConsecutiveFailures == 0 {
		b.ConsecutiveFailures = defaultBreakerConsecutive
	}
	if b.FailureRatio <= 0 || b.FailureRatio > 1 {
		b.FailureRatio = defaultBreakerRatio
	}
	if b.MinRequests == 0 {
		b.MinRequests = defaultBreakerMinRequests
	}
	if b.Window <= 0 {
		b.Window = defaultBreakerWindow
	}
	if b.OpenFor <= 0 {
		b.OpenFor = defaultBreakerOpenFor
	}
	if b.HalfOpenProbes == 0 {
		b.HalfOpenProbes = defaultBreakerProbes
	}
	return c
}

// WithMaxAttempts sets the total number of attempts per call, the first
// included. Default 4 (one call and up to three retries). 1 disables
// retries.
//
// An explicit aws.Config.RetryMaxAttempts (or AWS_MAX_ATTEMPTS) still
// overrides this: the SDK wraps any retryer with it after client options run.
func WithMaxAttempts(n int) Option {
	return func(c *config) {
		if n <= 0 {
			n = defaultMaxAttempts
		}
		c.maxAttempts = n
	}
}

// WithBackoff sets the exponential backoff: the delay before retry n is
// uniformly random in [0, min(max, base*2^(n-1))] ("full jitter"). Default
// base 100ms, max 20s.
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(c *config) {
		if base <= 0 {
			base = defaultBaseDelay
		}
		if maxDelay <= 0 {
			maxDelay = defaultMaxDelay
		}
		c.baseDelay, c.maxDelay = base, max(base, maxDelay)
	}
}

// WithMaxRetryAfter bounds how long a server's Retry-After may make a call
// wait before its next attempt; longer requests are clamped to it. Default
// 30s.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			d = defaultMaxRetryAfter
		}
		c.maxRetryAfter = d
	}
}

// WithAttemptTimeout bounds each attempt (not the whole call: use the
// context for that). A timed-out attempt is retried like a 5xx. Default
// 15s; a negative value disables it.
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) {
		if d == 0 {
			d = defaultAttemptTimeout
		}
		c.attemptTimeout = max(d, 0)
	}
}

// WithRetryBudget caps retries, across every call made through the Kit, to
// floor + ratio × calls seen in the trailing window. Default ratio 0.3,
// floor 10, window 10s: enough to ride out a 20% fault rate (about one
// retry per four calls), while a busy client adds at most ~30% load during
// an outage (less once the breaker opens), and a quiet one (a CLI) still
// gets its few retries. A negative
// ratio disables the budget.
func WithRetryBudget(ratio float64, floor int, window time.Duration) Option {
	return func(c *config) {
		if window <= 0 {
			window = defaultBudgetWindow
		}
		c.budgetRatio, c.budgetFloor, c.budgetWindow = ratio, max(floor, 0), window
	}
}

// WithBreaker tunes the per-operation circuit breakers; see BreakerSettings
// for the defaults.
func WithBreaker(s BreakerSettings) Option {
	return func(c *config) { c.breaker = s }
}

// WithLogger logs one line per failed attempt and one per finished call.
// Only operation names, codes, statuses, request IDs and timings are
// logged, never request fields, error messages or credentials. Default: no
// logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithEvents registers metric callbacks. Default: none.
func WithEvents(e Events) Option {
	return func(c *config) { c.events = e }
}

// WithClock replaces the wall clock (for tests). Default: time.Now.
func WithClock(clk Clock) Option {
	return func(c *config) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// WithRandSource makes jitter reproducible (for tests). Default: the
// math/rand/v2 global generator.
func WithRandSource(src rand.Source) Option {
	return func(c *config) {
		if src == nil {
			return
		}
		var mu sync.Mutex // rand.Rand is not safe for concurrent use
		r := rand.New(src)
		c.rnd = func(n int64) int64 {
			mu.Lock()
			defer mu.Unlock()
			return r.Int64N(n)
		}
	}
}
