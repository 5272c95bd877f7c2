package eventsink_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/eventsink"
	"github.com/localcases/localcases/eventsink/eventbridgetest"
)

func standIn(t *testing.T) *eventbridgetest.Server {
	t.Helper()
	s := eventbridgetest.NewServer()
	t.Cleanup(s.Close)
	return s
}

func sdkClient(url string) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(url),
	})
}

// TestStandInThroughSDK holds the stand-in to PutEvents's wire protocol
// as the aws-sdk-go-v2 client speaks it.
func TestStandInThroughSDK(t *testing.T) {
	eb := standIn(t)
	client := sdkClient(eb.URL())
	ctx := context.Background()
	eb.FailEntries(1, "InternalFailure", func(e eventbridgetest.Entry) bool { return e.DetailType == "b" })
	out, err := client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("my.app"), DetailType: aws.String("a"), Detail: aws.String(`{"k":1}`), Resources: []string{"r1"}},
		{Source: aws.String("my.app"), DetailType: aws.String("b"), Detail: aws.String(`{}`)},
		{Source: aws.String("my.app"), DetailType: aws.String("c"), Detail: aws.String(`not json`)},
		{Source: aws.String("my.app"), DetailType: aws.String("d")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 3 || len(out.Entries) != 4 {
		t.Fatalf("FailedEntryCount %d, %d entries; want 3 of 4", out.FailedEntryCount, len(out.Entries))
	}
	codes := []string{"", "InternalFailure", "MalformedDetail", "InvalidArgument"}
	for i, r := range out.Entries {
		if aws.ToString(r.ErrorCode) != codes[i] || (codes[i] == "") != (aws.ToString(r.EventId) != "") {
			t.Errorf("entry %d: code %q id %q, want code %q", i, aws.ToString(r.ErrorCode), aws.ToString(r.EventId), codes[i])
		}
	}
	got := eb.Entries()
	if len(got) != 1 || got[0].Detail != `{"k":1}` || got[0].EventBusName != "default" || got[0].Resources[0] != "r1" {
		t.Errorf("accepted entries %+v", got)
	}
	if reqs := eb.Requests(); len(reqs) != 1 || reqs[0].SigningName != "events" || reqs[0].Failed != 3 {
		t.Errorf("requests %+v, want one signed for events with 3 failed", reqs)
	}

	_, err = client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, 11)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("11 entries: %v, want ValidationException", err)
	}
	big := strings.Repeat("x", 200*1024)
	_, err = client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{"a":"` + big + `"}`)},
		{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{"a":"` + big + `"}`)},
	}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "over the limit") {
		t.Errorf("400 KB of entries: %v, want ValidationException over the limit", err)
	}
}

func TestForwarderBatchesByCount(t *testing.T) {
	eb := standIn(t)
	s := mustNew(t, eb.SinkURL("bus=orders"), eventsink.Options{})
	evs := envelopes(25, 0)
	mustDeliver(t, s, evs)
	sizes := batchSizes(eb)
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
		t.Errorf("batches %v, want [10 10 5]", sizes)
	}
	got := eb.Entries()
	if len(got) != 25 {
		t.Fatalf("%d entries forwarded, want 25", len(got))
	}
	for i, e := range got {
		var d struct{ N int }
		json.Unmarshal([]byte(e.Detail), &d)
		if d.N != i || e.Source != "aws.cases" || e.DetailType != "Amazon Connect Cases Change" || e.EventBusName != "orders" ||
			len(e.Resources) != 2 || e.Time.Format("2006-01-02T15:04:05Z") != "2026-03-16T23:43:26Z" {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
}

func TestForwarderBatchesBySize(t *testing.T) {
	eb := standIn(t)
	s := mustNew(t, eb.SinkURL(""), eventsink.Options{})
	// Each entry is a little over 60 KB: four fit under 256 KB, five do not.
	evs := envelopes(9, 60*1024)
	mustDeliver(t, s, evs)
	sizes := batchSizes(eb)
	if len(sizes) != 3 || sizes[0] != 4 || sizes[1] != 4 || sizes[2] != 1 {
		t.Errorf("batches %v, want [4 4 1]", sizes)
	}
}

func TestForwarderRetriesFailedEntries(t *testing.T) {
	eb := standIn(t)
	s := mustNew(t, eb.SinkURL(""), eventsink.Options{})
	odd := func(e eventbridgetest.Entry) bool {
		var d struct{ N int }
		json.Unmarshal([]byte(e.Detail), &d)
		return d.N%2 == 1
	}
	// Odd events fail twice with InternalFailure and the first entry once
	// with ThrottlingException: the resends carry only those.
	eb.FailEntries(4, "InternalFailure", odd)
	eb.FailEntries(1, "ThrottlingException", nil)
	for i, err := range s.Deliver(context.Background(), envelopes(5, 0)) {
		if err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	reqs := eb.Requests()
	if len(reqs) < 2 || reqs[0].Entries != 5 || reqs[0].Failed != 3 {
		t.Fatalf("requests %+v, want a first of 5 entries with 3 failed, then resends", reqs)
	}
	for _, r := range reqs[1:] {
		if r.Entries > 3 {
			t.Errorf("a resend carried %d entries; only failed ones should go again", r.Entries)
		}
	}
	if n := len(eb.Entries()); n != 5 {
		t.Errorf("%d entries accepted, want 5", n)
	}
}

func TestForwarderGivesUpOnRetryableAfterRetries(t *testing.T) {
	eb := standIn(t)
	eb.FailEntries(100, "InternalFailure", nil)
	err := mustNew(t, eb.SinkURL(""), eventsink.Options{}).Deliver(context.Background(), envelopes(1, 0))[0]
	if err == nil || eventsink.IsPermanent(err) || !strings.Contains(err.Error(), "InternalFailure") {
		t.Fatalf("Deliver = %v, want a retryable InternalFailure", err)
	}
	if n := len(eb.Requests()); n != 4 {
		t.Errorf("%d requests, want 4 (one and three resends)", n)
	}
}

func TestForwarderPermanentFailures(t *testing.T) {
	eb := standIn(t)
	eb.RefuseAWSSources(true)
	errs := mustNew(t, eb.SinkURL(""), eventsink.Options{}).Deliver(context.Background(), envelopes(2, 0))
	for i, err := range errs {
		if !eventsink.IsPermanent(err) || !strings.Contains(err.Error(), "NotAuthorizedForSourceException") {
			t.Errorf("event %d with source aws.cases: %v, want a permanent NotAuthorizedForSourceException", i, err)
		}
	}
	if n := len(eb.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: a permanent failure is not sent again", n)
	}

	// The rewrite is what gets events into a real bus.
	for i, err := range mustNew(t, eb.SinkURL("source=localcases.cases"), eventsink.Options{}).Deliver(context.Background(), envelopes(2, 0)) {
		if err != nil {
			t.Errorf("event %d with the source rewritten: %v", i, err)
		}
	}
	for _, e := range eb.Entries() {
		if e.Source != "localcases.cases" {
			t.Errorf("forwarded source %q", e.Source)
		}
	}
}

func TestForwarderRefusesOversizeEntry(t *testing.T) {
	eb := standIn(t)
	evs := []eventsink.Event{envelope(0, 0), envelope(1, 3000), envelope(2, 0)}
	errs := mustNew(t, eb.SinkURL("maxBytes=2048"), eventsink.Options{}).Deliver(context.Background(), evs)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("small events: %v, %v", errs[0], errs[2])
	}
	if !eventsink.IsPermanent(errs[1]) || !strings.Contains(errs[1].Error(), "over the 2048-byte PutEvents cap") {
		t.Errorf("oversize event: %v, want a permanent error naming the cap", errs[1])
	}
	if n := len(eb.Entries()); n != 2 {
		t.Errorf("%d entries forwarded, want 2", n)
	}
}

func TestForwarderUnreachable(t *testing.T) {
	eb := eventbridgetest.NewServer()
	url := eb.SinkURL("")
	eb.Close()
	err := mustNew(t, url, eventsink.Options{}).Deliver(context.Background(), envelopes(1, 0))[0]
	if err == nil || eventsink.IsPermanent(err) {
		t.Fatalf("Deliver to a closed port = %v, want a retryable error", err)
	}
}

func TestForwarderToAWSNeedsCredentials(t *testing.T) {
	spec, err := eventsink.Parse("eventbridge://?region=eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = eventsink.New(spec, eventsink.Options{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("New without credentials = %v, want an error naming AWS_ACCESS_KEY_ID", err)
	}
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "S"}
	if _, err := eventsink.New(spec, eventsink.Options{Getenv: func(k string) string { return env[k] }}); err != nil {
		t.Fatalf("New with credentials: %v", err)
	}
}

// TestStandInThroughAWSCLI: the AWS CLI's put-events (botocore) reaches the
// stand-in unchanged, so its wire is EventBridge's for both SDK families.
func TestStandInThroughAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	eb := standIn(t)
	cmd := exec.Command("aws", "events", "put-events", "--endpoint-url", eb.URL(), "--region", "us-east-1", "--output", "json",
		"--entries", `[{"Source":"my.app","DetailType":"t","Detail":"{\"k\":2}","Time":"2026-03-16T23:43:26Z"}]`)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=S", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws events put-events: %v\n%s", err, out)
	}
	var res struct {
		FailedEntryCount int
		Entries          []struct{ EventId string }
	}
	if err := json.Unmarshal(out, &res); err != nil || res.FailedEntryCount != 0 || len(res.Entries) != 1 || res.Entries[0].EventId == "" {
		t.Fatalf("put-events answered %s (%v)", out, err)
	}
	got := eb.Entries()
	if len(got) != 1 || got[0].Detail != `{"k":2}` || got[0].Time.Format(time.RFC3339) != "2026-03-16T23:43:26Z" {
		t.Errorf("accepted %+v", got)
	}
	if reqs := eb.Requests(); reqs[0].SigningName != "events" {
		t.Errorf("signing name %q, want events", reqs[0].SigningName)
	}
}

func mustDeliver(t *testing.T, s eventsink.Sink, evs []eventsink.Event) {
	t.Helper()
	for i, err := range s.Deliver(context.Background(), evs) {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

// batchSizes is the number of entries in each PutEvents call so far.
func batchSizes(eb *eventbridgetest.Server) []int {
	var sizes []int
	for _, r := range eb.Requests() {
		sizes = append(sizes, r.Entries)
	}
	return sizes
}
