// Package servertest starts a real localcases server for tests and gives
// them the clients users have: the aws-sdk-go-v2 Connect Cases client and a
// raw HTTP client for requests no SDK would send.
package servertest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/internal/server"
)

// Option changes the server configuration before it starts.
type Option func(*server.Config)

// WithConfig lets a test change any setting.
func WithConfig(fn func(*server.Config)) Option { return Option(fn) }

// MustOpen starts a server on a free loopback port and closes it when the
// test ends.
func MustOpen(tb testing.TB, opts ...Option) *server.Server {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Memory = true
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	if err := srv.Open(); err != nil {
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return srv
}

// Client returns an SDK client for url with static credentials and the
// SDK's retries off, so a test sees each error as the server sent it.
// Options passed in run last and may turn retries back on.
func Client(url string, optFns ...func(*connectcases.Options)) *connectcases.Client {
	o := connectcases.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCALCASES", "secret", ""),
		Retryer:      aws.NopRetryer{},
	}
	return connectcases.New(o, optFns...)
}

// RawClient is an HTTP client for hand-made requests.
func RawClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }
