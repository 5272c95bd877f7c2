package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/resilience"
)

// The one-line adoption: every call of the client gets retries, budget,
// breakers and the per-attempt timeout with their defaults.
func ExampleWithDefaults() {
	cfg := aws.Config{Region: "us-east-1"} // usually from config.LoadDefaultConfig
	client := connectcases.NewFromConfig(cfg, resilience.WithDefaults())
	_ = client
}

// A Kit shared by two clients (one budget, one set of breakers), with
// logging and metrics.
func ExampleNew() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	kit := resilience.New(
		resilience.WithLogger(logger),
		resilience.WithMaxAttempts(3),
		resilience.WithRetryBudget(1, 5),
		resilience.WithBreaker(resilience.BreakerSettings{ConsecutiveFailures: 3, OpenFor: 10 * time.Second}),
		resilience.WithEvents(resilience.Events{
			OnRetryScheduled: func(a resilience.AttemptInfo) {
				// e.g. retries.WithLabelValues(a.Operation, a.Code).Inc()
			},
			OnBreakerStateChange: func(op string, from, to resilience.BreakerState) {
				// e.g. breakerState.WithLabelValues(op).Set(float64(to))
			},
		}),
	)
	cfg := aws.Config{Region: "us-east-1"}
	reads := connectcases.NewFromConfig(cfg, kit.ClientOptions())
	writes := connectcases.NewFromConfig(cfg, kit.ClientOptions())
	_, _ = reads, writes
	fmt.Println(kit.BreakerState("CreateCase"))
	// Output: closed
}

// Errors from a client with the Kit: show users UserMessage, give
// operators Explain, and read the breaker's hint.
func ExampleUserMessage() {
	client := connectcases.NewFromConfig(aws.Config{Region: "us-east-1"}, resilience.WithDefaults())
	_, err := client.GetCase(context.Background(), &connectcases.GetCaseInput{ /* ... */ })
	if err != nil {
		var open *resilience.BreakerOpenError
		if errors.As(err, &open) {
			fmt.Println("next probe in", open.RetryIn)
		}
		fmt.Println(resilience.UserMessage(err))
		slog.Error("GetCase failed", "code", resilience.Explain(err).Code)
	}
}

func ExampleUserMessage_throttling() {
	fmt.Println(resilience.UserMessage(&types.ThrottlingException{}))
	fmt.Println(resilience.UserMessage(&types.InternalServerException{RetryAfterSeconds: aws.Int32(3)}))
	// Output:
	// There are too many requests right now. Please wait a few seconds and try again.
	// The service had a temporary problem. Please try again in 3 seconds.
}

// ExplainText backs a `localcases explain <code or text>` command.
func ExampleExplainText() {
	e := resilience.ExplainText("operation error ConnectCases: CreateCase, https response error StatusCode: 429, RequestID: 1, ThrottlingException: Rate exceeded")
	fmt.Println(e.Code, e.HTTPStatus, e.Retryable)
	fmt.Println(resilience.ExplainCode("404").Code)
	// Output:
	// ThrottlingException 429 true
	// ResourceNotFoundException
}

func ExampleExplanation_String() {
	fmt.Println(resilience.ExplainCode("ValidationException"))
	// Output:
	// ValidationException (HTTP 400)
	//   The request did not satisfy the API's input constraints.
	//   Retryable: no
	// Likely causes:
	//   - a required field is missing or a value is out of range or malformed
	//   - a field ID or value type does not match the domain's field definitions
	//   - a pagination token is stale or belongs to another request
	// What to do:
	//   Fix the request (the error message names the field); retrying the same input will fail again.
}

// A health checker feeding the Kit: during an outage calls fail fast
// locally instead of each waiting for its own timeouts.
func ExampleHealthChecker() {
	kit := resilience.New()
	cfg := aws.Config{Region: "us-east-1"}
	client := connectcases.NewFromConfig(cfg, kit.ClientOptions())

	const interval = 15 * time.Second
	hc := resilience.NewHealthChecker(client, resilience.HealthConfig{
		Interval: interval,
		Endpoint: "http://localhost:4566", // a localcases server; omit for AWS
	})
	hc.Subscribe(func(s resilience.HealthStatus) {
		// Subscribers hear about changes only, so hold the breakers open
		// until the checker (whose probe bypasses them) sees recovery.
		if s.State == resilience.HealthOutage {
			kit.ForceOpen(time.Hour)
		} else {
			kit.ForceOpen(0)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hc.Run(ctx)
}
