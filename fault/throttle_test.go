package fault

import (
	"testing"
	"time"
)

func TestThrottlerQuotaTable(t *testing.T) {
	tests := []struct {
		op   string
		want Limit
	}{
		{"CreateCase", Limit{2, 10}}, {"GetCaseEventConfiguration", Limit{2, 10}},
		{"GetCase", Limit{4, 10}},
		{"UpdateCase", Limit{2, 2}}, {"ListCasesForContact", Limit{2, 2}},
		{"CreateField", Limit{2, 5}}, {"DeleteCaseRule", Limit{2, 5}},
		{"BatchGetField", Limit{8, 25}}, {"BatchGetCaseRule", Limit{8, 25}},
		{"ListFieldOptions", Limit{6, 16}},
		{"GetTemplate", Limit{6, 20}}, {"GetLayout", Limit{6, 20}},
		{"DeleteCase", Limit{2, 5}}, {"SearchAllRelatedItems", Limit{2, 5}},
		{"SomethingNew", Limit{2, 5}},
	}
	th := NewThrottler(ThrottleConfig{})
	for _, tt := range tests {
		if got := th.Limit(tt.op); got != tt.want {
			t.Errorf("%s: %+v want %+v", tt.op, got, tt.want)
		}
	}
	if n := len(KnownOperations()); n != 43 {
		t.Errorf("%d operations in catalog, want 43", n)
	}
}

func TestThrottlerBurstAndRefill(t *testing.T) {
	th := NewThrottler(ThrottleConfig{Enabled: true})
	now := t0
	allowed := func(op string, n int) int {
		k := 0
		for i := 0; i < n; i++ {
			if th.Allow(op, now) {
				k++
			}
		}
		return k
	}
	steps := []struct {
		advance time.Duration
		op      string
		tries   int
		want    int
	}{
		{0, "GetCase", 15, 10},                    // burst 10
		{0, "CreateCase", 12, 10},                 // independent bucket
		{250 * time.Millisecond, "GetCase", 5, 1}, // 4/s refill: one token per 250ms
		{time.Second, "GetCase", 10, 4},
		{time.Hour, "GetCase", 20, 10}, // refill caps at burst
		{0, "UpdateCase", 5, 2},
		{500 * time.Millisecond, "UpdateCase", 5, 1},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := allowed(s.op, s.tries); got != s.want {
			t.Errorf("step %d %s: allowed %d of %d, want %d", i, s.op, got, s.tries, s.want)
		}
	}
}

func TestThrottlerOffAndOverrides(t *testing.T) {
	off := NewThrottler(ThrottleConfig{})
	for i := 0; i < 100; i++ {
		if !off.Allow("UpdateCase", t0) {
			t.Fatal("disabled throttler throttled")
		}
	}
	var nilT *Throttler
	if !nilT.Allow("GetCase", t0) {
		t.Error("nil throttler should allow")
	}
	th := NewThrottler(ThrottleConfig{Enabled: true, Operations: map[string]Limit{"GetCase": {Rate: 1, Burst: 1}, "ListDomains": Unlimited}, Default: &Limit{Rate: 1, Burst: 3}})
	if !th.Allow("GetCase", t0) || th.Allow("GetCase", t0) {
		t.Error("override burst 1 not applied")
	}
	for i := 0; i < 1000; i++ {
		if !th.Allow("ListDomains", t0) {
			t.Fatal("unlimited operation throttled")
		}
	}
	n := 0
	for i := 0; i < 5; i++ {
		if th.Allow("Unlisted", t0) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("default limit allowed %d, want 3", n)
	}
	th.SetLimit("GetCase", Limit{Rate: 1, Burst: 2})
	if !th.Allow("GetCase", t0) || !th.Allow("GetCase", t0) || th.Allow("GetCase", t0) {
		t.Error("SetLimit did not reset the bucket with the new burst")
	}
	th.SetEnabled(false)
	if !th.Allow("GetCase", t0) || th.Enabled() {
		t.Error("SetEnabled(false)")
	}
	th.SetEnabled(true)
	if !th.Allow("GetCase", t0) {
		t.Error("re-enabling should start from full buckets")
	}
	if _, ok := th.Decide("GetCase", t0); ok {
		t.Error("second token of burst 2 was throttled")
	}
	d, ok := th.Decide("GetCase", t0)
	if !ok || d.Source != SourceThrottle || d.Error.Code != CodeThrottling || d.Error.StatusCode != 429 || d.RetryAfter() != 0 {
		t.Errorf("exhausted bucket: %+v ok=%v", d, ok)
	}
}

// TestThrottleSettingsApply: the settings of one throttler, applied to
// another, give it the same limits and switch.
func TestThrottleSettingsApply(t *testing.T) {
	a := NewThrottler(ThrottleConfig{Enabled: true, Operations: map[string]Limit{"SearchCases": {Rate: 10, Burst: 20}}})
	s := a.Settings()
	if !s.Enabled || len(s.Operations) != 1 || s.Operations["SearchCases"] != (Limit{10, 20}) {
		t.Fatalf("settings = %+v, want on with SearchCases 10/20 only", s)
	}
	b := NewThrottler(ThrottleConfig{Operations: map[string]Limit{"GetCase": {Rate: 1, Burst: 1}}})
	b.Apply(s)
	if !b.Enabled() || b.Limit("SearchCases") != (Limit{10, 20}) || b.Limit("GetCase") != DefaultQuotas()["GetCase"] {
		t.Fatalf("applied: enabled %v, SearchCases %+v, GetCase %+v", b.Enabled(), b.Limit("SearchCases"), b.Limit("GetCase"))
	}
	b.Apply(ThrottleSettings{})
	if b.Enabled() || b.Limit("SearchCases") != DefaultQuotas()["SearchCases"] {
		t.Fatalf("empty settings left: enabled %v, SearchCases %+v", b.Enabled(), b.Limit("SearchCases"))
	}
}
