package resilience

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
)

// BenchmarkCallPaired makes a bare call and a kit call in turn, timing
// each, so that the machine's drift (large on shared CPUs) falls on both
// alike; it reports the median of each and their ratio.
//
//	cd resilience && go test -run '^$' -bench CallPaired -count 5
func BenchmarkCallPaired(b *testing.B) {
	ok := reply{status: 200, body: `{"domainArn":"arn:aws:cases:us-east-1:000000000000:domain/d","domainId":"d","name":"n","createdTime":"2024-01-01T00:00:00Z","domainStatus":"Active"}`}
	newBench := func(opts ...func(*connectcases.Options)) *connectcases.Client {
		return connectcases.New(connectcases.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String("http://cases.test"),
			HTTPClient:   inMemory{&fakeCases{script: []reply{ok}}},
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
			}),
		}, opts...)
	}
	bare, kit := newBench(), newBench(New().ClientOptions())
	in := &connectcases.GetDomainInput{DomainId: aws.String("d")}
	ctx := context.Background()
	var tb, tk []time.Duration
	call := func(c *connectcases.Client, into *[]time.Duration) {
		t := time.Now()
		if _, err := c.GetDomain(ctx, in); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(t))
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 { // alternate who goes first
			call(bare, &tb)
			call(kit, &tk)
		} else {
			call(kit, &tk)
			call(bare, &tb)
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	b.ReportMetric(median(tb), "bare-ns/call")
	b.ReportMetric(median(tk), "kit-ns/call")
	b.ReportMetric(median(tk)/median(tb), "kit/bare")
}

// BenchmarkCall is the kit's cost per call with no faults, beside the
// same client without it: the SDK's default retryer, an in-memory
// transport (no sockets), one GetDomain each. The difference is what the
// kit adds to every call; over a network it is a smaller share.
//
//	cd resilience && go test -run '^$' -bench Call -count 10 | benchstat -col /client -
func BenchmarkCall(b *testing.B) {
	ok := reply{status: 200, body: `{"domainArn":"arn:aws:cases:us-east-1:000000000000:domain/d","domainId":"d","name":"n","createdTime":"2024-01-01T00:00:00Z","domainStatus":"Active"}`}
	for _, tc := range []struct {
		name string
		opts []func(*connectcases.Options)
	}{
		{"client=bare", nil},
		{"client=kit", []func(*connectcases.Options){New().ClientOptions()}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			client := connectcases.New(connectcases.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String("http://cases.test"),
				HTTPClient:   inMemory{&fakeCases{script: []reply{ok}}},
				Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
				}),
			}, tc.opts...)
			in := &connectcases.GetDomainInput{DomainId: aws.String("d")}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.GetDomain(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
