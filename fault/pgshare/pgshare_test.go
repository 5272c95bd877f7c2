package pgshare_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/fault/pgshare"
	"github.com/localcases/localcases/store/postgres"
	"github.com/localcases/localcases/store/storetest"
)

// mustOpenStore opens the postgres store on a throwaway schema: its pool
// is what a Share runs on.
func mustOpenStore(t *testing.T) *postgres.Store {
	t.Helper()
	u := storetest.PostgresURL(t)
	st, err := postgres.Open(t.Context(), storetest.WithSchema(u, storetest.PostgresSchema(t, u)), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mustShare(t *testing.T, st *postgres.Store, opts pgshare.Options) (*pgshare.Share, *fault.Engine) {
	t.Helper()
	e := fault.NewEngine()
	sh, err := pgshare.Open(t.Context(), st.Pool(), st.Schema(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Close() })
	return sh, e
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPollCatchesAMissedNotification writes a state with no NOTIFY, as if
// the notification were lost: the poll restores it.
func TestPollCatchesAMissedNotification(t *testing.T) {
	st := mustOpenStore(t)
	sh, e := mustShare(t, st, pgshare.Options{Seed: 3, Poll: 50 * time.Millisecond})
	if e.Seed() != 3 || sh.Version() != 1 {
		t.Fatalf("a fresh schema: seed %d version %d, want 3 and 1", e.Seed(), sh.Version())
	}
	rule, err := fault.Rule{ID: "quiet", Operation: fault.StringList{"GetCase"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(fault.State{Seed: 3, Rules: []fault.InstalledRule{{Rule: rule, Added: time.Now()}}})
	if _, err := st.Pool().Exec(t.Context(), `UPDATE fault_state SET version = version + 1, state = $1`, data); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the poll restores the silent change", func() bool { return len(e.Rules()) == 1 })
	if sh.Version() != 2 {
		t.Errorf("version %d, want 2", sh.Version())
	}
}

// TestSecondShareAdoptsTheStoredSeed: the seed of the first server on a
// schema is everyone's.
func TestSecondShareAdoptsTheStoredSeed(t *testing.T) {
	st := mustOpenStore(t)
	mustShare(t, st, pgshare.Options{Seed: 11})
	_, e := mustShare(t, st, pgshare.Options{Seed: 12})
	if e.Seed() != 11 {
		t.Fatalf("seed %d, want the stored 11", e.Seed())
	}
}

// TestConcurrentChangesKeepEveryRule adds rules through two shares at
// once: the row lock orders them, and none is lost.
func TestConcurrentChangesKeepEveryRule(t *testing.T) {
	st := mustOpenStore(t)
	a, ea := mustShare(t, st, pgshare.Options{})
	b, eb := mustShare(t, st, pgshare.Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		sh := a
		if i%2 == 1 {
			sh = b
		}
		wg.Go(func() {
			if err := sh.AddRules([]fault.Rule{{Operation: fault.StringList{"GetCase"}}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitFor(t, "both engines hold 20 rules", func() bool { return len(ea.Rules()) == 20 && len(eb.Rules()) == 20 })
	seen := map[string]bool{}
	for _, r := range ea.Rules() {
		if seen[r.ID] {
			t.Errorf("rule id %s given twice", r.ID)
		}
		seen[r.ID] = true
	}
}

// TestClaimCountsErrors: claims stop at the limit; one that cannot reach
// its table is refused and counted, and a change fails as unavailable.
func TestClaimCountsErrors(t *testing.T) {
	st := mustOpenStore(t)
	sh, _ := mustShare(t, st, pgshare.Options{Timeout: time.Second})
	ok, err := sh.Claim("rule/x", time.Unix(0, 1), 2)
	if !ok || err != nil {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	sh.Claim("rule/x", time.Unix(0, 1), 2)
	if ok, err := sh.Claim("rule/x", time.Unix(0, 1), 2); ok || err != nil {
		t.Fatalf("third claim of two: %v %v", ok, err)
	}
	if _, err := st.Pool().Exec(context.Background(), `DROP TABLE fault_claims`); err != nil {
		t.Fatal(err)
	}
	if ok, err := sh.Claim("rule/y", time.Unix(0, 1), 2); ok || err == nil {
		t.Fatalf("a claim with the table gone: %v %v", ok, err)
	}
	if sh.ClaimErrors() != 1 {
		t.Errorf("ClaimErrors = %d, want 1", sh.ClaimErrors())
	}
	if err := sh.AddRules([]fault.Rule{{Operation: fault.StringList{"GetCase"}}}); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("a change with the claims table gone: %v, want ErrUnavailable", err)
	}
}

// TestThrottleSettingsAreShared: a server configured to throttle installs
// its settings, one that is not adopts them, and a change through either
// reaches both.
func TestThrottleSettingsAreShared(t *testing.T) {
	st := mustOpenStore(t)
	open := func(cfg fault.ThrottleConfig, configured bool) (*pgshare.Share, *fault.Throttler) {
		th := fault.NewThrottler(cfg)
		e := fault.NewEngine(fault.WithThrottler(th))
		var opt *fault.ThrottleSettings
		if configured {
			s := th.Settings()
			opt = &s
		}
		sh, err := pgshare.Open(t.Context(), st.Pool(), st.Schema(), e, pgshare.Options{Throttle: opt})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sh.Close() })
		return sh, th
	}
	_, a := open(fault.ThrottleConfig{Enabled: true, Operations: map[string]fault.Limit{"GetCase": {Rate: 1, Burst: 3}}}, true)
	b, bt := open(fault.ThrottleConfig{}, false)
	if !bt.Enabled() || bt.Limit("GetCase") != (fault.Limit{Rate: 1, Burst: 3}) {
		t.Fatalf("an unconfigured server: enabled %v, GetCase %+v; want the stored settings", bt.Enabled(), bt.Limit("GetCase"))
	}
	if err := b.SetThrottle(false, map[string]fault.Limit{"SearchCases": {Rate: 5, Burst: 5}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first server takes the change", func() bool {
		return !a.Enabled() && a.Limit("SearchCases") == (fault.Limit{Rate: 5, Burst: 5}) && a.Limit("GetCase") == (fault.Limit{Rate: 1, Burst: 3})
	})
}
