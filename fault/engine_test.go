package fault

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func prob(p float64) *float64 { return &p }
func count(n int) *int        { return &n }

func newTestEngine(t *testing.T, rules []Rule, opts ...Option) (*Engine, *ManualClock) {
	t.Helper()
	clk := NewManualClock(t0)
	e := NewEngine(append([]Option{WithClock(clk), WithSeed(42)}, opts...)...)
	if err := e.SetRules(rules); err != nil {
		t.Fatalf("SetRules: %v", err)
	}
	return e, clk
}

func mustRules(t *testing.T, js string) []Rule {
	t.Helper()
	rules, err := ParseRules([]byte(js))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	return rules
}

func TestFirstMatchWins(t *testing.T) {
	rules := mustRules(t, `[
		{"id":"a","operation":"GetCase","error":{"code":"ThrottlingException"}},
		{"id":"b","operation":["GetCase","CreateCase"],"error":{"code":"ConflictException"}},
		{"id":"c","operation":"*","action":"http","httpStatus":502}
	]`)
	e, _ := newTestEngine(t, rules)
	tests := []struct {
		op     string
		ruleID string
		action Action
	}{
		{"GetCase", "a", ActionError},
		{"CreateCase", "b", ActionError},
		{"ListDomains", "c", ActionHTTP},
	}
	for _, tt := range tests {
		d, ok := e.Decide(Request{Operation: tt.op})
		if !ok || d.RuleID != tt.ruleID || d.Action != tt.action || d.Source != SourceRule {
			t.Errorf("%s: got %+v ok=%v, want rule %s action %s", tt.op, d, ok, tt.ruleID, tt.action)
		}
	}
}

func TestResolvedErrors(t *testing.T) {
	tests := []struct {
		name       string
		rule       string
		wantCode   string
		wantStatus int
		wantRA     time.Duration
		wantMsg    string
	}{
		{"ise default retry-after", `{"error":{"code":"InternalServerException"}}`, CodeInternalServer, 500, time.Second, DefaultMessage(CodeInternalServer)},
		{"ise retry-after 0 omits", `{"error":{"code":"InternalServerException","retryAfterSeconds":0}}`, CodeInternalServer, 500, 0, DefaultMessage(CodeInternalServer)},
		{"ise retry-after 3", `{"error":{"code":"InternalServerException","retryAfterSeconds":3}}`, CodeInternalServer, 500, 3 * time.Second, DefaultMessage(CodeInternalServer)},
		{"throttling no retry-after", `{"error":{"code":"ThrottlingException"}}`, CodeThrottling, 429, 0, "The rate has been exceeded for this API. Please try again after a few minutes."},
		{"status only (LocalStack)", `{"error":{"statusCode":429}}`, CodeThrottling, 429, 0, DefaultMessage(CodeThrottling)},
		{"custom message and status", `{"error":{"code":"AccessDeniedException","statusCode":401,"message":"nope"}}`, CodeAccessDenied, 401, 0, "nope"},
		{"no error at all defaults to ISE", `{}`, CodeInternalServer, 500, time.Second, DefaultMessage(CodeInternalServer)},
		{"quota", `{"error":{"code":"ServiceQuotaExceededException"},"allowUndeclared":true}`, CodeServiceQuotaExceeded, 402, 0, DefaultMessage(CodeServiceQuotaExceeded)},
		{"case-insensitive code", `{"error":{"code":"validationexception"}}`, CodeValidation, 400, 0, DefaultMessage(CodeValidation)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, mustRules(t, "["+tt.rule+"]"))
			d, ok := e.Decide(Request{Operation: "GetCase"})
			if !ok || d.Action != ActionError || d.Error == nil {
				t.Fatalf("got %+v ok=%v", d, ok)
			}
			if d.Error.Code != tt.wantCode || d.Error.StatusCode != tt.wantStatus || d.RetryAfter() != tt.wantRA || d.Error.Message != tt.wantMsg {
				t.Errorf("got %+v retryAfter %v", *d.Error, d.RetryAfter())
			}
		})
	}
}

func TestActions(t *testing.T) {
	tests := []struct {
		rule  string
		check func(Decision) bool
	}{
		{`{"action":"http","httpStatus":504}`, func(d Decision) bool { return d.Action == ActionHTTP && d.HTTPStatus == 504 && d.Error == nil }},
		{`{"action":"http"}`, func(d Decision) bool { return d.HTTPStatus == DefaultHTTPStatus }},
		{`{"action":"drop"}`, func(d Decision) bool { return d.Action == ActionDrop && d.Drop }},
		{`{"action":"hang","hang":"10s"}`, func(d Decision) bool { return d.Action == ActionHang && d.Hang == 10*time.Second }},
		{`{"action":"hang"}`, func(d Decision) bool { return d.Hang == DefaultHang }},
		{`{"latency":"200ms"}`, func(d Decision) bool { return d.Action == ActionLatency && d.Latency == 200*time.Millisecond }},
		{`{"error":{"code":"ThrottlingException"},"latency":"50ms"}`, func(d Decision) bool {
			return d.Action == ActionError && d.Latency == 50*time.Millisecond && d.Error.Code == CodeThrottling
		}},
		{`{"action":"commit-then-fail"}`, func(d Decision) bool {
			return d.CommitFirst && !d.Drop && d.Error != nil && d.Error.Code == CodeInternalServer
		}},
		{`{"action":"commit-then-fail","then":"drop"}`, func(d Decision) bool { return d.CommitFirst && d.Drop && d.Error == nil }},
		{`{"action":"commit-then-fail","error":{"code":"ConflictException"}}`, func(d Decision) bool { return d.CommitFirst && d.Error.Code == CodeConflict }},
		{`{"latency":{"min":"100ms","max":"300ms"}}`, func(d Decision) bool {
			return d.Latency >= 100*time.Millisecond && d.Latency <= 300*time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e, _ := newTestEngine(t, mustRules(t, "["+tt.rule+"]"))
			d, ok := e.Decide(Request{Operation: "CreateCase"})
			if !ok || !tt.check(d) {
				t.Errorf("unexpected decision %+v ok=%v", d, ok)
			}
		})
	}
}

func TestProbabilityDeterminism(t *testing.T) {
	rules := mustRules(t, `[
		{"id":"half","operation":"GetCase","probability":0.5},
		{"id":"slow","operation":"*","probability":0.3,"latency":{"min":"10ms","max":"900ms"}}
	]`)
	run := func(seed int64) []string {
		e, clk := newTestEngine(t, rules, WithSeed(seed))
		var out []string
		for i := 0; i < 200; i++ {
			op := []string{"GetCase", "CreateCase", "SearchCases"}[i%3]
			d, ok := e.Decide(Request{Operation: op, Attempt: 1 + i%2})
			out = append(out, fmt.Sprintf("%v/%s/%v", ok, d.RuleID, d.Latency))
			clk.Advance(time.Millisecond)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatal("same seed and requests gave different decisions")
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Fatal("different seeds gave identical decisions (streams not seeded)")
	}
	// Roughly half of GetCase calls hit "half": a sanity check, not a statistics test.
	hits := 0
	for i, s := range a {
		if i%3 == 0 && strings.Contains(s, "/half/") {
			hits++
		}
	}
	if hits < 20 || hits > 47 {
		t.Errorf("probability 0.5 fired %d of 67 times", hits)
	}
}

func TestProbabilityPerRuleStreamIsolation(t *testing.T) {
	// A rule's decisions must not change when an unrelated rule that draws
	// randomness is added in front of it for other operations.
	base := mustRules(t, `[{"id":"p","operation":"GetCase","probability":0.5}]`)
	extra := mustRules(t, `[{"id":"x","operation":"CreateCase","probability":0.5},{"id":"p","operation":"GetCase","probability":0.5}]`)
	run := func(rules []Rule) string {
		e, _ := newTestEngine(t, rules)
		var b strings.Builder
		for i := 0; i < 100; i++ {
			e.Decide(Request{Operation: "CreateCase"})
			_, ok := e.Decide(Request{Operation: "GetCase"})
			fmt.Fprint(&b, ok, " ")
		}
		return b.String()
	}
	if run(base) != run(extra) {
		t.Error("unrelated rule changed rule p's decisions")
	}
}

func TestProbabilityZeroAndOne(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"id":"never","probability":0},{"id":"always","probability":1}]`))
	for i := 0; i < 50; i++ {
		d, ok := e.Decide(Request{Operation: "GetCase"})
		if !ok || d.RuleID != "always" {
			t.Fatalf("got %+v", d)
		}
	}
}

func TestAttemptsFailThenPass(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"operation":"CreateCase","attempts":"1-2","error":{"code":"InternalServerException"}}]`))
	for inv := 0; inv < 3; inv++ {
		for attempt, want := range map[int]bool{1: true, 2: true, 3: false, 4: false} {
			_, ok := e.Decide(Request{Operation: "CreateCase", Attempt: attempt, InvocationID: fmt.Sprint(inv)})
			if ok != want {
				t.Errorf("invocation %d attempt %d: fault=%v want %v", inv, attempt, ok, want)
			}
		}
	}
	// Attempt 0 (no SDK header) counts as the first attempt.
	if _, ok := e.Decide(Request{Operation: "CreateCase"}); !ok {
		t.Error("attempt 0 should be treated as attempt 1")
	}
}

func TestAttemptsForms(t *testing.T) {
	tests := []struct {
		js   string
		in   []int
		out  []int
		text string
	}{
		{`2`, []int{2}, []int{1, 3}, "2"},
		{`"1-2"`, []int{1, 2}, []int{3}, "1-2"},
		{`"1-2,5,7-"`, []int{1, 2, 5, 7, 100}, []int{3, 4, 6}, "1-2,5,7-"},
		{`[1,3]`, []int{1, 3}, []int{2, 4}, "1,3"},
		{`[1,"4-5"]`, []int{1, 4, 5}, []int{2, 6}, "1,4-5"},
		{`{"min":2,"max":3}`, []int{2, 3}, []int{1, 4}, "2-3"},
		{`{"min":2}`, []int{2, 9}, []int{1}, "2-"},
	}
	for _, tt := range tests {
		var a Attempts
		if err := a.UnmarshalJSON([]byte(tt.js)); err != nil {
			t.Errorf("%s: %v", tt.js, err)
			continue
		}
		for _, n := range tt.in {
			if !a.Contains(n) {
				t.Errorf("%s should contain %d", tt.js, n)
			}
		}
		for _, n := range tt.out {
			if a.Contains(n) {
				t.Errorf("%s should not contain %d", tt.js, n)
			}
		}
		if a.String() != tt.text {
			t.Errorf("%s: String()=%q want %q", tt.js, a.String(), tt.text)
		}
	}
	for _, bad := range []string{`0`, `1.5`, `"2-1"`, `""`, `[]`, `{"min":0}`, `"x"`, `{"min":1,"hi":2}`, `true`} {
		var a Attempts
		if err := a.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s: expected error", bad)
		}
	}
}

func TestCountExhaustion(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[
		{"id":"three","operation":"GetCase","count":3,"error":{"code":"ThrottlingException"}},
		{"id":"fallback","operation":"GetCase","latency":"1ms"}
	]`))
	var got []string
	for i := 0; i < 5; i++ {
		d, _ := e.Decide(Request{Operation: "GetCase"})
		got = append(got, d.RuleID)
	}
	want := "three,three,three,fallback,fallback"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v want %s", got, want)
	}
	st := e.RuleStatuses()
	if !st[0].Spent || st[0].Fired != 3 || st[0].Active {
		t.Errorf("status %+v", st[0])
	}
}

func TestCountOnlyCountsInjections(t *testing.T) {
	// Probability misses must not use up the count.
	e, _ := newTestEngine(t, mustRules(t, `[{"id":"c","probability":0.2,"count":5}]`))
	fired := 0
	for i := 0; i < 1000; i++ {
		if _, ok := e.Decide(Request{Operation: "GetCase"}); ok {
			fired++
		}
	}
	if fired != 5 {
		t.Errorf("fired %d times, want exactly 5", fired)
	}
}

func TestAfterAndDurationWindow(t *testing.T) {
	e, clk := newTestEngine(t, mustRules(t, `[{"operation":"GetCase","after":"30s","duration":"1m"}]`))
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, false},
		{29 * time.Second, false},
		{30 * time.Second, true},
		{89 * time.Second, true},
		{90 * time.Second, false},
		{10 * time.Minute, false},
	}
	for _, s := range steps {
		clk.Set(t0.Add(s.at))
		if _, ok := e.Decide(Request{Operation: "GetCase"}); ok != s.want {
			t.Errorf("at +%v: fault=%v want %v", s.at, ok, s.want)
		}
	}
	// Request.Time overrides the clock.
	if _, ok := e.Decide(Request{Operation: "GetCase", Time: t0.Add(45 * time.Second)}); !ok {
		t.Error("Request.Time inside window should fault")
	}
}

func TestWindowRelativeToAdd(t *testing.T) {
	e, clk := newTestEngine(t, nil)
	clk.Advance(time.Hour)
	if err := e.AddRules(mustRules(t, `[{"after":"10s"}]`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Decide(Request{Operation: "GetCase"}); ok {
		t.Error("rule active before its after delay")
	}
	clk.Advance(10 * time.Second)
	if _, ok := e.Decide(Request{Operation: "GetCase"}); !ok {
		t.Error("rule not active after its after delay")
	}
}

func TestMatchingFilters(t *testing.T) {
	rules := mustRules(t, `[
		{"id":"other-service","service":"dynamodb"},
		{"id":"region","service":"connectcases","region":"eu-west-1","operation":"ListDomains"},
		{"id":"domain","domain":"d-1","operation":"GetCase"},
		{"id":"arn","domain":"arn:aws:cases:us-east-1:111122223333:domain/d-2","operation":"GetCase"}
	]`)
	e, _ := newTestEngine(t, rules)
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Operation: "CreateCase"}, ""},
		{Request{Operation: "ListDomains", Region: "eu-west-1"}, "region"},
		{Request{Operation: "ListDomains", Region: "us-east-1"}, ""},
		{Request{Operation: "ListDomains"}, "region"},
		{Request{Operation: "GetCase", DomainID: "d-1"}, "domain"},
		{Request{Operation: "GetCase", DomainID: "d-2"}, "arn"},
		{Request{Operation: "GetCase", DomainID: "d-3"}, ""},
	}
	for _, tt := range tests {
		d, _ := e.Decide(tt.req)
		if d.RuleID != tt.want {
			t.Errorf("%+v: got rule %q want %q", tt.req, d.RuleID, tt.want)
		}
	}
}

func TestDeclaredErrors(t *testing.T) {
	rules := mustRules(t, `[
		{"id":"conflict","error":{"code":"ConflictException"}},
		{"id":"forced","operation":"ListDomains","error":{"code":"ConflictException"},"allowUndeclared":true},
		{"id":"drop","action":"drop","operation":"GetCase"}
	]`)
	e, _ := newTestEngine(t, rules)
	for op, want := range map[string]string{"CreateCase": "conflict", "ListDomains": "forced", "GetCase": "drop", "SearchCases": ""} {
		d, _ := e.Decide(Request{Operation: op})
		if d.RuleID != want {
			t.Errorf("%s: got %q want %q", op, d.RuleID, want)
		}
	}
}

func TestHeaderOverridesRules(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"id":"r","error":{"code":"ThrottlingException"}}]`))
	hdr := func(v string) func(string) string {
		return func(k string) string {
			if strings.EqualFold(k, HeaderName) {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		value   string
		attempt int
		ok      bool
		source  string
		code    string
	}{
		{"", 1, true, SourceRule, CodeThrottling},
		{"ConflictException", 1, true, SourceHeader, CodeConflict},
		{"none", 1, false, "", ""},
		{"InternalServerException;attempts=1", 1, true, SourceHeader, CodeInternalServer},
		{"InternalServerException;attempts=1", 2, false, "", ""},
		{"Bogus", 1, true, SourceHeader, CodeValidation},
	}
	for _, tt := range tests {
		d, ok := e.Decide(Request{Operation: "GetCase", Attempt: tt.attempt, Header: hdr(tt.value)})
		code := ""
		if d.Error != nil {
			code = d.Error.Code
		}
		if ok != tt.ok || d.Source != tt.source || code != tt.code {
			t.Errorf("%q attempt %d: got ok=%v %+v", tt.value, tt.attempt, ok, d)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		js   string
		want string
	}{
		{`[{"action":"explode"}]`, "unknown action"},
		{`[{"probability":1.5}]`, "probability"},
		{`[{"probability":-0.1}]`, "probability"},
		{`[{"error":{"code":"NopeException"}}]`, "unknown error code"},
		{`[{"error":{"code":"ThrottlingException","statusCode":700}}]`, "statusCode"},
		{`[{"error":{"statusCode":418}}]`, "statusCode 418"},
		{`[{"action":"http","httpStatus":404}]`, "httpStatus"},
		{`[{"count":0}]`, "count"},
		{`[{"after":"-1s"}]`, "after"},
		{`[{"after":30}]`, "duration must be a string"},
		{`[{"latency":"fast"}]`, "invalid duration"},
		{`[{"latency":{"min":"2s","max":"1s"}}]`, "max"},
		{`[{"action":"latency"}]`, "needs a latency"},
		{`[{"action":"drop","error":{"code":"ThrottlingException"}}]`, "not used by action"},
		{`[{"operation":"CreateCas"}]`, "unknown operation"},
		{`[{"probabilty":0.5}]`, "unknown field"},
		{`[{"error":{"code":"ThrottlingException","retryAfterSeconds":-1}}]`, "retryAfterSeconds"},
		{`[{"then":"drop"}]`, "then"},
		{`[{"action":"commit-then-fail","then":"explode"}]`, "then"},
	}
	for _, tt := range tests {
		_, err := ParseRules([]byte(tt.js))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.js, err, tt.want)
		}
	}
}

func TestRuleManagement(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"id":"a"},{}]`))
	if got := e.Rules(); len(got) != 2 || got[0].ID != "a" || got[1].ID != "rule-1" || got[1].Action != ActionError {
		t.Fatalf("Rules() = %+v", got)
	}
	if err := e.AddRules(mustRules(t, `[{"id":"a"}]`)); err == nil {
		t.Error("duplicate id accepted")
	}
	if err := e.AddRules([]Rule{{ID: "ok"}, {Action: "bad"}}); err == nil || len(e.Rules()) != 2 {
		t.Error("AddRules must be all-or-nothing")
	}
	if err := e.SetRules([]Rule{{Probability: prob(3)}}); err == nil || len(e.Rules()) != 2 {
		t.Error("SetRules must not change anything on error")
	}
	if err := e.AddRules([]Rule{{ID: "b", Operation: StringList{"getcase"}}}); err != nil {
		t.Fatal(err)
	}
	if got := e.Rules()[2].Operation[0]; got != "GetCase" {
		t.Errorf("operation not canonicalised: %q", got)
	}
	// Returned rules are copies.
	e.Rules()[0].ID = "mutated"
	if e.Rules()[0].ID != "a" {
		t.Error("Rules() exposed internal state")
	}
	if n := e.RemoveRules(func(r Rule) bool { return r.ID != "b" }); n != 2 {
		t.Errorf("removed %d", n)
	}
	if !e.RemoveRule("b") || e.RemoveRule("b") {
		t.Error("RemoveRule")
	}
	e.SetRules([]Rule{{}})
	e.Clear()
	if _, ok := e.Decide(Request{Operation: "GetCase"}); ok {
		t.Error("fault after Clear")
	}
}

func TestReseedReplays(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"probability":0.5}]`))
	seq := func() string {
		var b strings.Builder
		for i := 0; i < 64; i++ {
			_, ok := e.Decide(Request{Operation: "GetCase"})
			fmt.Fprint(&b, ok, ",")
		}
		return b.String()
	}
	e.Reseed(99)
	a := seq()
	e.Reseed(99)
	if seq() != a {
		t.Error("Reseed did not restart the streams")
	}
}

func TestEngineThrottler(t *testing.T) {
	th := NewThrottler(ThrottleConfig{Enabled: true})
	e, _ := newTestEngine(t, nil, WithThrottler(th))
	var throttled int
	for i := 0; i < 5; i++ { // UpdateCase: burst 2
		if d, ok := e.Decide(Request{Operation: "UpdateCase"}); ok {
			if d.Source != SourceThrottle || d.Error.Code != CodeThrottling || d.Error.StatusCode != 429 {
				t.Fatalf("decision %+v", d)
			}
			throttled++
		}
	}
	if throttled != 3 {
		t.Errorf("throttled %d of 5, want 3", throttled)
	}
}

// TestConcurrentDecideAndMutate is for the race detector: rules change while
// decisions are being made.
func TestConcurrentDecideAndMutate(t *testing.T) {
	e, clk := newTestEngine(t, mustRules(t, `[{"probability":0.5,"count":1000}]`),
		WithThrottler(NewThrottler(ThrottleConfig{Enabled: true})))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				e.Decide(Request{Operation: "GetCase", Attempt: i % 3})
				e.Observe(Outcome{Operation: "GetCase", StatusCode: 500})
			}
		}(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			e.AddRules([]Rule{{Probability: prob(0.1)}})
			e.RemoveRules(func(r Rule) bool { return r.ID == fmt.Sprintf("rule-%d", i) })
			e.Rules()
			e.RuleStatuses()
			e.Health(clk.Advance(time.Millisecond))
			if i%10 == 0 {
				e.LoadScenario("flapping", ScenarioParams{Period: Duration(time.Millisecond)})
				e.ActiveScenario()
				e.Reseed(int64(i))
			}
		}
	}()
	wg.Wait()
}
