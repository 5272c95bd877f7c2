package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// TestOverloadShedsWithThrottling: past MaxInFlight calls, the server
// answers ThrottlingException at once instead of queueing.
func TestOverloadShedsWithThrottling(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.MaxInFlight = 1 }))
	c := servertest.Client(srv.URL())
	slow := func(o *connectcases.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-localcases-fault", "latency=3s"))
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{}, slow)
		done <- err
	}()
	var throttled bool
	for !throttled {
		select {
		case err := <-done:
			t.Fatalf("the slow call finished (%v) before any call was shed", err)
		default:
		}
		_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
		var te *types.ThrottlingException
		throttled = errors.As(err, &te)
	}
	if err := <-done; err != nil {
		t.Errorf("the call holding the slot: %v", err)
	}
	mfs := scrape(t, srv.URL(), "")
	if got := sample(mfs, "localcases_throttled_total", "operation", "ListDomains", "reason", "capacity"); got != 1 {
		t.Errorf("localcases_throttled_total{reason=capacity} = %v, want the 1 call shed", got)
	}
	if got := sample(mfs, "localcases_faults_injected_total", "operation", "ListDomains", "action", "latency"); got != 1 {
		t.Errorf("localcases_faults_injected_total{action=latency} = %v, want 1", got)
	}
}

func TestAdminNamespaceGuard(t *testing.T) {
	req := func(remote, auth string) *http.Request {
		r := httptest.NewRequest("GET", "/_localcases/health", nil)
		r.RemoteAddr = remote
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	tests := []struct {
		name, remote, auth, token string
		allowed                   bool
	}{
		{"loopback v4, no token configured", "127.0.0.1:5000", "", "", true},
		{"loopback v6", "[::1]:5000", "", "", true},
		{"remote, no token configured", "10.1.2.3:5000", "", "", false},
		{"remote with the token", "10.1.2.3:5000", "Bearer s3cret", "s3cret", true},
		{"loopback without the configured token", "127.0.0.1:5000", "", "s3cret", false},
		{"wrong token", "10.1.2.3:5000", "Bearer guess", "s3cret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := admin.Allow(req(tt.remote, tt.auth), tt.token)
			if (err == nil) != tt.allowed {
				t.Errorf("err = %v, allowed want %v", err, tt.allowed)
			}
		})
	}
	// End to end: with a token, the server refuses an admin call without it.
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.AdminToken = "s3cret" }))
	resp, err := http.Get(srv.URL() + "/_localcases/faults")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin call without token: %d", resp.StatusCode)
	}
}

func TestProfilingIsUnderAdmin(t *testing.T) {
	srv := servertest.MustOpen(t)
	resp, err := http.Get(srv.URL() + "/_localcases/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("heap profile: %d", resp.StatusCode)
	}
}
