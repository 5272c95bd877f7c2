package admin

import (
	"testing"
	"time"

	"github.com/localcases/localcases/fault"
)

func TestLiveBacklog(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := fault.NewRecorder(10)
	rec.Add(fault.Record{Time: now.Add(-2 * time.Minute), Operation: "GetCase", Status: 200})                       // before the span
	rec.Add(fault.Record{Time: now.Add(-30 * time.Second), Operation: "GetCase", Status: 200})                      // bin 60
	rec.Add(fault.Record{Time: now.Add(-30*time.Second + 100*time.Millisecond), Operation: "GetCase", Status: 500}) // bin 60
	rec.Add(fault.Record{Time: now.Add(-time.Millisecond), Operation: "CreateCase", Status: 429})                   // last bin
	l := &Live{Recorder: rec}
	got := l.backlog(now, 500*time.Millisecond)
	if len(got) != 120 {
		t.Fatalf("%d samples, want 120 (a minute of half seconds)", len(got))
	}
	if !got[119].Time.Equal(now) || got[119].Seconds != 0.5 {
		t.Errorf("last sample %v over %gs, want it to end now", got[119].Time, got[119].Seconds)
	}
	var req, failed int
	for _, s := range got {
		req += s.Requests
		failed += s.Failed
	}
	if req != 3 || failed != 2 {
		t.Errorf("backlog counts %d requests, %d failed; want 3, 2", req, failed)
	}
	if c := got[60].Operations["GetCase"]; c.Requests != 2 || c.Failed != 1 {
		t.Errorf("bin 60: %+v", got[60])
	}
	if c := got[119].Operations["CreateCase"]; c.Requests != 1 || c.Failed != 1 {
		t.Errorf("last bin: %+v", got[119])
	}
}

func TestLiveDiffAfterReset(t *testing.T) {
	prev := map[string]fault.Count{"GetCase": {Requests: 10, Failed: 4}, "ListDomains": {Requests: 3}}
	cur := map[string]fault.Count{"GetCase": {Requests: 2, Failed: 1}, "ListDomains": {Requests: 5}}
	s := diff(prev, cur, time.Now(), time.Second)
	if s.Requests != 4 || s.Failed != 1 || s.Operations["GetCase"].Requests != 2 || s.Operations["ListDomains"].Requests != 2 {
		t.Errorf("diff across a reset: %+v", s)
	}
}
