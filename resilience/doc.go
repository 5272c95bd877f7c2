// Package resilience makes an Amazon Connect Cases client
// (github.com/aws/aws-sdk-go-v2/service/connectcases) handle the service's
// failures properly: retries with backoff and Retry-After, a retry budget
// paid for by successes, client-side rate limiting under throttling,
// optional circuit breakers, a per-attempt timeout, structured
// logging, metric events, health probing and human explanations. It works
// against AWS and against the localcases emulator alike. It is a Go module
// of its own and depends only on the AWS SDK, smithy-go and gobreaker:
//
//	go get github.com/localcases/localcases/resilience
//
// # Adoption
//
//	client := connectcases.NewFromConfig(cfg, resilience.WithDefaults())
//
// or, to share or inspect the state (budget, rate limiter, breakers)
// across clients:
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
//  2. The SDK's retry loop, driven by the Kit's aws.RetryerV2. Before each
//     attempt it waits, only while the service throttles, for the AWS
//     SDK's adaptive-mode rate limiter. After a failed attempt it retries
//     only if all of these hold: the error is retryable (5xx,
//     InternalServerException, ThrottlingException, connection errors,
//     timeouts; never Validation, AccessDenied, ResourceNotFound, Conflict
//     or ServiceQuotaExceeded); attempts remain; the caller's context is
//     live and its deadline is beyond the chosen delay; CreateCase carries
//     a clientToken (or the error proves the request was not processed);
//     the retry budget has a token. It then waits Retry-After (clamped,
//     plus a little jitter) or a full-jitter exponential backoff.
//  3. Attempt middleware (Finalize step, right after Retry), per attempt:
//     Kit.ForceOpen's hold and, if enabled, the operation's circuit
//     breaker admit the attempt or fail fast with *BreakerOpenError (not
//     retried); the attempt gets its own timeout; failures are logged and
//     reported.
//
// # The retry budget
//
// Retries are paid for by successes: every attempt the service answers
// earns 3 retry tokens, every retry spends one, and at most 10 are held.
// A brownout in which retries work is ridden out in full (50% faults need
// one retry per success), a worse one gets retries in proportion to what
// still succeeds, and an outage costs the 10 banked retries and then only
// first attempts. The first attempt of a call is never refused: it is the
// probe that notices the service is back, so the first call after an
// outage succeeds without waiting for a breaker to half-open.
//
// # Defaults
//
//   - Attempts: 5 in total (WithMaxAttempts); the Kit's setting wins over
//     AWS_MAX_ATTEMPTS and aws.Config.RetryMaxAttempts.
//   - Backoff: full jitter, uniform in [0, min(20s, 100ms·2^(n-1))]
//     (WithBackoff).
//   - Retry-After: honoured, plus up to one base delay of jitter, clamped
//     to 30s (WithMaxRetryAfter).
//   - Per-attempt timeout: 15s (WithAttemptTimeout).
//   - Retry budget: 3 retries earned per answered attempt, 10 held at most
//     (WithRetryBudget).
//   - Rate limiter: the SDK's adaptive one, active only after a throttle
//     (WithAdaptiveRateLimit).
//   - Circuit breakers: none (WithBreaker adds them; see BreakerSettings
//     for why they are off).
//   - Logging and events: off (WithLogger, WithEvents).
//
// The measurements behind these choices, against the SDK's standard and
// adaptive modes and a naive retry loop, are in the localcases repository:
// docs/RESILIENCE.md and examples/retryproof.
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
// HealthChecker probes ListDomains on an interval, reads AWS Health's open
// Connect issues through the aws-sdk-go-v2 health client (HealthConfig.
// AWSHealth; AWS's endpoint in production, localcases locally), adds the
// Kit's own observations of real traffic (HealthConfig.Kit), and reports
// operational, degraded or outage. Without a support plan it falls back to
// probes and observations, saying so once. Kit.ForceOpen lets it hold
// traffic during an outage.
package resilience
