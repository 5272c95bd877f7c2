package eventsink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases/eventsink"
)

// envelope returns a Cases event envelope whose detail carries n, padded
// with pad bytes of text.
func envelope(n, pad int) eventsink.Event {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	data := fmt.Sprintf(`{"version":"0","id":%q,"detail-type":"Amazon Connect Cases Change","source":"aws.cases",`+
		`"account":"111122223333","time":"2026-03-16T23:43:26Z","region":"us-east-1",`+
		`"resources":["arn:aws:cases:us-east-1:111122223333:domain/d1","arn:aws:cases:us-east-1:111122223333:domain/d1/case/c%d"],`+
		`"detail":{"version":"0","eventType":"CASE.CREATED","n":%d,"pad":%q}}`, id, n, n, strings.Repeat("x", pad))
	return eventsink.Event{ID: id, Data: []byte(data)}
}

func envelopes(n, pad int) []eventsink.Event {
	evs := make([]eventsink.Event, n)
	for i := range evs {
		evs[i] = envelope(i, pad)
	}
	return evs
}

func mustNew(t *testing.T, url string, opts eventsink.Options) eventsink.Sink {
	t.Helper()
	spec, err := eventsink.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := eventsink.New(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// received is what a test webhook got.
type received struct {
	mu     sync.Mutex
	bodies []string
	ids    []string
	ctypes []string
}

func (r *received) add(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(body))
	r.ids = append(r.ids, req.Header.Get("X-Localcases-Event-Id"))
	r.ctypes = append(r.ctypes, req.Header.Get("Content-Type"))
}

func TestWebhookDelivers(t *testing.T) {
	var got received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		got.add(r)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s := mustNew(t, srv.URL+"/hook", eventsink.Options{})
	evs := envelopes(3, 0)
	errs := s.Deliver(context.Background(), evs)
	for i, err := range errs {
		if err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	if len(got.bodies) != 3 {
		t.Fatalf("webhook got %d posts, want 3", len(got.bodies))
	}
	for i, ev := range evs {
		if got.bodies[i] != string(ev.Data) || got.ids[i] != ev.ID || got.ctypes[i] != "application/json" {
			t.Errorf("post %d: id %q, type %q, body %s; want the envelope %s", i, got.ids[i], got.ctypes[i], got.bodies[i], ev.Data)
		}
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		msg       string
	}{
		{"server error", 503, "busy", false, "answered 503 Service Unavailable: busy"},
		{"throttled", 429, "", false, "answered 429"},
		{"request timeout", 408, "", false, "answered 408"},
		{"bad request", 400, `{"error":"no"}`, true, `answered 400 Bad Request: {"error":"no"}`},
		{"gone", 410, "", true, "answered 410"},
		{"redirect not followed", 307, "", true, "answered 307"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status/100 == 3 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			err := mustNew(t, srv.URL, eventsink.Options{}).Deliver(context.Background(), envelopes(1, 0))[0]
			if err == nil {
				t.Fatal("delivered, want an error")
			}
			if eventsink.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want it to say %q", err, tt.msg)
			}
		})
	}
}

func TestWebhookRefusedConnectionIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := mustNew(t, url, eventsink.Options{}).Deliver(context.Background(), envelopes(1, 0))[0]
	if err == nil || eventsink.IsPermanent(err) {
		t.Fatalf("Deliver to a closed port = %v, want a retryable error", err)
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := mustNew(t, srv.URL, eventsink.Options{Timeout: 50 * time.Millisecond})
	err := s.Deliver(context.Background(), envelopes(1, 0))[0]
	if err == nil || eventsink.IsPermanent(err) || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("Deliver to a hanging webhook = %v, want a retryable timeout", err)
	}
}

func TestWebhookStopsWithContext(t *testing.T) {
	var got received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.add(r) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := mustNew(t, srv.URL, eventsink.Options{}).Deliver(ctx, envelopes(3, 0))
	for i, err := range errs {
		if err != context.Canceled {
			t.Errorf("event %d: %v, want context.Canceled", i, err)
		}
	}
	if len(got.bodies) != 0 {
		t.Errorf("webhook got %d posts after cancel", len(got.bodies))
	}
}

func TestEntryMapping(t *testing.T) {
	ev := envelope(7, 0)
	e, err := eventsink.Entry(ev.Data, "orders", "")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]json.RawMessage
	json.Unmarshal(ev.Data, &env)
	if *e.Source != "aws.cases" || *e.DetailType != "Amazon Connect Cases Change" || *e.EventBusName != "orders" ||
		*e.Detail != string(env["detail"]) || len(e.Resources) != 2 || !e.Time.Equal(time.Date(2026, 3, 16, 23, 43, 26, 0, time.UTC)) {
		t.Errorf("Entry = %+v", e)
	}
	// 14 for Time, then the bytes of Source, DetailType, Detail, Resources.
	want := 14 + len("aws.cases") + len("Amazon Connect Cases Change") + len(env["detail"]) +
		len("arn:aws:cases:us-east-1:111122223333:domain/d1") + len("arn:aws:cases:us-east-1:111122223333:domain/d1/case/c7")
	if got := eventsink.EntrySize(e); got != want {
		t.Errorf("EntrySize = %d, want %d", got, want)
	}
	e, _ = eventsink.Entry(ev.Data, "default", "localcases.cases")
	if *e.Source != "localcases.cases" {
		t.Errorf("rewritten Source = %q", *e.Source)
	}
	if _, err := eventsink.Entry([]byte(`[1]`), "default", ""); err == nil {
		t.Error("Entry of a JSON array: no error")
	}
}

// TestWebhookKeepsOrderAfterFailure: after a retryable failure the later
// events of the batch are not sent, so none overtakes the failed one.
func TestWebhookKeepsOrderAfterFailure(t *testing.T) {
	var got received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		if len(got.ids) == 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	errs := mustNew(t, srv.URL, eventsink.Options{}).Deliver(context.Background(), envelopes(4, 0))
	if errs[0] != nil || errs[1] == nil || errs[2] != eventsink.ErrNotAttempted || errs[3] != eventsink.ErrNotAttempted {
		t.Errorf("outcomes %v, want delivered, failed, not attempted, not attempted", errs)
	}
	if len(got.ids) != 2 {
		t.Errorf("webhook got %d posts, want 2", len(got.ids))
	}
}
