package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases"
)

// TestEventsTail runs `localcases events tail` against a server whose
// outbox holds the service's golden envelopes (a case's whole life), so
// the human and --json output are pinned by golden files.
func TestEventsTail(t *testing.T) {
	data, err := os.ReadFile("../../service/testdata/events/lifecycle.json")
	if err != nil {
		t.Fatal(err)
	}
	var envs []json.RawMessage
	if err := json.Unmarshal(data, &envs); err != nil {
		t.Fatal(err)
	}
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	err = srv.Store().Update(context.Background(), func(tx localcases.Tx) error {
		for _, e := range envs {
			var b bytes.Buffer
			json.Compact(&b, e)
			if _, err := tx.AppendEvent("DOMAIN", time.Now(), b.Bytes()); err != nil {
				return err
			}
		}
		_, err := tx.AppendEvent("OTHER", time.Now(), []byte(`{"detail":{"eventType":"CASE.CREATED","case":{"caseId":"elsewhere"}}}`))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		err := m.Run(context.Background(), append([]string{"events", "tail", "--url", srv.URL()}, args...))
		return out.String(), err
	}
	human, err := run("--no-follow", "--domain-id", "DOMAIN")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "events-tail.txt", []byte(human))
	lines, err := run("--no-follow", "--domain-id", "DOMAIN", "--json")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "events-tail.jsonl", []byte(lines))

	// A pattern filters as an EventBridge rule would; --max stops early.
	closed, err := run("--no-follow", "--json", "--pattern",
		`{"source":["aws.cases"],"detail":{"eventType":["CASE.UPDATED"],"changedFieldIds":["status"],"case":{"fields":{"status":{"value":{"stringValue":["closed"]}}}}}}`)
	if err != nil || strings.Count(closed, "\n") != 1 || !strings.Contains(closed, `"CASE.UPDATED"`) {
		t.Errorf("the closures pattern printed %q, %v", closed, err)
	}
	two, err := run("--max", "2", "--json")
	if err != nil || strings.Count(two, "\n") != 2 {
		t.Errorf("--max 2 printed %q, %v", two, err)
	}
	// Following: the tail waits for the next event and prints it.
	done := make(chan string, 1)
	go func() {
		out, _ := run("--max", "1", "--json", "--after", "10")
		done <- out
	}()
	srv.Store().Update(context.Background(), func(tx localcases.Tx) error {
		_, err := tx.AppendEvent("DOMAIN", time.Now(), []byte(`{"detail":{"eventType":"CASE.DELETED"}}`))
		return err
	})
	srv.EventNotifier().Notify()
	if out := <-done; out != "{\"detail\":{\"eventType\":\"CASE.DELETED\"}}\n" {
		t.Errorf("the following tail printed %q", out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--pattern", `{"detail":[]}`}, "--pattern: "},
		{[]string{"--pattern", `nope`}, "--pattern: "},
		{[]string{"--after", "x"}, "--after: cursor \"x\""},
		{[]string{"--max", "-1"}, "--max -1"},
	} {
		if _, err := run(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("tail %v: %v, want an error with %q", tt.args, err, tt.want)
		}
	}
}

// TestServeEventsSettings: the events section of a config file (YAML or
// JSON), the --events.* flags over it, and the environment.
func TestServeEventsSettings(t *testing.T) {
	dir := t.TempDir()
	yamlPath, jsonPath := dir+"/c.yaml", dir+"/c.json"
	os.WriteFile(yamlPath, []byte("events:\n  retainCount: 50\n  retainAge: 90m\n  relatedItemChanges: true\n  relatedItemDeletedType: CASE.RELATED_ITEM.DELETED\n  caseArn: true\n"), 0o644)
	os.WriteFile(jsonPath, []byte(`{"events": {"retainAge": "2h", "noopUpdates": true, "bareDeletes": true}}`), 0o644)

	srv, _ := MustRunMain(t, map[string]string{"LOCALCASES_EVENTS_FILTER_CHANGED_FIELDS": "true"},
		"--addr", "127.0.0.1:0", "--memory", "--config", yamlPath, "--events.retain-count", "7")
	ev := srv.Config().Events
	if ev.RetainCount != 7 || time.Duration(ev.RetainAge) != 90*time.Minute || !ev.RelatedItemChanges || !ev.CaseARN ||
		ev.RelatedItemDeletedType != "CASE.RELATED_ITEM.DELETED" || !ev.FilterChangedFields || ev.NoopUpdates {
		t.Errorf("from YAML, a flag and the environment: %+v", ev)
	}
	srv, _ = MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--config", jsonPath)
	ev = srv.Config().Events
	if ev.RetainCount != 10000 || time.Duration(ev.RetainAge) != 2*time.Hour || !ev.NoopUpdates || !ev.BareDeletes || ev.RelatedItemChanges {
		t.Errorf("from JSON with defaults: %+v", ev)
	}

	bad := dir + "/bad.yaml"
	os.WriteFile(bad, []byte("events:\n  retainAge: 90\n"), 0o644)
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--memory", "--config", bad})
	if err == nil || !strings.Contains(err.Error(), `"24h"`) {
		t.Errorf("a bare number for retainAge: %v", err)
	}
}
