package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/localcases/localcases/fault"
)

// Live streams, as server-sent events on GET /_localcases/live, what the
// console's health view draws, so a change (a rule added, a scenario
// started, a burst of failures) reaches the page within one interval
// without the page polling:
//
//	event: sample   every interval: requests and failures per operation since the previous sample
//	event: state    when it changes: the health report, the rules with their counters, throttling
//
// A sample is a difference of the recorder's cumulative counts, so it is
// exact however busy the server is, and a reset (which zeroes the counts)
// starts the differences afresh rather than going negative.
type Live struct {
	Engine   *fault.Engine
	Recorder *fault.Recorder
	// Interval between samples; default 500ms.
	Interval time.Duration
	// Done, when closed, ends every stream, so a server shutting down is
	// not held up by consoles left open. Nil: streams end with their
	// request.
	Done <-chan struct{}
	// Now is the clock for the health report; default time.Now.
	Now func() time.Time
}

// LiveSample is the data of a "sample" event.
type LiveSample struct {
	Time time.Time `json:"time"`
	// Seconds is how much time the sample covers.
	Seconds    float64                `json:"seconds"`
	Requests   int                    `json:"requests"`
	Failed     int                    `json:"failed"`
	Operations map[string]fault.Count `json:"operations,omitempty"`
}

// LiveState is the data of a "state" event.
type LiveState struct {
	Health     fault.HealthReport `json:"health"`
	Rules      []fault.RuleStatus `json:"rules"`
	Throttling bool               `json:"throttling"`
}

// Register adds the stream to h.
func (l *Live) Register(h *Handler) { h.Handle("GET "+Prefix+"live", l) }

func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	interval := l.Interval
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	now := l.Now
	if now == nil {
		now = time.Now
	}
	rc := http.NewResponseController(w)
	// The server's read timeout bounds how long a request may take to
	// arrive; a stream is a long answer to a short request, so it must not
	// end when that timeout passes.
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(event string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	// A client that reconnects waits a second, not the browser's default.
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil {
		return
	}
	prev, prevAt := l.Recorder.Counts(), now()
	// The minute before the page opened, from the records the recorder
	// still holds, so the chart starts with history rather than empty.
	for _, s := range l.backlog(prevAt, interval) {
		if send("sample", s) != nil {
			return
		}
	}
	var lastState []byte
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		state := l.state(now())
		key, _ := json.Marshal(LiveState{Health: withoutTime(state.Health), Rules: state.Rules, Throttling: state.Throttling})
		if !bytes.Equal(key, lastState) {
			if send("state", state) != nil {
				return
			}
			lastState = key
		}
		select {
		case <-r.Context().Done():
			return
		case <-l.Done:
			return
		case <-tick.C:
		}
		cur, at := l.Recorder.Counts(), now()
		if send("sample", diff(prev, cur, at, at.Sub(prevAt))) != nil {
			return
		}
		prev, prevAt = cur, at
	}
}

func (l *Live) state(now time.Time) LiveState {
	rules := l.Engine.RuleStatuses()
	if rules == nil {
		rules = []fault.RuleStatus{}
	}
	return LiveState{Health: l.Engine.Health(now), Rules: rules, Throttling: l.Engine.Throttler().Enabled()}
}

// backlogSpan is how far back the first samples of a stream reach.
const backlogSpan = time.Minute

// backlog bins the recorder's records of the last backlogSpan before now
// into samples of one interval each, oldest first, ending at now. A busy
// server's ring may hold less than the span; the samples then start later.
func (l *Live) backlog(now time.Time, interval time.Duration) []LiveSample {
	n := int(backlogSpan / interval)
	start := now.Add(-time.Duration(n) * interval)
	out := make([]LiveSample, n)
	for i := range out {
		out[i] = LiveSample{Time: start.Add(time.Duration(i+1) * interval).UTC(), Seconds: interval.Seconds()}
	}
	for _, rec := range l.Recorder.Recent(0) {
		if !rec.Time.After(start) || rec.Time.After(now) {
			continue
		}
		i := min(int(rec.Time.Sub(start)/interval), n-1)
		s := &out[i]
		if s.Operations == nil {
			s.Operations = map[string]fault.Count{}
		}
		c := s.Operations[rec.Operation]
		c.Requests++
		s.Requests++
		if rec.Failed() {
			c.Failed++
			s.Failed++
		}
		s.Operations[rec.Operation] = c
	}
	return out
}

// withoutTime drops the report's own timestamp, which changes every
// reading, so that only a change of substance sends a state event.
func withoutTime(h fault.HealthReport) fault.HealthReport {
	h.Time = time.Time{}
	return h
}

// diff is the sample between two readings of the cumulative counts. An
// operation whose count went down was reset in between: its reading
// starts again from zero.
func diff(prev, cur map[string]fault.Count, at time.Time, span time.Duration) LiveSample {
	s := LiveSample{Time: at.UTC(), Seconds: span.Seconds()}
	for op, c := range cur {
		p := prev[op]
		if c.Requests < p.Requests || c.Failed < p.Failed {
			p = fault.Count{}
		}
		d := fault.Count{Requests: c.Requests - p.Requests, Failed: c.Failed - p.Failed}
		if d.Requests == 0 && d.Failed == 0 {
			continue
		}
		if s.Operations == nil {
			s.Operations = map[string]fault.Count{}
		}
		s.Operations[op] = d
		s.Requests += d.Requests
		s.Failed += d.Failed
	}
	return s
}
