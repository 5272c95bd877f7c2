package server_test

// The AWS Health API through the aws-sdk-go-v2 health client, unchanged but
// for its endpoint, and the resilience kit's HealthChecker reading it.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	awshealth "github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/health"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/resilience"
)

// healthClient is what an application builds for AWS Health, pointed at
// the server.
func healthClient(url string) *awshealth.Client {
	return awshealth.New(awshealth.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCALCASES", "secret", ""),
	})
}

func TestHealthSDKEventLifecycle(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx := context.Background()
	if _, err := servertest.Client(srv.URL()).CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("health-sdk")}); err != nil {
		t.Fatal(err)
	}
	hc := healthClient(srv.URL())
	ac := admin.NewClient(srv.URL())
	if _, err := ac.StartScenario(ctx, "outage", fault.ScenarioParams{Duration: fault.Duration(time.Hour), Operations: []string{"GetCase", "CreateCase"}}); err != nil {
		t.Fatal(err)
	}
	open := &healthtypes.EventFilter{
		Services:         []string{"CONNECT"},
		EventStatusCodes: []healthtypes.EventStatusCode{healthtypes.EventStatusCodeOpen},
	}
	out, err := hc.DescribeEvents(ctx, &awshealth.DescribeEventsInput{Filter: open})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 {
		t.Fatalf("open events: %+v", out.Events)
	}
	ev := out.Events[0]
	if aws.ToString(ev.EventTypeCode) != "AWS_CONNECT_OPERATIONAL_ISSUE" || ev.EventTypeCategory != healthtypes.EventTypeCategoryIssue ||
		aws.ToString(ev.Region) != "us-east-1" || ev.StartTime == nil || ev.StatusCode != healthtypes.EventStatusCodeOpen {
		t.Fatalf("event %+v", ev)
	}
	det, err := hc.DescribeEventDetails(ctx, &awshealth.DescribeEventDetailsInput{EventArns: []string{aws.ToString(ev.Arn)}})
	if err != nil || len(det.SuccessfulSet) != 1 {
		t.Fatalf("details: %+v %v", det, err)
	}
	if d := aws.ToString(det.SuccessfulSet[0].EventDescription.LatestDescription); !strings.Contains(d, "CreateCase") {
		t.Fatalf("the description does not name the affected operations: %q", d)
	}
	ents, err := hc.DescribeAffectedEntities(ctx, &awshealth.DescribeAffectedEntitiesInput{
		Filter: &healthtypes.EntityFilter{EventArns: []string{aws.ToString(ev.Arn)}},
	})
	if err != nil || len(ents.Entities) != 1 || !strings.Contains(aws.ToString(ents.Entities[0].EntityValue), ":domain/") {
		t.Fatalf("entities: %+v %v", ents, err)
	}
	if _, err := hc.DescribeEventTypes(ctx, &awshealth.DescribeEventTypesInput{
		Filter: &healthtypes.EventTypeFilter{Services: []string{"CONNECT"}},
	}); err != nil {
		t.Fatalf("event types: %v", err)
	}
	if _, err := hc.DescribeEventAggregates(ctx, &awshealth.DescribeEventAggregatesInput{
		AggregateField: healthtypes.EventAggregateFieldEventTypeCategory,
	}); err != nil {
		t.Fatalf("aggregates: %v", err)
	}

	// The model's constraints: maxResults is 1 to 100 here.
	_, err = hc.DescribeEvents(ctx, &awshealth.DescribeEventsInput{MaxResults: aws.Int32(101)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("maxResults 101: %v", err)
	}

	if err := ac.StopScenario(ctx); err != nil {
		t.Fatal(err)
	}
	out, err = hc.DescribeEvents(ctx, &awshealth.DescribeEventsInput{Filter: &healthtypes.EventFilter{EventArns: []string{aws.ToString(ev.Arn)}}})
	if err != nil || len(out.Events) != 1 || out.Events[0].StatusCode != healthtypes.EventStatusCodeClosed || out.Events[0].EndTime == nil {
		t.Fatalf("after the scenario: %+v %v", out, err)
	}
}

// Posted notices page through the SDK's paginator, each exactly once.
func TestHealthSDKPaginates(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx := context.Background()
	ac := admin.NewClient(srv.URL())
	for range 23 {
		if _, err := ac.PostHealthEvent(ctx, health.Notice{Category: "accountNotification", Description: "A notice."}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	pages := awshealth.NewDescribeEventsPaginator(healthClient(srv.URL()), &awshealth.DescribeEventsInput{MaxResults: aws.Int32(10)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if seen[aws.ToString(e.Arn)] {
				t.Fatalf("%s twice", aws.ToString(e.Arn))
			}
			seen[aws.ToString(e.Arn)] = true
		}
	}
	if len(seen) != 23 {
		t.Fatalf("paged %d events, want 23", len(seen))
	}
}

// The kit's HealthChecker reads the same events through the same client:
// an announced outage turns the state to outage and names itself in
// UserMessage; the event's close brings the state back.
func TestKitHealthCheckerReadsAWSHealth(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx := context.Background()
	cases := servertest.Client(srv.URL(), resilience.WithDefaults(resilience.WithBackoff(time.Microsecond, time.Millisecond), resilience.WithMaxRetryAfter(time.Millisecond)))
	hc := resilience.NewHealthChecker(cases, resilience.HealthConfig{AWSHealth: healthClient(srv.URL()), Region: "us-east-1"})
	if s := hc.Check(ctx); s.State != resilience.HealthOperational || s.AWSHealth != "ok" || s.Announcement != nil {
		t.Fatalf("before: %+v", s)
	}
	ac := admin.NewClient(srv.URL())
	st, err := ac.StartScenario(ctx, "outage", fault.ScenarioParams{Duration: fault.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s := hc.Check(ctx)
	if s.State != resilience.HealthOutage || s.Announcement == nil || s.Announcement.EventTypeCode != "AWS_CONNECT_OPERATIONAL_ISSUE" {
		t.Fatalf("during the outage: %+v", s)
	}
	_, err = cases.ListDomains(ctx, &connectcases.ListDomainsInput{})
	want := "Amazon Connect Cases is having an operational issue in us-east-1 since " + st.StartedAt.UTC().Format("15:04") + " UTC."
	if got := hc.UserMessage(err); !strings.HasPrefix(got, want) {
		t.Fatalf("UserMessage = %q, want it to start %q", got, want)
	}
	if err := ac.StopScenario(ctx); err != nil {
		t.Fatal(err)
	}
	if s := hc.Check(ctx); s.State != resilience.HealthOperational || s.Announcement != nil {
		t.Fatalf("after: %+v", s)
	}
}

// Without a support plan AWS Health refuses; the checker logs that once and
// goes on with its probes, and the application's calls are untouched.
func TestKitHealthCheckerWithoutSubscription(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.HealthSubscriptionRequired = true }))
	ctx := context.Background()
	var logs bytes.Buffer
	cases := servertest.Client(srv.URL(), resilience.WithDefaults())
	hc := resilience.NewHealthChecker(cases, resilience.HealthConfig{
		AWSHealth: healthClient(srv.URL()), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	for range 3 {
		s := hc.Check(ctx)
		if s.State != resilience.HealthOperational || !strings.HasPrefix(s.AWSHealth, "unavailable: SubscriptionRequiredException") {
			t.Fatalf("%+v", s)
		}
	}
	if n := strings.Count(logs.String(), "AWS Health is not available"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, logs.String())
	}
	if _, err := cases.ListDomains(ctx, &connectcases.ListDomainsInput{}); err != nil {
		t.Fatalf("the application's call: %v", err)
	}
}
