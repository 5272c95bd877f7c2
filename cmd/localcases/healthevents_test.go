package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/localcases/localcases/health"
	"github.com/localcases/localcases/internal/servertest"
)

// TestHealthCommands: the admin CLI posts, lists and closes AWS Health
// events, switches the support-plan answer, and announces a fault rule;
// the serve flag starts a server that answers SubscriptionRequiredException.
func TestHealthCommands(t *testing.T) {
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	run := func(args ...string) string {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		if err := m.Run(context.Background(), append(args, "--url", srv.URL())); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	var posted health.Event
	if err := json.Unmarshal([]byte(run("health", "post", "Amazon Connect Cases maintenance", "--in", "1h", "--lasting", "30m", "--json")), &posted); err != nil {
		t.Fatal(err)
	}
	if posted.Status != "upcoming" || posted.Category != "scheduledChange" || !posted.EndTime.IsZero() {
		t.Fatalf("posted %+v", posted)
	}
	run("health", "close", posted.ARN)
	run("faults", "add", "--op", "GetCase", "--error", "InternalServerException", "--announced")
	var evs []health.Event
	if err := json.Unmarshal([]byte(run("health", "events", "--json")), &evs); err != nil {
		t.Fatal(err)
	}
	// Most recently updated first; the close and the rule's event can fall
	// in the same millisecond, and then come in ARN order, which is random.
	status := map[string]string{}
	for _, e := range evs {
		status[e.Source] = string(e.Status)
	}
	if len(evs) != 2 || status["rule"] != "open" || status["admin"] != "closed" {
		t.Fatalf("events %+v", evs)
	}
	if out := run("health", "subscription", "required"); !strings.Contains(out, "required") {
		t.Fatal(out)
	}
	if status, _, body := servertest.HealthCall(t, srv.URL(), "DescribeEvents", `{}`); status != 400 || body["__type"] != "SubscriptionRequiredException" {
		t.Fatalf("%d %v", status, body)
	}

	noPlan, _ := MustRunMain(t, map[string]string{"LOCALCASES_HEALTH_SUBSCRIPTION_REQUIRED": "true"}, "--addr", "127.0.0.1:0", "--memory")
	if status, _, body := servertest.HealthCall(t, noPlan.URL(), "DescribeEventTypes", `{}`); status != 400 || body["__type"] != "SubscriptionRequiredException" {
		t.Fatalf("serve with LOCALCASES_HEALTH_SUBSCRIPTION_REQUIRED: %d %v", status, body)
	}
}
