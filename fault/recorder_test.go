package fault

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestRecorderRing(t *testing.T) {
	r := NewRecorder(3)
	for i := 0; i < 5; i++ {
		r.Add(Record{RequestID: fmt.Sprint(i), Operation: "GetCase", Status: 200})
	}
	got := r.Recent(0)
	if len(got) != 3 || got[0].RequestID != "2" || got[2].RequestID != "4" {
		t.Errorf("ring %+v", got)
	}
	if got := r.Recent(2); len(got) != 2 || got[0].RequestID != "3" {
		t.Errorf("Recent(2) %+v", got)
	}
	if r.Total() != 5 {
		t.Errorf("total %d", r.Total())
	}
	r.Reset()
	if len(r.Recent(0)) != 0 || r.Total() != 0 {
		t.Error("Reset")
	}
}

func TestRecorderInjectedCounts(t *testing.T) {
	r := NewRecorder(10)
	r.Add(Record{Operation: "GetCase", Injected: true, ErrorCode: CodeThrottling, Status: 429})
	r.Add(Record{Operation: "GetCase", Injected: true, ErrorCode: CodeThrottling, Status: 429})
	r.Add(Record{Operation: "GetCase", Injected: true, Dropped: true})
	r.Add(Record{Operation: "CreateCase", Injected: true, Status: 502})
	r.Add(Record{Operation: "CreateCase", Status: 500, ErrorCode: CodeInternalServer}) // real, not injected
	got := r.InjectedCounts()
	if got["GetCase"][CodeThrottling] != 2 || got["GetCase"]["drop"] != 1 || got["CreateCase"]["http-502"] != 1 || len(got["CreateCase"]) != 1 {
		t.Errorf("counts %+v", got)
	}
}

func TestRecorderCounts(t *testing.T) {
	r := NewRecorder(2) // fewer than the records: counts outlive the ring
	r.Add(Record{Operation: "GetCase", Status: 200})
	r.Add(Record{Operation: "GetCase", Status: 500, ErrorCode: CodeInternalServer})
	r.Add(Record{Operation: "GetCase", Status: 400, ErrorCode: "ValidationException"})
	r.Add(Record{Operation: "CreateCase", Status: 429, ErrorCode: CodeThrottling})
	r.Add(Record{Operation: "CreateCase", Dropped: true, Injected: true})
	want := map[string]Count{"GetCase": {Requests: 3, Failed: 1}, "CreateCase": {Requests: 2, Failed: 2}}
	if got := r.Counts(); !reflect.DeepEqual(got, want) {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	r.Reset()
	if got := r.Counts(); len(got) != 0 {
		t.Errorf("after Reset: %+v", got)
	}
}

func TestRecorderReport(t *testing.T) {
	r := NewRecorder(100)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ms := time.Millisecond
	recs := []Record{
		// Client A, invocation 1: two 500s with Retry-After 1s; waits 1s then 200ms (violation), then success.
		{Time: at(0), Operation: "CreateCase", ClientID: "A", InvocationID: "i1", Attempt: 1, Status: 500, ErrorCode: CodeInternalServer, Injected: true, RetryAfter: time.Second, Latency: 10 * ms},
		{Time: at(1010 * ms), Operation: "CreateCase", ClientID: "A", InvocationID: "i1", Attempt: 2, Status: 500, ErrorCode: CodeInternalServer, Injected: true, RetryAfter: time.Second, Latency: 10 * ms},
		{Time: at(1220 * ms), Operation: "CreateCase", ClientID: "A", InvocationID: "i1", Attempt: 3, Status: 200, Latency: 10 * ms},
		// Client A, invocation 2: clean.
		{Time: at(2 * time.Second), Operation: "CreateCase", ClientID: "A", InvocationID: "i2", Attempt: 1, Status: 200},
		// Client B, invocation 3: throttled without Retry-After, retried, ok. Recorded out of order.
		{Time: at(3100 * ms), Operation: "GetCase", ClientID: "B", InvocationID: "i3", Attempt: 2, Status: 200},
		{Time: at(3 * time.Second), Operation: "GetCase", ClientID: "B", InvocationID: "i3", Attempt: 1, Status: 429, ErrorCode: CodeThrottling},
		// No invocation ID: each record stands alone.
		{Time: at(4 * time.Second), Operation: "GetCase", Status: 200},
		{Time: at(4 * time.Second), Operation: "GetCase", Status: 200},
	}
	for _, rec := range recs {
		r.Add(rec)
	}
	rep := r.Report()
	if rep.Records != 8 {
		t.Errorf("records %d", rep.Records)
	}
	find := func(list []Usage, k string) Usage {
		for _, u := range list {
			if u.Key == k {
				return u
			}
		}
		t.Fatalf("no usage for %q in %+v", k, list)
		return Usage{}
	}
	tests := []struct {
		u                                       Usage
		inv, att, finv, fatt, inj, ra, ok, viol int
		api, amp                                float64
	}{
		{find(rep.ByOperation, "CreateCase"), 2, 4, 1, 3, 2, 2, 1, 1, 2, 3},
		{find(rep.ByOperation, "GetCase"), 3, 4, 1, 2, 0, 0, 0, 0, 4.0 / 3, 2},
		{find(rep.ByClient, "A"), 2, 4, 1, 3, 2, 2, 1, 1, 2, 3},
		{find(rep.ByClient, "B"), 1, 2, 1, 2, 0, 0, 0, 0, 2, 2},
		{find(rep.ByClient, "unknown"), 2, 2, 0, 0, 0, 0, 0, 0, 1, 0},
	}
	for _, tt := range tests {
		u := tt.u
		if u.Invocations != tt.inv || u.Attempts != tt.att || u.FaultedInvocations != tt.finv || u.FaultedAttempts != tt.fatt ||
			u.Injected != tt.inj || u.RetryAfter.Retries != tt.ra || u.RetryAfter.Honored != tt.ok || u.RetryAfter.Violated != tt.viol ||
			u.AttemptsPerInvocation != tt.api || u.Amplification != tt.amp {
			t.Errorf("%s: %+v", u.Key, u)
		}
	}
	if len(rep.Violations) != 1 {
		t.Fatalf("violations %+v", rep.Violations)
	}
	v := rep.Violations[0]
	if v.InvocationID != "i1" || v.Attempt != 3 || v.RetryAfter != time.Second || v.Waited != 200*ms {
		t.Errorf("violation %+v", v)
	}
	if a := find(rep.ByClient, "A"); a.RetryAfter.ShortestWait != 200*ms {
		t.Errorf("shortest wait %v", a.RetryAfter.ShortestWait)
	}
}

// TestReportOfMergesServers: a call whose first attempt one server failed
// and whose retry another answered is one invocation of two attempts in
// the merged report, and the retry's wait is checked against the first
// server's Retry-After.
func TestReportOfMergesServers(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	serverB := []Record{{Time: t0.Add(500 * time.Millisecond), Operation: "CreateCase", ClientID: "AKID", InvocationID: "inv-1", Attempt: 2, Status: 200}}
	serverA := []Record{{Time: t0, Operation: "CreateCase", ClientID: "AKID", InvocationID: "inv-1", Attempt: 1, Status: 500,
		ErrorCode: CodeInternalServer, Injected: true, RetryAfter: time.Second}}
	rep := ReportOf(append(serverB, serverA...))
	if rep.Records != 2 || len(rep.ByOperation) != 1 {
		t.Fatalf("report %+v", rep)
	}
	u := rep.ByOperation[0]
	if u.Invocations != 1 || u.Attempts != 2 || u.RetryAfter.Retries != 1 || u.RetryAfter.Violated != 1 {
		t.Errorf("merged usage %+v: want one invocation of two attempts, its retry too early", u)
	}
}
