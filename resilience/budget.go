package resilience

import (
	"sync"
	"time"
)

const budgetBuckets = 10

// budget is a sliding-window retry budget (as in Finagle and gRPC retry
// throttling) replacing the SDK's token bucket: the bucket refills one
// token per success and so, during a total outage, still lets every call
// retry until it drains; a ratio over a short window ties retry volume to
// current traffic instead.
//
// It counts attempts and granted retries per bucket; calls = attempts -
// retries. That needs no per-call state, so it also works when the Retryer
// is used without the Kit's middleware.
type budget struct {
	ratio    float64
	floor    int
	width    time.Duration
	disabled bool

	mu      sync.Mutex
	buckets [budgetBuckets]budgetBucket
}

type budgetBucket struct {
	idx      int64 // absolute bucket number: unix nanos / width
	attempts int
	retries  int
}

func newBudget(ratio float64, floor int, window time.Duration) *budget {
	return &budget{
		ratio:    ratio,
		floor:    floor,
		width:    max(window/budgetBuckets, time.Nanosecond),
		disabled: ratio < 0,
	}
}

func (b *budget) bucketAt(now time.Time) *budgetBucket {
	idx := now.UnixNano() / int64(b.width)
	bk := &b.buckets[((idx%budgetBuckets)+budgetBuckets)%budgetBuckets]
	if bk.idx != idx {
		*bk = budgetBucket{idx: idx}
	}
	return bk
}

func (b *budget) sums(now time.Time) (attempts, retries int) {
	cur := now.UnixNano() / int64(b.width)
	for i := range b.buckets {
		bk := &b.buckets[i]
		if age := cur - bk.idx; age >= 0 && age < budgetBuckets {
			attempts += bk.attempts
			retries += bk.retries
		}
	}
	return attempts, retries
}

func (b *budget) recordAttempt(now time.Time) {
	if b.disabled {
		return
	}
	b.mu.Lock()
	b.bucketAt(now).attempts++
	b.mu.Unlock()
}

// tryRetry spends one retry if the window allows it.
func (b *budget) tryRetry(now time.Time) bool {
	if b.disabled {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	attempts, retries := b.sums(now)
	calls := max(attempts-retries, 0)
	if float64(retries+1) > float64(b.floor)+b.ratio*float64(calls) {
		return false
	}
	b.bucketAt(now).retries++
	return true
}
