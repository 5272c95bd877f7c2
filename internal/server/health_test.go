package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/health"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

func healthCall(t *testing.T, url, op, body string) (int, map[string]any) {
	t.Helper()
	status, _, out := servertest.HealthCall(t, url, op, body)
	return status, out
}

// TestHealthAPIBesideCases: the Health API answers on the Cases port while
// a scenario fails every Cases call, faults never reach it, and stopping
// the scenario through the admin API closes the event at once.
func TestHealthAPIBesideCases(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx := context.Background()
	cc := servertest.Client(srv.URL())
	if _, err := cc.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("health-e2e")}); err != nil {
		t.Fatal(err)
	}
	ac := admin.NewClient(srv.URL())
	if _, err := ac.Load(ctx, []byte(`{"preset": "outage", "duration": "1h"}`), ".json"); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.ListDomains(ctx, &connectcases.ListDomainsInput{}); err == nil {
		t.Fatal("the outage did not reach the Cases API")
	}
	status, out := healthCall(t, srv.URL(), "DescribeEvents", `{"filter":{"eventStatusCodes":["open"]}}`)
	events, _ := out["events"].([]any)
	if status != 200 || len(events) != 1 {
		t.Fatalf("during the outage: %d %v", status, out)
	}
	arn := events[0].(map[string]any)["arn"].(string)
	status, out = healthCall(t, srv.URL(), "DescribeAffectedEntities", `{"filter":{"eventArns":["`+arn+`"]}}`)
	if ents, _ := out["entities"].([]any); status != 200 || len(ents) != 1 ||
		!strings.Contains(ents[0].(map[string]any)["entityValue"].(string), ":domain/") {
		t.Fatalf("entities: %d %v", status, out)
	}

	if err := ac.StopScenario(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := ac.HealthEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != "closed" || evs[0].EndTime.IsZero() {
		t.Fatalf("after stop: %+v", evs)
	}
	if _, err := cc.ListDomains(ctx, &connectcases.ListDomainsInput{}); err != nil {
		t.Fatalf("Cases after the outage: %v", err)
	}

	// The Cases API keeps its own answer for a POST / that is not Health's.
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "SomethingElse.Op")
	resp, err := servertest.RawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("x-amzn-ErrorType") == "" || resp.Header.Get("Content-Type") == "application/x-amz-json-1.1" {
		t.Errorf("POST / without a Health target: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestHealthSubscriptionRequired: the configuration and the admin toggle
// both switch SubscriptionRequiredException on and off.
func TestHealthSubscriptionRequired(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.HealthSubscriptionRequired = true }))
	status, out := healthCall(t, srv.URL(), "DescribeEvents", `{}`)
	if status != 400 || out["__type"] != "SubscriptionRequiredException" {
		t.Fatalf("%d %v", status, out)
	}
	ac := admin.NewClient(srv.URL())
	if err := ac.SetHealthSubscriptionRequired(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if status, out := healthCall(t, srv.URL(), "DescribeEvents", `{}`); status != 200 {
		t.Fatalf("%d %v", status, out)
	}
}

// TestPostedMaintenance: the admin API posts a scheduled change that
// DescribeEvents lists with no fault in force.
func TestPostedMaintenance(t *testing.T) {
	srv := servertest.MustOpen(t)
	ac := admin.NewClient(srv.URL())
	ev, err := ac.PostHealthEvent(context.Background(), health.Notice{Description: "Planned maintenance of Amazon Connect Cases."})
	if err != nil {
		t.Fatal(err)
	}
	status, out := healthCall(t, srv.URL(), "DescribeEventDetails", `{"eventArns":["`+ev.ARN+`"]}`)
	set, _ := out["successfulSet"].([]any)
	if status != 200 || len(set) != 1 {
		t.Fatalf("%d %v", status, out)
	}
	got := set[0].(map[string]any)
	if got["event"].(map[string]any)["eventTypeCategory"] != "scheduledChange" ||
		got["eventDescription"].(map[string]any)["latestDescription"] != "Planned maintenance of Amazon Connect Cases." {
		t.Errorf("%v", got)
	}
	if err := ac.CloseHealthEvent(context.Background(), ev.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.PostHealthEvent(context.Background(), health.Notice{}); err == nil {
		t.Error("a notice with no description was posted")
	}
}
