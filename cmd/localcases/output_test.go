package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/health"
)

var update = flag.Bool("update", false, "rewrite the golden CLI output files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/localcases -run TestGoldenOutput -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rewrite with -update if intended)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// Fixed answers, as the admin API gives them, so every field a table shows
// is pinned.
var (
	t0           = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	goldenEvents = []health.Event{
		{ARN: "arn:aws:health:us-east-1::event/CONNECT/AWS_CONNECT_OPERATIONAL_ISSUE/AWS_CONNECT_OPERATIONAL_ISSUE_F8C5FC-51EF59",
			Service: "CONNECT", TypeCode: "AWS_CONNECT_OPERATIONAL_ISSUE", Category: "issue", Region: "us-east-1",
			Scope: "ACCOUNT_SPECIFIC", Actionability: "INFORMATIONAL", Status: "open", StartTime: t0, LastUpdated: t0,
			Description: "Increased API Error Rates\n\n[09:00:00 UTC] We are investigating increased error rates.",
			Metadata:    map[string]string{"scenario": "outage"}, Source: "scenario"},
		{ARN: "arn:aws:health:us-east-1::event/CONNECT/AWS_CONNECT_MAINTENANCE_SCHEDULED/AWS_CONNECT_MAINTENANCE_SCHEDULED_6801AB-121ABC",
			Service: "CONNECT", TypeCode: "AWS_CONNECT_MAINTENANCE_SCHEDULED", Category: "scheduledChange", Region: "us-east-1",
			Scope: "PUBLIC", Actionability: "ACTION_MAY_BE_REQUIRED", Status: "upcoming", StartTime: t0.Add(time.Hour),
			EndTime: t0.Add(90 * time.Minute), LastUpdated: t0,
			Description: "Amazon Connect Cases maintenance in US-EAST-1, with a title too long for one table cell", Source: "admin"},
	}
	goldenRules = []fault.Rule{
		{ID: "rule-1", Operation: fault.StringList{"CreateCase"}, Action: fault.ActionError,
			Error: &fault.ErrorSpec{Code: "InternalServerException", RetryAfterSeconds: ptr(2)}},
		{ID: "rule-2", Operation: fault.StringList{"GetCase", "SearchCases"}, Probability: ptr(0.3),
			Action: fault.ActionLatency, Latency: &fault.Latency{Min: 200 * time.Millisecond, Max: 200 * time.Millisecond}},
		{ID: "rule-3", Action: fault.ActionHTTP, HTTPStatus: 503, Count: ptr(5), Service: "connectcases", Region: "us-east-1"},
	}
	goldenReport = fault.TrafficReport{
		Records: 7,
		ByOperation: []fault.Usage{
			{Key: "CreateCase", Invocations: 2, Attempts: 5, Injected: 3, AttemptsPerInvocation: 2.5, FaultedInvocations: 2, FaultedAttempts: 5, Amplification: 2.5,
				RetryAfter: fault.RetryAfterStats{Retries: 3, Honored: 2, Violated: 1, ShortestWait: 350 * time.Millisecond}},
			{Key: "GetDomain", Invocations: 2, Attempts: 2, AttemptsPerInvocation: 1},
		},
		ByClient: []fault.Usage{{Key: "aws-sdk-go-v2", Invocations: 4, Attempts: 7, Injected: 3, AttemptsPerInvocation: 1.75, FaultedInvocations: 2, FaultedAttempts: 5, Amplification: 2.5,
			RetryAfter: fault.RetryAfterStats{Retries: 3, Honored: 2, Violated: 1, ShortestWait: 350 * time.Millisecond}}},
		Violations: []fault.RetryAfterViolation{{Operation: "CreateCase", ClientID: "aws-sdk-go-v2", InvocationID: "inv-1", Attempt: 3, RetryAfter: 2 * time.Second, Waited: 350 * time.Millisecond}},
	}
	goldenRequests = []fault.Record{
		{Time: t0, RequestID: "req-1", Operation: "CreateCase", ClientID: "aws-sdk-go-v2", InvocationID: "inv-1", Attempt: 1, Status: 500,
			ErrorCode: "InternalServerException", Injected: true, RuleID: "rule-1", Latency: 412 * time.Microsecond, RetryAfter: 2 * time.Second},
		{Time: t0.Add(2 * time.Second), RequestID: "req-2", Operation: "CreateCase", ClientID: "aws-sdk-go-v2", InvocationID: "inv-1", Attempt: 2, Status: 200, Latency: 1500 * time.Microsecond},
		{Time: t0.Add(3 * time.Second), RequestID: "req-3", Operation: "GetCase", Status: 404, ErrorCode: "ResourceNotFoundException", Latency: 230 * time.Millisecond},
		{Time: t0.Add(4 * time.Second), Operation: "SearchCases", Dropped: true, Injected: true, Latency: 2 * time.Second},
	}
	goldenHealth = admin.Health{
		Status: fault.StatusDegraded, Ready: true, Version: "v1.2.3", UptimeSeconds: 125, Store: "sqlite", Region: "us-east-1", Account: "000000000000", Time: t0,
		Operations: []fault.OperationHealth{
			{Operation: "CreateCase", Status: fault.StatusDegraded, Reasons: []string{`rule "rule-1": InternalServerException on 100% of calls`}, RuleIDs: []string{"rule-1"}, Requests: 5, Failures: 3, ErrorRate: 0.6},
			{Operation: "GetDomain", Status: fault.StatusOperational, Requests: 2},
			{Operation: "ListDomains", Status: fault.StatusOperational},
			{Operation: "SearchCases", Status: fault.StatusOutage, Reasons: []string{"observed errors"}, Requests: 4, Failures: 4, ErrorRate: 1},
		},
	}
	goldenScenario = &fault.ScenarioStatus{Name: "outage", Description: "Service outage: all operations fail with InternalServerException.",
		Active: true, StartedAt: t0, EndsAt: t0.Add(30 * time.Second), Phase: "outage"}
)

// Human output (tables, durations with units) and --json, for every admin
// command that shows an answer; colour only when asked for a terminal.
// goldenCase is one command's output: name.txt holds what human writes, and
// name.json what --json prints of json (none when json is nil).
type goldenCase struct {
	name  string
	human func(*bytes.Buffer) error
	json  any
}

func runGolden(t *testing.T, tests []goldenCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.human(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".txt", b.Bytes())
			if tt.json == nil {
				return
			}
			b.Reset()
			if err := printJSON(&b, tt.json); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".json", b.Bytes())
		})
	}
}

func TestGoldenOutput(t *testing.T) {
	plain, colour := painter{}, painter{on: true}
	runGolden(t, []goldenCase{
		{"faults-list", func(b *bytes.Buffer) error { return writeRules(b, goldenRules) }, goldenRules},
		{"faults-list-empty", func(b *bytes.Buffer) error { return writeRules(b, nil) }, []fault.Rule{}},
		{"faults-report", func(b *bytes.Buffer) error { return writeReport(b, goldenReport) }, goldenReport},
		{"faults-requests", func(b *bytes.Buffer) error { return writeRequests(b, plain, goldenRequests) }, goldenRequests},
		{"faults-requests-terminal", func(b *bytes.Buffer) error { return writeRequests(b, colour, goldenRequests) }, nil},
		{"faults-scenario", func(b *bytes.Buffer) error { return writeScenario(b, goldenScenario, t0.Add(10*time.Second)) }, goldenScenario},
		{"health", func(b *bytes.Buffer) error { return writeHealth(b, plain, goldenHealth) }, goldenHealth},
		{"health-terminal", func(b *bytes.Buffer) error { return writeHealth(b, colour, goldenHealth) }, nil},
		{"health-events", func(b *bytes.Buffer) error { return writeHealthEvents(b, goldenEvents) }, goldenEvents},
		{"health-events-empty", func(b *bytes.Buffer) error { return writeHealthEvents(b, nil) }, []health.Event{}},
	})
}

func TestDurationsCarryUnits(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 412 * time.Microsecond: "412µs", 1500 * time.Microsecond: "1.5ms", 230 * time.Millisecond: "230ms",
		2 * time.Second: "2s", 2500 * time.Millisecond: "2.5s", 125 * time.Second: "2m5s",
	} {
		if got := dur(d); got != want {
			t.Errorf("dur(%v) = %q, want %q", d, got, want)
		}
	}
}
