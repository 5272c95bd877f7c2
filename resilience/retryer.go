package resilience

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// retryer implements aws.RetryerV2 for the SDK's retry middleware
// (retry.Attempt), which calls, per attempt: GetAttemptToken, the request,
// IsErrorRetryable, MaxAttempts, then GetRetryToken and RetryDelay before
// sleeping. Differences from retry.Standard, and why:
//
//   - Classification: an explicit allow/deny list for Connect Cases instead
//     of "anything retryable-looking". The five client errors are never
//     retried, even when the SDK's clock-skew logic marks an
//     AccessDeniedException retryable; our own fail-fast errors are never
//     retried; a caller-cancelled context is never retried.
//   - Backoff: full jitter on base 100ms (Standard: 50ms base, throttles
//     1s) — one curve is easier to reason about, and the budget, not the
//     curve, protects the service.
//   - Retry-After: honoured from InternalServerException.RetryAfterSeconds
//     or the raw Retry-After header (seconds or HTTP-date), clamped to
//     MaxRetryAfter. Standard only looks at x-amz-retry-after.
//   - Quota: retries are paid for by successes (see budget) instead of the
//     500-token bucket, which lets a 50% brownout drain it and an outage
//     retry 100 times before it does.
//   - Rate: while the service throttles, attempts are paced by the AWS SDK's
//     own adaptive-mode rate limiter (retry.AdaptiveMode), the same CUBIC
//     limiter AWS_RETRY_MODE=adaptive uses; it is idle until a throttle.
//   - Context: GetRetryToken refuses when the caller's context is done or
//     would expire during the wait. Standard sleeps into the deadline and
//     fails with a less useful "canceled" error.
//   - Idempotency: CreateCase is retried only with a non-empty clientToken
//     (or when the error proves the request was not processed).
type retryer struct {
	cfg    *config
	budget *budget
	obs    *observer
	// pace is the SDK's adaptive retryer, used only for its attempt rate
	// limiter (GetAttemptToken); nil when WithAdaptiveRateLimit(false).
	pace *retry.AdaptiveMode
}

func newRetryer(cfg *config, b *budget, obs *observer) *retryer {
	r := &retryer{cfg: cfg, budget: b, obs: obs}
	if cfg.adaptiveRate {
		r.pace = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			// Its own retry quota and backoff are never consulted; a
			// bucket without limits keeps its attempt token free.
			o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
				so.RateLimiter = ratelimit.None
			})
		})
	}
	return r
}

var _ aws.RetryerV2 = (*retryer)(nil)

func (r *retryer) IsErrorRetryable(err error) bool { return classify(err).retryable }

func (r *retryer) MaxAttempts() int { return r.cfg.maxAttempts }

// GetAttemptToken waits, while the service throttles, for the adaptive
// rate limiter; otherwise it returns at once. Its release, called with the
// attempt's outcome, pays the budget for an answered attempt and tells the
// rate limiter whether the attempt was throttled.
func (r *retryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	paced := nopRelease
	if r.pace != nil {
		var err error
		if paced, err = r.pace.GetAttemptToken(ctx); err != nil {
			return nil, err
		}
	}
	return func(err error) error {
		if answered(err) {
			r.budget.earn()
		}
		return paced(err)
	}, nil
}

// GetInitialToken is only used by retry middleware that predates
// RetryerV2, which then calls it once per attempt (like GetAttemptToken).
func (r *retryer) GetInitialToken() func(error) error {
	return func(err error) error {
		if answered(err) {
			r.budget.earn()
		}
		return nil
	}
}

// answered reports whether an attempt reached a service that handled it:
// a success, or a client error (the service was well enough to refuse).
func answered(err error) bool {
	if err == nil {
		return true
	}
	c := classify(err)
	return !c.retryable && !c.serverSide && c.status >= 400 && c.status < 500
}

// GetRetryToken is the retry decision point that has a context, so every
// per-call refusal lives here. It also fixes the delay, so that the
// deadline check and the logged delay are exactly what RetryDelay returns.
func (r *retryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := stateFrom(ctx)
	op := operationName(ctx)

	if op == opCreateCase && (st == nil || !st.hasClientToken) && !notProcessed(opErr) {
		// Without a clientToken the service cannot deduplicate, and a 5xx
		// or timeout does not tell whether the case was created.
		return nil, &stopError{reason: "CreateCase has no clientToken; a retry could create a duplicate case"}
	}

	attempt := 1
	if st != nil {
		attempt = st.attempts
	}
	now := r.cfg.clock.Now()
	delay := r.delay(attempt, opErr, now)
	if dl, ok := ctx.Deadline(); ok && !now.Add(delay).Before(dl) {
		return nil, &stopError{reason: fmt.Sprintf("the context deadline is within the %s retry delay", delay), deadline: true}
	}
	if !r.budget.tryRetry() {
		r.obs.budgetExhausted(op)
		return nil, fmt.Errorf("%w for %s", ErrRetryBudgetExhausted, opLabel(op))
	}
	if st != nil {
		st.delay, st.delaySet = delay, true
		if p := st.pending; p != nil {
			p.Delay = delay
			r.obs.retryScheduled(ctx, *p)
			st.pending = nil
		}
	}
	return nopRelease, nil
}

// RetryDelay returns the delay fixed by GetRetryToken, found through the
// attemptError wrapper because this hook gets no context.
func (r *retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	var ae *attemptError
	if errors.As(err, &ae) && ae.state.delaySet {
		ae.state.delaySet = false
		return ae.state.delay, nil
	}
	return r.delay(attempt, err, r.cfg.clock.Now()), nil
}

// delay: a server hint plus a little jitter (so clients told the same
// Retry-After do not return in lockstep), else full-jitter exponential.
func (r *retryer) delay(attempt int, err error, now time.Time) time.Duration {
	if ra, ok := retryAfter(err, now); ok {
		return min(ra+time.Duration(r.cfg.rnd(int64(r.cfg.baseDelay))), r.cfg.maxRetryAfter)
	}
	ceil := r.cfg.maxDelay
	if attempt < 1 {
		attempt = 1
	}
	if shift := attempt - 1; shift < 62 && r.cfg.baseDelay <= r.cfg.maxDelay>>shift {
		ceil = r.cfg.baseDelay << shift
	}
	return time.Duration(r.cfg.rnd(int64(ceil) + 1))
}

func nopRelease(error) error { return nil }

// operationName prefers the name the client sets before any middleware
// runs; the aws one is set by an Initialize middleware.
func operationName(ctx context.Context) string {
	if op := middleware.GetOperationName(ctx); op != "" {
		return op
	}
	return awsmiddleware.GetOperationName(ctx)
}
