package resilience

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrShed is matched (errors.Is) by every *ShedError.
var ErrShed = errors.New("resilience: attempt shed by client-side throttling")

// ShedError is returned, without any request being sent, when client-side
// adaptive throttling (WithClientThrottling) rejects an attempt.
type ShedError struct {
	Operation string
	// Probability is the rejection probability at the time.
	Probability float64
}

func (e *ShedError) Error() string {
	return fmt.Sprintf("resilience: %s not sent: client-side throttling rejects %.0f%% of attempts while the service fails",
		opLabel(e.Operation), 100*e.Probability)
}

// Is reports whether target is ErrShed.
func (e *ShedError) Is(target error) bool { return target == ErrShed }

// shedder is client-side adaptive throttling as Google's SRE book describes
// it ("Handling Overload"): over a trailing window the client counts the
// attempts it wanted to make (requests) and those the service answered
// (accepts), and rejects an attempt locally with probability
//
//	max(0, (requests − k·accepts) / (requests + 1)).
//
// It is off by default; docs/RESILIENCE.md measures it beside the default.
type shedder struct {
	k   float64
	rnd func(int64) int64

	mu     sync.Mutex
	counts window // a: requests, b: accepts
}

func newShedder(k float64, span time.Duration, rnd func(int64) int64) *shedder {
	return &shedder{k: k, rnd: rnd, counts: newWindow(span)}
}

// shedMinRequests is the volume below which nothing is shed. The book's
// clients see thousands of requests a window; with a handful, the first
// failure alone would reject half the next attempts, and rejected attempts
// count as requests, so the rejection feeds itself.
const shedMinRequests = 20

// probability is the current rejection probability.
func (s *shedder) probability(now time.Time) float64 {
	requests, accepts := s.counts.sums(now)
	if requests < shedMinRequests {
		return 0
	}
	return max(0, (float64(requests)-s.k*float64(accepts))/float64(requests+1))
}

// admit decides whether an attempt may be sent. A rejected attempt counts
// as a request at once; a sent one when it finishes (done), so that
// attempts still in flight do not count as refused by the service: with a
// handful of calls in the window they would otherwise shed healthy traffic.
func (s *shedder) admit(now time.Time) (bool, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.probability(now)
	const scale = 1 << 30
	if p > 0 && float64(s.rnd(scale)) < p*scale {
		s.counts.add(now, 1, 0)
		return false, p
	}
	return true, p
}

// done counts a sent attempt, and whether the service answered it.
func (s *shedder) done(now time.Time, answered bool) {
	accepts := 0
	if answered {
		accepts = 1
	}
	s.mu.Lock()
	s.counts.add(now, 1, accepts)
	s.mu.Unlock()
}
