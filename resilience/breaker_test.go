package resilience

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/sony/gobreaker/v2"
)

var (
	errValidation = respErr(400, nil, &types.ValidationException{})
	errNotFound   = respErr(404, nil, &types.ResourceNotFoundException{})
)

// attempt runs one attempt of op through the Kit's attempt middleware,
// with a stub transport returning result. It reports whether the stub was
// reached.
func attempt(t *testing.T, k *Kit, op string, result error) (error, bool) {
	t.Helper()
	return attemptCtx(context.Background(), k, op, result)
}

func attemptCtx(ctx context.Context, k *Kit, op string, result error) (error, bool) {
	sent := false
	next := middleware.FinalizeHandlerFunc(func(context.Context, middleware.FinalizeInput) (middleware.FinalizeOutput, middleware.Metadata, error) {
		sent = true
		return middleware.FinalizeOutput{}, middleware.Metadata{}, result
	})
	_, _, err := (&attemptMiddleware{k: k}).HandleFinalize(opCtxFrom(ctx, op, &callState{}), middleware.FinalizeInput{}, next)
	return err, sent
}

func newBreakerKit(clk *fakeClock, rec *recorder, s BreakerSettings) *Kit {
	return New(WithClock(clk), WithBreaker(s), WithEvents(rec.events()), WithAttemptTimeout(-1), withRnd(rndMid))
}

func TestBreakerLifecycle(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{}
	k := newBreakerKit(clk, rec, BreakerSettings{ConsecutiveFailures: 5, OpenFor: 30 * time.Second}) // 1 probe by default

	for i := range 5 {
		if _, sent := attempt(t, k, "GetCase", errISE); !sent {
			t.Fatalf("attempt %d not sent", i+1)
		}
	}
	if s := k.BreakerState("GetCase"); s != BreakerOpen {
		t.Fatalf("after 5 failures: %v, want open", s)
	}

	err, sent := attempt(t, k, "GetCase", nil)
	var boe *BreakerOpenError
	if sent || !errors.As(err, &boe) {
		t.Fatalf("open breaker: sent=%v err=%v", sent, err)
	}
	if boe.RetryIn != 30*time.Second || boe.Operation != "GetCase" ||
		!errors.Is(err, ErrBreakerOpen) || !errors.Is(err, gobreaker.ErrOpenState) {
		t.Fatalf("BreakerOpenError = %+v", boe)
	}
	if k.retryer.IsErrorRetryable(err) {
		t.Fatal("an open breaker must end the retry loop")
	}

	clk.Advance(10 * time.Second)
	err, _ = attempt(t, k, "GetCase", nil)
	if !errors.As(err, &boe) || boe.RetryIn != 20*time.Second {
		t.Fatalf("RetryIn after 10s = %v", err)
	}

	// Other operations are unaffected.
	if _, sent := attempt(t, k, "CreateCase", nil); !sent {
		t.Fatal("CreateCase blocked by GetCase's breaker")
	}

	// After OpenFor, one probe; its failure re-opens for a full period.
	clk.Advance(20 * time.Second)
	if _, sent := attempt(t, k, "GetCase", errISE); !sent {
		t.Fatal("probe not sent")
	}
	err, _ = attempt(t, k, "GetCase", nil)
	if !errors.As(err, &boe) || boe.RetryIn != 30*time.Second {
		t.Fatalf("after failed probe: %v", err)
	}

	// Next probe succeeds: closed.
	clk.Advance(30 * time.Second)
	if _, sent := attempt(t, k, "GetCase", nil); !sent {
		t.Fatal("probe not sent")
	}
	if s := k.BreakerState("GetCase"); s != BreakerClosed {
		t.Fatalf("after successful probe: %v", s)
	}

	want := []string{
		"GetCase:closed->open",
		"GetCase:open->half-open", "GetCase:half-open->open",
		"GetCase:open->half-open", "GetCase:half-open->closed",
	}
	if !reflect.DeepEqual(rec.changes, want) {
		t.Fatalf("transitions\n got %v\nwant %v", rec.changes, want)
	}
}

func TestBreakerHalfOpenAdmitsOnlyProbes(t *testing.T) {
	clk := newFakeClock()
	k := newBreakerKit(clk, &recorder{}, BreakerSettings{ConsecutiveFailures: 1})
	attempt(t, k, "GetCase", errISE)
	clk.Advance(30 * time.Second)

	b := k.breakers.get("GetCase")
	done, err := b.allow() // the probe, still in flight
	if err != nil {
		t.Fatal(err)
	}
	err, sent := attempt(t, k, "GetCase", nil)
	var boe *BreakerOpenError
	if sent || !errors.As(err, &boe) || boe.RetryIn != 0 || !errors.Is(err, gobreaker.ErrTooManyRequests) {
		t.Fatalf("second request while probing: sent=%v err=%v", sent, err)
	}
	done(nil)
	if s := b.state(); s != BreakerClosed {
		t.Fatalf("state %v", s)
	}
}

func TestBreakerCountsOnlyServerSideFailures(t *testing.T) {
	tests := []struct {
		name   string
		seq    []error
		opened bool
	}{
		{"4 failures then a client error resets the streak",
			[]error{errISE, errISE, errISE, errISE, errValidation, errISE}, false},
		{"not found is a success too",
			[]error{errISE, errISE, errISE, errISE, errNotFound, errISE, errISE, errISE, errISE}, false},
		{"throttling is ignored, not a reset",
			[]error{errISE, errISE, errISE, errISE, errThrottle, errThrottle, errISE}, true},
		{"throttling alone never opens",
			[]error{errThrottle, errThrottle, errThrottle, errThrottle, errThrottle, errThrottle}, false},
		{"timeouts and raw 503s count",
			[]error{&attemptTimeoutError{err: context.DeadlineExceeded}, respErr(503, nil, nil), errISE, errISE, errISE}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newBreakerKit(newFakeClock(), &recorder{}, BreakerSettings{ConsecutiveFailures: 5, OpenFor: 30 * time.Second})
			for _, e := range tt.seq {
				attempt(t, k, "SearchCases", e)
			}
			if got := k.BreakerState("SearchCases") == BreakerOpen; got != tt.opened {
				t.Fatalf("opened = %v, want %v", got, tt.opened)
			}
		})
	}
}

func TestBreakerFailureRatio(t *testing.T) {
	k := newBreakerKit(newFakeClock(), &recorder{}, BreakerSettings{
		ConsecutiveFailures: 100, FailureRatio: 0.5, MinRequests: 10, Window: time.Hour,
	})
	for i := range 9 { // 5 successes and 4 failures, interleaved
		var e error
		if i%2 == 1 {
			e = errISE
		}
		attempt(t, k, "GetCase", e)
	}
	if s := k.BreakerState("GetCase"); s != BreakerClosed {
		t.Fatalf("below MinRequests: %v", s)
	}
	attempt(t, k, "GetCase", errISE) // 5/10 failed
	if s := k.BreakerState("GetCase"); s != BreakerOpen {
		t.Fatalf("at 50%% of 10: %v", s)
	}
}

func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	k := newBreakerKit(newFakeClock(), &recorder{}, BreakerSettings{ConsecutiveFailures: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The transport may report a cancelled request as anything, e.g. a 5xx
	// read from a proxy that saw the client go away.
	attemptCtx(ctx, k, "GetCase", errISE)
	attempt(t, k, "GetCase", context.Canceled)
	if s := k.BreakerState("GetCase"); s != BreakerClosed {
		t.Fatalf("state %v", s)
	}
}

func TestForceOpen(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{}
	k := newBreakerKit(clk, rec, BreakerSettings{})
	k.ForceOpen(time.Minute)
	err, sent := attempt(t, k, "ListDomains", nil)
	var boe *BreakerOpenError
	if sent || !errors.As(err, &boe) || boe.RetryIn != time.Minute {
		t.Fatalf("forced: sent=%v err=%v", sent, err)
	}
	if k.BreakerState("GetCase") != BreakerOpen {
		t.Fatal("ForceOpen must cover operations not seen yet")
	}
	clk.Advance(time.Minute)
	if _, sent := attempt(t, k, "ListDomains", nil); !sent {
		t.Fatal("still blocked after the forced period")
	}
	k.ForceOpen(time.Hour)
	k.ForceOpen(0)
	if _, sent := attempt(t, k, "ListDomains", nil); !sent {
		t.Fatal("ForceOpen(0) did not lift")
	}
	if len(rec.changes) != 0 {
		t.Fatalf("ForceOpen fired events: %v", rec.changes)
	}
}

func TestBreakerDisabled(t *testing.T) {
	k := New(WithBreaker(BreakerSettings{Disabled: true}), WithAttemptTimeout(-1))
	for range 20 {
		if _, sent := attempt(t, k, "GetCase", errISE); !sent {
			t.Fatal("blocked with breakers disabled")
		}
	}
	if k.BreakerState("GetCase") != BreakerClosed {
		t.Fatal("state")
	}
}

func TestBreakerOpenErrorMessage(t *testing.T) {
	e := &BreakerOpenError{Operation: "GetCase", RetryIn: 1500 * time.Millisecond}
	if got := e.Error(); got != "resilience: circuit breaker for GetCase is open; next probe in 1.5s" {
		t.Fatal(got)
	}
	if got := (&BreakerOpenError{}).Error(); got != "resilience: circuit breaker for unknown operation is half-open; probe in flight" {
		t.Fatal(got)
	}
}
