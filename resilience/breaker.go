package resilience

import (
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerState is the state of one operation's circuit breaker.
type BreakerState int

const (
	BreakerClosed   BreakerState = iota // calls flow; failures are counted
	BreakerHalfOpen                     // a limited number of probes flow
	BreakerOpen                         // calls fail fast with *BreakerOpenError
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "unknown"
}

// Outcomes fed to gobreaker. Classification happens here, with the
// context at hand, rather than in gobreaker's IsSuccessful callback.
var (
	errOutcomeFailure  = errors.New("server-side failure")
	errOutcomeExcluded = errors.New("excluded")
)

// breakers holds one breaker per operation: an outage of SearchCases
// (heavy) should not stop GetCase (cheap), and the SDK names operations.
type breakers struct {
	cfg   BreakerSettings
	clock Clock
	rnd   func(int64) int64
	obs   *observer

	mu   sync.Mutex
	byOp map[string]*opBreaker
}

func newBreakers(cfg BreakerSettings, clock Clock, rnd func(int64) int64, obs *observer) *breakers {
	return &breakers{cfg: cfg, clock: clock, rnd: rnd, obs: obs, byOp: map[string]*opBreaker{}}
}

// openPeriod is OpenFor jittered by up to a quarter either way, so that the
// breakers of many clients tripped by one outage do not probe in step.
func (bs *breakers) openPeriod() time.Duration {
	d := bs.cfg.OpenFor
	if q := int64(d / 4); q > 0 {
		d += time.Duration(bs.rnd(2*q+1) - q)
	}
	return d
}

func (bs *breakers) get(op string) *opBreaker {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.byOp[op]; ok {
		return b
	}
	b := &opBreaker{set: bs, op: op}
	cfg := bs.cfg
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         op,
		MaxRequests:  cfg.HalfOpenProbes,
		Interval:     cfg.Window,
		BucketPeriod: cfg.Window / 10,
		// gobreaker reads the wall clock, so it is told to be ready to
		// half-open at once and opBreaker enforces OpenFor on the injected
		// Clock instead: deterministic in tests, and RetryIn is exact.
		Timeout: time.Nanosecond,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if c.ConsecutiveFailures >= cfg.ConsecutiveFailures {
				return true
			}
			n := c.TotalFailures + c.TotalSuccesses
			return n >= cfg.MinRequests && float64(c.TotalFailures) >= cfg.FailureRatio*float64(n)
		},
		IsSuccessful:  func(err error) bool { return err == nil },
		IsExcluded:    func(err error) bool { return errors.Is(err, errOutcomeExcluded) },
		OnStateChange: b.onStateChange,
	})
	bs.byOp[op] = b
	return b
}

type opBreaker struct {
	set *breakers
	op  string
	cb  *gobreaker.TwoStepCircuitBreaker[struct{}]

	// mu guards the fields below. It is taken inside gobreaker's lock (in
	// onStateChange), so gobreaker must never be called while holding it.
	mu        sync.Mutex
	openUntil time.Time
	pending   []transition
}

type transition struct{ from, to BreakerState }

func toState(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	}
	return BreakerClosed
}

func (b *opBreaker) onStateChange(_ string, from, to gobreaker.State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if to == gobreaker.StateOpen {
		b.openUntil = b.set.clock.Now().Add(b.set.openPeriod())
	} else {
		b.openUntil = time.Time{}
	}
	b.pending = append(b.pending, transition{toState(from), toState(to)})
}

// flush reports transitions outside every lock, so observers may inspect
// the breaker without deadlocking.
func (b *opBreaker) flush() {
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, t := range p {
		b.set.obs.breakerChanged(b.op, t.from, t.to)
	}
}

func (b *opBreaker) openFor(now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.After(now) {
		return b.openUntil.Sub(now), true
	}
	return 0, false
}

// allow admits an attempt or fails fast. The returned func must be called
// with the attempt's outcome.
func (b *opBreaker) allow() (func(outcome error), error) {
	now := b.set.clock.Now()
	if d, ok := b.openFor(now); ok {
		return nil, &BreakerOpenError{Operation: b.op, RetryIn: d, Err: gobreaker.ErrOpenState}
	}
	done, err := b.cb.Allow()
	b.flush()
	if err != nil {
		// A trip can land between openFor and Allow; otherwise this is a
		// half-open breaker whose probe slots are taken.
		d, _ := b.openFor(now)
		return nil, &BreakerOpenError{Operation: b.op, RetryIn: d, Err: err}
	}
	return func(outcome error) {
		done(outcome)
		b.flush()
	}, nil
}

func (b *opBreaker) state() BreakerState {
	if _, ok := b.openFor(b.set.clock.Now()); ok {
		return BreakerOpen
	}
	s := b.cb.State()
	b.flush()
	return toState(s)
}
