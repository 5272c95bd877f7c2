package eventpattern

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

func FuzzCompile(f *testing.F) {
	for _, tc := range docExamples {
		f.Add([]byte(tc.pattern))
	}
	f.Add([]byte(`{"a":[{"wildcard":"a\\*\\\\*b"}]}`))
	f.Add([]byte(`{"$or":[{"a":[1]},{"$or":[{"b":[2]},{"c":[{"numeric":[">=",-1e9,"<",1e9]}]}]}]}`))
	f.Fuzz(func(t *testing.T, pattern []byte) {
		p, err := Compile(pattern)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if p != nil {
				t.Fatal("non-nil pattern with an error")
			}
			return
		}
		// A compiled pattern runs on any event without panicking.
		for _, ev := range []string{ec2Event, casesEvent, nullEvent, `{}`, `{"a":[[],[{}],null,1,"x"]}`} {
			p.Match([]byte(ev))
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, tc := range docExamples {
		f.Add([]byte(tc.pattern), []byte(tc.event))
	}
	f.Fuzz(func(t *testing.T, pattern, event []byte) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		got := p.Match(event)
		// Decoding once and matching the value gives the same answer.
		if v, err := decode(event); err == nil {
			if obj, ok := v.(map[string]any); ok && p.MatchValue(obj) != got {
				t.Fatalf("Match and MatchValue disagree on %s / %s", pattern, event)
			}
		}
		if p.Match(event) != got {
			t.Fatal("Match is not deterministic")
		}
	})
}

// matchWildcard agrees with the equivalent regular expression.
func TestWildcardAgainstRegexp(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alpha := "ab*"
	gen := func(n int, stars bool) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			c := alpha[rng.Intn(len(alpha))]
			if c == '*' && (!stars || strings.HasSuffix(b.String(), "*")) {
				c = 'a'
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		w := gen(rng.Intn(7), true)
		s := gen(rng.Intn(9), false)
		parts, err := parseWildcard(w)
		if err != nil {
			t.Fatalf("parseWildcard(%q): %v", w, err)
		}
		quoted := make([]string, len(parts))
		for j, p := range parts {
			quoted[j] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile("^(?s)" + strings.Join(quoted, ".*") + "$")
		if got, want := matchWildcard(parts, s), re.MatchString(s); got != want {
			t.Fatalf("wildcard %q on %q = %v, want %v", w, s, got, want)
		}
	}
}
