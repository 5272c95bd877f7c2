package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchEvents: with Events, every case created in a round with events
// on reaches the bench's webhook exactly once, and none from the rounds
// with events off; the text report says so.
func TestBenchEvents(t *testing.T) {
	res, err := Run(context.Background(), Config{Workload: []OpWeight{{"CreateCase", 1}}, Concurrency: 4, Requests: 60, Events: true})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Events
	if e == nil || len(e.Rounds) != 2*eventRounds+1 {
		t.Fatalf("events result %+v", e)
	}
	var on int64
	for i, r := range e.Rounds {
		if r.Events != (i%2 == 1) || r.Successes != 60 {
			t.Errorf("round %d = %+v, want 60 successes, events on in odd rounds", i, r)
		}
		if r.Events {
			on += r.Successes
		}
	}
	if e.Delivered != on || e.Duplicates != 0 || !e.CaughtUp || e.ThroughputRatio <= 0 || e.Lag.MaxMs <= 0 {
		t.Errorf("delivered %d of %d, duplicates %d, caught up %v, ratio %v, lag %+v", e.Delivered, on, e.Duplicates, e.CaughtUp, e.ThroughputRatio, e.Lag)
	}
	var b bytes.Buffer
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "case events on, one webhook sink") || !strings.Contains(b.String(), "120 events") {
		t.Errorf("report:\n%s", b.String())
	}
}
