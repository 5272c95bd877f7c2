package health

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/healthapi"
)

// maxUpdates bounds an event's description: a flapping scenario posts at
// every phase, and the latest posts are the ones that matter.
const maxUpdates = 12

// syncLocked opens, updates and closes the events that follow the fault
// engine, and moves posted events along their schedule. The fault engine's
// schedule is a pure function of its clock, so times are exact even when
// nothing read the events while a scenario ran.
func (s *Service) syncLocked(ctx context.Context) {
	now := ms(s.cfg.Clock.Now())
	live := map[string]bool{}
	if f := s.cfg.Faults; f != nil {
		if st := f.ActiveScenario(); st != nil {
			key := fmt.Sprintf("scenario %s@%d", st.Name, st.StartedAt.UnixNano())
			live[key] = true
			s.syncScenario(ctx, key, st, f, now)
		}
		for _, rs := range f.RuleStatuses() {
			if !rs.Rule.Announced {
				continue
			}
			key := fmt.Sprintf("rule %s@%d", rs.Rule.ID, rs.AddedAt.UnixNano())
			if rs.Active {
				live[key] = true
			}
			s.syncRule(ctx, key, rs, f, now)
		}
	}
	for _, e := range s.events {
		switch {
		case e.Source == "admin":
			s.scheduleLocked(e, now)
		case e.Status == string(healthapi.EventStatusCodeOpen) && !live[e.key]:
			// Stopped, replaced or removed since the last sync.
			s.closeLocked(e, now)
		}
	}
}

func (s *Service) find(key string) *Event {
	for _, e := range s.events {
		if e.key == key {
			return e
		}
	}
	return nil
}

// impact words an incident by what the fault does.
type impact struct{ title, noun string }

func impactOf(name string) impact {
	switch n := strings.ToLower(name); {
	case strings.Contains(n, "latency"):
		return impact{"Increased API Latencies", "increased latencies"}
	case strings.Contains(n, "throttl"):
		return impact{"Increased API Throttling", "increased throttling"}
	}
	return impact{"Increased API Error Rates", "increased error rates"}
}

func (s *Service) syncScenario(ctx context.Context, key string, st *fault.ScenarioStatus, f *fault.Engine, now time.Time) {
	e := s.find(key)
	if e == nil {
		e = s.newEvent(ServiceConnect, TypeOperationalIssue, string(healthapi.EventTypeCategoryIssue), s.cfg.Region, ms(st.StartedAt), "scenario")
		e.key, e.impact = key, impactOf(st.Name)
		e.Metadata = map[string]string{"scenario": st.Name}
		s.affectDomains(ctx, e, ms(st.StartedAt), "")
	}
	if e.Status == string(healthapi.EventStatusCodeClosed) {
		return
	}
	if st.Active {
		rep := f.Health(now)
		for _, oh := range rep.Operations {
			if oh.Status != fault.StatusOperational && fromScenario(oh.Reasons) {
				e.addOp(oh.Operation)
				e.notePlannedRate(oh.Reasons)
			}
		}
		s.noteErrorRate(e, rep)
	}
	// The description is rebuilt from the scenario's own timeline.
	e.updates = e.updates[:0]
	for _, ev := range st.Events {
		switch ev.Kind {
		case "start":
			text := fmt.Sprintf("We are investigating %s for %s in the %s Region.", e.impact.noun, s.opsText(e.ops), strings.ToUpper(s.cfg.Region))
			switch rate := e.Metadata["plannedRate"]; rate {
			case "":
			case "100%":
				text += " All calls to the affected APIs are impacted."
			default:
				text += fmt.Sprintf(" About %s of calls to the affected APIs are impacted.", rate)
			}
			if st.Description != "" {
				text += " " + st.Description
			}
			e.updates = append(e.updates, update{ms(ev.Time), text})
		case "phase":
			if ev.Description != "" {
				e.updates = append(e.updates, update{ms(ev.Time), ev.Description})
			}
		}
	}
	if len(st.Events) > 0 {
		if t := ms(st.Events[len(st.Events)-1].Time); t.After(e.LastUpdated) {
			e.LastUpdated = t
		}
	}
	if !st.Active {
		s.closeLocked(e, ms(st.EndsAt))
		return
	}
	e.Description = e.render()
}

func (s *Service) syncRule(ctx context.Context, key string, rs fault.RuleStatus, f *fault.Engine, now time.Time) {
	e := s.find(key)
	if e == nil {
		if !rs.Active {
			return
		}
		start := ms(rs.ActiveFrom)
		e = s.newEvent(ServiceConnect, TypeOperationalIssue, string(healthapi.EventTypeCategoryIssue), s.cfg.Region, start, "rule")
		code := ""
		if rs.Rule.Error != nil {
			code = rs.Rule.Error.Code
		}
		e.key, e.impact = key, impactOf(string(rs.Rule.Action)+" "+code)
		e.Metadata = map[string]string{"faultRule": rs.Rule.ID}
		s.affectDomains(ctx, e, start, rs.Rule.Domain)
		for _, op := range rs.Rule.Operation {
			if op != "*" {
				e.addOp(op)
			}
		}
		what := "Calls are failing."
		if rs.Rule.Error != nil && rs.Rule.Error.Code != "" {
			what = "Calls fail with " + rs.Rule.Error.Code + "."
		}
		if rs.Rule.Probability != nil && *rs.Rule.Probability < 1 {
			what = fmt.Sprintf("About %.0f%% of calls are affected.", *rs.Rule.Probability*100)
		}
		text := fmt.Sprintf("We are investigating %s for %s in the %s Region. %s", e.impact.noun, s.opsText(e.ops), strings.ToUpper(s.cfg.Region), what)
		if rs.Rule.Description != "" {
			text += " " + rs.Rule.Description
		}
		e.updates = []update{{start, text}}
		e.Description = e.render()
	}
	if e.Status == string(healthapi.EventStatusCodeOpen) && !rs.Active {
		end := now
		if !rs.ActiveUntil.IsZero() && rs.ActiveUntil.Before(now) {
			end = ms(rs.ActiveUntil)
		}
		s.closeLocked(e, end)
		return
	}
	if rs.Active {
		s.noteErrorRate(e, f.Health(now))
	}
}

// plannedRateRE reads the share of calls a fault takes from a health page
// reason, "scenario "outage" phase "outage": InternalServerException on
// 100% of calls".
var plannedRateRE = regexp.MustCompile(`on (\d+(?:\.\d+)?)% of calls`)

// notePlannedRate keeps the largest share of calls the faults take.
func (e *Event) notePlannedRate(reasons []string) {
	for _, r := range reasons {
		m := plannedRateRE.FindStringSubmatch(r)
		if m == nil {
			continue
		}
		if prev := e.Metadata["plannedRate"]; prev == "" || parsePercent(prev) < parsePercent(m[1]+"%") {
			e.Metadata["plannedRate"] = m[1] + "%"
		}
	}
}

// fromScenario reports whether a health page row blames the scenario.
func fromScenario(reasons []string) bool {
	for _, r := range reasons {
		if strings.HasPrefix(r, "scenario ") {
			return true
		}
	}
	return false
}

// noteErrorRate keeps the worst error rate observed on the event's
// operations, for its metadata.
func (s *Service) noteErrorRate(e *Event, rep fault.HealthReport) {
	worst := -1.0
	var reqs, fails int
	for _, oh := range rep.Operations {
		if oh.Requests == 0 || (len(e.ops) > 0 && !contains(e.ops, oh.Operation)) {
			continue
		}
		reqs += oh.Requests
		fails += oh.Failures
	}
	if fails > 0 {
		worst = float64(fails) / float64(reqs)
	}
	if worst < 0 {
		return
	}
	prev := e.Metadata["observedErrorRate"]
	rate := fmt.Sprintf("%.0f%%", worst*100)
	if prev == "" || parsePercent(prev) < worst*100 {
		e.Metadata["observedErrorRate"] = rate
	}
}

func parsePercent(s string) float64 {
	var f float64
	fmt.Sscanf(s, "%f%%", &f)
	return f
}

func (e *Event) addOp(op string) {
	if !contains(e.ops, op) {
		e.ops = append(e.ops, op)
		if len(e.ops) >= len(fault.KnownOperations()) {
			e.Metadata["affectedOperations"] = "all"
		} else {
			e.Metadata["affectedOperations"] = strings.Join(e.ops, ",")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// opsText names the affected APIs as AWS's posts do.
func (s *Service) opsText(ops []string) string {
	switch n := len(ops); {
	case n == 0 || n >= len(fault.KnownOperations()):
		return "the Amazon Connect Cases APIs"
	case n == 1:
		return "the " + ops[0] + " API"
	default:
		return "the " + strings.Join(ops[:n-1], ", ") + " and " + ops[n-1] + " APIs"
	}
}

// affectDomains lists the domains an incident affects: the rule's domain,
// or every domain of the account.
func (s *Service) affectDomains(ctx context.Context, e *Event, now time.Time, domain string) {
	var arns []string
	switch {
	case domain != "" && domain != "*" && strings.HasPrefix(domain, "arn:"):
		arns = []string{domain}
	case domain != "" && domain != "*":
		arns = []string{fmt.Sprintf("arn:aws:cases:%s:%s:domain/%s", s.cfg.Region, s.cfg.Account, domain)}
	case s.cfg.Domains != nil:
		var err error
		if arns, err = s.cfg.Domains(ctx); err != nil {
			s.cfg.Logger.Warn("health: listing the affected domains", "err", err)
		}
	}
	e.Entities = s.entities(arns, now)
	s.scopeFromEntities(e)
}

// closeLocked closes an open event at end, posting the resolution.
func (s *Service) closeLocked(e *Event, end time.Time) {
	e.Status = string(healthapi.EventStatusCodeClosed)
	e.EndTime, e.LastUpdated = end, end
	for i := range e.Entities {
		e.Entities[i].Status = string(healthapi.EntityStatusCodeResolved)
		e.Entities[i].LastUpdated = end
	}
	e.updates = append(e.updates, update{end, fmt.Sprintf(
		"Between %s and %s UTC, we experienced %s for %s in the %s Region. The issue has been resolved and the service is operating normally.",
		clock(e.StartTime), clock(end), e.impact.noun, s.opsText(e.ops), strings.ToUpper(e.Region))})
	e.Description = e.render()
}

// render writes the posts newest last, each stamped like AWS's, under the
// event's title.
func (e *Event) render() string {
	ups := e.updates
	if len(ups) > maxUpdates {
		ups = append(ups[:1:1], ups[len(ups)-maxUpdates+1:]...)
	}
	var b strings.Builder
	b.WriteString(e.impact.title)
	for _, u := range ups {
		fmt.Fprintf(&b, "\n\n[%s UTC] %s", clock(u.at), u.text)
	}
	return b.String()
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }
