package dispatch_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/postgres"
	"github.com/localcases/localcases/store/sqlite"
	"github.com/localcases/localcases/store/storetest"
)

// missing returns the IDs of want that got lacks.
func missing(want, got []string) []string {
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	var out []string
	for _, id := range want {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}

func duplicates(got []string) int {
	seen := map[string]bool{}
	n := 0
	for _, id := range got {
		if seen[id] {
			n++
		}
		seen[id] = true
	}
	return n
}

// TestResumesAfterCrash: a server killed mid-stream leaves its cursor in
// the store; the next one resumes there, once the lease expires, and no
// event is missed.
func TestResumesAfterCrash(t *testing.T) {
	dir := t.TempDir()
	open := func() localcases.Store {
		s, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	h := newHook(t)
	opts := fastOptions(s)
	opts.LeaseTTL = 500 * time.Millisecond
	d := dispatch.New(opts)
	d.Start()
	c, err := d.AddSink(context.Background(), dispatch.SinkConfig{URL: h.URL}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := appendEvents(t, s, 0, 20, "CASE.CREATED")
	waitFor(t, "some deliveries", func() bool { return len(h.received()) >= 5 })
	d.Crash()
	s.Close()

	s = open()
	defer s.Close()
	want = append(want, appendEvents(t, s, 20, 40, "CASE.CREATED")...)
	opts.Store = s
	d2 := start(t, opts)
	waitFor(t, "every event", func() bool { return len(missing(want, h.received())) == 0 })
	waitFor(t, "the cursor at the end", func() bool { return sinkStatus(t, d2, c.Name).Cursor == lastSeq(t, s) })
}

// TestGracefulStopHandsOver: a server that stops releases its leases, so
// another takes over without waiting for them to expire.
func TestGracefulStopHandsOver(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := newHook(t)
	opts := fastOptions(s)
	opts.LeaseTTL = time.Hour // only a release lets the second server in
	opts.Owner = "first"
	d := dispatch.New(opts)
	d.Start()
	c, _ := d.AddSink(context.Background(), dispatch.SinkConfig{URL: h.URL}, false)
	want := appendEvents(t, s, 0, 5, "CASE.CREATED")
	waitFor(t, "5 deliveries", func() bool { return len(h.received()) >= 5 })
	d.Close()
	opts.Owner = "second"
	d2 := start(t, opts)
	want = append(want, appendEvents(t, s, 5, 10, "CASE.CREATED")...)
	waitFor(t, "10 deliveries", func() bool { return len(h.received()) >= 10 })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	if st := sinkStatus(t, d2, c.Name); st.Owner != "second" || !st.Running {
		t.Errorf("status %+v, want the second server delivering", st)
	}
}

// TestTwoServersOnePostgres: two servers on one PostgreSQL database deliver
// each event once between them; when the one delivering dies, the other
// takes over from the cursor and nothing is lost.
func TestTwoServersOnePostgres(t *testing.T) {
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), u, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s1, s2 := open(), open()
	h := newHook(t)
	var mu sync.Mutex
	by := map[string]int{}
	count := func(owner string) func(dispatch.Outcome) {
		return func(o dispatch.Outcome) {
			if o.Result == dispatch.Delivered {
				mu.Lock()
				by[owner]++
				mu.Unlock()
			}
		}
	}
	o1, o2 := fastOptions(s1), fastOptions(s2)
	o1.Owner, o2.Owner = "one", "two"
	o1.LeaseTTL, o2.LeaseTTL = time.Second, time.Second
	o1.Observe, o2.Observe = count("one"), count("two")
	d1 := dispatch.New(o1)
	d1.Start()
	c, err := d1.AddSink(context.Background(), dispatch.SinkConfig{URL: h.URL, Name: "shared"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// The second server learns of the sink from the store.
	d2 := start(t, o2)
	waitFor(t, "the second server to see the sink", func() bool { return sinkStatus(t, d2, c.Name).Owner != "" })
	want := appendEvents(t, s1, 0, 30, "CASE.CREATED")
	want = append(want, appendEvents(t, s2, 30, 60, "CASE.CREATED")...)
	waitFor(t, "60 deliveries", func() bool { return len(h.received()) >= 60 })
	if got := h.received(); !equal(got, want) || duplicates(got) != 0 {
		t.Fatalf("received %v, want each of %v once, in order", got, want)
	}
	holder := sinkStatus(t, d2, c.Name).Owner
	mu.Lock()
	if by["one"]+by["two"] != 60 || (by[holder] != 60) {
		t.Errorf("deliveries by server %v, want all 60 by the lease holder %s", by, holder)
	}
	mu.Unlock()

	// The holder dies without a word; the other takes over after the
	// lease expires.
	dead, alive, aliveName := d1, d2, "two"
	if holder == "two" {
		dead, alive, aliveName = d2, d1, "one"
	}
	dead.Crash()
	want = append(want, appendEvents(t, s1, 60, 90, "CASE.CREATED")...)
	waitFor(t, "every event after the crash", func() bool { return len(missing(want, h.received())) == 0 })
	waitFor(t, "the survivor to hold the lease", func() bool { return sinkStatus(t, alive, c.Name).Owner == aliveName })
	if d1 != dead {
		d1.Close()
	}
}

// TestExclusiveStoreTakesOverAtOnce: on a store no other server shares, a
// restart after a crash takes the dead run's leases over at once.
func TestExclusiveStoreTakesOverAtOnce(t *testing.T) {
	s := memory.New()
	h := newHook(t)
	opts := fastOptions(s)
	opts.LeaseTTL = time.Hour // only the take-over lets the second run in
	opts.Owner = "crashed"
	d := dispatch.New(opts)
	d.Start()
	c, _ := d.AddSink(context.Background(), dispatch.SinkConfig{URL: h.URL}, false)
	waitFor(t, "the lease", func() bool { return sinkStatus(t, d, c.Name).Owner == "crashed" })
	d.Crash()
	opts.Owner, opts.Exclusive = "restarted", true
	d2 := start(t, opts)
	want := appendEvents(t, s, 0, 3, "CASE.CREATED")
	waitFor(t, "3 deliveries", func() bool { return len(h.received()) >= 3 })
	if got := h.received(); !equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	if st := sinkStatus(t, d2, c.Name); st.Owner != "restarted" {
		t.Errorf("owner %q, want the restarted run", st.Owner)
	}
}
