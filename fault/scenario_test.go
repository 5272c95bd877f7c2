package fault

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestScenarioPhases(t *testing.T) {
	sc := Scenario{
		Name:        "incident",
		Description: "Simulated incident",
		Phases: []Phase{
			{Name: "calm", Duration: Duration(time.Minute)},
			{Name: "errors", Description: "elevated errors", Duration: Duration(2 * time.Minute), Rules: []Rule{{Operation: StringList{"GetCase"}, Error: &ErrorSpec{Code: CodeInternalServer}}}},
			{Name: "slow", Duration: Duration(time.Minute), Rules: []Rule{{Latency: FixedLatency(time.Second)}}},
		},
	}
	e, clk := newTestEngine(t, nil)
	if err := e.StartScenario(sc); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at     time.Duration
		phase  string
		action Action
		active bool
	}{
		{0, "calm", "", true},
		{59 * time.Second, "calm", "", true},
		{60 * time.Second, "errors", ActionError, true},
		{179 * time.Second, "errors", ActionError, true},
		{180 * time.Second, "slow", ActionLatency, true},
		{240 * time.Second, "", "", false},
	}
	for _, s := range steps {
		clk.Set(t0.Add(s.at))
		d, ok := e.Decide(Request{Operation: "GetCase"})
		if d.Action != s.action || ok != (s.action != "") || (ok && (d.Phase != s.phase || d.Scenario != "incident" || d.Source != SourceScenario)) {
			t.Errorf("+%v: got %+v ok=%v", s.at, d, ok)
		}
		st := e.ActiveScenario()
		if st == nil || st.Active != s.active || st.Phase != s.phase {
			t.Errorf("+%v: status %+v", s.at, st)
		}
	}
	st := e.ActiveScenario()
	var kinds []string
	for _, ev := range st.Events {
		kinds = append(kinds, fmt.Sprintf("%s:%s@%v", ev.Kind, ev.Phase, ev.Time.Sub(t0)))
	}
	want := "start:calm@0s phase:errors@1m0s phase:slow@3m0s end:@4m0s"
	if strings.Join(kinds, " ") != want {
		t.Errorf("events %v, want %s", kinds, want)
	}
	if st.Events[0].Description != "Simulated incident" || st.Events[1].Description != "elevated errors" {
		t.Errorf("event descriptions: %+v", st.Events)
	}
	if !st.EndsAt.Equal(t0.Add(4 * time.Minute)) {
		t.Errorf("EndsAt %v", st.EndsAt)
	}
	e.StopScenario()
	if e.ActiveScenario() != nil {
		t.Error("scenario still loaded after StopScenario")
	}
}

func TestScenarioCountResetsPerPhaseEntry(t *testing.T) {
	sc := Scenario{
		Name: "blips", Loop: true,
		Phases: []Phase{
			{Name: "blip", Duration: Duration(10 * time.Second), Rules: []Rule{{Count: count(2)}}},
			{Name: "ok", Duration: Duration(10 * time.Second)},
		},
	}
	e, clk := newTestEngine(t, nil)
	if err := e.StartScenario(sc); err != nil {
		t.Fatal(err)
	}
	for cycle := 0; cycle < 3; cycle++ {
		clk.Set(t0.Add(time.Duration(cycle) * 20 * time.Second))
		n := 0
		for i := 0; i < 5; i++ {
			if _, ok := e.Decide(Request{Operation: "GetCase"}); ok {
				n++
			}
		}
		if n != 2 {
			t.Errorf("cycle %d: %d faults, want 2", cycle, n)
		}
	}
}

func TestPresetFlapping(t *testing.T) {
	e, clk := newTestEngine(t, nil)
	sc, err := e.LoadScenario("flapping", ScenarioParams{Duration: Duration(2 * time.Minute), Period: Duration(20 * time.Second), Operations: []string{"CreateCase"}})
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Loop || len(sc.Phases) != 2 {
		t.Fatalf("scenario %+v", sc)
	}
	var got strings.Builder
	for s := 0; s < 130; s += 10 {
		clk.Set(t0.Add(time.Duration(s) * time.Second))
		_, ok := e.Decide(Request{Operation: "CreateCase"})
		_, other := e.Decide(Request{Operation: "GetCase"})
		if other {
			t.Errorf("+%ds: GetCase faulted but only CreateCase is targeted", s)
		}
		if ok {
			got.WriteString("X")
		} else {
			got.WriteString(".")
		}
	}
	// 20s healthy, 20s outage, repeating, ending at 120s.
	if want := "..XX..XX..XX."; got.String() != want {
		t.Errorf("timeline %s want %s", got.String(), want)
	}
	st := e.ActiveScenario()
	if st.Active || len(st.Events) != 7 || st.Events[6].Kind != "end" {
		t.Errorf("status %+v", st)
	}
}

func TestPresets(t *testing.T) {
	tests := []struct {
		name   string
		params ScenarioParams
		check  func(t *testing.T, e *Engine, clk *ManualClock)
	}{
		{"outage", ScenarioParams{}, func(t *testing.T, e *Engine, clk *ManualClock) {
			for _, op := range KnownOperations() {
				d, ok := e.Decide(Request{Operation: op})
				if !ok || d.Error.Code != CodeInternalServer || d.RetryAfter() != time.Second {
					t.Fatalf("%s: %+v", op, d)
				}
			}
			clk.Advance(5 * time.Minute)
			if _, ok := e.Decide(Request{Operation: "GetCase"}); ok {
				t.Error("outage outlived its default 5m duration")
			}
		}},
		{"brownout", ScenarioParams{Percent: 30}, func(t *testing.T, e *Engine, _ *ManualClock) {
			n := 0
			for i := 0; i < 1000; i++ {
				if _, ok := e.Decide(Request{Operation: "GetCase"}); ok {
					n++
				}
			}
			if n < 250 || n > 350 {
				t.Errorf("brownout 30%% failed %d/1000", n)
			}
		}},
		{"throttle-storm", ScenarioParams{Percent: 100, Period: Duration(30 * time.Second)}, func(t *testing.T, e *Engine, clk *ManualClock) {
			if d, ok := e.Decide(Request{Operation: "SearchCases"}); !ok || d.Error.Code != CodeThrottling {
				t.Errorf("burst: %+v", d)
			}
			clk.Advance(10 * time.Second)
			if _, ok := e.Decide(Request{Operation: "SearchCases"}); ok {
				t.Error("calm phase throttled")
			}
			clk.Advance(20 * time.Second)
			if _, ok := e.Decide(Request{Operation: "SearchCases"}); !ok {
				t.Error("second burst missing")
			}
		}},
		{"latency-spike", ScenarioParams{Latency: FixedLatency(3 * time.Second)}, func(t *testing.T, e *Engine, _ *ManualClock) {
			if d, ok := e.Decide(Request{Operation: "GetCase"}); !ok || d.Action != ActionLatency || d.Latency != 3*time.Second {
				t.Errorf("%+v", d)
			}
		}},
		{"outage", ScenarioParams{Code: "ServiceQuotaExceededException", Operations: []string{"CreateCaseRule"}}, func(t *testing.T, e *Engine, _ *ManualClock) {
			if d, ok := e.Decide(Request{Operation: "CreateCaseRule"}); !ok || d.Error.Code != CodeServiceQuotaExceeded {
				t.Errorf("%+v", d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, clk := newTestEngine(t, nil)
			if _, err := e.LoadScenario(tt.name, tt.params); err != nil {
				t.Fatal(err)
			}
			tt.check(t, e, clk)
		})
	}
}

func TestPresetErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    ScenarioParams
		want string
	}{
		{"meteor", ScenarioParams{}, "unknown scenario"},
		{"brownout", ScenarioParams{Percent: 150}, "percent"},
		{"outage", ScenarioParams{Code: "Nope"}, "unknown error code"},
		{"outage", ScenarioParams{Operations: []string{"Nope"}}, "unknown operation"},
		{"flapping", ScenarioParams{Period: Duration(-time.Second)}, "negative"},
	} {
		if _, err := Preset(tc.name, tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v", tc.name, tc.p, err)
		}
	}
}

func TestScenarioSeedReplays(t *testing.T) {
	seed := int64(5)
	run := func(engineSeed int64) string {
		e, _ := newTestEngine(t, nil, WithSeed(engineSeed))
		e.LoadScenario("brownout", ScenarioParams{Seed: &seed})
		var b strings.Builder
		for i := 0; i < 100; i++ {
			_, ok := e.Decide(Request{Operation: "GetCase"})
			fmt.Fprint(&b, ok, ",")
		}
		return b.String()
	}
	if run(1) != run(2) {
		t.Error("scenario seed should make the run independent of the engine seed")
	}
}

func TestScenarioValidation(t *testing.T) {
	for _, tc := range []struct {
		sc   Scenario
		want string
	}{
		{Scenario{}, "name"},
		{Scenario{Name: "x"}, "at least one phase"},
		{Scenario{Name: "x", Phases: []Phase{{}, {}}}, "duration is required"},
		{Scenario{Name: "x", Loop: true, Phases: []Phase{{}}}, "duration is required"},
		{Scenario{Name: "x", Phases: []Phase{{Rules: []Rule{{Action: "nope"}}}}}, "unknown action"},
	} {
		if _, err := tc.sc.Normalize(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc.sc, err)
		}
	}
}

func TestScenarioOpenEndedAndEventCap(t *testing.T) {
	e, clk := newTestEngine(t, nil)
	e.StartScenario(Scenario{Name: "fast", Loop: true, Phases: []Phase{
		{Name: "a", Duration: Duration(time.Second)}, {Name: "b", Duration: Duration(time.Second)},
	}})
	clk.Advance(1000 * time.Hour)
	st := e.ActiveScenario()
	if !st.Active || !st.EndsAt.IsZero() || len(st.Events) > maxEvents || len(st.Events) == 0 {
		t.Fatalf("status active=%v ends=%v events=%d", st.Active, st.EndsAt, len(st.Events))
	}
	last := st.Events[len(st.Events)-1]
	if last.Phase != st.Phase || !last.Time.Equal(st.PhaseStartedAt) {
		t.Errorf("last event %+v, phase %s started %v", last, st.Phase, st.PhaseStartedAt)
	}
}
