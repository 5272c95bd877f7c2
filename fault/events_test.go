package fault

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEventRuleValidation(t *testing.T) {
	valid := []struct {
		js   string
		want Rule
	}{
		{`{"sink":"s","action":"drop"}`, Rule{Sink: "s", Action: ActionDrop}},
		{`{"sink":"*","action":"duplicate"}`, Rule{Sink: "*", Action: ActionDuplicate, Copies: 1}},
		{`{"sink":"s","action":"duplicate","copies":3,"probability":0.5}`, Rule{Sink: "s", Action: ActionDuplicate, Copies: 3, Probability: prob(0.5)}},
		{`{"sink":"s","latency":"2s"}`, Rule{Sink: "s", Action: ActionDelay, Latency: FixedLatency(2 * time.Second)}},
		{`{"sink":"s","action":"reorder","domain":"d1","operation":"*"}`, Rule{Sink: "s", Action: ActionReorder, Domain: "d1"}},
	}
	for _, tt := range valid {
		rules, err := ParseRules([]byte("[" + tt.js + "]"))
		if err != nil {
			t.Errorf("%s: %v", tt.js, err)
			continue
		}
		got := rules[0]
		if got.Sink != tt.want.Sink || got.Action != tt.want.Action || got.Copies != tt.want.Copies || got.Domain != tt.want.Domain ||
			fmt.Sprint(got.Latency) != fmt.Sprint(tt.want.Latency) || len(got.Operation) != 0 {
			t.Errorf("%s normalised to %+v, want %+v", tt.js, got, tt.want)
		}
	}
	invalid := []struct{ js, msg string }{
		{`{"sink":"s"}`, "an event rule needs an action"},
		{`{"sink":"s","action":"error"}`, `action "error" does not apply to an event rule`},
		{`{"sink":"s","action":"delay"}`, `action "delay" needs a latency`},
		{`{"sink":"s","action":"drop","latency":"1s"}`, "latency is only used by action \"delay\""},
		{`{"sink":"s","action":"drop","copies":2}`, "copies is only used by action \"duplicate\""},
		{`{"sink":"s","action":"duplicate","copies":11}`, "copies 11: want 1 to 10"},
		{`{"sink":"s","action":"drop","operation":"CreateCase"}`, "operation does not apply"},
		{`{"sink":"s","action":"drop","attempts":"1"}`, "attempts does not apply"},
		{`{"sink":"s","action":"drop","error":{"code":"InternalServerException"}}`, "do not apply to an event rule"},
		{`{"sink":"s","action":"drop","announced":true}`, "announced do not apply"},
		{`{"action":"duplicate"}`, `action "duplicate" acts on case events`},
		{`{"operation":"CreateCase","copies":2}`, "copies is only used"},
	}
	for _, tt := range invalid {
		_, err := ParseRules([]byte("[" + tt.js + "]"))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want an error saying %q", tt.js, err, tt.msg)
		}
	}
}

// TestEventRulesAndRequestsKeepApart: an event rule never faults an API
// request, nor shows in the service's health; an API rule never touches
// an event.
func TestEventRulesAndRequestsKeepApart(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"sink":"*","action":"drop"}]`))
	if d, ok := e.Decide(Request{Operation: "CreateCase"}); ok {
		t.Errorf("an event rule faulted a request: %+v", d)
	}
	if h := e.Health(e.Now()); h.Status != StatusOperational {
		t.Errorf("health %s with only an event rule, want operational", h.Status)
	}
	e, _ = newTestEngine(t, mustRules(t, `[{"operation":"*","action":"drop"}]`))
	if d, ok := e.DecideEvent(Event{Sink: "s", EventID: "e"}); ok {
		t.Errorf("an API rule faulted an event: %+v", d)
	}
}

func TestDecideEventMatching(t *testing.T) {
	e, clk := newTestEngine(t, mustRules(t, `[
		{"id":"d1-drop","sink":"a","domain":"d1","action":"drop","count":1},
		{"id":"dup","sink":"*","action":"duplicate","copies":2,"after":"1m"},
		{"id":"late","sink":"b","action":"delay","latency":{"min":"1s","max":"3s"}}
	]`))
	tests := []struct {
		sink, domain string
		want         string
	}{
		{"a", "d2", "none"},
		{"a", "d1", "d1-drop/drop"},
		{"a", "d1", "none"}, // count spent
		{"b", "d1", "late/delay"},
	}
	for i, tt := range tests {
		d, ok := e.DecideEvent(Event{Sink: tt.sink, DomainID: tt.domain, EventID: fmt.Sprint(i)})
		got := "none"
		if ok {
			got = d.RuleID + "/" + string(d.Action)
		}
		if got != tt.want {
			t.Errorf("event %d to %s in %s: %s, want %s", i, tt.sink, tt.domain, got, tt.want)
		}
		if ok && d.Action == ActionDelay && (d.Delay < time.Second || d.Delay > 3*time.Second) {
			t.Errorf("delay %v outside the rule's range", d.Delay)
		}
	}
	clk.Advance(time.Minute)
	if d, ok := e.DecideEvent(Event{Sink: "c"}); !ok || d.Action != ActionDuplicate || d.Copies != 2 {
		t.Errorf("after a minute: %+v, %v; want duplicate with 2 copies", d, ok)
	}
}

// TestDecideEventReproducible: the same seed gives the same faults to a
// sink's events, in order, however other sinks' decisions interleave; a
// reseed replays them.
func TestDecideEventReproducible(t *testing.T) {
	rules := mustRules(t, `[{"id":"p","sink":"*","action":"reorder","probability":0.4},
		{"id":"q","sink":"*","action":"delay","probability":0.5,"latency":{"min":"10ms","max":"2s"}}]`)
	run := func(seed int64, interleave bool) string {
		e, _ := newTestEngine(t, rules, WithSeed(seed))
		var b strings.Builder
		for i := 0; i < 100; i++ {
			if interleave && i%3 == 0 {
				e.DecideEvent(Event{Sink: "other"})
			}
			d, ok := e.DecideEvent(Event{Sink: "mine", EventID: fmt.Sprint(i)})
			fmt.Fprint(&b, ok, d.RuleID, d.Delay, " ")
		}
		return b.String()
	}
	a := run(7, false)
	if b := run(7, true); a != b {
		t.Error("another sink's events changed this sink's faults")
	}
	if c := run(8, false); a == c {
		t.Error("different seeds gave the same faults")
	}
	e, _ := newTestEngine(t, rules, WithSeed(7))
	first, _ := e.DecideEvent(Event{Sink: "mine"})
	e.Reseed(7)
	again, _ := e.DecideEvent(Event{Sink: "mine"})
	if first != again {
		t.Errorf("after a reseed %+v, want %+v", again, first)
	}
}

func TestRecorderReportsEventFaults(t *testing.T) {
	r := NewRecorder(10)
	r.AddEvent(EventRecord{Sink: "a", EventID: "e1", Action: ActionDrop, RuleID: "r1"})
	r.AddEvent(EventRecord{Sink: "a", EventID: "e2", Action: ActionDuplicate, RuleID: "r2", Copies: 1})
	r.AddEvent(EventRecord{Sink: "a", EventID: "e3", Action: ActionDrop, RuleID: "r1"})
	r.AddEvent(EventRecord{Sink: "b", EventID: "e1", Action: ActionDelay, RuleID: "r3", Delay: time.Second})
	rep := r.Report()
	if got := fmt.Sprint(rep.EventFaults); got != "[{a drop 2} {a duplicate 1} {b delay 1}]" {
		t.Errorf("event fault counts %s", got)
	}
	if len(rep.Events) != 4 || rep.Events[3].EventID != "e1" || rep.Events[3].Sink != "b" {
		t.Errorf("events %+v", rep.Events)
	}
	r.Reset()
	if rep := r.Report(); rep.EventFaults != nil || rep.Events != nil {
		t.Errorf("after Reset: %+v", rep)
	}
}
