package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchEvents: with Events, a warm-up round with events off comes
// first and the rounds after it have as many with events on as off; every
// case created in a round with events on reaches the bench's webhook
// exactly once, and none from the rounds with events off; the text report
// says so.
func TestBenchEvents(t *testing.T) {
	res, err := Run(context.Background(), Config{Workload: []OpWeight{{"CreateCase", 1}}, Concurrency: 4, Requests: 60, Events: true, EventPairs: 2})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Events
	order := eventOrder(2)
	if e == nil || len(e.Rounds) != len(order)+1 {
		t.Fatalf("events result %+v", e)
	}
	balance := 0
	for _, on := range order {
		if on {
			balance++
		} else {
			balance--
		}
	}
	if balance != 0 {
		t.Errorf("order %v: not as many rounds with events on as off", order)
	}
	var on int64
	for i, r := range e.Rounds {
		// The warm-up, then the rounds in eventOrder.
		wantOn := i > 0 && order[i-1]
		if r.Events != wantOn || r.Warmup != (i == 0) || r.Successes != 60 {
			t.Errorf("round %d = %+v, want 60 successes, warm-up %v, events on %v", i, r, i == 0, wantOn)
		}
		if r.Events {
			on += r.Successes
		}
	}
	if len(e.GroupRatios) != 2 {
		t.Errorf("group ratios %v, want one for each of the 2 groups", e.GroupRatios)
	}
	if e.Delivered != on || e.Duplicates != 0 || !e.CaughtUp || e.ThroughputRatio <= 0 || e.Lag.MaxMs <= 0 {
		t.Errorf("delivered %d of %d, duplicates %d, caught up %v, ratio %v, lag %+v", e.Delivered, on, e.Duplicates, e.CaughtUp, e.ThroughputRatio, e.Lag)
	}
	var b bytes.Buffer
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "case events on, one webhook sink") || !strings.Contains(b.String(), "240 events") || !strings.Contains(b.String(), "2 groups of on, off, off, on") {
		t.Errorf("report:\n%s", b.String())
	}
}
