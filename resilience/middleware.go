package resilience

import (
	"context"
	"errors"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	callMiddlewareID    = "resilience.Call"
	attemptMiddlewareID = "resilience.Attempt"
)

// callState is shared by one call's middleware and retryer hooks. The SDK
// runs attempts and retry hooks sequentially on the calling goroutine, so
// it needs no lock.
type callState struct {
	op             string
	hasClientToken bool
	attempts       int          // attempts begun, refused ones included
	sent           int          // attempts that went to the service
	pending        *AttemptInfo // last failed attempt, not yet logged
	delay          time.Duration
	delaySet       bool
}

type callStateKey struct{}

func stateFrom(ctx context.Context) *callState {
	st, _ := middleware.GetStackValue(ctx, callStateKey{}).(*callState)
	return st
}

// callMiddleware (Initialize, after the SDK's idempotency-token filler)
// wraps the whole retry loop: it opens the per-call state and reports the
// final outcome.
type callMiddleware struct{ k *Kit }

func (*callMiddleware) ID() string { return callMiddlewareID }

func (m *callMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	out middleware.InitializeOutput, md middleware.Metadata, err error,
) {
	clock := m.k.cfg.clock
	st := &callState{op: operationName(ctx)}
	if p, ok := in.Parameters.(*connectcases.CreateCaseInput); ok && p != nil {
		st.hasClientToken = p.ClientToken != nil && *p.ClientToken != ""
	}
	ctx = middleware.WithStackValue(ctx, callStateKey{}, st)
	start := clock.Now()

	out, md, err = next.HandleInitialize(ctx, in)

	info := CallInfo{
		Operation: st.op,
		Attempts:  st.sent,
		Latency:   clock.Now().Sub(start),
		Err:       err,
	}
	info.RequestID, _ = awsmiddleware.GetRequestIDMetadata(md)
	if info.RequestID == "" {
		info.RequestID = requestIDOf(err)
	}
	info.HTTPStatus = statusOf(err)
	if err == nil {
		if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && resp != nil {
			info.HTTPStatus = resp.StatusCode
		}
	} else {
		info.Code = codeOf(err)
		info.Stopped = stopReason(err)
		if p := st.pending; p != nil {
			m.k.obs.attemptNotRetried(ctx, *p, info.Stopped)
			st.pending = nil
		}
	}
	m.k.obs.callFinished(ctx, info)
	return out, md, err
}

// stopReason explains, for CallInfo and the log, why the SDK's retry loop
// ended with an error: stoppedBy's reasons, then the rarer ones.
func stopReason(err error) string {
	var stop *stopError
	switch s := stoppedBy(err); {
	case s != "":
		return s
	case errors.As(err, &stop):
		return stop.reason
	case isCanceled(err):
		return StopCanceled
	case !classify(err).retryable:
		return StopNotRetryable
	}
	return "retry loop ended"
}

// attemptMiddleware (Finalize, right after the SDK's Retry middleware) runs
// once per attempt: breaker admission, per-attempt timeout, bookkeeping.
type attemptMiddleware struct{ k *Kit }

func (*attemptMiddleware) ID() string { return attemptMiddlewareID }

func (m *attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	out middleware.FinalizeOutput, md middleware.Metadata, err error,
) {
	k := m.k
	st := stateFrom(ctx)
	if st == nil { // call middleware removed: keep working, unlogged
		st = &callState{op: operationName(ctx)}
	}
	st.attempts++
	st.delaySet = false
	start := k.cfg.clock.Now()

	if d, held := k.hold.remaining(start); held {
		return out, md, m.failed(ctx, st, start, md,
			&BreakerOpenError{Operation: st.op, RetryIn: d, Held: true, Err: errHeld})
	}
	var done func(error)
	if k.breakers != nil {
		var berr error
		done, berr = k.breakers.get(st.op).allow()
		if berr != nil {
			return out, md, m.failed(ctx, st, start, md, berr)
		}
	}

	if k.shedder != nil {
		if ok, p := k.shedder.admit(start); !ok {
			if done != nil {
				done(errOutcomeExcluded)
			}
			return out, md, m.failed(ctx, st, start, md, &ShedError{Operation: st.op, Probability: p})
		}
	}
	st.sent++
	actx := ctx
	if t := k.cfg.attemptTimeout; t > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	out, md, err = next.HandleFinalize(actx, in)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = &attemptTimeoutError{timeout: k.cfg.attemptTimeout, err: err}
	}

	if done != nil {
		done(breakerOutcome(ctx, err))
	}
	now := k.cfg.clock.Now()
	if ctx.Err() == nil {
		if k.shedder != nil {
			k.shedder.done(now, answered(err))
		}
		k.observe(now, err)
	}
	if err == nil {
		st.pending = nil
		return out, md, nil
	}
	return out, md, m.failed(ctx, st, start, md, err)
}

func (m *attemptMiddleware) failed(ctx context.Context, st *callState, start time.Time, md middleware.Metadata, err error) error {
	a := AttemptInfo{
		Operation:  st.op,
		Attempt:    st.attempts,
		Code:       codeOf(err),
		HTTPStatus: statusOf(err),
		Latency:    m.k.cfg.clock.Now().Sub(start),
		Err:        err,
	}
	a.RequestID, _ = awsmiddleware.GetRequestIDMetadata(md)
	if a.RequestID == "" {
		a.RequestID = requestIDOf(err)
	}
	st.pending = &a
	m.k.obs.attemptFailed(a)
	return &attemptError{err: err, state: st}
}

// breakerOutcome maps an attempt's result onto the breaker: only evidence
// of an unhealthy service is a failure. Client errors (4xx) prove the
// service answered, so they are successes. Throttling is excluded: the
// service is up and shaping our rate, which backoff and the budget handle;
// opening on it would turn a rate limit into a fake outage. A caller
// cancelling says nothing about the service.
func breakerOutcome(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ate *attemptTimeoutError
	if ctx.Err() != nil || (isCanceled(err) && !errors.As(err, &ate)) {
		return errOutcomeExcluded
	}
	c := classify(err)
	switch {
	case c.throttle:
		return errOutcomeExcluded
	case c.serverSide:
		return errOutcomeFailure
	}
	return nil
}
