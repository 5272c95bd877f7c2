package fault

import (
	"strings"
	"testing"
	"time"
)

func opHealth(r HealthReport, op string) OperationHealth {
	for _, o := range r.Operations {
		if o.Operation == op {
			return o
		}
	}
	return OperationHealth{}
}

func TestHealthFromRules(t *testing.T) {
	tests := []struct {
		name    string
		rules   string
		want    map[string]HealthStatus
		overall HealthStatus
	}{
		{"none", `[]`, map[string]HealthStatus{"GetCase": StatusOperational}, StatusOperational},
		{"certain outage", `[{"operation":"GetCase"}]`, map[string]HealthStatus{"GetCase": StatusOutage, "CreateCase": StatusOperational}, StatusOutage},
		{"partial", `[{"operation":"GetCase","probability":0.5}]`, map[string]HealthStatus{"GetCase": StatusDegraded}, StatusDegraded},
		{"first attempt only", `[{"operation":"GetCase","attempts":"1"}]`, map[string]HealthStatus{"GetCase": StatusDegraded}, StatusDegraded},
		{"all attempts via range", `[{"operation":"GetCase","attempts":"1-"}]`, map[string]HealthStatus{"GetCase": StatusOutage}, StatusOutage},
		{"one domain", `[{"domain":"d-1"}]`, map[string]HealthStatus{"GetCase": StatusDegraded}, StatusDegraded},
		{"latency", `[{"latency":"1s"}]`, map[string]HealthStatus{"ListDomains": StatusDegraded}, StatusDegraded},
		{"latency shadows outage", `[{"operation":"GetCase","latency":"1s"},{"operation":"GetCase"}]`, map[string]HealthStatus{"GetCase": StatusDegraded}, StatusDegraded},
		{"partial then certain", `[{"operation":"GetCase","latency":"1s","probability":0.1},{"operation":"GetCase","action":"drop"}]`, map[string]HealthStatus{"GetCase": StatusOutage}, StatusOutage},
		{"not yet active", `[{"after":"1h"}]`, map[string]HealthStatus{"GetCase": StatusOperational}, StatusOperational},
		{"other service", `[{"service":"s3"}]`, map[string]HealthStatus{"GetCase": StatusOperational}, StatusOperational},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, clk := newTestEngine(t, mustRules(t, tt.rules))
			r := e.Health(clk.Now())
			for op, want := range tt.want {
				if got := opHealth(r, op); got.Status != want {
					t.Errorf("%s: %s (%v), want %s", op, got.Status, got.Reasons, want)
				}
			}
			if r.Status != tt.overall {
				t.Errorf("overall %s want %s", r.Status, tt.overall)
			}
		})
	}
}

func TestHealthSpentRuleAndDeclared(t *testing.T) {
	e, clk := newTestEngine(t, mustRules(t, `[{"operation":"GetCase","count":1},{"id":"c","error":{"code":"ConflictException"}}]`))
	if s := opHealth(e.Health(clk.Now()), "GetCase").Status; s != StatusDegraded {
		t.Errorf("count-limited rule: %s", s)
	}
	e.Decide(Request{Operation: "GetCase"})
	r := e.Health(clk.Now())
	if s := opHealth(r, "GetCase").Status; s != StatusOperational {
		t.Errorf("spent rule still affects health: %s", s)
	}
	if s := opHealth(r, "CreateCase").Status; s != StatusOutage {
		t.Errorf("declared error rule: %s", s)
	}
}

func TestHealthFromScenario(t *testing.T) {
	e, clk := newTestEngine(t, nil)
	e.LoadScenario("flapping", ScenarioParams{Period: Duration(time.Minute), Operations: []string{"CreateCase"}})
	r := e.Health(clk.Now())
	if r.Status != StatusOperational || r.Scenario == nil || r.Scenario.Phase != "healthy" {
		t.Fatalf("healthy phase: %s %+v", r.Status, r.Scenario)
	}
	// Health looks ahead without a Decide having entered the phase.
	r = e.Health(clk.Advance(time.Minute))
	oh := opHealth(r, "CreateCase")
	if r.Status != StatusOutage || oh.Status != StatusOutage || !strings.Contains(strings.Join(oh.Reasons, ";"), `scenario "flapping" phase "outage"`) {
		t.Errorf("outage phase: %s %+v", r.Status, oh)
	}
	if len(r.Scenario.Events) != 2 || r.Scenario.Events[1].Phase != "outage" {
		t.Errorf("events %+v", r.Scenario.Events)
	}
}

func TestHealthFromObservations(t *testing.T) {
	e, clk := newTestEngine(t, nil, WithHealthWindow(time.Minute), WithHealthThresholds(0.1, 0.9, 5))
	obs := func(op string, status int, n int) {
		for i := 0; i < n; i++ {
			e.Observe(Outcome{Time: clk.Now(), Operation: op, StatusCode: status})
		}
	}
	obs("GetCase", 200, 8)
	obs("GetCase", 500, 2) // 20%
	obs("CreateCase", 503, 10)
	obs("SearchCases", 400, 10) // client errors do not count
	obs("ListDomains", 500, 3)  // below minimum sample
	r := e.Health(clk.Now())
	for op, want := range map[string]HealthStatus{"GetCase": StatusDegraded, "CreateCase": StatusOutage, "SearchCases": StatusOperational, "ListDomains": StatusOperational} {
		if got := opHealth(r, op); got.Status != want {
			t.Errorf("%s: %s %+v", op, got.Status, got)
		}
	}
	if g := opHealth(r, "GetCase"); g.Requests != 10 || g.Failures != 2 || g.ErrorRate != 0.2 {
		t.Errorf("GetCase stats %+v", g)
	}
	// Observations age out of the window.
	r = e.Health(clk.Advance(61 * time.Second))
	if r.Status != StatusOperational {
		t.Errorf("after window: %s", r.Status)
	}
	e.Observe(Outcome{Operation: "Custom", Dropped: true})
	if opHealth(e.Health(clk.Now()), "Custom").Requests != 1 {
		t.Error("unknown operations should still be reported")
	}
}
