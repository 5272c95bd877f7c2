package health_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/health"
	"github.com/localcases/localcases/healthapi"
)

var t0 = time.Date(2026, 3, 2, 10, 2, 0, 0, time.UTC)

const domainARN = "arn:aws:cases:us-east-1:111122223333:domain/d-1"

// fixture is a Health service on a fault engine, both on one manual clock.
type fixture struct {
	clock  *fault.ManualClock
	faults *fault.Engine
	svc    *health.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := fault.NewManualClock(t0)
	eng := fault.NewEngine(fault.WithClock(clock))
	svc := health.New(health.Config{
		Region: "us-east-1", Account: "111122223333", Faults: eng, Clock: clock,
		Domains: func(context.Context) ([]string, error) { return []string{domainARN}, nil },
	})
	return &fixture{clock, eng, svc}
}

func (f *fixture) events(t *testing.T, filter *healthapi.EventFilter) []healthapi.Event {
	t.Helper()
	out, err := f.svc.DescribeEvents(context.Background(), &healthapi.DescribeEventsRequest{Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	return out.Events
}

func (f *fixture) details(t *testing.T, arn string) healthapi.EventDetails {
	t.Helper()
	out, err := f.svc.DescribeEventDetails(context.Background(), &healthapi.DescribeEventDetailsRequest{EventArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SuccessfulSet) != 1 {
		t.Fatalf("details of %s: %+v", arn, out)
	}
	return out.SuccessfulSet[0]
}

func status(e healthapi.Event) healthapi.EventStatusCode { return *e.StatusCode }

// TestScenarioLifecycle: an outage scenario opens an issue when it starts,
// with the affected operations and error rate in its description and the
// account's domains as entities, and closes it exactly when it ends, even
// though nothing read the events in between.
func TestScenarioLifecycle(t *testing.T) {
	f := newFixture(t)
	if got := f.events(t, nil); len(got) != 0 {
		t.Fatalf("events before any fault: %+v", got)
	}
	if _, err := f.faults.LoadScenario("outage", fault.ScenarioParams{
		Duration: fault.Duration(5 * time.Minute), Operations: []string{"CreateCase", "GetCase"},
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	evs := f.events(t, nil)
	if len(evs) != 1 {
		t.Fatalf("want one event, got %+v", evs)
	}
	ev := evs[0]
	if *ev.Service != "CONNECT" || *ev.EventTypeCode != health.TypeOperationalIssue || *ev.EventTypeCategory != "issue" ||
		*ev.Region != "us-east-1" || status(ev) != "open" || !ev.StartTime.Equal(t0) || ev.EndTime != nil {
		t.Fatalf("open event: %+v", ev)
	}
	if !strings.HasPrefix(*ev.Arn, "arn:aws:health:us-east-1::event/CONNECT/AWS_CONNECT_OPERATIONAL_ISSUE/AWS_CONNECT_OPERATIONAL_ISSUE_") {
		t.Errorf("arn %s", *ev.Arn)
	}
	d := f.details(t, *ev.Arn)
	desc := *d.EventDescription.LatestDescription
	for _, want := range []string{"[10:02:00 UTC] We are investigating increased error rates for the CreateCase and GetCase APIs in the US-EAST-1 Region.", "InternalServerException", "All calls to the affected APIs are impacted."} {
		if !strings.Contains(desc, want) {
			t.Errorf("description lacks %q:\n%s", want, desc)
		}
	}
	if d.EventMetadata["affectedOperations"] != "CreateCase,GetCase" {
		t.Errorf("metadata %v", d.EventMetadata)
	}
	ents, err := f.svc.DescribeAffectedEntities(context.Background(), &healthapi.DescribeAffectedEntitiesRequest{
		Filter: &healthapi.EntityFilter{EventArns: []string{*ev.Arn}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents.Entities) != 1 || *ents.Entities[0].EntityValue != domainARN || *ents.Entities[0].StatusCode != "IMPAIRED" {
		t.Fatalf("entities %+v", ents.Entities)
	}

	f.clock.Advance(10 * time.Minute)
	ev = f.events(t, nil)[0]
	end := t0.Add(5 * time.Minute)
	if status(ev) != "closed" || ev.EndTime == nil || !ev.EndTime.Equal(end) || !ev.LastUpdatedTime.Equal(end) {
		t.Fatalf("closed event: %+v", ev)
	}
	desc = *f.details(t, *ev.Arn).EventDescription.LatestDescription
	if !strings.Contains(desc, "[10:07:00 UTC] Between 10:02:00 and 10:07:00 UTC, we experienced increased error rates") ||
		!strings.Contains(desc, "The issue has been resolved and the service is operating normally.") {
		t.Errorf("closing description:\n%s", desc)
	}
	ents, _ = f.svc.DescribeAffectedEntities(context.Background(), &healthapi.DescribeAffectedEntitiesRequest{
		Filter: &healthapi.EntityFilter{EventArns: []string{*ev.Arn}}})
	if *ents.Entities[0].StatusCode != "RESOLVED" {
		t.Errorf("entity after close: %+v", ents.Entities[0])
	}
}

// TestStoppedScenarioCloses: stopping a scenario closes its event at the
// sync that follows, and a new run opens a new event.
func TestStoppedScenarioCloses(t *testing.T) {
	f := newFixture(t)
	f.faults.LoadScenario("brownout", fault.ScenarioParams{})
	f.svc.Sync(context.Background())
	f.clock.Advance(90 * time.Second)
	f.faults.StopScenario()
	f.svc.Sync(context.Background())
	f.clock.Advance(time.Hour)
	evs := f.events(t, nil)
	if len(evs) != 1 || status(evs[0]) != "closed" || !evs[0].EndTime.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("after stop: %+v", evs)
	}
	f.faults.LoadScenario("brownout", fault.ScenarioParams{})
	if evs := f.events(t, &healthapi.EventFilter{EventStatusCodes: []healthapi.EventStatusCode{"open"}}); len(evs) != 1 || *evs[0].Arn == *f.events(t, nil)[1].Arn {
		t.Fatalf("second run: %+v", evs)
	}
}

// TestFlappingPostsEachPhase: a looping scenario's phases are posted as
// updates and move lastUpdatedTime.
func TestFlappingPostsEachPhase(t *testing.T) {
	f := newFixture(t)
	f.faults.LoadScenario("flapping", fault.ScenarioParams{Period: fault.Duration(time.Minute), Duration: fault.Duration(10 * time.Minute)})
	f.clock.Advance(150 * time.Second)
	ev := f.events(t, nil)[0]
	if status(ev) != "open" || !ev.LastUpdatedTime.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("flapping event: %+v", ev)
	}
	desc := *f.details(t, *ev.Arn).EventDescription.LatestDescription
	if !strings.Contains(desc, "[10:03:00 UTC] Calls are failing.") || !strings.Contains(desc, "[10:04:00 UTC] Service operating normally.") {
		t.Errorf("phase posts missing:\n%s", desc)
	}
}

// TestAnnouncedRule: only a rule marked announced posts an event, for the
// domain it names, while it is active.
func TestAnnouncedRule(t *testing.T) {
	f := newFixture(t)
	err := f.faults.SetRules([]fault.Rule{
		{ID: "quiet", Operation: fault.StringList{"GetCase"}},
		{ID: "loud", Operation: fault.StringList{"SearchCases"}, Domain: "d-9", Announced: true,
			After: fault.Duration(time.Minute), Duration: fault.Duration(2 * time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if evs := f.events(t, nil); len(evs) != 0 {
		t.Fatalf("before the rule is active: %+v", evs)
	}
	f.clock.Advance(90 * time.Second)
	evs := f.events(t, nil)
	if len(evs) != 1 || status(evs[0]) != "open" || !evs[0].StartTime.Equal(t0.Add(time.Minute)) {
		t.Fatalf("announced rule: %+v", evs)
	}
	d := f.details(t, *evs[0].Arn)
	if !strings.Contains(*d.EventDescription.LatestDescription, "the SearchCases API") || d.EventMetadata["faultRule"] != "loud" {
		t.Errorf("details %+v %s", d.EventMetadata, *d.EventDescription.LatestDescription)
	}
	ents, _ := f.svc.DescribeAffectedEntities(context.Background(), &healthapi.DescribeAffectedEntitiesRequest{
		Filter: &healthapi.EntityFilter{EventArns: []string{*evs[0].Arn}}})
	if len(ents.Entities) != 1 || *ents.Entities[0].EntityValue != "arn:aws:cases:us-east-1:111122223333:domain/d-9" {
		t.Errorf("entities %+v", ents.Entities)
	}
	f.clock.Advance(5 * time.Minute)
	if ev := f.events(t, nil)[0]; status(ev) != "closed" || !ev.EndTime.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("after the rule's window: %+v", ev)
	}
}

// TestPostedNoticeSchedule: a scheduled change is upcoming, then open, then
// closed, by its own times.
func TestPostedNoticeSchedule(t *testing.T) {
	f := newFixture(t)
	ev, err := f.svc.Post(context.Background(), health.Notice{
		Description: "Amazon Connect Cases maintenance.", StartTime: t0.Add(time.Hour), EndTime: t0.Add(2 * time.Hour),
		Entities: []string{domainARN},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Category != "scheduledChange" || ev.TypeCode != health.TypeMaintenance || ev.Status != "upcoming" || ev.Scope != "ACCOUNT_SPECIFIC" {
		t.Fatalf("posted %+v", ev)
	}
	for _, step := range []struct {
		advance time.Duration
		want    healthapi.EventStatusCode
	}{{time.Hour, "open"}, {time.Hour, "closed"}} {
		f.clock.Advance(step.advance)
		if got := f.events(t, nil)[0]; status(got) != step.want {
			t.Fatalf("at %v: %+v", f.clock.Now(), got)
		}
	}
	if _, err := f.svc.Post(context.Background(), health.Notice{Description: "x", TypeCode: "bad/code"}); err == nil {
		t.Error("a type code the ARN cannot hold was accepted")
	}
	if _, err := f.svc.Post(context.Background(), health.Notice{Description: "x", Category: "weather"}); err == nil {
		t.Error("an unknown category was accepted")
	}
}

// TestFilters holds DescribeEvents to the model's filter semantics: every
// member given must match; a list matches on any value; time ranges are
// inclusive.
func TestFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	maint, _ := f.svc.Post(ctx, health.Notice{Description: "maintenance", StartTime: t0.Add(time.Hour)})
	note, _ := f.svc.Post(ctx, health.Notice{Category: "accountNotification", Description: "note", Entities: []string{"res-1"}})
	other, _ := f.svc.Post(ctx, health.Notice{Category: "issue", Service: "EC2", Region: "eu-west-1", Description: "ec2"})
	f.clock.Advance(time.Minute)
	tm := func(t time.Time) *healthapi.Time { return healthapi.NewTime(t) }
	tests := []struct {
		name   string
		filter healthapi.EventFilter
		want   []string
	}{
		{"none", healthapi.EventFilter{}, []string{maint.ARN, note.ARN, other.ARN}},
		{"category", healthapi.EventFilter{EventTypeCategories: []healthapi.EventTypeCategory{"accountNotification", "scheduledChange"}}, []string{maint.ARN, note.ARN}},
		{"status", healthapi.EventFilter{EventStatusCodes: []healthapi.EventStatusCode{"upcoming"}}, []string{maint.ARN}},
		{"service", healthapi.EventFilter{Services: []string{"EC2"}}, []string{other.ARN}},
		{"region", healthapi.EventFilter{Regions: []string{"us-east-1"}}, []string{maint.ARN, note.ARN}},
		{"type code", healthapi.EventFilter{EventTypeCodes: []string{health.TypeNotification}}, []string{note.ARN}},
		{"arn", healthapi.EventFilter{EventArns: []string{other.ARN}}, []string{other.ARN}},
		{"entity value", healthapi.EventFilter{EntityValues: []string{"res-1"}}, []string{note.ARN}},
		{"start from", healthapi.EventFilter{StartTimes: []healthapi.DateTimeRange{{From: tm(t0.Add(time.Minute))}}}, []string{maint.ARN}},
		{"start to inclusive", healthapi.EventFilter{StartTimes: []healthapi.DateTimeRange{{To: tm(t0)}}}, []string{note.ARN, other.ARN}},
		{"end time of open events", healthapi.EventFilter{EndTimes: []healthapi.DateTimeRange{{From: tm(t0)}}}, nil},
		{"availability zone", healthapi.EventFilter{AvailabilityZones: []string{"use1-az1"}}, nil},
		{"two members", healthapi.EventFilter{Services: []string{"CONNECT"}, EventTypeCategories: []healthapi.EventTypeCategory{"issue"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, e := range f.events(t, &tc.filter) {
				got[*e.Arn] = true
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %v, want %d", len(got), got, len(tc.want))
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("missing %s", w)
				}
			}
		})
	}
	agg, err := f.svc.DescribeEventAggregates(ctx, &healthapi.DescribeEventAggregatesRequest{AggregateField: ptr(healthapi.EventAggregateFieldEventTypeCategory)})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(len(agg.EventAggregates)) != "3" || *agg.EventAggregates[0].AggregateValue != "accountNotification" || *agg.EventAggregates[0].Count != 1 {
		t.Errorf("aggregates %+v", agg.EventAggregates)
	}
}

// TestPagination: pages of maxResults in lastUpdatedTime order, most recent
// first, with no event repeated or lost; a token from another listing or
// none of ours is InvalidPaginationToken.
func TestPagination(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var posted []string
	for i := range 25 {
		ev, err := f.svc.Post(ctx, health.Notice{Description: fmt.Sprintf("notice %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		posted = append(posted, ev.ARN)
		f.clock.Advance(time.Second)
	}
	var seen []string
	var tok *string
	pages := 0
	for {
		out, err := f.svc.DescribeEvents(ctx, &healthapi.DescribeEventsRequest{MaxResults: healthapi.Int32(10), NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range out.Events {
			seen = append(seen, *e.Arn)
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if pages != 3 || len(seen) != 25 {
		t.Fatalf("%d pages, %d events", pages, len(seen))
	}
	for i, arn := range seen {
		if arn != posted[24-i] {
			t.Fatalf("event %d is %s, want %s (most recent first)", i, arn, posted[24-i])
		}
	}
	first, _ := f.svc.DescribeEvents(ctx, &healthapi.DescribeEventsRequest{MaxResults: healthapi.Int32(10)})
	_, err := f.svc.DescribeEventTypes(ctx, &healthapi.DescribeEventTypesRequest{NextToken: first.NextToken})
	wantCode(t, err, healthapi.CodeInvalidPaginationToken)
	_, err = f.svc.DescribeEvents(ctx, &healthapi.DescribeEventsRequest{NextToken: healthapi.String("AAAAAAAA")})
	wantCode(t, err, healthapi.CodeInvalidPaginationToken)
}

func TestSubscriptionRequiredAndLocale(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.DescribeEvents(ctx, &healthapi.DescribeEventsRequest{Locale: healthapi.String("en")}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.DescribeEvents(ctx, &healthapi.DescribeEventsRequest{Locale: healthapi.String("fr")})
	wantCode(t, err, healthapi.CodeUnsupportedLocale)
	f.svc.SetSubscriptionRequired(true)
	_, err = f.svc.DescribeEventTypes(ctx, &healthapi.DescribeEventTypesRequest{})
	wantCode(t, err, healthapi.CodeSubscriptionRequiredException)
	f.svc.SetSubscriptionRequired(false)
	if _, err := f.svc.DescribeEventTypes(ctx, &healthapi.DescribeEventTypesRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestDetailsOfUnknownEvent(t *testing.T) {
	f := newFixture(t)
	arn := "arn:aws:health:us-east-1::event/CONNECT/X_Y/X_Y_1"
	out, err := f.svc.DescribeEventDetails(context.Background(), &healthapi.DescribeEventDetailsRequest{EventArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SuccessfulSet) != 0 || len(out.FailedSet) != 1 || *out.FailedSet[0].EventArn != arn {
		t.Fatalf("%+v", out)
	}
}

func wantCode(t *testing.T, err error, code healthapi.ErrorCode) {
	t.Helper()
	var e *healthapi.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func ptr[T any](v T) *T { return &v }

// TestEveryPresetOpensAnIssue: each preset scenario posts one issue, titled
// by what it does, and closes it when it ends.
func TestEveryPresetOpensAnIssue(t *testing.T) {
	titles := map[string]string{
		"outage": "Increased API Error Rates", "brownout": "Increased API Error Rates",
		"flapping": "Increased API Error Rates", "throttle-storm": "Increased API Throttling",
		"latency-spike": "Increased API Latencies",
	}
	for _, name := range fault.Presets() {
		t.Run(name, func(t *testing.T) {
			want, ok := titles[name]
			if !ok {
				t.Fatalf("preset %s has no expected title here", name)
			}
			f := newFixture(t)
			if _, err := f.faults.LoadScenario(name, fault.ScenarioParams{Duration: fault.Duration(10 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(5 * time.Second)
			evs := f.events(t, nil)
			if len(evs) != 1 || status(evs[0]) != "open" {
				t.Fatalf("%+v", evs)
			}
			if desc := *f.details(t, *evs[0].Arn).EventDescription.LatestDescription; !strings.HasPrefix(desc, want+"\n") {
				t.Errorf("description:\n%s", desc)
			}
			f.clock.Advance(time.Hour)
			if ev := f.events(t, nil)[0]; status(ev) != "closed" || !ev.EndTime.Equal(t0.Add(10*time.Minute)) {
				t.Errorf("after the end: %+v", ev)
			}
		})
	}
}
