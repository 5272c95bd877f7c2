package dispatch_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/store/memory"
)

// runWithRules delivers n events to a webhook under the event rules and
// returns what the webhook received and what the recorder kept.
func runWithRules(t *testing.T, seed int64, rules string, n int, done func(got []string) bool) ([]string, []string, []fault.EventRecord) {
	t.Helper()
	parsed, err := fault.ParseRules([]byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	eng := fault.NewEngine(fault.WithSeed(seed))
	if err := eng.SetRules(parsed); err != nil {
		t.Fatal(err)
	}
	rec := fault.NewRecorder(100)
	s := memory.New()
	h := newHook(t)
	opts := fastOptions(s)
	opts.Faults, opts.Recorder = eng, rec
	d := start(t, opts)
	c := addSink(t, d, dispatch.SinkConfig{URL: h.URL, Name: "hook"})
	want := appendEvents(t, s, 0, n, "CASE.CREATED")
	waitFor(t, "the cursor past every event", func() bool { return sinkStatus(t, d, c.Name).Cursor == lastSeq(t, s) })
	waitFor(t, "the deliveries", func() bool { return done(h.received()) })
	return want, h.received(), rec.Events(0)
}

func TestFaultDrop(t *testing.T) {
	want, got, recs := runWithRules(t, 1, `[{"sink":"hook","action":"drop","count":2}]`, 6,
		func(got []string) bool { return len(got) >= 4 })
	if !slices.Equal(got, want[2:]) {
		t.Errorf("received %v, want all but the first two, %v", got, want[2:])
	}
	if len(recs) != 2 || recs[0].EventID != want[0] || recs[1].EventID != want[1] || recs[0].Action != fault.ActionDrop || recs[0].Sink != "hook" {
		t.Errorf("records %+v, want drops of %v", recs, want[:2])
	}
}

func TestFaultDuplicate(t *testing.T) {
	want, got, recs := runWithRules(t, 1, `[{"sink":"*","action":"duplicate","copies":2}]`, 3,
		func(got []string) bool { return len(got) >= 9 })
	var expect []string
	for _, id := range want {
		expect = append(expect, id, id, id)
	}
	if !slices.Equal(got, expect) {
		t.Errorf("received %v, want each event three times, %v", got, expect)
	}
	if len(recs) != 3 || recs[0].Copies != 2 {
		t.Errorf("records %+v", recs)
	}
}

func TestFaultReorder(t *testing.T) {
	want, got, recs := runWithRules(t, 1, `[{"sink":"hook","action":"reorder","count":1}]`, 5,
		func(got []string) bool { return len(got) >= 5 })
	if len(got) != 5 || got[0] == want[0] || !slices.Contains(got, want[0]) {
		t.Errorf("received %v: want %s, held back, after a later event", got, want[0])
	}
	if len(recs) != 1 || recs[0].EventID != want[0] || recs[0].Action != fault.ActionReorder {
		t.Errorf("records %+v", recs)
	}
}

func TestFaultDelay(t *testing.T) {
	want, got, recs := runWithRules(t, 1, `[{"sink":"hook","action":"delay","latency":"300ms","count":1}]`, 4,
		func(got []string) bool { return len(got) >= 4 })
	if len(got) != 4 || got[0] == want[0] || !slices.Contains(got, want[0]) {
		t.Errorf("received %v: want %s delayed behind later events", got, want[0])
	}
	if len(recs) != 1 || recs[0].Delay.String() != "300ms" {
		t.Errorf("records %+v", recs)
	}
}

// TestFaultsReproducibleFromSeed: the same seed drops the same events.
func TestFaultsReproducibleFromSeed(t *testing.T) {
	rules := `[{"sink":"hook","action":"drop","probability":0.5}]`
	dropped := func(seed int64) string {
		_, _, recs := runWithRules(t, seed, rules, 30, func([]string) bool { return true })
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.EventID)
		}
		return fmt.Sprint(ids)
	}
	a, b, c := dropped(3), dropped(3), dropped(4)
	if a != b {
		t.Errorf("seed 3 dropped %s, then %s", a, b)
	}
	if a == c {
		t.Errorf("seeds 3 and 4 dropped the same events %s", a)
	}
}
