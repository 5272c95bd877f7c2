package fault

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Record is one request as seen by the HTTP layer.
type Record struct {
	Time         time.Time     `json:"time"`
	RequestID    string        `json:"requestId,omitempty"`
	Operation    string        `json:"operation"`
	ClientID     string        `json:"clientId,omitempty"`
	InvocationID string        `json:"invocationId,omitempty"`
	Attempt      int           `json:"attempt,omitempty"`
	Status       int           `json:"status"`
	ErrorCode    string        `json:"errorCode,omitempty"`
	Injected     bool          `json:"injected,omitempty"`
	RuleID       string        `json:"ruleId,omitempty"`
	Dropped      bool          `json:"dropped,omitempty"`
	Latency      time.Duration `json:"latency"`
	// RetryAfter is the Retry-After value sent, 0 if none.
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
}

// Failed reports whether the attempt failed in a way a client would retry
// (injected, dropped, 5xx or 429): what Count.Failed counts.
func (r Record) Failed() bool {
	return r.Injected || r.Dropped || r.Status >= 500 || r.Status == 429
}

// Recorder keeps a ring buffer of recent requests and cumulative counters of
// injected faults. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	buf      []Record
	next     int
	full     bool
	injected map[string]map[string]int
	counts   map[string]Count
	total    int
	// events are what event rules did, oldest first (events.go).
	events []EventRecord
}

// Count is how many requests an operation answered, and how many of them
// failed as a client would retry them (5xx, 429, dropped, or injected).
type Count struct {
	Requests int `json:"requests"`
	Failed   int `json:"failed"`
}

// DefaultRecorderCapacity is used when NewRecorder gets a capacity <= 0.
const DefaultRecorderCapacity = 10000

// NewRecorder returns a recorder holding the last capacity records.
func NewRecorder(capacity int) *Recorder {
	if capacity <= 0 {
		capacity = DefaultRecorderCapacity
	}
	return &Recorder{buf: make([]Record, capacity), injected: map[string]map[string]int{}, counts: map[string]Count{}}
}

// Add records one request.
func (r *Recorder) Add(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = rec
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	r.total++
	c := r.counts[rec.Operation]
	c.Requests++
	if rec.Failed() {
		c.Failed++
	}
	r.counts[rec.Operation] = c
	if rec.Injected {
		key := rec.ErrorCode
		switch {
		case key != "":
		case rec.Dropped:
			key = "drop"
		case rec.Status != 0:
			key = "http-" + strconv.Itoa(rec.Status)
		default:
			key = "other"
		}
		m := r.injected[rec.Operation]
		if m == nil {
			m = map[string]int{}
			r.injected[rec.Operation] = m
		}
		m[key]++
	}
}

// Recent returns up to n most recent records, oldest first; n <= 0 means all
// retained.
func (r *Recorder) Recent(n int) []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recentLocked(n)
}

func (r *Recorder) recentLocked(n int) []Record {
	var all []Record
	if r.full {
		all = append(append(all, r.buf[r.next:]...), r.buf[:r.next]...)
	} else {
		all = append(all, r.buf[:r.next]...)
	}
	if n > 0 && n < len(all) {
		all = all[len(all)-n:]
	}
	return all
}

// Total returns how many records were ever added.
func (r *Recorder) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// InjectedCounts returns cumulative injected faults by operation and code
// ("drop" and "http-NNN" for faults without an error code).
func (r *Recorder) InjectedCounts() map[string]map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[string]int, len(r.injected))
	for op, m := range r.injected {
		c := make(map[string]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[op] = c
	}
	return out
}

// Counts returns the cumulative requests and failures per operation since
// the recorder started or was last reset, however many records the ring
// still holds: a rate is the difference of two readings.
func (r *Recorder) Counts() map[string]Count {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Count, len(r.counts))
	for op, c := range r.counts {
		out[op] = c
	}
	return out
}

// Reset forgets everything.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.buf)
	r.next, r.full, r.total = 0, false, 0
	r.injected = map[string]map[string]int{}
	r.counts = map[string]Count{}
	r.events = nil
}

// Usage aggregates one operation or one client.
type Usage struct {
	Key         string `json:"key"`
	Invocations int    `json:"invocations"`
	Attempts    int    `json:"attempts"`
	Injected    int    `json:"injected"`
	// AttemptsPerInvocation over all invocations.
	AttemptsPerInvocation float64 `json:"attemptsPerInvocation"`
	// Faulted* cover invocations that met at least one fault (injected, or a
	// 5xx/429/drop): that is where retries amplify load, and the ratio is
	// what a fault window multiplies traffic by.
	FaultedInvocations int             `json:"faultedInvocations"`
	FaultedAttempts    int             `json:"faultedAttempts"`
	Amplification      float64         `json:"amplification"`
	RetryAfter         RetryAfterStats `json:"retryAfter"`
}

// RetryAfterStats counts retries that followed a response carrying
// Retry-After, and whether the client waited at least that long.
type RetryAfterStats struct {
	Retries  int `json:"retries"`
	Honored  int `json:"honored"`
	Violated int `json:"violated"`
	// ShortestWait is the smallest wait seen on a violated retry.
	ShortestWait time.Duration `json:"shortestWait,omitempty"`
}

func (s *RetryAfterStats) add(ok bool, wait time.Duration) {
	s.Retries++
	if ok {
		s.Honored++
		return
	}
	if s.Violated == 0 || wait < s.ShortestWait {
		s.ShortestWait = wait
	}
	s.Violated++
}

// RetryAfterViolation is one retry that came too early.
type RetryAfterViolation struct {
	Operation    string        `json:"operation"`
	ClientID     string        `json:"clientId,omitempty"`
	InvocationID string        `json:"invocationId"`
	Attempt      int           `json:"attempt"`
	RetryAfter   time.Duration `json:"retryAfter"`
	Waited       time.Duration `json:"waited"`
}

// TrafficReport summarises the records currently retained.
type TrafficReport struct {
	Records     int                   `json:"records"`
	ByOperation []Usage               `json:"byOperation"`
	ByClient    []Usage               `json:"byClient"`
	Violations  []RetryAfterViolation `json:"violations,omitempty"`
	// EventFaults counts what event rules did to case events, by sink and
	// action; Events lists the most recent, naming each event.
	EventFaults []EventFaultCount `json:"eventFaults,omitempty"`
	Events      []EventRecord     `json:"events,omitempty"`
}

// EventFaultCount is how many events of a sink an action was applied to.
type EventFaultCount struct {
	Sink   string `json:"sink"`
	Action Action `json:"action"`
	Events int    `json:"events"`
}

// maxReportEvents bounds the event records a report lists; the counts
// cover every record retained.
const maxReportEvents = 200

// maxViolations bounds the violation list; counters stay exact.
const maxViolations = 50

// ReportOf is the report over recs, in any order: the records of several
// servers behind one load balancer, merged, where a client's retries of
// one call may each have reached a different server.
func ReportOf(recs []Record) TrafficReport {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b Record) int { return a.Time.Compare(b.Time) })
	r := NewRecorder(max(len(sorted), 1))
	for _, rec := range sorted {
		r.Add(rec)
	}
	return r.Report()
}

// Report computes load amplification and Retry-After compliance over the
// retained records. Attempts are grouped into invocations by client and
// invocation ID (amz-sdk-invocation-id); a record without one is its own
// invocation. The wait before a retry is measured from when the previous
// response was sent (its time plus latency) to the retry's arrival.
func (r *Recorder) Report() TrafficReport {
	r.mu.Lock()
	recs := r.recentLocked(0)
	events := append([]EventRecord(nil), r.events...)
	r.mu.Unlock()

	type key struct{ client, inv string }
	groups := map[key][]Record{}
	var order []key
	for i, rec := range recs {
		k := key{rec.ClientID, rec.InvocationID}
		if rec.InvocationID == "" {
			k.inv = "#" + strconv.Itoa(i)
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], rec)
	}
	byOp := map[string]*Usage{}
	byClient := map[string]*Usage{}
	get := func(m map[string]*Usage, k string) *Usage {
		u := m[k]
		if u == nil {
			u = &Usage{Key: k}
			m[k] = u
		}
		return u
	}
	rep := TrafficReport{Records: len(recs)}
	for _, k := range order {
		g := groups[k]
		sort.SliceStable(g, func(i, j int) bool {
			if g[i].Attempt != g[j].Attempt {
				return g[i].Attempt < g[j].Attempt
			}
			return g[i].Time.Before(g[j].Time)
		})
		client := k.client
		if client == "" {
			client = "unknown"
		}
		faulted := false
		for _, rec := range g {
			faulted = faulted || rec.Failed()
		}
		op := g[0].Operation
		for _, u := range []*Usage{get(byOp, op), get(byClient, client)} {
			u.Invocations++
			u.Attempts += len(g)
			if faulted {
				u.FaultedInvocations++
				u.FaultedAttempts += len(g)
			}
			for _, rec := range g {
				if rec.Injected {
					u.Injected++
				}
			}
		}
		for i := 1; i < len(g); i++ {
			prev, cur := g[i-1], g[i]
			if prev.RetryAfter <= 0 {
				continue
			}
			waited := cur.Time.Sub(prev.Time.Add(prev.Latency))
			ok := waited >= prev.RetryAfter
			get(byOp, op).RetryAfter.add(ok, waited)
			get(byClient, client).RetryAfter.add(ok, waited)
			if !ok {
				rep.Violations = append(rep.Violations, RetryAfterViolation{
					Operation: op, ClientID: k.client, InvocationID: cur.InvocationID,
					Attempt: cur.Attempt, RetryAfter: prev.RetryAfter, Waited: waited,
				})
			}
		}
	}
	if len(rep.Violations) > maxViolations {
		rep.Violations = rep.Violations[len(rep.Violations)-maxViolations:]
	}
	rep.ByOperation = finish(byOp)
	rep.ByClient = finish(byClient)
	rep.EventFaults = countEventFaults(events)
	if len(events) > maxReportEvents {
		events = events[len(events)-maxReportEvents:]
	}
	rep.Events = events
	return rep
}

func countEventFaults(events []EventRecord) []EventFaultCount {
	type key struct {
		sink   string
		action Action
	}
	n := map[key]int{}
	for _, e := range events {
		n[key{e.Sink, e.Action}]++
	}
	out := make([]EventFaultCount, 0, len(n))
	for k, c := range n {
		out = append(out, EventFaultCount{Sink: k.sink, Action: k.action, Events: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sink != out[j].Sink {
			return out[i].Sink < out[j].Sink
		}
		return out[i].Action < out[j].Action
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

func finish(m map[string]*Usage) []Usage {
	out := make([]Usage, 0, len(m))
	for _, u := range m {
		if u.Invocations > 0 {
			u.AttemptsPerInvocation = float64(u.Attempts) / float64(u.Invocations)
		}
		if u.FaultedInvocations > 0 {
			u.Amplification = float64(u.FaultedAttempts) / float64(u.FaultedInvocations)
		}
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
