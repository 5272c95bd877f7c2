package fault

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Scenario is a timed sequence of phases, each with its own rules. Phase
// rules behave like engine rules except that after, duration and count are
// relative to the start of the phase and reset each time it is entered.
//
// Timing: phases run in order once. With Loop they repeat until Duration
// has elapsed (or for ever when Duration is 0). Without Loop, Duration, if
// set, cuts the scenario short, and a last phase with no duration lasts
// until then (or for ever).
type Scenario struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Phases      []Phase  `json:"phases"`
	Loop        bool     `json:"loop,omitempty"`
	Duration    Duration `json:"duration,omitzero"`
	// Seed, when set, seeds the scenario's rules instead of the engine seed,
	// so a scenario file replays the same way on any engine.
	Seed *int64 `json:"seed,omitempty"`
}

// Phase is one step of a scenario.
type Phase struct {
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Duration    Duration `json:"duration,omitzero"`
	Rules       []Rule   `json:"rules,omitempty"`
}

// UnmarshalJSON rejects unknown fields.
func (s *Scenario) UnmarshalJSON(b []byte) error {
	type plain Scenario
	var p plain
	if err := decodeStrict(b, &p); err != nil {
		return err
	}
	*s = Scenario(p)
	return nil
}

// UnmarshalJSON rejects unknown fields.
func (p *Phase) UnmarshalJSON(b []byte) error {
	type plain Phase
	var v plain
	if err := decodeStrict(b, &v); err != nil {
		return err
	}
	*p = Phase(v)
	return nil
}

// Normalize validates s and returns it with defaults filled in (phase
// names, normalised rules).
func (s Scenario) Normalize() (Scenario, error) {
	if s.Name == "" {
		return s, errors.New("scenario: name is required")
	}
	if len(s.Phases) == 0 {
		return s, fmt.Errorf("scenario %q: needs at least one phase", s.Name)
	}
	if s.Duration < 0 {
		return s, fmt.Errorf("scenario %q: duration must not be negative", s.Name)
	}
	out := s
	out.Phases = make([]Phase, len(s.Phases))
	for i, p := range s.Phases {
		if p.Name == "" {
			p.Name = "phase-" + strconv.Itoa(i+1)
		}
		if p.Duration < 0 {
			return s, fmt.Errorf("scenario %q phase %q: duration must not be negative", s.Name, p.Name)
		}
		if p.Duration == 0 && (s.Loop || i != len(s.Phases)-1) {
			return s, fmt.Errorf("scenario %q phase %q: duration is required (only the last phase of a non-looping scenario may omit it)", s.Name, p.Name)
		}
		rules, err := validateRules(p.Rules)
		if err != nil {
			return s, fmt.Errorf("scenario %q phase %q: %w", s.Name, p.Name, err)
		}
		for j := range rules {
			if rules[j].ID == "" {
				rules[j].ID = fmt.Sprintf("%s/%s/%d", s.Name, p.Name, j+1)
			}
		}
		p.Rules = rules
		out.Phases[i] = p
	}
	if s.Seed != nil {
		v := *s.Seed
		out.Seed = &v
	}
	return out, nil
}

// ScenarioEvent is a timeline entry for the health page.
type ScenarioEvent struct {
	Time        time.Time `json:"time"`
	Kind        string    `json:"kind"` // "start", "phase", "end"
	Phase       string    `json:"phase,omitempty"`
	Description string    `json:"description,omitempty"`
}

// ScenarioStatus describes the loaded scenario at a point in time.
type ScenarioStatus struct {
	Name           string          `json:"name"`
	Description    string          `json:"description,omitempty"`
	Active         bool            `json:"active"`
	StartedAt      time.Time       `json:"startedAt"`
	EndsAt         time.Time       `json:"endsAt,omitzero"` // zero: open-ended
	Phase          string          `json:"phase,omitempty"`
	PhaseIndex     int             `json:"phaseIndex"`
	Cycle          int             `json:"cycle"`
	PhaseStartedAt time.Time       `json:"phaseStartedAt,omitzero"`
	PhaseEndsAt    time.Time       `json:"phaseEndsAt,omitzero"`
	Events         []ScenarioEvent `json:"events"`
}

// maxEvents bounds the timeline so a fast-flapping scenario cannot grow it
// without limit; the most recent events are kept.
const maxEvents = 100

type scenarioState struct {
	sc    Scenario
	start time.Time
	seed  int64
	rules [][]*ruleState
	cur   position
	has   bool
}

type position struct {
	phase, cycle int
	phaseStart   time.Time
	ended        bool
}

func (p position) after(q position) bool {
	return p.cycle > q.cycle || (p.cycle == q.cycle && p.phase > q.phase)
}

func (s *scenarioState) cycleLen() (time.Duration, bool) {
	var total time.Duration
	for _, p := range s.sc.Phases {
		if p.Duration == 0 {
			return 0, false
		}
		total += p.Duration.D()
	}
	return total, true
}

// end returns when the scenario ends, or false if it never does.
func (s *scenarioState) end() (time.Time, bool) {
	if s.sc.Duration > 0 {
		if !s.sc.Loop {
			if c, ok := s.cycleLen(); ok && c < s.sc.Duration.D() {
				return s.start.Add(c), true
			}
		}
		return s.start.Add(s.sc.Duration.D()), true
	}
	if s.sc.Loop {
		return time.Time{}, false
	}
	if c, ok := s.cycleLen(); ok {
		return s.start.Add(c), true
	}
	return time.Time{}, false
}

// position computes the phase in force at now. It is a pure function of the
// start time, so the schedule is exact whatever the request timing.
func (s *scenarioState) position(now time.Time) position {
	if end, ok := s.end(); ok && !now.Before(end) {
		return position{ended: true, phase: len(s.sc.Phases) - 1}
	}
	elapsed := now.Sub(s.start)
	if elapsed < 0 {
		elapsed = 0
	}
	pos := position{phaseStart: s.start}
	if c, ok := s.cycleLen(); ok && s.sc.Loop {
		pos.cycle = int(elapsed / c)
		pos.phaseStart = s.start.Add(time.Duration(pos.cycle) * c)
		elapsed %= c
	}
	for i, p := range s.sc.Phases {
		d := p.Duration.D()
		if d == 0 || elapsed < d || i == len(s.sc.Phases)-1 {
			pos.phase = i
			return pos
		}
		elapsed -= d
		pos.phaseStart = pos.phaseStart.Add(d)
	}
	return pos
}

// enter returns the rules of the phase at pos, resetting their windows and
// counts when the scenario has moved into a new phase (or cycle).
func (s *scenarioState) enter(pos position) []*ruleState {
	if !s.has || pos.after(s.cur) {
		for _, rs := range s.rules[pos.phase] {
			rs.fired = 0
			rs.added = pos.phaseStart
		}
		s.cur, s.has = pos, true
	}
	return s.rules[pos.phase]
}

// StartScenario validates sc and starts it now, replacing any running
// scenario.
func (e *Engine) StartScenario(sc Scenario) error {
	n, err := sc.Normalize()
	if err != nil {
		return err
	}
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	seed := e.seed
	if n.Seed != nil {
		seed = *n.Seed
	}
	st := newScenarioState(n, now, seed)
	e.scenario = st
	return nil
}

// LoadScenario builds the named preset with p and starts it.
func (e *Engine) LoadScenario(name string, p ScenarioParams) (Scenario, error) {
	sc, err := Preset(name, p)
	if err != nil {
		return Scenario{}, err
	}
	return sc, e.StartScenario(sc)
}

// StopScenario unloads the scenario.
func (e *Engine) StopScenario() {
	e.mu.Lock()
	e.scenario = nil
	e.mu.Unlock()
}

// ActiveScenario reports the loaded scenario at the engine clock's time, or
// nil if none is loaded. A finished scenario stays visible (Active false)
// until stopped, so the health page can show when the incident ended.
func (e *Engine) ActiveScenario() *ScenarioStatus {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scenarioStatus(now)
}

func (e *Engine) scenarioStatus(now time.Time) *ScenarioStatus {
	s := e.scenario
	if s == nil {
		return nil
	}
	st := &ScenarioStatus{Name: s.sc.Name, Description: s.sc.Description, StartedAt: s.start}
	end, finite := s.end()
	if finite {
		st.EndsAt = end
	}
	pos := s.position(now)
	st.Active = !pos.ended
	if !pos.ended {
		p := s.sc.Phases[pos.phase]
		st.Phase, st.PhaseIndex, st.Cycle, st.PhaseStartedAt = p.Name, pos.phase, pos.cycle, pos.phaseStart
		if p.Duration > 0 {
			st.PhaseEndsAt = pos.phaseStart.Add(p.Duration.D())
			if finite && end.Before(st.PhaseEndsAt) {
				st.PhaseEndsAt = end
			}
		} else if finite {
			st.PhaseEndsAt = end
		}
	}
	st.Events = s.events(now)
	return st
}

// events derives the timeline from the schedule rather than recording it,
// so it is exact even if no request arrived during a phase.
func (s *scenarioState) events(now time.Time) []ScenarioEvent {
	end, finite := s.end()
	events := []ScenarioEvent{}
	t := s.start
	cycle := 0
	if c, ok := s.cycleLen(); ok && s.sc.Loop && c > 0 {
		skip := int(now.Sub(s.start)/c) - (maxEvents/len(s.sc.Phases) + 1)
		if skip > 0 {
			cycle = skip
			t = s.start.Add(time.Duration(skip) * c)
		}
	}
	for i := 0; !t.After(now) && (!finite || t.Before(end)); {
		p := s.sc.Phases[i]
		kind := "phase"
		if i == 0 && cycle == 0 {
			kind = "start"
		}
		desc := p.Description
		if kind == "start" && s.sc.Description != "" {
			desc = s.sc.Description
			if p.Description != "" {
				desc += " — " + p.Description
			}
		}
		events = append(events, ScenarioEvent{Time: t, Kind: kind, Phase: p.Name, Description: desc})
		if p.Duration == 0 {
			break
		}
		t = t.Add(p.Duration.D())
		i++
		if i == len(s.sc.Phases) {
			if !s.sc.Loop {
				break
			}
			i, cycle = 0, cycle+1
		}
	}
	if finite && !now.Before(end) {
		events = append(events, ScenarioEvent{Time: end, Kind: "end", Description: "scenario " + s.sc.Name + " ended"})
	}
	if len(events) > maxEvents {
		events = events[len(events)-maxEvents:]
	}
	return events
}
