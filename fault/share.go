package fault

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrUnavailable marks a change of rules, scenario or seed that could not
// be made because the state several servers share (package pgshare keeps it
// in PostgreSQL) could not be reached. Nothing changed; the admin API
// answers 503, as for any dependency that is down.
var ErrUnavailable = errors.New("the shared fault state is unavailable")

// Control changes what engines inject. Local(e) changes one process's
// engine and never fails for any reason but a bad rule or scenario; a shared
// implementation (pgshare.Share) changes every engine on one database and
// can also fail with an error wrapping ErrUnavailable.
type Control interface {
	// SetRules replaces the rules (Engine.SetRules).
	SetRules(rules []Rule) error
	// AddRules appends rules (Engine.AddRules).
	AddRules(rules []Rule) error
	// RemoveRules deletes the rules match selects and reports how many.
	RemoveRules(match func(Rule) bool) (int, error)
	// ClearRules deletes every rule; the scenario keeps running.
	ClearRules() error
	// Reseed restarts every random stream from seed.
	Reseed(seed int64) error
	// Reset removes rules and the scenario and forgets observed outcomes.
	Reset() error
	// StartScenario starts sc now, replacing any running scenario.
	StartScenario(sc Scenario) error
	// StopScenario unloads the scenario.
	StopScenario() error
	// SetThrottle turns throttling on or off and sets the limits of the
	// operations in ops; the others keep theirs.
	SetThrottle(enabled bool, ops map[string]Limit) error
}

// Local is the Control of a single engine: changes apply to this process
// only, which is all the memory and SQLite modes have.
func Local(e *Engine) Control { return localControl{e} }

type localControl struct{ e *Engine }

func (c localControl) SetRules(rules []Rule) error { return c.e.SetRules(rules) }
func (c localControl) AddRules(rules []Rule) error { return c.e.AddRules(rules) }
func (c localControl) RemoveRules(match func(Rule) bool) (int, error) {
	return c.e.RemoveRules(match), nil
}
func (c localControl) ClearRules() error               { c.e.Clear(); return nil }
func (c localControl) Reseed(seed int64) error         { c.e.Reseed(seed); return nil }
func (c localControl) Reset() error                    { c.e.Reset(); return nil }
func (c localControl) StartScenario(sc Scenario) error { return c.e.StartScenario(sc) }
func (c localControl) StopScenario() error             { c.e.StopScenario(); return nil }
func (c localControl) SetThrottle(enabled bool, ops map[string]Limit) error {
	t := c.e.Throttler()
	if t == nil {
		return errors.New("this engine has no throttler")
	}
	for op, l := range ops {
		t.SetLimit(op, l)
	}
	t.SetEnabled(enabled)
	return nil
}

// State is what several engines share so that they inject as one: the
// rules with the time each was added (which anchors its after/duration
// window), the scenario with its start (one scenario clock), and the seed.
// What each engine keeps to itself: how often an unlimited rule fired here,
// its random streams' positions, and observed outcomes. Count limits hold
// in sum through a Claimer.
type State struct {
	Seed int64 `json:"seed"`
	// NextID numbers the rules added without an ID (rule-N).
	NextID   int              `json:"nextId"`
	Rules    []InstalledRule  `json:"rules"`
	Scenario *RunningScenario `json:"scenario,omitempty"`
}

// InstalledRule is a normalised rule and when it was added.
type InstalledRule struct {
	Rule  Rule      `json:"rule"`
	Added time.Time `json:"added"`
}

// RunningScenario is a normalised scenario, when it started, and the seed
// its rules draw from.
type RunningScenario struct {
	Scenario Scenario  `json:"scenario"`
	Start    time.Time `json:"start"`
	Seed     int64     `json:"seed"`
}

// Claimer makes a count-limited rule (count: N) inject N times in sum over
// every engine that shares it. Claim counts one more firing of the rule
// instance named by stream and added (the time the rule was added, or the
// phase began for a scenario's rule) if fewer than limit were counted, and
// reports whether it did. An error counts as refused: a fault that cannot
// be accounted for is not injected. Decide calls Claim with the engine's
// lock held, so a slow Claim delays every decision; implementations bound
// it with a timeout.
type Claimer interface {
	Claim(stream string, added time.Time, limit int) (bool, error)
}

// SetClaimer makes Decide ask c before a count-limited rule fires; nil
// (the default) counts in this engine alone.
func (e *Engine) SetClaimer(c Claimer) {
	e.mu.Lock()
	e.claimer = c
	e.mu.Unlock()
}

// ClaimKey names a rule instance in a Claimer's books: its random stream
// and the time it was added, in Unix nanoseconds. Both are the same on
// every engine that restored the same State.
func ClaimKey(stream string, added time.Time) string {
	return stream + "@" + strconv.FormatInt(added.UnixNano(), 10)
}

// claim reports whether rs may fire once more, asking the claimer for a
// count-limited rule. A refusal marks the rule spent here, so later calls
// do not ask again.
func (e *Engine) claim(rs *ruleState) bool {
	if rs.rule.Count == nil || e.claimer == nil {
		return true
	}
	ok, err := e.claimer.Claim(rs.stream, rs.added, *rs.rule.Count)
	if err != nil {
		return false
	}
	if !ok {
		rs.fired = *rs.rule.Count
	}
	return ok
}

// State returns the engine's shareable state.
func (e *Engine) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := State{Seed: e.seed, NextID: e.nextID, Rules: make([]InstalledRule, len(e.rules))}
	for i, rs := range e.rules {
		st.Rules[i] = InstalledRule{Rule: rs.rule.Clone(), Added: rs.added}
	}
	if s := e.scenario; s != nil {
		st.Scenario = &RunningScenario{Scenario: s.sc, Start: s.start, Seed: s.seed}
	}
	return st
}

// Restore makes the engine hold st, as another engine's State reported
// it. Rules and a scenario that st shares with what the engine holds (same
// ID, or name, and the same added or start time) keep their counters and
// random streams, so restoring the same state twice changes nothing; the
// rest start afresh. Observed outcomes are kept. On error nothing changes.
func (e *Engine) Restore(st State) error {
	rules := make([]Rule, len(st.Rules))
	for i, ir := range st.Rules {
		rules[i] = ir.Rule
	}
	norm, err := validateRules(rules)
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	for i, r := range norm {
		if r.ID == "" || ids[r.ID] {
			return ruleError(i, r, errors.New("a restored rule needs a unique id"))
		}
		ids[r.ID] = true
	}
	var sc Scenario
	if st.Scenario != nil {
		if sc, err = st.Scenario.Scenario.Normalize(); err != nil {
			return err
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	reseed := st.Seed != e.seed
	e.seed = st.Seed
	old := map[string]*ruleState{}
	for _, rs := range e.rules {
		old[ClaimKey(rs.stream, rs.added)] = rs
	}
	states := make([]*ruleState, len(norm))
	for i, r := range norm {
		stream, added := "rule/"+r.ID, st.Rules[i].Added
		if rs := old[ClaimKey(stream, added)]; rs != nil && !reseed {
			states[i] = rs
			continue
		}
		states[i] = &ruleState{rule: r, stream: stream, added: added, rng: newStream(e.seed, stream)}
	}
	e.rules, e.nextID = states, st.NextID

	switch rs := st.Scenario; {
	case rs == nil:
		e.scenario = nil
	case e.scenario != nil && e.scenario.sc.Name == sc.Name && e.scenario.start.Equal(rs.Start) && e.scenario.seed == rs.Seed:
		// The same run: keep the phase it is in and its counters.
	default:
		e.scenario = newScenarioState(sc, rs.Start, rs.Seed)
	}
	return nil
}

// newScenarioState builds the run of a normalised scenario from start.
func newScenarioState(n Scenario, start time.Time, seed int64) *scenarioState {
	st := &scenarioState{sc: n, start: start, seed: seed, rules: make([][]*ruleState, len(n.Phases))}
	for i, p := range n.Phases {
		for j, r := range p.Rules {
			stream := fmt.Sprintf("scenario/%s/%d/%d", n.Name, i, j)
			st.rules[i] = append(st.rules[i], &ruleState{rule: r, stream: stream, added: start, rng: newStream(seed, stream)})
		}
	}
	return st
}
