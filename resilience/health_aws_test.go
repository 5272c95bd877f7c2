package resilience

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/smithy-go"
)

// fakeAWSHealth answers DescribeEvents with events, or with err.
type fakeAWSHealth struct {
	mu     sync.Mutex
	events []healthtypes.Event
	err    error
	filter *healthtypes.EventFilter
}

func (f *fakeAWSHealth) DescribeEvents(_ context.Context, in *health.DescribeEventsInput, _ ...func(*health.Options)) (*health.DescribeEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filter = in.Filter
	if f.err != nil {
		return nil, f.err
	}
	return &health.DescribeEventsOutput{Events: f.events}, nil
}

func (f *fakeAWSHealth) set(events []healthtypes.Event, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events, f.err = events, err
}

func openIssue(start time.Time) healthtypes.Event {
	return healthtypes.Event{
		Arn: aws.String("arn:aws:health:us-east-1::event/CONNECT/AWS_CONNECT_OPERATIONAL_ISSUE/X"), Service: aws.String("CONNECT"),
		EventTypeCode: aws.String("AWS_CONNECT_OPERATIONAL_ISSUE"), EventTypeCategory: healthtypes.EventTypeCategoryIssue,
		Region: aws.String("us-east-1"), StartTime: aws.Time(start), StatusCode: healthtypes.EventStatusCodeOpen,
	}
}

func TestHealthReadsAWSHealth(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Hour).Add(2 * time.Minute)
	aws := &fakeAWSHealth{}
	probe := &fakeProbe{results: []error{nil, nil, errISE, nil}}
	clk := newFakeClock()
	hc := NewHealthChecker(probe, HealthConfig{Clock: clk, AWSHealth: aws, Region: "us-east-1"})

	steps := []struct {
		events []healthtypes.Event
		want   HealthState
	}{
		{nil, HealthOperational},
		{[]healthtypes.Event{openIssue(start)}, HealthDegraded}, // announced, calls still succeed
		{[]healthtypes.Event{openIssue(start)}, HealthOutage},   // announced and the probe fails
		{nil, HealthOperational},                                // closed
	}
	for i, st := range steps {
		aws.set(st.events, nil)
		clk.Advance(time.Second)
		s := hc.Check(context.Background())
		if s.State != st.want || s.AWSHealth != "ok" {
			t.Fatalf("step %d: %v (%q), want %v", i+1, s.State, s.AWSHealth, st.want)
		}
		if (s.Announcement != nil) != (len(st.events) > 0) {
			t.Fatalf("step %d: announcement %+v", i+1, s.Announcement)
		}
	}
	f := aws.filter
	if len(f.Services) != 1 || f.Services[0] != "CONNECT" || len(f.Regions) != 1 || f.Regions[0] != "us-east-1" ||
		len(f.EventStatusCodes) != 1 || f.EventStatusCodes[0] != healthtypes.EventStatusCodeOpen {
		t.Fatalf("filter %+v", f)
	}
}

func TestHealthUserMessageNamesAnnouncedIssue(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Hour).Add(2 * time.Minute)
	hc := NewHealthChecker(&fakeProbe{results: []error{nil}}, HealthConfig{
		AWSHealth: &fakeAWSHealth{events: []healthtypes.Event{openIssue(start)}},
	})
	hc.Check(context.Background())
	want := "Amazon Connect Cases is having an operational issue in us-east-1 since " + start.Format("15:04") +
		" UTC. Your request did not go through; please try again once it is resolved."
	if got := hc.UserMessage(errISE); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// The caller's own mistakes are not the outage's.
	if got := hc.UserMessage(errValidation); got != UserMessage(errValidation) {
		t.Fatal(got)
	}
}

// Without a support plan AWS Health refuses; the checker says so once and
// goes on from its probes.
func TestHealthFallsBackWithoutSubscription(t *testing.T) {
	var logs bytes.Buffer
	aws := &fakeAWSHealth{err: &smithy.GenericAPIError{Code: "SubscriptionRequiredException", Message: "no plan"}}
	probe := &fakeProbe{results: []error{nil, errISE, nil}}
	hc := NewHealthChecker(probe, HealthConfig{AWSHealth: aws, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, want := range []HealthState{HealthOperational, HealthDegraded, HealthOperational} {
		s := hc.Check(context.Background())
		if s.State != want || !strings.HasPrefix(s.AWSHealth, "unavailable: SubscriptionRequiredException") {
			t.Fatalf("%v %q, want %v", s.State, s.AWSHealth, want)
		}
	}
	if n := strings.Count(logs.String(), "AWS Health is not available"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, logs.String())
	}
	aws.set(nil, nil)
	hc.Check(context.Background())
	if !strings.Contains(logs.String(), "AWS Health is available") {
		t.Fatalf("no log line on recovery:\n%s", logs.String())
	}
}

// What the Kit sees of real traffic counts too: probes can succeed while
// a share of the application's calls fail.
func TestHealthUsesKitObservations(t *testing.T) {
	clk := newFakeClock()
	k := New(WithClock(clk), WithAttemptTimeout(-1))
	hc := NewHealthChecker(&fakeProbe{results: []error{nil}}, HealthConfig{Clock: clk, Kit: k})
	for i := range 40 {
		var res error
		if i%5 == 0 { // 20% fail
			res = errISE
		}
		attempt(t, k, "GetCase", res)
	}
	s := hc.Check(context.Background())
	if s.State != HealthDegraded || s.Observed != 40 || s.ObservedFailures != 8 {
		t.Fatalf("%+v", s)
	}
	clk.Advance(time.Minute) // the window forgets
	if s := hc.Check(context.Background()); s.State != HealthOperational || s.Observed != 0 {
		t.Fatalf("%+v", s)
	}
}
