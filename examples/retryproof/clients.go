package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/resilience"
)

// The clients compared, each the strongest honest version of what a user
// would write or switch on.
const (
	// naive: SDK retries off and a loop of naiveTries calls with a
	// naiveSleep pause, the input built once per logical call (so a
	// CreateCase keeps the clientToken the SDK wrote into it).
	naiveName = "naive"
	// sdk-default: the SDK's standard retryer (3 attempts, its token
	// bucket), as every client gets it without configuration.
	sdkName = "sdk-default"
	// sdk-adaptive: AWS_RETRY_MODE=adaptive, the SDK's client-side rate
	// limiter on top of the standard retryer.
	adaptiveName = "sdk-adaptive"
	// kit: resilience.WithDefaults().
	kitName = "kit"
)

var clientNames = []string{naiveName, sdkName, adaptiveName, kitName}

// variants are the kit with one alternative policy added, measured beside
// the default so that the choice between them rests on figures (-variants).
var variants = map[string]resilience.Option{
	// A per-operation circuit breaker with its defaults.
	"kit+breaker": resilience.WithBreaker(resilience.BreakerSettings{}),
	// Client-side adaptive throttling (Google SRE book), k = 2.
	"kit+shedding": resilience.WithClientThrottling(2, 0),
}

const (
	naiveTries = 3
	naiveSleep = time.Second
)

// accessKey names a client to the server: localcases attributes each
// request to the access key that signed it (fault.Record.ClientID), which
// is how the traffic report tells the clients apart.
func accessKey(name, phase string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "")) + phase
}

// newClient builds one client, fresh, so that no state (the SDK's token
// bucket and rate limiter, the kit's budget) leaks between cells. kitOpts
// are added to the kit's and ignored by the others.
func newClient(name, url, key string, kitOpts ...resilience.Option) *connectcases.Client {
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
	}
	switch name {
	case naiveName:
		return connectcases.NewFromConfig(cfg, func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} })
	case sdkName:
		return connectcases.NewFromConfig(cfg) // no Retryer: the SDK's default
	case adaptiveName:
		cfg.RetryMode = aws.RetryModeAdaptive
		return connectcases.NewFromConfig(cfg)
	case kitName:
		return connectcases.NewFromConfig(cfg, resilience.WithDefaults(kitOpts...))
	}
	if v, ok := variants[name]; ok {
		return connectcases.NewFromConfig(cfg, resilience.WithDefaults(append(kitOpts, v)...))
	}
	panic("unknown client " + name)
}

// logical makes one logical call: one SDK call, or for the naive client up
// to naiveTries with naiveSleep between them. call must reuse its input
// across tries, as honest naive code does.
func logical(ctx context.Context, name string, call func() error) error {
	if name != naiveName {
		return call()
	}
	var err error
	for i := range naiveTries {
		if i > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(naiveSleep):
			}
		}
		if err = call(); err == nil {
			return nil
		}
	}
	return err
}

// why names the policy that ended a failed logical call.
func why(name string, err error) string {
	var quota ratelimit.QuotaExceededError // returned by value
	var maxAttempts *retry.MaxAttemptsError
	if s := resilience.Explain(err).Stopped; s != "" {
		return s
	}
	switch {
	case errors.As(err, &quota):
		return "retry quota spent"
	case errors.As(err, &maxAttempts), name == naiveName:
		return "out of attempts"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	}
	return "other: " + resilience.Explain(err).Code
}
