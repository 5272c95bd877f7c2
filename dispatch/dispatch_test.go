package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/store/memory"
)

// waitFor polls cond until it holds; the bound is generous because the
// tests share a loaded machine, and no test measures time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// envelope is a Cases event envelope numbered n.
func envelope(n int, eventType string) (id string, data []byte) {
	id = fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	data = fmt.Appendf(nil, `{"version":"0","id":%q,"detail-type":"Amazon Connect Cases Change","source":"aws.cases",`+
		`"account":"111122223333","time":"2026-03-16T23:43:26Z","region":"us-east-1","resources":[],`+
		`"detail":{"version":"0","eventType":%q,"n":%d}}`, id, eventType, n)
	return id, data
}

// appendEvents adds events numbered from..to-1 to the outbox, one
// transaction each, and returns their IDs.
func appendEvents(t *testing.T, s localcases.Store, from, to int, eventType string) []string {
	t.Helper()
	var ids []string
	for n := from; n < to; n++ {
		id, data := envelope(n, eventType)
		err := s.Update(context.Background(), func(tx localcases.Tx) error {
			_, err := tx.AppendEvent(fmt.Sprintf("d%d", n%3), time.Now(), data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// hook is a test webhook.
type hook struct {
	*httptest.Server
	mu    sync.Mutex
	ids   []string
	fail  int // answer the next fail posts with status
	code  int
	block chan struct{} // when not nil, posts wait for it to close
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		block := h.block
		h.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
		}
		body, _ := io.ReadAll(r.Body)
		var env struct{ ID string }
		json.Unmarshal(body, &env)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.fail > 0 {
			h.fail--
			w.WriteHeader(h.code)
			return
		}
		h.ids = append(h.ids, env.ID)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) failNext(n, code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail, h.code = n, code
}

func (h *hook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...)
}

// fastOptions keep the tests quick: short polls, backoffs and leases.
func fastOptions(s localcases.Store) dispatch.Options {
	return dispatch.Options{
		Store: s, Poll: 5 * time.Millisecond, CursorEvery: 5 * time.Millisecond, Sync: 20 * time.Millisecond,
		LeaseTTL: 2 * time.Second,
		Retry:    dispatch.RetryPolicy{Initial: time.Millisecond, Max: 10 * time.Millisecond, MaxAttempts: 3},
	}
}

func start(t *testing.T, opts dispatch.Options) *dispatch.Dispatcher {
	t.Helper()
	d := dispatch.New(opts)
	d.Start()
	t.Cleanup(d.Close)
	return d
}

func addSink(t *testing.T, d *dispatch.Dispatcher, c dispatch.SinkConfig) dispatch.SinkConfig {
	t.Helper()
	c, err := d.AddSink(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sinkStatus(t *testing.T, d *dispatch.Dispatcher, name string) dispatch.SinkStatus {
	t.Helper()
	sinks, err := d.Sinks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sinks {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("sink %s not listed in %+v", name, sinks)
	return dispatch.SinkStatus{}
}

func lastSeq(t *testing.T, s localcases.Store) (n int64) {
	t.Helper()
	s.View(context.Background(), func(tx localcases.Tx) (err error) {
		n, err = tx.LastEventSeq()
		return err
	})
	return n
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestDeliversInCommitOrder(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	d := start(t, fastOptions(s))
	c := addSink(t, d, dispatch.SinkConfig{URL: h.URL})
	want := appendEvents(t, s, 0, 50, "CASE.CREATED")
	waitFor(t, "50 deliveries", func() bool { return len(h.received()) >= 50 })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	waitFor(t, "the cursor at the end", func() bool { return sinkStatus(t, d, c.Name).Cursor == lastSeq(t, s) })
	st := sinkStatus(t, d, c.Name)
	if st.Lag != 0 || st.Stats.Delivered != 50 || !st.Running || st.Kind != "webhook" {
		t.Errorf("status %+v, want lag 0, 50 delivered, running", st)
	}
}

func TestNewSinkStartsAtTheEnd(t *testing.T) {
	s := memory.New()
	appendEvents(t, s, 0, 5, "CASE.CREATED")
	h := newHook(t)
	d := start(t, fastOptions(s))
	addSink(t, d, dispatch.SinkConfig{URL: h.URL})
	want := appendEvents(t, s, 5, 8, "CASE.CREATED")
	waitFor(t, "3 deliveries", func() bool { return len(h.received()) >= 3 })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want only the events after the sink was added, %v", got, want)
	}
}

func TestPatternFilters(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	d := start(t, fastOptions(s))
	c := addSink(t, d, dispatch.SinkConfig{URL: h.URL, Pattern: `{"detail": {"eventType": ["CASE.UPDATED"]}}`})
	if c.Pattern != `{"detail":{"eventType":["CASE.UPDATED"]}}` {
		t.Errorf("stored pattern %s, want it compact", c.Pattern)
	}
	appendEvents(t, s, 0, 3, "CASE.CREATED")
	want := appendEvents(t, s, 3, 5, "CASE.UPDATED")
	appendEvents(t, s, 5, 7, "CASE.DELETED")
	waitFor(t, "the cursor past every event", func() bool { return sinkStatus(t, d, c.Name).Cursor == lastSeq(t, s) })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want the CASE.UPDATED events %v", got, want)
	}
}

func TestRetriesThenDelivers(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	h.failNext(2, http.StatusServiceUnavailable)
	d := start(t, fastOptions(s))
	c := addSink(t, d, dispatch.SinkConfig{URL: h.URL})
	want := appendEvents(t, s, 0, 4, "CASE.CREATED")
	waitFor(t, "4 deliveries", func() bool { return len(h.received()) >= 4 })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want %v in order despite the failures", got, want)
	}
	st := sinkStatus(t, d, c.Name)
	if st.Stats.Failed != 2 || st.DeadLetters != 0 || !strings.Contains(st.Stats.LastError, "503") {
		t.Errorf("stats %+v, want 2 failed attempts, no dead letter, the 503 as last error", st)
	}
}

func TestDeadLettersAndReplay(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	h.failNext(1000, http.StatusInternalServerError)
	var mu sync.Mutex
	var outcomes []dispatch.Result
	opts := fastOptions(s)
	opts.Observe = func(o dispatch.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o.Result)
	}
	d := start(t, opts)
	c := addSink(t, d, dispatch.SinkConfig{URL: h.URL, Name: "hook"})
	want := appendEvents(t, s, 0, 2, "CASE.CREATED")
	waitFor(t, "the cursor past both events", func() bool { return sinkStatus(t, d, c.Name).Cursor == lastSeq(t, s) })
	dls, err := d.DeadLetters(context.Background(), "hook")
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dls))
	}
	for i, dl := range dls {
		if dl.EventID != want[i] || dl.Attempts != 3 || dl.Sink != "hook" || !strings.Contains(dl.Error, "500") || len(dl.Event) == 0 {
			t.Errorf("dead letter %d = %+v, want event %s after 3 attempts with the 500", i, dl, want[i])
		}
	}
	mu.Lock()
	got := fmt.Sprint(outcomes)
	mu.Unlock()
	if got != "[failed failed failed dead_lettered failed failed failed dead_lettered]" {
		t.Errorf("outcomes %s", got)
	}

	// The sink fails for good: replay keeps the record, with one more attempt.
	res, err := d.Replay(context.Background(), "hook", []string{want[0]})
	if err != nil || len(res) != 1 || res[0].Delivered || !strings.Contains(res[0].Error, "500") {
		t.Fatalf("Replay = %+v, %v; want one failure", res, err)
	}
	dls, _ = d.DeadLetters(context.Background(), "")
	if dls[0].Attempts != 4 {
		t.Errorf("attempts after a failed replay %d, want 4", dls[0].Attempts)
	}

	h.failNext(0, 0)
	res, err = d.Replay(context.Background(), "", nil)
	if err != nil || len(res) != 2 || !res[0].Delivered || !res[1].Delivered {
		t.Fatalf("Replay = %+v, %v; want both delivered", res, err)
	}
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	if dls, _ := d.DeadLetters(context.Background(), "hook"); len(dls) != 0 {
		t.Errorf("%d dead letters left after a replay", len(dls))
	}
	if _, err := d.Replay(context.Background(), "hook", []string{"nope"}); !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("Replay of an unknown event = %v, want ErrNotFound", err)
	}
	if _, err := d.DeadLetters(context.Background(), "nosuch"); !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("DeadLetters of an unknown sink = %v, want ErrNotFound", err)
	}
}

func TestPermanentFailureDeadLettersAtOnce(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	h.failNext(1, http.StatusBadRequest)
	d := start(t, fastOptions(s))
	addSink(t, d, dispatch.SinkConfig{URL: h.URL, Name: "hook"})
	ids := appendEvents(t, s, 0, 2, "CASE.CREATED")
	waitFor(t, "the second event", func() bool { return len(h.received()) == 1 })
	// The two events may go out in one batch: the second can arrive
	// before the first's dead letter is written.
	waitFor(t, "a dead letter", func() bool {
		dls, err := d.DeadLetters(context.Background(), "hook")
		return err != nil || len(dls) > 0
	})
	dls, err := d.DeadLetters(context.Background(), "hook")
	if err != nil || len(dls) != 1 || dls[0].EventID != ids[0] || dls[0].Attempts != 1 {
		t.Fatalf("dead letters %+v, %v; want the first event after one attempt", dls, err)
	}
	n, err := d.DeleteDeadLetters(context.Background(), "hook", nil)
	if err != nil || n != 1 {
		t.Errorf("DeleteDeadLetters = %d, %v; want 1", n, err)
	}
}

// TestHangingSinkHoldsEventsInTheOutbox: a sink that hangs fills its queue;
// the bound is counted, appends go on, and once the sink answers every
// event arrives.
func TestHangingSinkHoldsEventsInTheOutbox(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	release := make(chan struct{})
	h.block = release
	opts := fastOptions(s)
	opts.QueueSize = 5
	opts.BatchSize = 2
	d := start(t, opts)
	c := addSink(t, d, dispatch.SinkConfig{URL: h.URL})
	want := appendEvents(t, s, 0, 40, "CASE.CREATED")
	waitFor(t, "the queue bound to be hit", func() bool { return sinkStatus(t, d, c.Name).Stats.QueueFull > 0 })
	if n := len(h.received()); n != 0 {
		t.Fatalf("%d deliveries while the sink hangs", n)
	}
	h.mu.Lock()
	h.block = nil
	h.mu.Unlock()
	close(release)
	waitFor(t, "40 deliveries", func() bool { return len(h.received()) >= 40 })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
}

func TestAddSinkChecks(t *testing.T) {
	s := memory.New()
	d := start(t, fastOptions(s))
	ctx := context.Background()
	var ce *dispatch.ConfigError
	if _, err := d.AddSink(ctx, dispatch.SinkConfig{URL: "ftp://x"}, false); !errors.As(err, &ce) || !strings.Contains(err.Error(), `scheme "ftp"`) {
		t.Errorf("bad URL: %v, want a ConfigError naming the scheme", err)
	}
	if _, err := d.AddSink(ctx, dispatch.SinkConfig{URL: "http://h:1", Pattern: `{"source":"aws.cases"}`}, false); !errors.As(err, &ce) || !strings.Contains(err.Error(), "sink pattern") {
		t.Errorf("bad pattern: %v, want a ConfigError", err)
	}
	if _, err := d.AddSink(ctx, dispatch.SinkConfig{URL: "http://h:1", Name: "no spaces"}, false); !errors.As(err, &ce) {
		t.Errorf("bad name: %v, want a ConfigError", err)
	}
	a := addSink(t, d, dispatch.SinkConfig{URL: "http://h:1/a", Name: "a"})
	if b := addSink(t, d, dispatch.SinkConfig{URL: "http://h:1/a", Name: "a"}); b != a {
		t.Errorf("adding the same sink again = %+v, want %+v", b, a)
	}
	if _, err := d.AddSink(ctx, dispatch.SinkConfig{URL: "http://h:1/b", Name: "a"}, false); !errors.Is(err, localcases.ErrConflict) {
		t.Errorf("another URL under the same name = %v, want ErrConflict", err)
	}
	if c, err := d.AddSink(ctx, dispatch.SinkConfig{URL: "http://h:1/b", Name: "a"}, true); err != nil || c.URL != "http://h:1/b" {
		t.Errorf("replace = %+v, %v", c, err)
	}
	if err := d.DeleteSink(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteSink(ctx, "a"); !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("deleting twice = %v, want ErrNotFound", err)
	}
}

func TestTrimBound(t *testing.T) {
	s := memory.New()
	d := start(t, fastOptions(s))
	bound := func() (n int64, ok bool) {
		s.View(context.Background(), func(tx localcases.Tx) (err error) {
			n, ok, err = dispatch.TrimBound(tx)
			return err
		})
		return n, ok
	}
	if _, ok := bound(); ok {
		t.Error("a bound without sinks")
	}
	// A sink that never answers holds retention at its cursor.
	h := newHook(t)
	release := make(chan struct{})
	defer close(release)
	h.block = release
	appendEvents(t, s, 0, 3, "CASE.CREATED")
	addSink(t, d, dispatch.SinkConfig{URL: h.URL})
	appendEvents(t, s, 3, 6, "CASE.CREATED")
	if n, ok := bound(); !ok || n != 3 {
		t.Errorf("bound %d, %v; want 3, the cursor of the new sink", n, ok)
	}
}
