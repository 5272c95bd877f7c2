package resilience

import (
	"context"
	"net/http"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fakeClock only moves when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	// Real "now" so that context deadlines (always wall-clock) built from
	// it are in the future.
	return &fakeClock{now: time.Now().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// withRnd fixes jitter: "max" picks the top of every range, "zero" the
// bottom, so delays are exact.
func withRnd(f func(n int64) int64) Option { return func(c *config) { c.rnd = f } }

var (
	rndMax  = func(n int64) int64 { return n - 1 }
	rndMid  = func(n int64) int64 { return n / 2 } // no breaker jitter
	rndZero = func(int64) int64 { return 0 }
)

// respErr builds an error shaped like the SDK's for an HTTP error response.
func respErr(status int, header http.Header, inner error) error {
	if header == nil {
		header = http.Header{}
	}
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}},
			Err:      inner,
		},
		RequestID: "req-1",
	}
}

func opCtx(op string, st *callState) context.Context {
	return opCtxFrom(context.Background(), op, st)
}

func opCtxFrom(parent context.Context, op string, st *callState) context.Context {
	ctx := middleware.WithOperationName(parent, op)
	if st != nil {
		st.op = op
		ctx = middleware.WithStackValue(ctx, callStateKey{}, st)
	}
	return ctx
}

// recorder collects events.
type recorder struct {
	mu        sync.Mutex
	failed    []AttemptInfo
	scheduled []AttemptInfo
	exhausted []string
	changes   []string
	calls     []CallInfo
}

func (r *recorder) events() Events {
	return Events{
		OnAttemptFailed: func(a AttemptInfo) { r.mu.Lock(); r.failed = append(r.failed, a); r.mu.Unlock() },
		OnRetryScheduled: func(a AttemptInfo) {
			r.mu.Lock()
			r.scheduled = append(r.scheduled, a)
			r.mu.Unlock()
		},
		OnBudgetExhausted: func(op string) { r.mu.Lock(); r.exhausted = append(r.exhausted, op); r.mu.Unlock() },
		OnBreakerStateChange: func(op string, from, to BreakerState) {
			r.mu.Lock()
			r.changes = append(r.changes, op+":"+from.String()+"->"+to.String())
			r.mu.Unlock()
		},
		OnCallFinished: func(c CallInfo) { r.mu.Lock(); r.calls = append(r.calls, c); r.mu.Unlock() },
	}
}
