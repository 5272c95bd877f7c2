package fault

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ScenarioParams tunes a preset. Zero fields take the preset's defaults.
type ScenarioParams struct {
	// Duration is the total length of the scenario.
	Duration Duration `json:"duration,omitzero"`
	// Percent of calls affected, in (0, 100].
	Percent float64 `json:"percent,omitempty"`
	// Operations limits the scenario to these operations (default: all).
	Operations []string `json:"operations,omitempty"`
	// Seed seeds the scenario's random streams (default: the engine seed).
	Seed *int64 `json:"seed,omitempty"`
	// Period is the cycle length of flapping (each half) and throttle-storm
	// (burst plus calm).
	Period Duration `json:"period,omitzero"`
	// Latency for latency-spike.
	Latency *Latency `json:"latency,omitempty"`
	// Code overrides the error injected by outage, brownout and flapping.
	Code string `json:"code,omitempty"`
}

type presetFunc func(p ScenarioParams, ops StringList, prob *float64, code string) Scenario

var presets = map[string]struct {
	duration time.Duration
	percent  float64
	build    presetFunc
}{
	"outage": {5 * time.Minute, 100, func(p ScenarioParams, ops StringList, prob *float64, code string) Scenario {
		return Scenario{
			Name:        "outage",
			Description: fmt.Sprintf("Service outage: %s fail with %s.", opsText(ops), code),
			Phases: []Phase{{Name: "outage", Description: "Calls are failing.", Rules: []Rule{{
				Operation: ops, Probability: prob, Error: &ErrorSpec{Code: code}, Description: "outage",
			}}}},
		}
	}},
	"brownout": {10 * time.Minute, 25, func(p ScenarioParams, ops StringList, prob *float64, code string) Scenario {
		return Scenario{
			Name:        "brownout",
			Description: fmt.Sprintf("Elevated error rates: %g%% of calls to %s fail with %s.", p.Percent, opsText(ops), code),
			Phases: []Phase{{Name: "brownout", Description: "Some calls are failing.", Rules: []Rule{{
				Operation: ops, Probability: prob, Error: &ErrorSpec{Code: code}, Description: "brownout",
			}}}},
		}
	}},
	"throttle-storm": {5 * time.Minute, 90, func(p ScenarioParams, ops StringList, prob *float64, _ string) Scenario {
		period := p.Period.D()
		if period == 0 {
			period = 30 * time.Second
		}
		burst := period / 3
		return Scenario{
			Name:        "throttle-storm",
			Description: fmt.Sprintf("Throttling bursts: every %v, %g%% of calls to %s are throttled for %v.", period, p.Percent, opsText(ops), burst),
			Loop:        true,
			Phases: []Phase{
				{Name: "burst", Description: "Calls are being throttled.", Duration: Duration(burst), Rules: []Rule{{
					Operation: ops, Probability: prob, Error: &ErrorSpec{Code: CodeThrottling}, Description: "throttle burst",
				}}},
				{Name: "calm", Description: "Throttling has eased.", Duration: Duration(period - burst)},
			},
		}
	}},
	"latency-spike": {5 * time.Minute, 100, func(p ScenarioParams, ops StringList, prob *float64, _ string) Scenario {
		l := Latency{Min: 500 * time.Millisecond, Max: 2 * time.Second}
		if p.Latency != nil {
			l = *p.Latency
		}
		return Scenario{
			Name:        "latency-spike",
			Description: fmt.Sprintf("Increased latency: %g%% of calls to %s take an extra %v-%v.", p.Percent, opsText(ops), l.Min, l.Max),
			Phases: []Phase{{Name: "spike", Description: "Calls are slow.", Rules: []Rule{{
				Operation: ops, Probability: prob, Action: ActionLatency, Latency: &l, Description: "latency spike",
			}}}},
		}
	}},
	"flapping": {10 * time.Minute, 100, func(p ScenarioParams, ops StringList, prob *float64, code string) Scenario {
		period := p.Period.D()
		if period == 0 {
			period = 30 * time.Second
		}
		return Scenario{
			Name:        "flapping",
			Description: fmt.Sprintf("Intermittent outage: %s alternate between healthy and failing with %s every %v.", opsText(ops), code, period),
			Loop:        true,
			Phases: []Phase{
				{Name: "healthy", Description: "Service operating normally.", Duration: Duration(period)},
				{Name: "outage", Description: "Calls are failing.", Duration: Duration(period), Rules: []Rule{{
					Operation: ops, Probability: prob, Error: &ErrorSpec{Code: code}, Description: "flapping outage",
				}}},
			},
		}
	}},
}

// Presets lists the preset scenario names.
func Presets() []string {
	out := make([]string, 0, len(presets))
	for n := range presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Preset builds a named scenario. Presets:
//
//	outage          every call fails with InternalServerException (default 5m)
//	brownout        percent (default 25) of calls fail (default 10m)
//	throttle-storm  ThrottlingException bursts: a third of each period (default
//	                30s) throttles percent (default 90) of calls (default 5m)
//	latency-spike   percent (default 100) of calls get latency (default
//	                500ms-2s) added (default 5m)
//	flapping        alternate healthy/outage every period (default 30s) (default 10m)
func Preset(name string, p ScenarioParams) (Scenario, error) {
	pr, ok := presets[strings.ToLower(name)]
	if !ok {
		return Scenario{}, fmt.Errorf("unknown scenario %q; presets: %s", name, strings.Join(Presets(), ", "))
	}
	if p.Duration < 0 || p.Period < 0 {
		return Scenario{}, fmt.Errorf("scenario %s: duration and period must not be negative", name)
	}
	if p.Percent < 0 || p.Percent > 100 {
		return Scenario{}, fmt.Errorf("scenario %s: percent %g out of range (0,100]", name, p.Percent)
	}
	if p.Percent == 0 {
		p.Percent = pr.percent
	}
	if p.Duration == 0 {
		p.Duration = Duration(pr.duration)
	}
	code := CodeInternalServer
	if p.Code != "" {
		c, ok := canonicalCode(p.Code)
		if !ok {
			return Scenario{}, fmt.Errorf("scenario %s: unknown error code %q", name, p.Code)
		}
		code = c
	}
	var prob *float64
	if p.Percent < 100 {
		v := p.Percent / 100
		prob = &v
	}
	ops := StringList(append([]string(nil), p.Operations...))
	sc := pr.build(p, ops, prob, code)
	sc.Duration = p.Duration
	if p.Seed != nil {
		v := *p.Seed
		sc.Seed = &v
	}
	return sc.Normalize()
}

func opsText(ops StringList) string {
	if len(ops) == 0 {
		return "all operations"
	}
	return strings.Join(ops, ", ")
}
