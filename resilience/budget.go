package resilience

import (
	"sync"
)

// budget decides whether a retry may be sent. It is a token bucket that
// success fills: every attempt the service answered (a success or a client
// error) earns ratio tokens, every retry spends one, and the bucket holds
// at most reserve tokens.
//
// Why this shape, measured against the alternatives in
// examples/retryproof (docs/RESILIENCE.md):
//
//   - A ratio of calls over a time window (Finagle's RetryBudget, the first
//     version of this kit) must choose one ratio for every fault rate: 30%
//     faults need about 0.43 retries per call and 50% about 0.94, while an
//     outage should get almost none. Paying for retries with successes
//     scales the allowance with how well retries are working: a 50%
//     brownout earns a retry for every success, a dead service earns
//     nothing.
//   - Remembering successes over a window lets an outage spend the credit
//     of the healthy seconds before it (a few seconds of full retry
//     amplification). The small cap forgets them: an outage gets at most
//     reserve retries before the kit sends first attempts only.
//   - gRPC's retry throttling also charges first-attempt failures; by its
//     token arithmetic (not measured here) a fault rate above a fixed
//     threshold turns retries off entirely, a cliff rather than a slope.
//     Here the allowance degrades in proportion.
//
// The first attempt of a call is never refused: it is the probe that tells
// the client the service is back, so recovery after an outage costs no
// waiting (AWS SDK adaptive mode's rate limiter, which the Kit also uses,
// paces attempts only while the service throttles).
type budget struct {
	ratio    float64
	reserve  float64
	disabled bool

	mu     sync.Mutex
	tokens float64
}

func newBudget(ratio float64, reserve int) *budget {
	b := &budget{ratio: ratio, reserve: float64(reserve), disabled: ratio < 0}
	b.tokens = b.reserve
	return b
}

// earn credits an attempt the service answered.
func (b *budget) earn() {
	if b.disabled {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.reserve, b.tokens+b.ratio)
	b.mu.Unlock()
}

// tryRetry spends one token if there is one.
func (b *budget) tryRetry() bool {
	if b.disabled {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
