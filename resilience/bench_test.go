package resilience

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
)

// BenchmarkCall is the kit's cost per call with no faults, beside the
// same client without it: the SDK's default retryer, an in-memory
// transport (no sockets), one GetDomain each. The difference is what the
// kit adds to every call; over a network it is a smaller share.
//
//	go test ./resilience -run '^$' -bench Call -count 6 | benchstat -col /client -
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
