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

// BreakerSettings tunes the optional per-operation circuit breakers
// (WithBreaker). Zero fields take the documented default.
//
// The Kit runs without breakers by default: measured in
// examples/retryproof, a breaker turned a 50% brownout, which retries ride
// out, into mostly failed calls, and its open period delayed recovery after
// an outage by up to OpenFor, while the retry budget alone already keeps an
// outage's extra load near zero. Enable one where failing fast without a
// round trip matters more than those two.
type BreakerSettings struct {
	// Disabled turns breakers off (the same as not calling WithBreaker).
	Disabled bool
	// ConsecutiveFailures trips the breaker after that many server-side
	// failures in a row. Default 20: the count runs across concurrent
	// calls, so 5 trips by chance about once in 3,100 attempts at a 20%
	// fault rate (a brownout the retries ride out); 20 needs a real outage,
	// which the failure ratio also catches.
	ConsecutiveFailures uint32
	// FailureRatio trips the breaker when at least this fraction of the
	// attempts in Window failed, once MinRequests attempts were seen.
	// Default 0.8: lower ratios open it in brownouts that retries still
	// ride out (a 50% brownout succeeds 97% of the time with 5 attempts).
	FailureRatio float64
	// MinRequests is the volume needed before FailureRatio applies, so
	// that two failures out of three calls do not open it. Default 20.
	MinRequests uint32
	// Window is the rolling window of FailureRatio (ten buckets).
	// Default 60s. Note: gobreaker measures it on the wall clock.
	Window time.Duration
	// OpenFor is how long an open breaker fails fast before letting a
	// half-open probe through. Default 1s, jittered by up to a quarter
	// either way so that clients do not probe in step: recovery is noticed
	// within about a second of the service's return.
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

	budgetRatio   float64
	budgetReserve int
	adaptiveRate  bool

	breaker *BreakerSettings // nil: no breakers

	shedK      float64 // 0: no client-side throttling
	shedWindow time.Duration

	logger *slog.Logger
	events Events
	clock  Clock
	rnd    func(n int64) int64 // uniform in [0, n), n > 0
}

// Defaults. They are documented on the options below; keep both in sync.
const (
	defaultMaxAttempts    = 5
	defaultBaseDelay      = 100 * time.Millisecond
	defaultMaxDelay       = 20 * time.Second
	defaultMaxRetryAfter  = 30 * time.Second
	defaultAttemptTimeout = 15 * time.Second
	defaultBudgetRatio    = 3
	defaultBudgetReserve  = 10

	defaultBreakerConsecutive = 20
	defaultBreakerRatio       = 0.8
	defaultBreakerMinRequests = 20
	defaultBreakerWindow      = 60 * time.Second
	defaultBreakerOpenFor     = time.Second
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
		budgetReserve:  defaultBudgetReserve,
		adaptiveRate:   true,
		clock:          wallClock{},
		rnd:            rand.Int64N,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.breaker != nil && c.breaker.Disabled {
		c.breaker = nil
	}
	if b := c.breaker; b != nil {
		fillBreakerDefaults(b)
	}
	return c
}

func fillBreakerDefaults(b *BreakerSettings) {
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
}

// WithMaxAttempts sets the total number of attempts per call, the first
// included. Default 5 (one call and up to four retries): at a 30% fault rate
// that is 99.8% success for 1.43 requests per call, where 4 attempts give
// 99.2%; at 50%, 96.9% for 1.94. The retry budget, not this number, keeps
// an outage from multiplying load. 1 disables retries.
//
// The Kit's setting wins over aws.Config.RetryMaxAttempts and the
// AWS_MAX_ATTEMPTS environment variable: ClientOptions clears the client's
// RetryMaxAttempts, which would otherwise wrap the Kit's retryer, and logs
// once (WithLogger) that it did.
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

// WithRetryBudget sets how retries are paid for, across every call made
// through the Kit: each attempt the service answers (a success or a client
// error) earns ratio retries, each retry spends one, and at most reserve
// are held. Default ratio 3, reserve 10.
//
// So retries never exceed three per success plus ten. Retries flow freely
// while they work: with 5 attempts, a fault rate up to about 75% needs fewer
// than 3 retries per success (50% needs 1). Beyond that the Kit sends
// retries in proportion to what still succeeds, and in an outage it sends
// the ten banked retries and then first attempts only, adding almost
// nothing to the load of a service that is down. Measured in
// examples/retryproof, ratio 2 already cost a third of the successes at a
// 70% fault rate, where the naive 3-try loop keeps two thirds. A negative
// ratio disables the budget.
func WithRetryBudget(ratio float64, reserve int) Option {
	return func(c *config) {
		if ratio == 0 {
			ratio = defaultBudgetRatio
		}
		if reserve <= 0 {
			reserve = defaultBudgetReserve
		}
		c.budgetRatio, c.budgetReserve = ratio, reserve
	}
}

// WithAdaptiveRateLimit turns the client-side rate limiter on or off.
// Default on: after a ThrottlingException the Kit paces attempts with the
// AWS SDK's adaptive-mode limiter (the one AWS_RETRY_MODE=adaptive uses),
// which sends at a rate it learns from throttles and is idle otherwise.
// Off, throttled calls are only spaced by Retry-After and backoff.
func WithAdaptiveRateLimit(on bool) Option {
	return func(c *config) { c.adaptiveRate = on }
}

// WithClientThrottling adds client-side adaptive throttling as Google's SRE
// book describes it: over the trailing window, attempts are rejected
// locally with probability max(0, (requests − k·accepts)/(requests + 1)),
// where requests counts the attempts wanted and accepts those the service
// answered. Off by default; docs/RESILIENCE.md measures it against the
// default. k <= 0 turns it off; window defaults to 30s.
func WithClientThrottling(k float64, window time.Duration) Option {
	return func(c *config) {
		if window <= 0 {
			window = 30 * time.Second
		}
		c.shedK, c.shedWindow = max(k, 0), window
	}
}

// WithBreaker adds per-operation circuit breakers, off by default; see
// BreakerSettings for why and for the defaults.
func WithBreaker(s BreakerSettings) Option {
	return func(c *config) { c.breaker = &s }
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
