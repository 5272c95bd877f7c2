package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/localcases/localcases/fault"
)

// Faults serves the failure-on-demand control plane. The rule verbs are
// LocalStack's chaos API (/_localstack/chaos/faults): GET lists, POST
// replaces, PATCH appends, DELETE removes matching rules; each answers with
// the rule list, so scripts written for LocalStack port over by changing
// the path.
//
//	GET|POST|PATCH|DELETE /_localcases/faults   rules
//	GET    /_localcases/faults/status           rules with their counters and windows
//	PUT    /_localcases/faults/seed             {"seed": N}: reseed and replay
//	POST   /_localcases/faults/reset            rules, scenario, observations and records cleared
//	GET    /_localcases/faults/report           attempts per invocation, Retry-After compliance
//	GET    /_localcases/requests?limit=N        the most recent requests
//	GET    /_localcases/scenarios               preset names
//	GET|POST|DELETE /_localcases/scenario       the active scenario: show, start, stop
//	GET|PUT /_localcases/throttle               token buckets with the real quotas
type Faults struct {
	// Engine decides, and is read for the rules, scenario and status.
	Engine *fault.Engine
	// Control changes rules, scenario and seed; nil changes Engine alone
	// (fault.Local). A shared Control (pgshare) changes every server on
	// one database, and answers 503 when it cannot reach it.
	Control  fault.Control
	Recorder *fault.Recorder
	// Logger records every change of rules, scenario, seed and throttling,
	// so an operator reading the log can tell why calls failed; nil logs
	// nothing.
	Logger *slog.Logger
}

// changed logs a change with the rules in force after it.
func (f *Faults) changed(r *http.Request, msg string, args ...any) {
	if f.Logger == nil {
		return
	}
	args = append(args, "remote", r.RemoteAddr)
	LogRules(f.Logger, msg, f.Engine.Rules(), args...)
}

// LogRules logs msg at info with the rules, one summary each ("rules" is
// empty when none are in force).
func LogRules(l *slog.Logger, msg string, rules []fault.Rule, args ...any) {
	sums := make([]string, len(rules))
	for i, r := range rules {
		sums[i] = r.Summary()
	}
	l.Info(msg, append(args, "count", len(rules), "rules", strings.Join(sums, "; "))...)
}

// Register adds the endpoints to h.
func (f *Faults) Register(h *Handler) {
	p := Prefix
	h.Handle("GET "+p+"faults", http.HandlerFunc(f.listRules))
	h.Handle("POST "+p+"faults", http.HandlerFunc(f.setRules))
	h.Handle("PATCH "+p+"faults", http.HandlerFunc(f.addRules))
	h.Handle("DELETE "+p+"faults", http.HandlerFunc(f.deleteRules))
	h.Handle("GET "+p+"faults/status", http.HandlerFunc(f.ruleStatus))
	h.Handle("PUT "+p+"faults/seed", http.HandlerFunc(f.seed))
	h.Handle("POST "+p+"faults/reset", http.HandlerFunc(f.reset))
	h.Handle("GET "+p+"faults/report", http.HandlerFunc(f.report))
	h.Handle("GET "+p+"requests", http.HandlerFunc(f.requests))
	h.Handle("GET "+p+"scenarios", http.HandlerFunc(f.presets))
	h.Handle("GET "+p+"scenario", http.HandlerFunc(f.scenario))
	h.Handle("POST "+p+"scenario", http.HandlerFunc(f.startScenario))
	h.Handle("DELETE "+p+"scenario", http.HandlerFunc(f.stopScenario))
	h.Handle("GET "+p+"throttle", http.HandlerFunc(f.throttle))
	h.Handle("PUT "+p+"throttle", http.HandlerFunc(f.setThrottle))
}

// maxAdminBody bounds admin request bodies; rule files are small.
const maxAdminBody = 1 << 20

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
}

func badRequest(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
}

func (f *Faults) control() fault.Control {
	if f.Control != nil {
		return f.Control
	}
	return fault.Local(f.Engine)
}

// changeFailed answers a change that did not happen: 503 when the shared
// state could not be reached (try again), 400 for a bad rule or scenario.
func changeFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, fault.ErrUnavailable) {
		WriteError(w, http.StatusServiceUnavailable, err.Error()+"; nothing changed, try again")
		return
	}
	badRequest(w, err)
}

func (f *Faults) rules(w http.ResponseWriter) {
	rules := f.Engine.Rules()
	if rules == nil {
		rules = []fault.Rule{}
	}
	writeJSON(w, http.StatusOK, rules)
}

func (f *Faults) listRules(w http.ResponseWriter, r *http.Request) { f.rules(w) }

func (f *Faults) parseRules(w http.ResponseWriter, r *http.Request) ([]fault.Rule, bool) {
	body, err := readBody(w, r)
	if err != nil {
		badRequest(w, err)
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, true
	}
	rules, err := fault.ParseRules(body)
	if err != nil {
		badRequest(w, err)
		return nil, false
	}
	return rules, true
}

func (f *Faults) setRules(w http.ResponseWriter, r *http.Request) {
	rules, ok := f.parseRules(w, r)
	if !ok {
		return
	}
	if err := f.control().SetRules(rules); err != nil {
		changeFailed(w, err)
		return
	}
	f.changed(r, "fault rules replaced")
	f.rules(w)
}

func (f *Faults) addRules(w http.ResponseWriter, r *http.Request) {
	rules, ok := f.parseRules(w, r)
	if !ok {
		return
	}
	if err := f.control().AddRules(rules); err != nil {
		changeFailed(w, err)
		return
	}
	f.changed(r, "fault rules added", "added", len(rules))
	f.rules(w)
}

// deleteRules removes the rules that match any template in the body; a
// template matches a rule when every member it sets equals the rule's. No
// body removes every rule.
func (f *Faults) deleteRules(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		badRequest(w, err)
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if err := f.control().ClearRules(); err != nil {
			changeFailed(w, err)
			return
		}
		f.changed(r, "fault rules cleared")
		f.rules(w)
		return
	}
	var templates []map[string]any
	if err := json.Unmarshal(body, &templates); err != nil {
		var one map[string]any
		if err2 := json.Unmarshal(body, &one); err2 != nil {
			badRequest(w, fmt.Errorf("DELETE body must be a rule or a list of rules: %w", err))
			return
		}
		templates = []map[string]any{one}
	}
	for i, t := range templates {
		templates[i] = normalizeTemplate(t)
	}
	removed, err := f.control().RemoveRules(func(rule fault.Rule) bool {
		have := ruleMap(rule)
		for _, t := range templates {
			if matchesTemplate(have, t) {
				return true
			}
		}
		return false
	})
	if err != nil {
		changeFailed(w, err)
		return
	}
	f.changed(r, "fault rules removed", "removed", removed)
	f.rules(w)
}

// ruleMap is the rule as JSON members, with the error status a code
// implies filled in, so a template naming {"statusCode": 500} matches a
// rule that named only its code.
func ruleMap(r fault.Rule) map[string]any {
	if r.Error != nil && r.Error.StatusCode == 0 {
		e := *r.Error
		e.StatusCode = e.Resolve().StatusCode
		r.Error = &e
	}
	data, _ := json.Marshal(r)
	var m map[string]any
	json.Unmarshal(data, &m)
	return m
}

// normalizeTemplate reads a template the way a rule is read, so the spellings
// a rule accepts compare equal: "createcase" and "CreateCase", "1000ms" and
// "1s", a status implied by a code. Only the members the template sets
// remain; one the reading drops as a zero value must be absent from the
// rule too. A template that is not a valid rule is compared as written.
func normalizeTemplate(t map[string]any) map[string]any {
	data, err := json.Marshal([]any{t})
	if err != nil {
		return t
	}
	rules, err := fault.ParseRules(data)
	if err != nil || len(rules) != 1 {
		return t
	}
	return restrict(ruleMap(rules[0]), t)
}

func restrict(norm, raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		sub, isMap := v.(map[string]any)
		nsub, nIsMap := norm[k].(map[string]any)
		switch {
		case isMap && nIsMap:
			out[k] = restrict(nsub, sub)
		default:
			out[k] = norm[k]
		}
	}
	return out
}

// matchesTemplate compares the members a template sets, recursively, so
// {"error": {"code": "X"}} matches whatever status the rule resolved. An
// operation may be a string or a list on either side (a rule with one
// operation is stored as a string), in any order: "X" and ["X"] are the
// same, and so are ["X", "Y"] and ["Y", "X"].
func matchesTemplate(rule, tmpl map[string]any) bool {
	for k, want := range tmpl {
		got := rule[k]
		if k == "operation" {
			got, want = opSet(got), opSet(want)
		}
		if sub, ok := want.(map[string]any); ok {
			g, ok := got.(map[string]any)
			if !ok || !matchesTemplate(g, sub) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			return false
		}
	}
	return true
}

// opSet turns an operation member into a sorted list of names.
func opSet(v any) any {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return v
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	return v
}

// claimCounter is a shared Control that counts count-limited rules'
// firings over every server (pgshare.Share).
type claimCounter interface {
	Claimed(ctx context.Context) (map[string]int, error)
}

// ruleStatus reports the rules with their counters. With a shared Control a
// count-limited rule's fired count is the sum over every server, as is
// whether it is spent; other rules count this server's firings.
func (f *Faults) ruleStatus(w http.ResponseWriter, r *http.Request) {
	st := f.Engine.RuleStatuses()
	if cc, ok := f.Control.(claimCounter); ok {
		claimed, err := cc.Claimed(r.Context())
		if err != nil {
			WriteError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		for i := range st {
			s := &st[i]
			if s.Rule.Count == nil {
				continue
			}
			s.Fired = claimed[fault.ClaimKey("rule/"+s.Rule.ID, s.AddedAt)]
			s.Spent = s.Fired >= *s.Rule.Count
			s.Active = s.Active && !s.Spent
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func (f *Faults) seed(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Seed *int64 `json:"seed"`
	}
	data, err := readBody(w, r)
	if err == nil {
		err = json.Unmarshal(data, &body)
	}
	if err == nil && body.Seed == nil {
		err = errors.New(`body must be {"seed": N}`)
	}
	if err != nil {
		badRequest(w, err)
		return
	}
	if err := f.control().Reseed(*body.Seed); err != nil {
		changeFailed(w, err)
		return
	}
	if f.Logger != nil {
		f.Logger.Info("fault seed set", "seed", *body.Seed, "remote", r.RemoteAddr)
	}
	writeJSON(w, http.StatusOK, map[string]int64{"seed": f.Engine.Seed()})
}

func (f *Faults) reset(w http.ResponseWriter, r *http.Request) {
	if err := f.control().Reset(); err != nil {
		changeFailed(w, err)
		return
	}
	f.Recorder.Reset()
	f.changed(r, "faults reset: rules, scenario and records cleared")
	writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}

func (f *Faults) report(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, f.Recorder.Report())
}

func (f *Faults) requests(w http.ResponseWriter, r *http.Request) {
	limit := 100
	// Parsed strictly, as the API parses its query strings: a bad escape
	// or a second limit is an error, not something to guess past.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		badRequest(w, fmt.Errorf("the query string is malformed: %w", err))
		return
	}
	if n := len(q["limit"]); n > 1 {
		badRequest(w, fmt.Errorf("limit is given %d times; it takes one value", n))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, fmt.Errorf("limit %q must be a non-negative integer (0: all kept)", v))
			return
		}
		limit = n
	}
	recs := f.Recorder.Recent(limit)
	if recs == nil {
		recs = []fault.Record{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": f.Recorder.Total(), "requests": recs})
}

func (f *Faults) presets(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]string{"presets": fault.Presets()})
}

func (f *Faults) scenario(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"scenario": f.Engine.ActiveScenario()})
}

// startScenario takes a fault file body: {"preset": "outage", "duration":
// "30s", ...} or a full scenario {"name", "phases": [...]}.
func (f *Faults) startScenario(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		badRequest(w, err)
		return
	}
	file, err := fault.ParseFile(body, "json")
	if err != nil {
		badRequest(w, err)
		return
	}
	if file.Scenario == nil {
		badRequest(w, errors.New(`body must name a scenario: {"preset": "outage", "duration": "30s"} or {"name": ..., "phases": [...]}`))
		return
	}
	if err := f.control().StartScenario(*file.Scenario); err != nil {
		changeFailed(w, err)
		return
	}
	if f.Logger != nil {
		st := f.Engine.ActiveScenario()
		args := []any{"name", file.Scenario.Name, "remote", r.RemoteAddr}
		if st != nil && !st.EndsAt.IsZero() {
			args = append(args, "ends", st.EndsAt.UTC().Format(time.RFC3339))
		}
		f.Logger.Info("fault scenario started", args...)
	}
	f.scenario(w, r)
}

func (f *Faults) stopScenario(w http.ResponseWriter, r *http.Request) {
	if err := f.control().StopScenario(); err != nil {
		changeFailed(w, err)
		return
	}
	if f.Logger != nil {
		f.Logger.Info("fault scenario stopped", "remote", r.RemoteAddr)
	}
	f.scenario(w, r)
}

// Throttle is the body of GET and PUT /_localcases/throttle.
type Throttle struct {
	Enabled bool `json:"enabled"`
	// Operations sets the limit of individual operations; others keep theirs.
	Operations map[string]fault.Limit `json:"operations,omitempty"`
	// Buckets says where the token buckets are, in answers only: empty
	// for this process, or the Redis URL (serve --throttle-redis) whose
	// buckets every server on it shares.
	Buckets string `json:"buckets,omitempty"`
	// FailedOpen counts the calls allowed because Redis could not be
	// reached, in answers only.
	FailedOpen int64 `json:"failedOpen,omitempty"`
}

func (f *Faults) throttle(w http.ResponseWriter, r *http.Request) {
	t := f.Engine.Throttler()
	out := Throttle{Enabled: t.Enabled(), Operations: map[string]fault.Limit{}, FailedOpen: t.FailedOpen()}
	if w, ok := t.Buckets().(interface{ Where() string }); ok {
		out.Buckets = w.Where()
	}
	for _, op := range fault.KnownOperations() {
		out.Operations[op] = t.Limit(op)
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Faults) setThrottle(w http.ResponseWriter, r *http.Request) {
	var body Throttle
	data, err := readBody(w, r)
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&body)
	}
	if err != nil {
		badRequest(w, err)
		return
	}
	known := map[string]bool{}
	for _, op := range fault.KnownOperations() {
		known[op] = true
	}
	for op := range body.Operations {
		if !known[op] {
			badRequest(w, fmt.Errorf("unknown operation %q", op))
			return
		}
	}
	if err := f.control().SetThrottle(body.Enabled, body.Operations); err != nil {
		changeFailed(w, err)
		return
	}
	if f.Logger != nil {
		f.Logger.Info("throttling set", "enabled", body.Enabled, "operations", len(body.Operations), "remote", r.RemoteAddr)
	}
	f.throttle(w, r)
}
