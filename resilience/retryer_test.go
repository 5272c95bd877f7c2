package resilience

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
)

var (
	errISE      = respErr(500, nil, &types.InternalServerException{Message: aws.String("boom")})
	errThrottle = respErr(429, nil, &types.ThrottlingException{})
)

func TestBackoffCeilings(t *testing.T) {
	k := New(WithClock(newFakeClock()), withRnd(rndMax), WithBackoff(100*time.Millisecond, time.Second))
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		got, err := k.retryer.RetryDelay(i+1, errISE)
		if err != nil || got != w*time.Millisecond {
			t.Errorf("attempt %d: delay %v, %v; want %v", i+1, got, err, w*time.Millisecond)
		}
	}
	// Huge attempt numbers must not overflow the shift.
	if got, _ := k.retryer.RetryDelay(500, errISE); got != time.Second {
		t.Errorf("attempt 500: %v, want cap", got)
	}
	z := New(WithClock(newFakeClock()), withRnd(rndZero))
	if got, _ := z.retryer.RetryDelay(3, errISE); got != 0 {
		t.Errorf("full jitter lower bound: %v, want 0", got)
	}
}

func TestBackoffSeededJitterIsReproducible(t *testing.T) {
	k := New(WithClock(newFakeClock()), WithRandSource(rand.NewPCG(1, 2)))
	ref := rand.New(rand.NewPCG(1, 2))
	base := int64(defaultBaseDelay)
	for attempt := 1; attempt <= 5; attempt++ {
		want := time.Duration(ref.Int64N(base<<(attempt-1) + 1))
		got, _ := k.retryer.RetryDelay(attempt, errISE)
		if got != want {
			t.Fatalf("attempt %d: %v, want %v", attempt, got, want)
		}
		if got > time.Duration(base<<(attempt-1)) {
			t.Fatalf("attempt %d: %v above ceiling", attempt, got)
		}
	}
}

func TestRetryAfterDelay(t *testing.T) {
	ra := func(s int32) error {
		return respErr(500, nil, &types.InternalServerException{RetryAfterSeconds: aws.Int32(s)})
	}
	tests := []struct {
		name string
		rnd  func(int64) int64
		err  error
		want time.Duration
	}{
		{"hint honoured", rndZero, ra(2), 2 * time.Second},
		{"hint plus at most one base of jitter", rndMax, ra(2), 2*time.Second + defaultBaseDelay - 1},
		{"hint clamped to max wait", rndZero, ra(120), 30 * time.Second},
		{"zero hint retries at once", rndZero, ra(0), 0},
		{"header on raw 503", rndZero, respErr(503, map[string][]string{"Retry-After": {"3"}}, &smithy.DeserializationError{}), 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := New(WithClock(newFakeClock()), withRnd(tt.rnd))
			// Attempt 3: the hint replaces the backoff, whatever the attempt.
			if got, _ := k.retryer.RetryDelay(3, tt.err); got != tt.want {
				t.Errorf("delay %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGetRetryTokenDecisions(t *testing.T) {
	clk := newFakeClock()
	tests := []struct {
		name    string
		op      string
		st      *callState
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		err     error
		refused string // substring of the refusal, "" if granted
	}{
		{name: "granted", op: "GetCase", st: &callState{attempts: 1}, err: errISE},
		{name: "caller cancelled", op: "GetCase", st: &callState{attempts: 1}, err: errISE,
			ctx: func(c context.Context) (context.Context, context.CancelFunc) {
				c, cancel := context.WithCancel(c)
				cancel()
				return c, cancel
			}, refused: "context canceled"},
		{name: "deadline before the delay ends", op: "GetCase", st: &callState{attempts: 1},
			err: respErr(500, nil, &types.InternalServerException{RetryAfterSeconds: aws.Int32(5)}),
			ctx: func(c context.Context) (context.Context, context.CancelFunc) {
				return context.WithDeadline(c, clk.Now().Add(4*time.Second))
			}, refused: "deadline"},
		{name: "CreateCase with token", op: "CreateCase", st: &callState{attempts: 1, hasClientToken: true}, err: errISE},
		{name: "CreateCase without token on 500", op: "CreateCase", st: &callState{attempts: 1}, err: errISE, refused: "clientToken"},
		{name: "CreateCase without token on throttle", op: "CreateCase", st: &callState{attempts: 1}, err: errThrottle},
		{name: "CreateCase without token on refused dial", op: "CreateCase", st: &callState{attempts: 1},
			err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}},
		{name: "CreateCase without call state", op: "CreateCase", err: errISE, refused: "clientToken"},
		{name: "other op without call state", op: "GetCase", err: errISE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(time.Minute) // fresh budget window per case
			k := New(WithClock(clk), withRnd(rndZero))
			ctx := opCtx(tt.op, tt.st)
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx(ctx)
				defer cancel()
			}
			_, err := k.retryer.GetRetryToken(ctx, tt.err)
			switch {
			case tt.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)):
				t.Fatalf("err = %v, want refusal mentioning %q", err, tt.refused)
			}
		})
	}
}

func TestRetryDelayUsesDecisionFromGetRetryToken(t *testing.T) {
	k := New(WithClock(newFakeClock()), WithRandSource(rand.NewPCG(7, 7)))
	st := &callState{attempts: 2}
	if _, err := k.retryer.GetRetryToken(opCtx("GetCase", st), errISE); err != nil {
		t.Fatal(err)
	}
	decided := st.delay
	got, _ := k.retryer.RetryDelay(2, &attemptError{err: errISE, state: st})
	if got != decided || st.delaySet {
		t.Fatalf("RetryDelay = %v (delaySet %v), want the decided %v, consumed", got, st.delaySet, decided)
	}
}

func TestRetryBudgetExhaustion(t *testing.T) {
	rec := &recorder{}
	k := New(WithClock(newFakeClock()), withRnd(rndZero), WithRetryBudget(0.5, 3), WithEvents(rec.events()))
	r := k.retryer
	ctx := opCtx("GetCase", &callState{attempts: 1})

	for i := range 3 { // the reserve
		if _, err := r.GetRetryToken(ctx, errISE); err != nil {
			t.Fatalf("retry %d refused: %v", i+1, err)
		}
	}
	_, err := r.GetRetryToken(ctx, errISE)
	if !errors.Is(err, ErrRetryBudgetExhausted) {
		t.Fatalf("4th retry: %v, want ErrRetryBudgetExhausted", err)
	}
	if len(rec.exhausted) != 1 || rec.exhausted[0] != "GetCase" {
		t.Fatalf("OnBudgetExhausted calls = %v", rec.exhausted)
	}

	// Failed attempts earn nothing; two answered ones buy one retry at 0.5.
	attempt := func(outcome error) {
		release, err := r.GetAttemptToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		release(outcome)
	}
	attempt(errISE)
	attempt(errThrottle)
	if _, err := r.GetRetryToken(ctx, errISE); !errors.Is(err, ErrRetryBudgetExhausted) {
		t.Fatalf("after failures only: %v, want exhausted", err)
	}
	attempt(nil)
	attempt(errValidation)
	if _, err := r.GetRetryToken(ctx, errISE); err != nil {
		t.Fatalf("retry after two answered attempts refused: %v", err)
	}
	if _, err := r.GetRetryToken(ctx, errISE); !errors.Is(err, ErrRetryBudgetExhausted) {
		t.Fatalf("want exhausted again, got %v", err)
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		name    string
		ratio   float64
		reserve int
		earned  int // answered attempts before the retries
		want    int // retries granted in a row
	}{
		{"reserve only", 2, 10, 0, 10},
		{"earning is capped by the reserve", 2, 10, 100, 10},
		{"spent, then earned back", 2, 10, -1, 2},
		{"fractional ratio", 0.25, 10, -8, 2},
		{"disabled", -1, 0, 0, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBudget(tt.ratio, tt.reserve)
			earned := tt.earned
			if earned < 0 { // drain first, then earn -earned times
				for b.tryRetry() {
				}
				earned = -earned
			}
			for range earned {
				b.earn()
			}
			got := 0
			for got < 1000 && b.tryRetry() {
				got++
			}
			if got != tt.want {
				t.Errorf("granted %d retries, want %d", got, tt.want)
			}
		})
	}
}

// The budget's promise, checked over a long seeded run: whatever the fault
// rate, retries never exceed ratio × answered attempts + reserve, and below
// the rate at which retries pay for themselves none is refused.
func TestBudgetBoundsRetriesBySuccesses(t *testing.T) {
	for _, rate := range []float64{0, 0.3, 0.5, 0.7, 0.9, 1} {
		rnd := rand.New(rand.NewPCG(1, uint64(rate*100)))
		b := newBudget(defaultBudgetRatio, defaultBudgetReserve)
		var answered, retries, refused, calls int
		for range 20000 {
			calls++
			for attempt := 1; attempt <= defaultMaxAttempts; attempt++ {
				if rnd.Float64() >= rate {
					answered++
					b.earn()
					break
				}
				if attempt == defaultMaxAttempts {
					break
				}
				if !b.tryRetry() {
					refused++
					break
				}
				retries++
			}
		}
		if limit := defaultBudgetRatio*float64(answered) + defaultBudgetReserve; float64(retries) > limit {
			t.Errorf("rate %.0f%%: %d retries over the bound %.0f", rate*100, retries, limit)
		}
		if rate <= 0.5 && refused > calls/1000 {
			t.Errorf("rate %.0f%%: %d of %d calls refused a retry", rate*100, refused, calls)
		}
		if rate == 1 && retries != defaultBudgetReserve {
			t.Errorf("outage: %d retries, want the reserve %d", retries, defaultBudgetReserve)
		}
	}
}
