// Package fault is localcases' fault decision engine: given a request, it
// decides whether to fail it and how. It is pure logic — no net/http — so
// the HTTP layer owns carrying a Decision out (writing the error, sleeping,
// dropping the connection, committing first), and this package can be
// tested with a fake clock and a fixed seed.
//
// # Sources of faults
//
// Engine.Decide consults, first match wins:
//
//  1. the x-localcases-fault request header (see FromHeader), which when
//     present replaces everything else for that request ("none" opts out);
//  2. the Throttler, if one was given with WithThrottler (real Connect Cases
//     quotas, token buckets on the engine's notion of time);
//  3. the rules, in order;
//  4. the rules of the active scenario phase, in order.
//
// # Rule JSON
//
// The basic fields are LocalStack chaos API compatible, so a body posted to
// LocalStack's /_localstack/chaos/faults loads unchanged:
//
//	[
//	  {"service": "connectcases", "region": "us-east-1",
//	   "operation": "CreateCase", "probability": 0.5,
//	   "error": {"code": "ThrottlingException", "statusCode": 429}}
//	]
//
// The full rule (all fields optional):
//
//	{
//	  "id": "fail-twice",                 // default "rule-N"
//	  "description": "first two attempts fail",
//	  "service": "connectcases",          // other services never match
//	  "region": "us-east-1",
//	  "operation": "CreateCase",          // or ["CreateCase","UpdateCase"], "A,B"; "*" = any
//	  "domain": "d-123",                  // domain ID or ARN; "*" = any
//	  "probability": 1,                   // [0,1], default 1
//	  "attempts": "1-2",                  // SDK attempts: 2 | "1-2,5,7-" | [1,2] | {"min":1,"max":2}
//	  "count": 10,                        // at most N injections, then spent
//	  "after": "30s",                     // active from 30s after the rule was added
//	  "duration": "5m",                   // ... for 5 minutes
//	  "action": "error",                  // error | http | latency | drop | hang | commit-then-fail
//	  "error": {"code": "InternalServerException", "statusCode": 500,
//	            "message": "...", "retryAfterSeconds": 3},
//	  "httpStatus": 503,                  // action http: 500, 502, 503 (default), 504
//	  "latency": "200ms",                 // or {"min":"100ms","max":"300ms"}; delay before any action
//	  "hang": "60s",                      // action hang (default 60s)
//	  "then": "error",                    // commit-then-fail: "error" (default) or "drop"
//	  "allowUndeclared": false,
//	  "announced": false                  // while active, an AWS Health issue is posted for it
//	}
//
// Durations are Go duration strings ("250ms", "30s", "1m30s"); numbers are
// rejected as ambiguous. Unknown fields are rejected so typos surface.
// Action defaults to "latency" when only latency is set, else "error"; an
// error action without an error spec injects InternalServerException.
// error.code may be omitted when statusCode maps to a Connect Cases error
// (e.g. 429 → ThrottlingException); statusCode and message default to the
// real service's. InternalServerException carries Retry-After: 1 unless
// retryAfterSeconds says otherwise; retryAfterSeconds 0 omits the header.
//
// By default an error is only injected into operations that declare it in
// the API model (see WithDeclaredErrors), because an SDK facing an error the
// real service can never return tests nothing; allowUndeclared overrides.
//
// YAML files use the same field names (ParseFile).
//
// # Scenarios
//
// A Scenario is a sequence of timed phases, each a rule list. Presets
// (Preset, Engine.LoadScenario): outage, brownout, throttle-storm,
// latency-spike, flapping. The schedule is a pure function of the start
// time and the clock, so phase changes need no background goroutine and
// ActiveScenario's event timeline is exact.
//
// # Determinism
//
// Randomness comes from PCG streams seeded by WithSeed; each rule has its
// own stream derived from the seed and the rule's ID, and draws happen only
// for probabilities strictly between 0 and 1 and for latency ranges. So the
// same seed, rules and sequence of Decide calls (same requests, same times)
// produce the same decisions, and a rule's faults depend only on the
// requests that reach it. Concurrent requests are serialised by a mutex;
// their interleaving is the only nondeterminism left, which is why replay
// tests should drive requests sequentially.
//
// # Observability
//
// Engine.Observe and Engine.Health turn faults and observed outcomes into a
// service-health-dashboard view; Recorder keeps recent requests and reports
// retry load amplification and Retry-After compliance per operation and
// client.
package fault
