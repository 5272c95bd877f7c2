package resilience

import (
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go/middleware"
)

// Kit holds the state that must be shared by every call of a client: the
// retry budget, the rate limiter, the hold, the optional breakers and
// client-side throttling, and what it observed. Give one Kit to several
// clients to make them share it; give each client its own to isolate them.
type Kit struct {
	cfg      config
	obs      *observer
	budget   *budget
	breakers *breakers // nil unless WithBreaker
	shedder  *shedder  // nil unless WithClientThrottling
	retryer  *retryer
	hold     hold
	warnOnce sync.Once

	obsMu sync.Mutex
	seen  window // a: attempts sent, b: of which failed server-side
}

// New builds a Kit. See the With* options for defaults.
func New(opts ...Option) *Kit {
	k := &Kit{cfg: newConfig(opts)}
	k.obs = &observer{log: k.cfg.logger, ev: k.cfg.events}
	k.seen = newWindow(time.Minute)
	k.budget = newBudget(k.cfg.budgetRatio, k.cfg.budgetReserve)
	if k.cfg.breaker != nil {
		k.breakers = newBreakers(*k.cfg.breaker, k.cfg.clock, k.cfg.rnd, k.obs)
	}
	if k.cfg.shedK > 0 {
		k.shedder = newShedder(k.cfg.shedK, k.cfg.shedWindow, k.cfg.rnd)
	}
	k.retryer = newRetryer(&k.cfg, k.budget, k.obs)
	return k
}

// WithDefaults is New(opts...).ClientOptions(): the one-line adoption
//
//	client := connectcases.NewFromConfig(cfg, resilience.WithDefaults())
func WithDefaults(opts ...Option) func(*connectcases.Options) {
	return New(opts...).ClientOptions()
}

// ClientOptions installs the Kit on a client: the retryer, and middleware
// for per-call state, breakers, per-attempt timeout, logging and events.
// It can also be passed per operation; installing it twice is harmless.
func (k *Kit) ClientOptions() func(*connectcases.Options) {
	return func(o *connectcases.Options) {
		if o.RetryMaxAttempts != 0 && o.RetryMaxAttempts != k.cfg.maxAttempts {
			// The client would wrap the Kit's retryer with this limit after
			// the options run; the Kit's own setting is the one documented.
			k.warnOnce.Do(func() { k.obs.maxAttemptsOverridden(o.RetryMaxAttempts, k.cfg.maxAttempts) })
		}
		o.RetryMaxAttempts = 0
		o.Retryer = k.retryer
		// Clip: never append into a backing array shared with aws.Config.
		o.APIOptions = append(slices.Clip(o.APIOptions), k.addMiddleware)
	}
}

func (k *Kit) addMiddleware(stack *middleware.Stack) error {
	if _, ok := stack.Initialize.Get(callMiddlewareID); !ok {
		// After: the SDK's idempotency-token filler (added Before) has run,
		// so the clientToken check sees what will actually be sent.
		if err := stack.Initialize.Add(&callMiddleware{k: k}, middleware.After); err != nil {
			return err
		}
	}
	if _, ok := stack.Finalize.Get(attemptMiddlewareID); !ok {
		am := &attemptMiddleware{k: k}
		// Right after Retry: runs once per attempt, before signing, so the
		// per-attempt timeout covers signing, sending and decoding.
		if err := stack.Finalize.Insert(am, "Retry", middleware.After); err != nil {
			if err := stack.Finalize.Add(am, middleware.Before); err != nil {
				return err
			}
		}
	}
	return nil
}

// Retryer returns the Kit's aws.RetryerV2, for clients configured by hand.
// Alone (without ClientOptions' middleware) it classifies, backs off,
// paces throttled attempts and keeps the budget, but has no breaker, hold,
// attempt timeout or logging, and never retries CreateCase on a 5xx
// because it cannot see the clientToken.
func (k *Kit) Retryer() aws.RetryerV2 { return k.retryer }

// BreakerState reports the breaker state of an operation ("CreateCase").
// Operations not called yet are closed.
// While ForceOpen holds the Kit, every operation reports open.
func (k *Kit) BreakerState(operation string) BreakerState {
	if _, held := k.hold.remaining(k.cfg.clock.Now()); held {
		return BreakerOpen
	}
	if k.breakers == nil {
		return BreakerClosed
	}
	return k.breakers.get(operation).state()
}

// ForceOpen makes every operation fail fast with *BreakerOpenError for d,
// without sending anything, e.g. while a HealthChecker reports an outage;
// it works whether or not breakers are enabled. d <= 0 lifts it early. It
// does not fire OnBreakerStateChange; when it ends, each breaker (if any)
// is back in the state its own history dictates.
func (k *Kit) ForceOpen(d time.Duration) {
	k.hold.set(k.cfg.clock.Now(), d)
}

// observe counts a sent attempt for HealthChecker (HealthConfig.Kit).
func (k *Kit) observe(now time.Time, err error) {
	failed := 0
	if err != nil && classify(err).serverSide {
		failed = 1
	}
	k.obsMu.Lock()
	k.seen.add(now, 1, failed)
	k.obsMu.Unlock()
}

// observed returns the attempts sent over the last minute and how many
// failed server-side.
func (k *Kit) observed(now time.Time) (attempts, failures int) {
	k.obsMu.Lock()
	defer k.obsMu.Unlock()
	return k.seen.sums(now)
}

// hold is ForceOpen's state: a time before which every attempt fails fast.
type hold struct {
	mu    sync.Mutex
	until time.Time
}

func (h *hold) set(now time.Time, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d <= 0 {
		h.until = time.Time{}
		return
	}
	h.until = now.Add(d)
}

func (h *hold) remaining(now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.until.After(now) {
		return h.until.Sub(now), true
	}
	return 0, false
}
