// Package resilience makes an Amazon Connect Cases client
// (github.com/aws/aws-sdk-go-v2/service/connectcases) handle the service's
// failures properly: retries with backoff and Retry-After, a retry budget,
// per-operation circuit breakers, a per-attempt timeout, structured
// logging, metric events, health probing and human explanations. It works
// against AWS and against the localcases emulator alike, and depends only
// on the AWS SDK, smithy-go and gobreaker.
//
// # Adoption
//
//	client := connectcases.NewFromConfig(cfg, resilience.WithDefaults())
//
// or, to share or inspect the state (budget, breakers) across clients:
//
//	kit := resilience.New(resilience.WithLogger(logger))
//	client := connectcases.NewFromConfig(cfg, kit.ClientOptions())
//
// # How the policies compose
//
// From the outside in, for one call:
//
//  1. Call middleware (Initialize step, after the SDK fills CreateCase's
//     clientToken): per-call state, final log line, OnCallFinished.
//  2. The SDK's retry loop, driven by the Kit's aws.RetryerV2. After a
//     failed attempt it retries only if all of these hold: the error is
//     retryable (5xx, InternalServerException, ThrottlingException,
//     connection errors, timeouts; never Validation, AccessDenied,
//     ResourceNotFound, Conflict or ServiceQuotaExceeded); attempts remain;
//     the caller's context is live and its deadline is beyond the chosen
//     delay; CreateCase carries a clientToken (or the error proves the
//     request was not processed); the retry budget has room. It then waits
//     Retry-After (clamped) or a full-jitter exponential backoff.
//  3. Attempt middleware (Finalize step, right after Retry), per attempt:
//     the operation's circuit breaker admits the attempt or fails fast
//     with *BreakerOpenError (not retried, so an open breaker also ends
//     the retry loop at once); the attempt gets its own timeout; failures
//     are logged and reported.
//
// The breaker wraps each attempt rather than each call because attempts
// are what reach the service: it sees every failure (a call that succeeds
// on its third attempt still reports two), it stops a retry loop as soon
// as it opens, and its half-open probes are single requests. Only
// evidence of an unhealthy service counts as a failure (5xx, timeouts,
// connection errors); client errors count as successes and throttling,
// like cancellation, is ignored.
//
// # Defaults
//
//   - Attempts: 4 in total (WithMaxAttempts).
//   - Backoff: full jitter, uniform in [0, min(20s, 100ms·2^(n-1))]
//     (WithBackoff).
//   - Retry-After: honoured, plus up to one base delay of jitter, clamped
//     to 30s (WithMaxRetryAfter).
//   - Per-attempt timeout: 15s (WithAttemptTimeout).
//   - Retry budget: 10 + 30% of the calls of the last 10s
//     (WithRetryBudget).
//   - Breaker per operation: opens after 20 consecutive failures, or ≥50%
//     failures over 60s once 20 attempts were seen; fails fast for 5s,
//     then lets 1 probe through; closes on its success (WithBreaker).
//   - Logging and events: off (WithLogger, WithEvents).
//
// # Telling people
//
// UserMessage turns an error into a sentence safe for end users. Explain,
// ExplainCode and ExplainText give operators the meaning, likely causes
// and action for the seven Connect Cases errors and for network errors,
// timeouts, cancellation, open breakers and an exhausted budget.
//
// # Health
//
// HealthChecker probes ListDomains on an interval (and, for localcases,
// its /_localcases/health endpoint) and reports operational, degraded or
// outage; Kit.ForceOpen lets it stop traffic during an outage.
package resilience
