package fault

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLocalStackRules(t *testing.T) {
	// Verbatim shape of a LocalStack chaos API body.
	js := `[
		{"service": "connectcases", "region": "us-east-1", "operation": "CreateCase", "probability": 0.5,
		 "error": {"statusCode": 503, "code": "InternalServerException"}},
		{"service": "connectcases", "operation": "GetCase", "error": {"statusCode": 429, "code": "ThrottlingException"}},
		{"region": "us-east-1"}
	]`
	f, err := ParseFile([]byte(js), ".json")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) != 3 || f.Scenario != nil {
		t.Fatalf("%+v", f)
	}
	r := f.Rules[0]
	if r.Service != "connectcases" || r.Region != "us-east-1" || r.Operation[0] != "CreateCase" || *r.Probability != 0.5 ||
		r.Error.Code != CodeInternalServer || r.Error.StatusCode != 503 || r.Action != ActionError {
		t.Errorf("rule 0 %+v", r)
	}
	if f.Rules[2].Action != ActionError || f.Rules[2].Error.Code != CodeInternalServer {
		t.Errorf("bare rule should default to InternalServerException: %+v", f.Rules[2])
	}
}

func TestParseYAMLRules(t *testing.T) {
	yml := `
rules:
  - id: fail-twice
    operation: [CreateCase, UpdateCase]
    attempts: 1-2
    error:
      code: InternalServerException
      retryAfterSeconds: 2
  - operation: GetCase
    latency: {min: 100ms, max: 300ms}
    probability: 0.25
    after: 30s
    duration: 5m
    count: 10
  - operation: SearchCases
    action: http
    httpStatus: 502
  - action: commit-then-fail
    then: drop
    operation: CreateCase
    domain: d-1
`
	f, err := ParseFile([]byte(yml), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) != 4 {
		t.Fatalf("%d rules", len(f.Rules))
	}
	r0, r1 := f.Rules[0], f.Rules[1]
	if r0.ID != "fail-twice" || len(r0.Operation) != 2 || r0.Attempts.String() != "1-2" || *r0.Error.RetryAfterSeconds != 2 {
		t.Errorf("rule 0 %+v", r0)
	}
	if r1.Action != ActionLatency || r1.Latency.Min != 100*time.Millisecond || r1.Latency.Max != 300*time.Millisecond ||
		r1.After.D() != 30*time.Second || r1.Duration.D() != 5*time.Minute || *r1.Count != 10 {
		t.Errorf("rule 1 %+v", r1)
	}
	if f.Rules[2].HTTPStatus != 502 || f.Rules[3].Then != "drop" {
		t.Errorf("rules 2-3 %+v %+v", f.Rules[2], f.Rules[3])
	}
	// The same content as JSON gives the same rules.
	js, _ := yamlToJSON([]byte(yml))
	f2, err := ParseFile(js, "json")
	if err != nil || !reflect.DeepEqual(f, f2) {
		t.Errorf("json/yaml mismatch: %v", err)
	}
}

func TestParseScenarioFiles(t *testing.T) {
	yml := `
name: checkout-incident
description: Case creation degrades, then fails.
seed: 11
phases:
  - name: degraded
    duration: 1m
    rules:
      - {operation: CreateCase, probability: 0.3}
  - name: down
    duration: 2m
    description: full outage
    rules:
      - operation: "*"
        error: {code: InternalServerException}
`
	f, err := ParseFile([]byte(yml), "yml")
	if err != nil {
		t.Fatal(err)
	}
	sc := f.Scenario
	if sc == nil || sc.Name != "checkout-incident" || len(sc.Phases) != 2 || *sc.Seed != 11 || sc.Phases[1].Duration.D() != 2*time.Minute {
		t.Fatalf("%+v", sc)
	}
	if id := sc.Phases[0].Rules[0].ID; id != "checkout-incident/degraded/1" {
		t.Errorf("phase rule id %q", id)
	}
	pf, err := ParseFile([]byte(`{"preset":"flapping","period":"20s","duration":"2m","operations":["GetCase"]}`), "")
	if err != nil || pf.Scenario == nil || pf.Scenario.Name != "flapping" || pf.Scenario.Phases[0].Duration.D() != 20*time.Second {
		t.Errorf("preset file: %+v %v", pf.Scenario, err)
	}
	pf, err = ParseFile([]byte("preset: brownout\npercent: 10\n"), "")
	if err != nil || pf.Scenario == nil || *pf.Scenario.Phases[0].Rules[0].Probability != 0.1 {
		t.Errorf("yaml preset file: %+v %v", pf.Scenario, err)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct{ data, ext, want string }{
		{`{}`, "json", `must have "rules", "phases" or "preset"`},
		{``, "json", "empty"},
		{`[{"operation":"CreateCase"}]`, "toml", "unsupported extension"},
		{`{"rules":[{"probability":2}]}`, "json", "rule 0: probability"},
		{`{"rules":[],"extra":1}`, "json", "unknown field"},
		{`{"name":"x","phases":[{"duration":"1m","rules":[{"action":"boom"}]}]}`, "json", "unknown action"},
		{`{"name":"x","phases":[{"duration":"1m","ruls":[]}]}`, "json", "unknown field"},
		{`{"preset":"nope"}`, "json", "unknown scenario"},
		{"- operation: [", "yaml", "yaml"},
		{"- after: 30\n", "yaml", "duration must be a string"},
	}
	for _, tt := range tests {
		_, err := ParseFile([]byte(tt.data), tt.ext)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q (%s): %v, want %q", tt.data, tt.ext, err, tt.want)
		}
	}
}

func TestRuleJSONRoundTrip(t *testing.T) {
	rules := mustRules(t, `[
		{"id":"x","operation":["GetCase","CreateCase"],"attempts":[1,"3-"],"probability":0.25,"count":3,
		 "after":"1s","duration":"1m30s","latency":{"min":"1ms","max":"2ms"},
		 "error":{"code":"ConflictException","statusCode":409,"message":"m","retryAfterSeconds":0},"allowUndeclared":true},
		{"operation":"GetCase","action":"hang","hang":"5s"}
	]`)
	b, err := json.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRules(b)
	if err != nil || !reflect.DeepEqual(rules, back) {
		t.Errorf("round trip mismatch: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), `"attempts":"1,3-"`) || !strings.Contains(string(b), `"operation":"GetCase"`) {
		t.Errorf("unexpected canonical JSON %s", b)
	}
}

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		`[{"operation":"CreateCase","probability":0.5,"error":{"code":"ThrottlingException","statusCode":429}}]`,
		`[{"service":"connectcases","region":"us-east-1","operation":"*","attempts":"1-2,5-","count":3}]`,
		`[{"latency":{"min":"1ms","max":"1s"},"after":"1s","duration":"2s"}]`,
		`[{"action":"commit-then-fail","then":"drop"},{"action":"http","httpStatus":504},{"action":"hang"}]`,
		`[{"attempts":[1,"3-4",{"min":2}]}]`,
		`[{"error":{"statusCode":404,"retryAfterSeconds":0}}]`,
		`{"rules":[]}`, `[]`, `[{}]`, `[null]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(data)
		if err != nil {
			return
		}
		for _, r := range rules {
			if err := r.Validate(); err != nil {
				t.Fatalf("normalised rule fails validation: %v", err)
			}
		}
		b, err := json.Marshal(rules)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseRules(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if !reflect.DeepEqual(rules, back) {
			t.Fatalf("round trip changed rules:\n%s", b)
		}
		// Whatever parses must be usable by the engine without panicking.
		e := NewEngine(WithClock(NewManualClock(t0)), WithSeed(1))
		if err := e.SetRules(rules); err != nil {
			if strings.Contains(err.Error(), "duplicate") {
				return
			}
			t.Fatalf("engine rejected parsed rules: %v", err)
		}
		for i := 0; i < 3; i++ {
			e.Decide(Request{Operation: "CreateCase", Attempt: i + 1})
		}
		e.Health(t0)
	})
}
