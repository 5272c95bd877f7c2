package fault

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestStateRoundTrip moves an engine's state through JSON, as pgshare
// stores it, into a second engine: both decide alike, on one schedule.
func TestStateRoundTrip(t *testing.T) {
	a, clk := newTestEngine(t, mustRules(t, `[
		{"id":"flaky","operation":["GetCase","CreateCase"],"probability":0.5,"attempts":"1-2,5","error":{"code":"InternalServerException","retryAfterSeconds":3}},
		{"operation":"ListDomains","latency":{"min":"10ms","max":"20ms"},"after":"1s","duration":"1m"},
		{"id":"lb","operation":"GetDomain","action":"http","httpStatus":502,"count":2,"announced":true}
	]`))
	if _, err := a.LoadScenario("flapping", ScenarioParams{Duration: Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(a.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(st)
	if err != nil || string(again) != string(data) {
		t.Fatalf("state changed in JSON (%v):\n got %s\nwant %s", err, again, data)
	}
	clk.Advance(2 * time.Second)
	b := NewEngine(WithClock(clk))
	if err := b.Restore(st); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Rules(), b.Rules()) || !reflect.DeepEqual(a.ActiveScenario(), b.ActiveScenario()) {
		t.Fatalf("restored engine differs:\n%+v\n%+v", b.Rules(), b.ActiveScenario())
	}
	for i := range 40 {
		clk.Advance(700 * time.Millisecond)
		for _, op := range []string{"GetCase", "CreateCase", "ListDomains", "GetDomain", "SearchCases"} {
			r := Request{Operation: op, Attempt: i%3 + 1}
			da, oka := a.Decide(r)
			db, okb := b.Decide(r)
			if oka != okb || !reflect.DeepEqual(da, db) {
				t.Fatalf("step %d %s: engines disagree: %+v %v / %+v %v", i, op, da, oka, db, okb)
			}
		}
	}
}

// TestRestoreKeepsWhatItShares restores a state that differs only by one
// added rule: the rule both hold keeps its counter.
func TestRestoreKeepsWhatItShares(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"id":"twice","operation":"GetCase","count":2}]`))
	if _, ok := e.Decide(Request{Operation: "GetCase"}); !ok {
		t.Fatal("the first call was not failed")
	}
	st := e.State()
	st.Rules = append(st.Rules, InstalledRule{Rule: mustRules(t, `[{"id":"other","operation":"ListDomains"}]`)[0], Added: t0})
	if err := e.Restore(st); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Decide(Request{Operation: "GetCase"}); !ok {
		t.Fatal("the second call was not failed")
	}
	if d, ok := e.Decide(Request{Operation: "GetCase"}); ok {
		t.Fatalf("a third call was failed (%+v): restoring reset the counter", d)
	}
	if got := len(e.Rules()); got != 2 {
		t.Fatalf("%d rules after restore, want 2", got)
	}

	bad := e.State()
	bad.Rules = append(bad.Rules, bad.Rules[0])
	if err := e.Restore(bad); err == nil {
		t.Fatal("a state with a duplicate rule id was restored")
	}
	if got := len(e.Rules()); got != 2 {
		t.Fatalf("a refused restore changed the rules: %d", got)
	}
}

// bookClaimer counts claims in a map, as a database would for several
// engines.
type bookClaimer struct {
	mu    sync.Mutex
	fired map[string]int
	err   error
}

func (c *bookClaimer) Claim(stream string, added time.Time, limit int) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false, c.err
	}
	k := ClaimKey(stream, added)
	if c.fired[k] >= limit {
		return false, nil
	}
	c.fired[k]++
	return true, nil
}

// TestClaimerHoldsCountInSum gives three engines one claimer: a count: 5
// rule fails five calls in all, however the calls are spread.
func TestClaimerHoldsCountInSum(t *testing.T) {
	book := &bookClaimer{fired: map[string]int{}}
	src, clk := newTestEngine(t, mustRules(t, `[{"id":"five","operation":"CreateCase","count":5}]`))
	var engines []*Engine
	for range 3 {
		e := NewEngine(WithClock(clk))
		if err := e.Restore(src.State()); err != nil {
			t.Fatal(err)
		}
		e.SetClaimer(book)
		engines = append(engines, e)
	}
	failed := 0
	for i := range 30 {
		if _, ok := engines[i%3].Decide(Request{Operation: "CreateCase"}); ok {
			failed++
		}
	}
	if failed != 5 {
		t.Fatalf("%d calls failed over three engines, want 5", failed)
	}

	// A replaced rule of the same ID is a new instance with a count of its own.
	clk.Advance(time.Millisecond)
	if err := src.SetRules(mustRules(t, `[{"id":"five","operation":"CreateCase","count":5}]`)); err != nil {
		t.Fatal(err)
	}
	engines[0].Restore(src.State())
	if _, ok := engines[0].Decide(Request{Operation: "CreateCase"}); !ok {
		t.Fatal("the replaced rule did not fire")
	}

	// A claimer that cannot be reached injects nothing.
	book.err = errors.New("down")
	clk.Advance(time.Millisecond)
	src.SetRules(mustRules(t, `[{"id":"five","operation":"CreateCase","count":5}]`))
	engines[1].Restore(src.State())
	if d, ok := engines[1].Decide(Request{Operation: "CreateCase"}); ok {
		t.Fatalf("a fault that could not be claimed was injected: %+v", d)
	}
}

func TestLocalControl(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"id":"a","operation":"GetCase"},{"id":"b","operation":"ListDomains"}]`))
	c := Local(e)
	n, err := c.RemoveRules(func(r Rule) bool { return r.ID == "a" })
	if n != 1 || err != nil || len(e.Rules()) != 1 {
		t.Fatalf("RemoveRules = %d, %v; rules %v", n, err, e.Rules())
	}
	if err := c.Reseed(7); err != nil || e.Seed() != 7 {
		t.Fatalf("Reseed: %v, seed %d", err, e.Seed())
	}
	if err := c.StartScenario(Scenario{Name: "s", Phases: []Phase{{Rules: mustRules(t, `[{"operation":"GetCase"}]`)}}}); err != nil || e.ActiveScenario() == nil {
		t.Fatalf("StartScenario: %v", err)
	}
	if err := c.StopScenario(); err != nil || e.ActiveScenario() != nil {
		t.Fatalf("StopScenario: %v", err)
	}
	if err := c.ClearRules(); err != nil || len(e.Rules()) != 0 {
		t.Fatalf("ClearRules: %v", err)
	}
	if err := c.SetRules([]Rule{{Operation: StringList{"x"}}}); err == nil {
		t.Fatal("an unknown operation was accepted")
	}
}
