package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/fault"
)

var (
	goldenSinks = []dispatch.SinkStatus{
		{Name: "consumer", Kind: "webhook", URL: "http://127.0.0.1:9000/events", Origin: "flag", Created: t0, Cursor: 41, Lag: 0,
			Owner: "9b1c", LeaseUntil: t0.Add(10 * time.Second), Running: true, Stats: dispatch.Stats{Delivered: 41, LastDelivery: t0}},
		{Name: "closures", Kind: "webhook", URL: "https://user:xxxxx@hooks.example.com/in", Pattern: `{"detail":{"eventType":["CASE.UPDATED"]}}`,
			Origin: "admin", Created: t0, Cursor: 38, Lag: 3, DeadLetters: 2,
			Stats: dispatch.Stats{Delivered: 7, Failed: 9, DeadLettered: 2, LastError: "webhook https://user:xxxxx@hooks.example.com/in answered 503 Service Unavailable: try later", LastErrorAt: t0}},
		{Name: "localstack", Kind: "eventbridge", URL: "eventbridge+http://127.0.0.1:4566?source=localcases.cases", Origin: "config", Created: t0, Cursor: 41},
	}
	goldenDeadLetters = []dispatch.DeadLetter{
		{Sink: "closures", Seq: 17, EventID: "6f8e2a1c-0d4b-4e7a-9c1f-2b3d4e5f6a7b", DomainID: "d1",
			Event:    json.RawMessage(`{"id":"6f8e2a1c-0d4b-4e7a-9c1f-2b3d4e5f6a7b","detail":{"eventType":"CASE.UPDATED"}}`),
			Attempts: 8, First: t0, Last: t0.Add(95 * time.Second), Error: "webhook https://user:xxxxx@hooks.example.com/in answered 503 Service Unavailable: try later"},
		{Sink: "closures", Seq: 19, EventID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", DomainID: "d1",
			Event:    json.RawMessage(`{"id":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","detail":{"eventType":"CASE.UPDATED"}}`),
			Attempts: 1, First: t0.Add(time.Minute), Last: t0.Add(time.Minute), Error: "webhook https://user:xxxxx@hooks.example.com/in answered 400 Bad Request"},
	}
	goldenReplay = admin.ReplayResponse{Delivered: 1, Failed: 1, Results: []dispatch.ReplayResult{
		{Sink: "closures", EventID: "6f8e2a1c-0d4b-4e7a-9c1f-2b3d4e5f6a7b", Delivered: true},
		{Sink: "closures", EventID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Error: "webhook https://user:xxxxx@hooks.example.com/in answered 400 Bad Request"},
	}}
	goldenEventRules = []fault.Rule{
		{ID: "rule-1", Sink: "consumer", Action: fault.ActionDuplicate, Copies: 1, Probability: ptr(0.3)},
		{ID: "rule-2", Sink: "*", Domain: "d1", Action: fault.ActionDelay, Latency: &fault.Latency{Min: time.Second, Max: 5 * time.Second}},
		{ID: "rule-3", Sink: "consumer", Action: fault.ActionReorder, Count: ptr(5)},
		{ID: "rule-4", Sink: "closures", Action: fault.ActionDrop},
	}
	goldenEventReport = fault.TrafficReport{
		EventFaults: []fault.EventFaultCount{{Sink: "consumer", Action: fault.ActionDuplicate, Events: 1}, {Sink: "consumer", Action: fault.ActionReorder, Events: 1}, {Sink: "closures", Action: fault.ActionDelay, Events: 1}},
		Events: []fault.EventRecord{
			{Time: t0, Sink: "consumer", EventID: "6f8e2a1c-0d4b-4e7a-9c1f-2b3d4e5f6a7b", Seq: 17, DomainID: "d1", Action: fault.ActionDuplicate, RuleID: "rule-1", Copies: 1},
			{Time: t0.Add(time.Second), Sink: "consumer", EventID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Seq: 19, DomainID: "d1", Action: fault.ActionReorder, RuleID: "rule-3"},
			{Time: t0.Add(2 * time.Second), Sink: "closures", EventID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Seq: 19, DomainID: "d1", Action: fault.ActionDelay, RuleID: "rule-2", Delay: 2500 * time.Millisecond},
		},
	}
)

// Human output and --json of the event delivery commands, pinned.
func TestGoldenDeliveryOutput(t *testing.T) {
	runGolden(t, []goldenCase{
		{"events-sinks", func(b *bytes.Buffer) error { return writeSinks(b, goldenSinks) }, goldenSinks},
		{"events-sinks-empty", func(b *bytes.Buffer) error { return writeSinks(b, nil) }, nil},
		{"events-dead-letters", func(b *bytes.Buffer) error { return writeDeadLetters(b, goldenDeadLetters) }, goldenDeadLetters},
		{"events-dead-letters-empty", func(b *bytes.Buffer) error { return writeDeadLetters(b, nil) }, nil},
		{"events-replay", func(b *bytes.Buffer) error { return writeReplay(b, goldenReplay) }, goldenReplay},
		{"faults-list-events", func(b *bytes.Buffer) error { return writeRules(b, goldenEventRules) }, goldenEventRules},
		{"faults-report-events", func(b *bytes.Buffer) error { return writeReport(b, goldenEventReport) }, goldenEventReport},
	})
}

// TestEventsSinksCommands drives the sink and dead-letter verbs against a
// running server: add, list, a refusing webhook's dead letters, replay once
// it is mended, delete.
func TestEventsSinksCommands(t *testing.T) {
	var mu sync.Mutex
	status, got := http.StatusBadRequest, 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if status == http.StatusOK {
			got++
		}
		w.WriteHeader(status)
	}))
	defer hook.Close()
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		err := m.Run(context.Background(), append(append([]string{"events"}, args...), "--url", srv.URL()))
		return out.String(), err
	}
	if _, err := run("sinks", "add", "ftp://nope"); err == nil || !strings.Contains(err.Error(), `scheme "ftp" is not supported`) {
		t.Errorf("add a bad URL: %v", err)
	}
	if _, err := run("sinks", "add", hook.URL, "--pattern", `{"detail":"x"}`); err == nil || !strings.Contains(err.Error(), "--pattern") {
		t.Errorf("add a bad pattern: %v", err)
	}
	out, err := run("sinks", "add", hook.URL, "--name", "hook")
	if err != nil || !strings.Contains(out, "sink hook: it gets the events after") {
		t.Fatalf("add: %q, %v", out, err)
	}
	out, err = run("sinks")
	if err != nil || !strings.Contains(out, "hook") || !strings.Contains(out, hook.URL) {
		t.Fatalf("sinks: %q, %v", out, err)
	}
	err = srv.Store().Update(context.Background(), func(tx localcases.Tx) error {
		_, err := tx.AppendEvent("d1", time.Now(), []byte(`{"id":"ev-1","detail":{"eventType":"CASE.CREATED"}}`))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.EventNotifier().Notify()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err = run("dead-letters", "--json")
		var dls []dispatch.DeadLetter
		json.Unmarshal([]byte(out), &dls)
		if err == nil && len(dls) == 1 && dls[0].EventID == "ev-1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead-letters --json: %q, %v", out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := run("dead-letters", "replay"); err == nil || !strings.Contains(err.Error(), "1 of 1 dead letters failed again") || !strings.Contains(out, "0 delivered, 1 failed") {
		t.Errorf("replay to a refusing sink: %q, %v", out, err)
	}
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	if out, err := run("dead-letters", "replay", "--sink", "hook", "ev-1"); err != nil || !strings.Contains(out, "1 delivered, 0 failed") {
		t.Errorf("replay: %q, %v", out, err)
	}
	if out, err := run("dead-letters"); err != nil || out != "no dead letters\n" {
		t.Errorf("dead-letters after the replay: %q, %v", out, err)
	}
	if _, err := run("dead-letters", "delete"); err == nil || !strings.Contains(err.Error(), "--all") {
		t.Errorf("delete without names: %v", err)
	}
	if out, err := run("dead-letters", "delete", "--all"); err != nil || out != "deleted 0 dead letters\n" {
		t.Errorf("delete --all: %q, %v", out, err)
	}
	if out, err := run("sinks", "delete", "hook"); err != nil || out != "deleted sink hook\n" {
		t.Errorf("sinks delete: %q, %v", out, err)
	}
	if _, err := run("sinks", "delete", "hook"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("deleting twice: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got != 1 {
		t.Errorf("the webhook took %d events, want 1", got)
	}
}

// TestServeRefusesABadEventSink: a bad --event-sink stops serve at once
// with what is wrong.
func TestServeRefusesABadEventSink(t *testing.T) {
	for _, tt := range []struct{ flag, want string }{
		{"localhost:9000", `--event-sink "localhost:9000": sink URL "localhost:9000": scheme "localhost" is not supported`},
		{`http://127.0.0.1:9000 pattern={"detail":1}`, "sink pattern"},
		{"http://127.0.0.1:9000 nme=x", `unexpected "nme=x"`},
	} {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		err := m.Run(context.Background(), []string{"serve", "--memory", "--addr", "127.0.0.1:0", "--event-sink", tt.flag})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve --event-sink %q: %v, want %q", tt.flag, err, tt.want)
		}
	}
}

// TestServeEventSinksFromConfigAndFlags: sinks come from the config file
// (a YAML pattern object, or a string) and from --event-sink, and are in
// the server's store at start; the delivery settings are read too.
func TestServeEventSinksFromConfigAndFlags(t *testing.T) {
	dir := t.TempDir()
	yml := dir + "/localcases.yaml"
	os.WriteFile(yml, []byte(`events:
  sinks:
    - name: closures
      url: http://127.0.0.1:9000/events
      pattern:
        detail:
          eventType: [CASE.UPDATED]
    - url: eventbridge+http://127.0.0.1:4566?source=localcases.cases
      pattern: '{"source":["aws.cases"]}'
  delivery:
    timeout: 3s
    retry: {maxAttempts: 4, maxAge: 1m}
`), 0o644)
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--config", yml,
		"--event-sink", `http://127.0.0.1:9001/all name=all`, "--events.retry-max-attempts", "5")
	d := srv.Config().Events.Delivery
	if time.Duration(d.Timeout) != 3*time.Second || d.Retry.MaxAttempts != 5 || time.Duration(d.Retry.MaxAge) != time.Minute {
		t.Errorf("delivery %+v: want the file's timeout and age, the flag's attempts", d)
	}
	sinks, err := srv.Dispatcher().Sinks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]dispatch.SinkStatus{}
	for _, s := range sinks {
		got[s.Name] = s
	}
	if s := got["closures"]; s.Pattern != `{"detail":{"eventType":["CASE.UPDATED"]}}` || s.Origin != "config" {
		t.Errorf("closures = %+v", s)
	}
	if s := got["all"]; s.URL != "http://127.0.0.1:9001/all" || s.Origin != "flag" {
		t.Errorf("all = %+v", s)
	}
	if len(sinks) != 3 {
		t.Errorf("%d sinks, want 3: %+v", len(sinks), sinks)
	}
	for _, s := range sinks {
		if s.Kind == "eventbridge" && s.Pattern != `{"source":["aws.cases"]}` {
			t.Errorf("the forwarder's pattern %q", s.Pattern)
		}
	}

	os.WriteFile(yml, []byte("events:\n  sinks:\n    - url: http://127.0.0.1:9000/x\n      pattern: {detail: {eventType: CASE.UPDATED}}\n"), 0o644)
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	err = m.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--memory", "--config", yml})
	if err == nil || !strings.Contains(err.Error(), "event sink 1") || !strings.Contains(err.Error(), "sink pattern") {
		t.Errorf("a bad pattern in the config file: %v", err)
	}
}
