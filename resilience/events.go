package resilience

import (
	"context"
	"log/slog"
	"time"
)

// Events are optional callbacks for metrics. They run synchronously on the
// calling goroutine (OnBreakerStateChange on whichever call caused the
// transition), so they must be fast and must not call back into the client.
// Nil fields are skipped.
type Events struct {
	// OnAttemptFailed fires for every failed attempt, before the retry
	// decision (Delay is zero).
	OnAttemptFailed func(AttemptInfo)
	// OnRetryScheduled fires when a failed attempt will be retried; Delay
	// is the wait chosen.
	OnRetryScheduled func(AttemptInfo)
	// OnBudgetExhausted fires when a retry was refused by the retry budget.
	OnBudgetExhausted func(operation string)
	// OnBreakerStateChange fires on every breaker transition.
	OnBreakerStateChange func(operation string, from, to BreakerState)
	// OnCallFinished fires once per call, after its last attempt.
	OnCallFinished func(CallInfo)
}

// AttemptInfo describes one failed attempt.
type AttemptInfo struct {
	Operation  string
	Attempt    int    // 1-based
	RequestID  string // AWS request ID, "" if no response
	Code       string // service error code, or a synthetic one such as "NetworkError"
	HTTPStatus int    // 0 if no response
	Latency    time.Duration
	Delay      time.Duration // wait before the next attempt (OnRetryScheduled only)
	// Err may quote server messages, which can echo request fields: log
	// Code, not Err, and show users UserMessage(Err).
	Err error
}

// CallInfo describes a finished call.
type CallInfo struct {
	Operation string
	// Attempts is the number of requests sent to the service; attempts a
	// breaker or hold refused before sending are not counted.
	Attempts   int
	RequestID  string // of the last attempt
	Code       string // "" on success
	HTTPStatus int
	Latency    time.Duration // whole call, retries and waits included
	Err        error         // nil on success; see AttemptInfo.Err
	// Stopped says why the Kit stopped retrying a failed call: one of the
	// Stop* constants, or a sentence for rarer cases. "" on success.
	Stopped string
}

type observer struct {
	log *slog.Logger
	ev  Events
}

func (o *observer) attemptFailed(a AttemptInfo) {
	if o.ev.OnAttemptFailed != nil {
		o.ev.OnAttemptFailed(a)
	}
}

func (o *observer) retryScheduled(ctx context.Context, a AttemptInfo) {
	if o.log != nil {
		o.log.LogAttrs(ctx, slog.LevelWarn, "connectcases attempt failed, retrying", attemptAttrs(a,
			slog.Duration("delay", a.Delay))...)
	}
	if o.ev.OnRetryScheduled != nil {
		o.ev.OnRetryScheduled(a)
	}
}

func (o *observer) attemptNotRetried(ctx context.Context, a AttemptInfo, reason string) {
	if o.log != nil {
		o.log.LogAttrs(ctx, slog.LevelWarn, "connectcases attempt failed, not retrying", attemptAttrs(a,
			slog.String("reason", reason))...)
	}
}

func (o *observer) maxAttemptsOverridden(client, kit int) {
	if o.log != nil {
		o.log.Warn("connectcases client RetryMaxAttempts (aws.Config or AWS_MAX_ATTEMPTS) ignored: the resilience kit's WithMaxAttempts applies",
			slog.Int("ignored", client), slog.Int("maxAttempts", kit))
	}
}

func (o *observer) budgetExhausted(op string) {
	if o.ev.OnBudgetExhausted != nil {
		o.ev.OnBudgetExhausted(op)
	}
}

func (o *observer) breakerChanged(op string, from, to BreakerState) {
	if o.log != nil {
		lvl := slog.LevelWarn
		if to == BreakerClosed {
			lvl = slog.LevelInfo
		}
		o.log.LogAttrs(context.Background(), lvl, "connectcases circuit breaker "+to.String(),
			slog.String("operation", op), slog.String("from", from.String()), slog.String("to", to.String()))
	}
	if o.ev.OnBreakerStateChange != nil {
		o.ev.OnBreakerStateChange(op, from, to)
	}
}

func (o *observer) callFinished(ctx context.Context, c CallInfo) {
	if o.log != nil {
		attrs := []slog.Attr{
			slog.String("operation", c.Operation),
			slog.Int("attempts", c.Attempts),
			slog.String("request_id", c.RequestID),
			slog.Int("http_status", c.HTTPStatus),
			slog.Duration("latency", c.Latency),
		}
		switch {
		case c.Err != nil:
			attrs = append(attrs, slog.String("error_code", c.Code), slog.String("retries_stopped", c.Stopped))
			o.log.LogAttrs(ctx, slog.LevelError, "connectcases call failed", attrs...)
		case c.Attempts > 1:
			o.log.LogAttrs(ctx, slog.LevelInfo, "connectcases call succeeded after retry", attrs...)
		default:
			o.log.LogAttrs(ctx, slog.LevelDebug, "connectcases call succeeded", attrs...)
		}
	}
	if o.ev.OnCallFinished != nil {
		o.ev.OnCallFinished(c)
	}
}

func attemptAttrs(a AttemptInfo, extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("operation", a.Operation),
		slog.Int("attempt", a.Attempt),
		slog.String("request_id", a.RequestID),
		slog.String("error_code", a.Code),
		slog.Int("http_status", a.HTTPStatus),
		slog.Duration("latency", a.Latency),
	}, extra...)
}
