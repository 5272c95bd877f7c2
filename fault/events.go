package fault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Event rules: failure on demand for case events.
//
// Real delivery of Cases events is best effort: a consumer must cope with
// events that arrive late, never, twice or out of order. A rule with Sink
// set acts on events on their way to a sink instead of on API requests:
//
//	{"sink": "orders", "action": "drop", "probability": 0.1}
//	{"sink": "*", "domain": "<domain id>", "action": "duplicate", "copies": 2}
//	{"sink": "orders", "action": "delay", "latency": {"min": "1s", "max": "5s"}}
//	{"sink": "orders", "action": "reorder", "probability": 0.5, "count": 10}
//
// probability, count, after, duration, domain, id and description work as
// for API rules; operation, attempts, error, httpStatus, hang, then,
// allowUndeclared and announced do not apply. Each event is decided once,
// when it is first handed to the sink (a retry after a failure is not
// decided again), and the first matching event rule wins.
//
// Reproducibility: an event rule draws from one random stream per sink,
// derived from the seed, the rule's ID and the sink's name. A sink's events
// are decided one at a time in commit order, so the same seed, rules and
// events give the same faults to the same events (by position), whatever
// other sinks are doing.

// Event is a case event on its way to a sink, as DecideEvent sees it.
type Event struct {
	Sink     string
	DomainID string
	EventID  string
	Seq      int64
	// Time of the decision; zero means the engine's clock.
	Time time.Time
}

// EventDecision says what to do to an event.
type EventDecision struct {
	Action Action `json:"action"`
	RuleID string `json:"ruleId"`
	// Delay is how long ActionDelay holds the event.
	Delay time.Duration `json:"delay,omitempty"`
	// Copies is how many extra copies ActionDuplicate delivers.
	Copies int `json:"copies,omitempty"`
}

// normalizeEvent validates an event rule and fills in its defaults.
func (r Rule) normalizeEvent() (Rule, error) {
	switch {
	case len(r.Operation) > 0 && !r.allOperations():
		return r, errors.New("operation does not apply to an event rule (sink is set)")
	case len(r.Attempts.ranges) > 0:
		return r, errors.New("attempts does not apply to an event rule (sink is set); each event is decided once")
	case r.Error != nil, r.HTTPStatus != 0, r.Hang != 0, r.Then != "":
		return r, errors.New("error, httpStatus, hang and then do not apply to an event rule (sink is set)")
	case r.AllowUndeclared, r.Announced:
		return r, errors.New("allowUndeclared and announced do not apply to an event rule (sink is set)")
	}
	r.Operation = nil
	if r.Action == "" && r.Latency != nil {
		r.Action = ActionDelay
	}
	switch r.Action {
	case ActionDrop, ActionDuplicate, ActionDelay, ActionReorder:
	case "":
		return r, errors.New("an event rule needs an action: drop, duplicate, delay or reorder")
	default:
		return r, fmt.Errorf("action %q does not apply to an event rule; use drop, duplicate, delay or reorder", r.Action)
	}
	if r.Action == ActionDelay && r.Latency == nil {
		return r, errors.New("action \"delay\" needs a latency: how long to hold the event (\"2s\", or {\"min\": \"1s\", \"max\": \"5s\"})")
	}
	if r.Action != ActionDelay && r.Latency != nil {
		return r, fmt.Errorf("latency is only used by action \"delay\" of an event rule")
	}
	if r.Action != ActionDuplicate && r.Copies != 0 {
		return r, errors.New("copies is only used by action \"duplicate\"")
	}
	if r.Action == ActionDuplicate {
		if r.Copies == 0 {
			r.Copies = 1
		}
		if r.Copies < 1 || r.Copies > 10 {
			return r, fmt.Errorf("copies %d: want 1 to 10", r.Copies)
		}
	}
	return r, nil
}

func (r *Rule) matchesSink(sink string) bool { return r.Sink == "*" || r.Sink == sink }

// DecideEvent returns what to do to ev, if anything: the first active event
// rule that matches its sink and domain, and whose probability draw (from
// the rule's stream for that sink) comes up.
func (e *Engine) DecideEvent(ev Event) (EventDecision, bool) {
	now := ev.Time
	if now.IsZero() {
		now = e.clock.Now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, rs := range e.rules {
		rule := &rs.rule
		if !rule.isEvent() || !rule.matchesSink(ev.Sink) || !rule.matchesDomain(ev.DomainID) || rs.spent() || !rs.activeAt(now) {
			continue
		}
		rng := rs.sinkStream(e.seed, ev.Sink)
		if p := rule.probability(); p < 1 {
			if p <= 0 || rng.Float64() >= p {
				continue
			}
		}
		rs.fired++
		d := EventDecision{Action: rule.Action, RuleID: rule.ID, Copies: rule.Copies}
		if l := rule.Latency; l != nil {
			d.Delay = l.Min
			if l.Max > l.Min {
				d.Delay += time.Duration(rng.Uint64N(uint64(l.Max-l.Min) + 1))
			}
		}
		return d, true
	}
	return EventDecision{}, false
}

func (rs *ruleState) sinkStream(seed int64, sink string) *rand.Rand {
	if rs.sinkRNG == nil {
		rs.sinkRNG = map[string]*rand.Rand{}
	}
	rng := rs.sinkRNG[sink]
	if rng == nil {
		rng = newStream(seed, rs.stream+"/sink/"+sink)
		rs.sinkRNG[sink] = rng
	}
	return rng
}

// EventRecord is what an event rule did to one event, for the traffic
// report.
type EventRecord struct {
	Time     time.Time     `json:"time"`
	Sink     string        `json:"sink"`
	EventID  string        `json:"eventId"`
	Seq      int64         `json:"seq"`
	DomainID string        `json:"domainId,omitempty"`
	Action   Action        `json:"action"`
	RuleID   string        `json:"ruleId"`
	Delay    time.Duration `json:"delay,omitempty"`
	Copies   int           `json:"copies,omitempty"`
}

// maxEventRecords bounds the event records a Recorder keeps.
const maxEventRecords = 10000

// AddEvent records what a rule did to an event.
func (r *Recorder) AddEvent(rec EventRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == maxEventRecords {
		copy(r.events, r.events[1:])
		r.events = r.events[:maxEventRecords-1]
	}
	r.events = append(r.events, rec)
}

// Events returns up to n most recent event records, oldest first; n <= 0
// means all retained.
func (r *Recorder) Events(n int) []EventRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	if n > 0 && n < len(out) {
		out = out[len(out)-n:]
	}
	return append([]EventRecord(nil), out...)
}
