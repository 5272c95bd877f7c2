package dispatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/localcases/localcases/eventsink"
)

func TestParseFlag(t *testing.T) {
	valid := []struct {
		value string
		want  SinkConfig
	}{
		{"http://127.0.0.1:9000/events", SinkConfig{URL: "http://127.0.0.1:9000/events"}},
		{"  http://h:1/x  name=closures ", SinkConfig{URL: "http://h:1/x", Name: "closures"}},
		{`http://h:1/x pattern={"detail": {"eventType": ["CASE.UPDATED"]}}`,
			SinkConfig{URL: "http://h:1/x", Pattern: `{"detail":{"eventType":["CASE.UPDATED"]}}`}},
		{`eventbridge+http://h:4566?source=localcases.cases name=eb pattern={"source":["aws.cases"]}`,
			SinkConfig{URL: "eventbridge+http://h:4566?source=localcases.cases", Name: "eb", Pattern: `{"source":["aws.cases"]}`}},
	}
	for _, tt := range valid {
		got, err := ParseFlag(tt.value)
		if err != nil {
			t.Errorf("ParseFlag(%q) = %v", tt.value, err)
			continue
		}
		tt.want.Origin = "flag"
		if tt.want.Name == "" {
			spec, _ := eventsink.Parse(tt.want.URL)
			tt.want.Name = DefaultName(spec, tt.want.Pattern)
		}
		if got != tt.want {
			t.Errorf("ParseFlag(%q) = %+v, want %+v", tt.value, got, tt.want)
		}
	}
	a, _ := ParseFlag("http://h:1/x")
	b, _ := ParseFlag("http://h:1/x")
	if a.Name != b.Name || !strings.HasPrefix(a.Name, "webhook-") {
		t.Errorf("default names %q and %q: want one webhook-… name for one URL", a.Name, b.Name)
	}

	invalid := []struct{ value, msg string }{
		{"", "empty"},
		{"localhost:9000", `scheme "localhost"`},
		{"http://h:1 pattern=", ""},
		{"http://h:1 pattern={", "sink pattern"},
		{`http://h:1 pattern={"source":"aws.cases"}`, "sink pattern"},
		{"http://h:1 nmae=x", `unexpected "nmae=x"; want URL [name=NAME] [pattern=JSON]`},
		{"http://h:1 name=a/b", `sink name "a/b"`},
	}
	for _, tt := range invalid {
		c, err := ParseFlag(tt.value)
		var ce *ConfigError
		if tt.msg == "" {
			// An empty pattern means every event.
			if err != nil || c.Pattern != "" {
				t.Errorf("ParseFlag(%q) = %+v, %v", tt.value, c, err)
			}
			continue
		}
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseFlag(%q) = %v, want a ConfigError saying %q", tt.value, err, tt.msg)
		}
	}
}

func FuzzParseFlag(f *testing.F) {
	for _, s := range []string{
		"http://h:1/x", "http://h:1/x name=n", `http://h:1 pattern={"a":["b"]}`, `eventbridge+http://h:1?bus=b name=x pattern={"a":[{"prefix":"x"}]}`, "x y z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		c, err := ParseFlag(value)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseFlag(%q) error %v is not a *ConfigError", value, err)
			}
			return
		}
		again, _, _, err := c.Check()
		if err != nil || again != c {
			t.Fatalf("ParseFlag(%q) = %+v does not check again: %+v, %v", value, c, again, err)
		}
	})
}
