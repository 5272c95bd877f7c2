package resilience

import (
	"errors"
	"fmt"
	"time"
)

// ErrBreakerOpen is matched (errors.Is) by every *BreakerOpenError.
var ErrBreakerOpen = errors.New("resilience: circuit breaker open")

// ErrRetryBudgetExhausted is returned (joined with the last attempt's error)
// when a call could have been retried but the client's retry budget was
// spent. errors.Is finds both it and the original service error.
var ErrRetryBudgetExhausted = errors.New("resilience: retry budget exhausted")

// BreakerOpenError is returned, without any request being sent, while the
// circuit breaker of an operation is open (or half-open with its probe
// still in flight).
type BreakerOpenError struct {
	// Operation is the Connect Cases operation name, e.g. "CreateCase".
	Operation string
	// RetryIn is how long until the breaker lets a half-open probe through.
	// Zero means a probe is already in flight: try again shortly.
	RetryIn time.Duration
	// Held is true when the refusal comes from Kit.ForceOpen (a health
	// check saw an outage) rather than from the operation's own breaker.
	Held bool
	// Err is the underlying error: gobreaker.ErrOpenState, or
	// gobreaker.ErrTooManyRequests while half-open probes are in flight, or
	// an error saying the Kit is held open.
	Err error
}

func (e *BreakerOpenError) Error() string {
	if e.Held {
		return fmt.Sprintf("resilience: calls are held (Kit.ForceOpen) for %s; not sent, %s left",
			opLabel(e.Operation), e.RetryIn.Round(time.Millisecond))
	}
	if e.RetryIn > 0 {
		return fmt.Sprintf("resilience: circuit breaker for %s is open; next probe in %s",
			opLabel(e.Operation), e.RetryIn.Round(time.Millisecond))
	}
	return fmt.Sprintf("resilience: circuit breaker for %s is half-open; probe in flight", opLabel(e.Operation))
}

// Is reports whether target is ErrBreakerOpen.
func (e *BreakerOpenError) Is(target error) bool { return target == ErrBreakerOpen }

// Unwrap returns the underlying gobreaker error.
func (e *BreakerOpenError) Unwrap() error { return e.Err }

func opLabel(op string) string {
	if op == "" {
		return "unknown operation"
	}
	return op
}

var errHeld = errors.New("resilience: held open by Kit.ForceOpen")

// Why a call's retries stopped, as CallInfo.Stopped, the log's "reason"
// and Explanation.Stopped say it. Other values are one-off sentences (a
// CreateCase without clientToken, a deadline inside the retry delay).
const (
	StopBudget       = "retry budget spent"
	StopMaxAttempts  = "out of attempts"
	StopBreakerOpen  = "circuit breaker open"
	StopShed         = "shed by client-side throttling"
	StopHeld         = "held open after a failed health check"
	StopDeadline     = "context deadline exceeded"
	StopCanceled     = "context canceled"
	StopNotRetryable = "not retryable"
)

// stopError is a refusal to retry that is not worth a public type: callers
// get it joined with the real service error, which is what they act upon;
// its text is for humans and logs.
type stopError struct {
	reason   string
	deadline bool // the caller's deadline, not a rule, ended the retries
}

func (e *stopError) Error() string { return "resilience: not retrying: " + e.reason }

// attemptTimeoutError marks an attempt cut off by the per-attempt timeout
// (as opposed to the caller's own deadline), so it is classified as a
// retryable timeout and counted by the breaker as a server-side failure.
type attemptTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("resilience: attempt timed out after %s: %v", e.timeout, e.err)
}
func (e *attemptTimeoutError) Unwrap() error { return e.err }
func (e *attemptTimeoutError) Timeout() bool { return true }

// attemptError carries the per-call state from the attempt middleware to
// Retryer.RetryDelay, the only retryer hook without a context. It is
// transparent: Error() is the wrapped text and errors.As/Is see through it.
type attemptError struct {
	err   error
	state *callState
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }
