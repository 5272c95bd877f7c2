package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/eventsink/eventbridgetest"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// Event delivery end to end: the Go SDK drives cases, and sinks must get
// exactly what the poll endpoint shows. Helpers carry an sk prefix.

// skHook is a webhook that keeps the envelopes it is posted.
type skHook struct {
	*httptest.Server
	mu     sync.Mutex
	events []map[string]any
	status int // answer with this status instead of 200 when not 0
}

func skNewHook(t *testing.T) *skHook {
	h := &skHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.status != 0 {
			w.WriteHeader(h.status)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || r.Header.Get("X-Localcases-Event-Id") != m["id"] {
			t.Errorf("webhook got %s (%v), header id %q", body, err, r.Header.Get("X-Localcases-Event-Id"))
		}
		h.events = append(h.events, m)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *skHook) got() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.events...)
}

func (h *skHook) setStatus(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = code
}

func skIDs(evs []map[string]any) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e["id"].(string))
	}
	return out
}

// skWait polls cond; the bound is generous for a loaded machine.
func skWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSinkGetsWhatThePollEndpointShows: a webhook configured at start,
// filtered by a pattern, receives exactly the matching events, in order,
// on every engine.
func TestSinkGetsWhatThePollEndpointShows(t *testing.T) {
	evEngines(t, func(t *testing.T, engine servertest.Option) {
		all, updates := skNewHook(t), skNewHook(t)
		e := sdkcSetup(t, engine, servertest.WithConfig(func(c *server.Config) {
			c.Events.Sinks = []server.SinkEntry{
				{URL: all.URL},
				{Name: "updates", URL: updates.URL, Pattern: `{"detail":{"eventType":["CASE.UPDATED"]}}`},
			}
		}))
		evConfigure(t, e, true, "status", "title")
		var caseIDs []string
		for range 3 {
			caseIDs = append(caseIDs, *e.create().CaseId)
		}
		e.mustUpdate(caseIDs[0], sdkcS("status", "closed"))
		must[*connectcases.DeleteCaseOutput](t)(e.c.DeleteCase(e.ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: aws.String(caseIDs[1])}))

		want, _ := evPoll(t, e.srv, *e.domain, "")
		if len(want) != 5 {
			t.Fatalf("the poll endpoint shows %d events, want 5", len(want))
		}
		skWait(t, "the webhook to get every event", func() bool { return len(all.got()) >= len(want) })
		if got := all.got(); !reflect.DeepEqual(got, want) {
			t.Errorf("the webhook got\n%v\nwant the polled events\n%v", evJSON(got), evJSON(want))
		}
		skWait(t, "the filtered webhook", func() bool { return len(updates.got()) >= 1 })
		if got := evTypes(updates.got()); !reflect.DeepEqual(got, []string{"CASE.UPDATED"}) {
			t.Errorf("the filtered webhook got %v", got)
		}
		sinks, err := admin.NewClient(e.srv.URL()).Sinks(e.ctx)
		if err != nil || len(sinks) != 2 {
			t.Fatalf("sinks %+v, %v", sinks, err)
		}
		for _, s := range sinks {
			if s.Origin != "config" || s.Kind != "webhook" {
				t.Errorf("sink %+v", s)
			}
		}
	})
}

func TestSinksAdminAPI(t *testing.T) {
	srv := servertest.MustOpen(t)
	c := admin.NewClient(srv.URL())
	ctx := context.Background()
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL()+admin.Prefix+"sinks", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	bad := []struct{ body, msg string }{
		{`{"url":"ftp://example.com"}`, `scheme \"ftp\" is not supported`},
		{`{"url":""}`, "empty"},
		{`{"url":"http://h:1","pattern":{"source":"aws.cases"}}`, "sink pattern"},
		{`{"url":"http://h:1","pattern":"{not json"}`, "sink pattern"},
		{`{"url":"eventbridge+http://h:1?bogus=1"}`, "unknown parameter bogus"},
		{`{"url":"http://h:1","name":"a b"}`, "sink name"},
		{`{"url":"http://h:1","extra":1}`, "unknown field"},
		{`not json`, "the body must be"},
	}
	for _, tt := range bad {
		code, body := post(tt.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.msg) {
			t.Errorf("POST %s = %d %s, want 400 saying %q", tt.body, code, body, tt.msg)
		}
	}
	code, body := post(`{"url":"http://127.0.0.1:1/hook","name":"h","pattern":{"source":["aws.cases"]}}`)
	if code != http.StatusCreated || !strings.Contains(body, `"pattern": "{\"source\":[\"aws.cases\"]}"`) {
		t.Fatalf("POST a sink = %d %s", code, body)
	}
	if code, body := post(`{"url":"http://127.0.0.1:2/hook","name":"h"}`); code != http.StatusConflict {
		t.Errorf("POST another URL under the same name = %d %s, want 409", code, body)
	}
	if st, err := c.AddSink(ctx, "h", "http://127.0.0.1:2/hook", "", true); err != nil || st.URL != "http://127.0.0.1:2/hook" || st.Pattern != "" {
		t.Errorf("replace = %+v, %v; want the new URL and no pattern", st, err)
	}
	if _, err := c.AddSink(ctx, "pw", "https://user:secret@127.0.0.1:1/x", "", false); err != nil {
		t.Fatal(err)
	}
	sinks, err := c.Sinks(ctx)
	if err != nil || len(sinks) != 2 || sinks[0].Name != "h" || sinks[1].URL != "https://user:xxxxx@127.0.0.1:1/x" {
		t.Fatalf("sinks %+v, %v; want h and pw with its password hidden", sinks, err)
	}
	if err := c.DeleteSink(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSink(ctx, "h"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("deleting twice: %v, want not found", err)
	}
	if _, err := c.DeadLetters(ctx, "nosuch"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("dead letters of an unknown sink: %v, want not found", err)
	}
	if _, err := c.Replay(ctx, "pw", []string{"nope"}); err == nil || !strings.Contains(err.Error(), "no dead letter") {
		t.Errorf("replaying an unknown dead letter: %v", err)
	}
}

// TestBadSinkStopsTheStart: a bad sink in the configuration is an error at
// start, not a silent no-op.
func TestBadSinkStopsTheStart(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Memory = true
	cfg.Addr = "127.0.0.1:0"
	cfg.Events.Sinks = []server.SinkEntry{{URL: "localhost:9000"}}
	if _, err := server.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "has no scheme") && !strings.Contains(err.Error(), "not supported") {
		t.Errorf("New with a bad sink URL = %v", err)
	}
	cfg.Events.Sinks = []server.SinkEntry{{URL: "http://h:1", Pattern: `{"detail":1}`}}
	if _, err := server.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "sink pattern") {
		t.Errorf("New with a bad pattern = %v", err)
	}
}

// TestDeadLettersReplayThroughAdmin: events a sink refuses go to dead
// letters, listed and replayed through the admin API.
func TestDeadLettersReplayThroughAdmin(t *testing.T) {
	h := skNewHook(t)
	h.setStatus(http.StatusBadRequest) // permanent: dead-lettered at once
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.Sinks = []server.SinkEntry{{Name: "hook", URL: h.URL}}
	}))
	evConfigure(t, e, false)
	e.create()
	e.create()
	c := admin.NewClient(e.srv.URL())
	skWait(t, "two dead letters", func() bool {
		dls, err := c.DeadLetters(e.ctx, "hook")
		return err == nil && len(dls) == 2
	})
	dls, _ := c.DeadLetters(e.ctx, "")
	want, _ := evPoll(t, e.srv, *e.domain, "")
	if dls[0].EventID != want[0]["id"] || dls[1].EventID != want[1]["id"] || !strings.Contains(dls[0].Error, "400") || dls[0].DomainID != *e.domain {
		t.Fatalf("dead letters %+v, want the two events with the 400", dls)
	}
	h.setStatus(0)
	res, err := c.Replay(e.ctx, "hook", nil)
	if err != nil || res.Delivered != 2 || res.Failed != 0 {
		t.Fatalf("Replay = %+v, %v", res, err)
	}
	if got := h.got(); !reflect.DeepEqual(got, want) {
		t.Errorf("the webhook got %v, want %v", evJSON(got), evJSON(want))
	}
	if dls, _ := c.DeadLetters(e.ctx, ""); len(dls) != 0 {
		t.Errorf("%d dead letters left", len(dls))
	}
}

// TestForwardsToEventBridge: the forwarder puts each event to a PutEvents
// stand-in through the SDK, with the source rewritten.
func TestForwardsToEventBridge(t *testing.T) {
	eb := eventbridgetest.NewServer()
	defer eb.Close()
	eb.RefuseAWSSources(true)
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.Sinks = []server.SinkEntry{{URL: eb.SinkURL("source=localcases.cases&bus=cases")}}
	}))
	evConfigure(t, e, false, "status")
	for range 12 {
		e.create()
	}
	want, _ := evPoll(t, e.srv, *e.domain, "")
	skWait(t, "12 entries", func() bool { return len(eb.Entries()) >= 12 })
	got := eb.Entries()
	for i, ent := range got {
		var detail any
		json.Unmarshal([]byte(ent.Detail), &detail)
		if ent.Source != "localcases.cases" || ent.DetailType != "Amazon Connect Cases Change" || ent.EventBusName != "cases" ||
			!reflect.DeepEqual(detail, want[i]["detail"]) || evJSON(ent.Resources) != evJSON(want[i]["resources"]) ||
			ent.Time.Format(time.RFC3339) != want[i]["time"] {
			t.Errorf("entry %d = %+v\nwant event %s", i, ent, evJSON(want[i]))
		}
	}
	for _, r := range eb.Requests() {
		if r.Entries > 10 || r.SigningName != "events" {
			t.Errorf("request %+v: want at most 10 entries, signed for events", r)
		}
	}
}

// TestEventFaultsThroughAdmin: an event rule added with the fault verbs
// duplicates events to one sink, and the traffic report names them.
func TestEventFaultsThroughAdmin(t *testing.T) {
	h, other := skNewHook(t), skNewHook(t)
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.Sinks = []server.SinkEntry{{Name: "dup", URL: h.URL}, {Name: "plain", URL: other.URL}}
	}))
	c := admin.NewClient(e.srv.URL())
	rules, err := fault.ParseRules([]byte(`[{"id":"twice","sink":"dup","action":"duplicate"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRules(e.ctx, rules); err != nil {
		t.Fatal(err)
	}
	evConfigure(t, e, false)
	e.create()
	e.create()
	want, _ := evPoll(t, e.srv, *e.domain, "")
	skWait(t, "4 deliveries", func() bool { return len(h.got()) >= 4 })
	skWait(t, "2 deliveries", func() bool { return len(other.got()) >= 2 })
	ids := skIDs(want)
	if got := skIDs(h.got()); !reflect.DeepEqual(got, []string{ids[0], ids[0], ids[1], ids[1]}) {
		t.Errorf("the faulted sink got %v", got)
	}
	if got := skIDs(other.got()); !reflect.DeepEqual(got, ids) {
		t.Errorf("the other sink got %v, want %v", got, ids)
	}
	rep, err := c.Report(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Events) != 2 || rep.Events[0].EventID != ids[0] || rep.Events[0].RuleID != "twice" || rep.Events[0].Sink != "dup" ||
		len(rep.EventFaults) != 1 || rep.EventFaults[0].Events != 2 {
		t.Errorf("report events %+v, counts %+v", rep.Events, rep.EventFaults)
	}
	// The rule does not touch API calls.
	if _, err := e.c.ListTemplates(e.ctx, &connectcases.ListTemplatesInput{DomainId: e.domain}); err != nil {
		t.Errorf("an API call under an event rule: %v", err)
	}
}

// TestHangingSinkDoesNotSlowTheAPI: with a sink that never answers, API
// calls go on and their events wait in the outbox.
func TestHangingSinkDoesNotSlowTheAPI(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.Sinks = []server.SinkEntry{{Name: "hang", URL: hang.URL}}
		c.Events.Delivery.QueueSize = 4
	}))
	evConfigure(t, e, false)
	for range 30 {
		e.create()
	}
	c := admin.NewClient(e.srv.URL())
	skWait(t, "the queue bound to be counted", func() bool {
		sinks, err := c.Sinks(e.ctx)
		return err == nil && sinks[0].Stats.QueueFull > 0
	})
	sinks, _ := c.Sinks(e.ctx)
	if sinks[0].Lag < 25 || sinks[0].Stats.Delivered != 0 {
		t.Errorf("sink %+v: want its events waiting in the outbox", sinks[0])
	}
}
