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
// # Rules
//
// A Rule matches requests by service, region, operation, domain, SDK attempt
// and time window, and says what to do to them; its basic fields are
// LocalStack's chaos API, so LocalStack fault files load unchanged
// (ParseRules for JSON, ParseFile for YAML too). docs/FAULTS.md is the
// reference for the format and its defaults. Which error codes exist, their
// statuses and messages, and which errors each operation declares all come
// from the API model in package api: by default a rule injects only an error
// the operation declares, because an SDK facing an error the real service
// can never return tests nothing.
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
// # Several engines as one
//
// Changes go through a Control: Local(e) for one process, or a shared
// implementation (package pgshare) that keeps the State (rules with the
// time each was added, the scenario with its start, the seed) in a
// database and Restores it into every server's engine. A Claimer makes
// count-limited rules hold in sum over the engines, and Throttler.SetBuckets
// takes the throttling tokens from buckets outside the process (package
// redislimit), so quotas hold in sum too.
//
// # Observability
//
// Engine.Observe and Engine.Health turn faults and observed outcomes into a
// service-health-dashboard view; Recorder keeps recent requests and reports
// retry load amplification and Retry-After compliance per operation and
// client.
package fault
