package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/localcases/localcases/internal/servertest"
)

// The bad-input catalogue is generated from the API model at test time: for
// every operation and every constrained member reachable from its input, a
// request that is valid except for breaking that one constraint. Each must
// get a 400 ValidationException whose message names the member.

type catShape struct {
	Type     string             `json:"type"`
	Members  map[string]*catRef `json:"members"`
	Required []string           `json:"required"`
	Member   *catRef            `json:"member"`
	Key      *catRef            `json:"key"`
	Value    *catRef            `json:"value"`
	Min      *float64           `json:"min"`
	Max      *float64           `json:"max"`
	Pattern  string             `json:"pattern"`
	Enum     []string           `json:"enum"`
	Union    bool               `json:"union"`
}

type catRef struct {
	Shape        string `json:"shape"`
	Location     string `json:"location"`
	LocationName string `json:"locationName"`
}

type catModel struct {
	Operations map[string]struct {
		HTTP struct {
			Method     string `json:"method"`
			RequestURI string `json:"requestUri"`
		} `json:"http"`
		Input catRef `json:"input"`
	} `json:"operations"`
	Shapes map[string]*catShape `json:"shapes"`
}

func loadCatalogueModel(t *testing.T) *catModel {
	t.Helper()
	data, err := os.ReadFile("../../spec/connectcases-2022-10-03.service.json")
	if err != nil {
		t.Fatal(err)
	}
	var m catModel
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func (s *catShape) required(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

func sortedMembers(s *catShape) []string {
	var out []string
	for n := range s.Members {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// valid returns a minimal value that satisfies every constraint of shape.
func (m *catModel) valid(name string, depth int) any {
	s := m.Shapes[name]
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 {
			return s.Enum[0]
		}
		n := 1
		if s.Min != nil && int(*s.Min) > 1 {
			n = int(*s.Min)
		}
		return strings.Repeat("x", n)
	case "integer", "long":
		if s.Min != nil {
			return int(*s.Min)
		}
		return 1
	case "double":
		return 1.5
	case "boolean":
		return true
	case "list":
		n := 0
		if s.Min != nil {
			n = int(*s.Min)
		}
		out := []any{}
		for i := 0; i < n; i++ {
			out = append(out, m.valid(s.Member.Shape, depth+1))
		}
		return out
	case "map":
		out := map[string]any{}
		if s.Min != nil {
			for i := 0; i < int(*s.Min); i++ {
				out[fmt.Sprintf("k%d", i)] = m.valid(s.Value.Shape, depth+1)
			}
		}
		return out
	case "structure":
		out := map[string]any{}
		if s.Union {
			first := sortedMembers(s)[0]
			out[first] = m.valid(s.Members[first].Shape, depth+1)
			return out
		}
		for _, mn := range sortedMembers(s) {
			if s.required(mn) {
				out[mn] = m.valid(s.Members[mn].Shape, depth+1)
			}
		}
		return out
	}
	return nil
}

type badCase struct {
	op, member, rule string
	input            map[string]any // the whole input, body and bound members alike
}

// breakers returns, for a member of shape name, the bad values and the rule
// each breaks.
func (m *catModel) breakers(name string) []struct {
	rule string
	v    any
} {
	type b = struct {
		rule string
		v    any
	}
	s := m.Shapes[name]
	var out []b
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 {
			out = append(out, b{"enum", "NotAValue"})
			break
		}
		if s.Max != nil {
			out = append(out, b{"max length", strings.Repeat("x", int(*s.Max)+1)})
		}
		if s.Min != nil && *s.Min > 0 {
			out = append(out, b{"min length", strings.Repeat("x", int(*s.Min)-1)})
		}
		if s.Pattern != "" {
			bad := "x#"
			if strings.Contains(s.Pattern, `.*[\S]`) {
				bad = "x "
			}
			out = append(out, b{"pattern", bad})
		}
	case "integer", "long", "double":
		if s.Max != nil {
			out = append(out, b{"max value", int(*s.Max) + 1})
		}
		if s.Min != nil {
			out = append(out, b{"min value", int(*s.Min) - 1})
		}
	case "list":
		if s.Max != nil && *s.Max <= 1500 {
			var l []any
			for i := 0; i <= int(*s.Max); i++ {
				l = append(l, m.valid(s.Member.Shape, 0))
			}
			out = append(out, b{"max size", l})
		}
		if s.Min != nil && *s.Min > 0 {
			out = append(out, b{"min size", []any{}})
		}
	case "map":
		if s.Max != nil {
			mp := map[string]any{}
			for i := 0; i <= int(*s.Max); i++ {
				mp[fmt.Sprintf("k%d", i)] = m.valid(s.Value.Shape, 0)
			}
			out = append(out, b{"max size", mp})
		}
	case "structure":
		if s.Union {
			names := sortedMembers(s)
			out = append(out, b{"union with no member", map[string]any{}})
			if len(names) > 1 {
				two := map[string]any{}
				for _, n := range names[:2] {
					two[n] = m.valid(s.Members[n].Shape, 0)
				}
				out = append(out, b{"union with two members", two})
			}
		}
	}
	return out
}

// walk generates cases for every constrained member under value v of shape
// name at path, by replacing one member at a time within root.
func (m *catModel) walk(op string, root map[string]any, set func(any), get func() any, name, path string, depth int, out *[]badCase) {
	m.walkAt(op, root, set, get, name, path, depth, false, out)
}

// walkAt is walk for a member that may travel outside the body (bound): an
// empty path label or an empty repeated query key cannot be sent at all (the
// SDKs refuse or drop it), so minimum lengths and sizes are not cases there.
func (m *catModel) walkAt(op string, root map[string]any, set func(any), get func() any, name, path string, depth int, bound bool, out *[]badCase) {
	if depth > 5 {
		return
	}
	brs := m.breakers(name)
	if m.Shapes[name].Type == "string" {
		// The text rules (restjson/input.go) hold for every string, enum or
		// not; bytes that are not UTF-8 can only travel in a URL, since a
		// body with them is not JSON.
		brs = append(brs, struct {
			rule string
			v    any
		}{"NUL", "x\x00y"})
		if bound {
			brs = append(brs, struct {
				rule string
				v    any
			}{"invalid UTF-8", notUTF8})
		}
	}
	for _, br := range brs {
		if bound && (br.rule == "min length" || br.rule == "min size") {
			continue
		}
		orig := get()
		set(br.v)
		*out = append(*out, badCase{op: op, member: path, rule: br.rule, input: deepCopy(root)})
		set(orig)
	}
	s := m.Shapes[name]
	switch s.Type {
	case "structure":
		obj, _ := get().(map[string]any)
		if obj == nil {
			return
		}
		for _, mn := range sortedMembers(s) {
			ref := s.Members[mn]
			mn := mn
			_, present := obj[mn]
			if !present {
				if s.Union {
					continue // adding a second member is the union breaker's job
				}
				obj[mn] = m.valid(ref.Shape, depth+1)
			}
			p := mn
			if path != "" {
				p = path + "." + mn
			}
			if s.required(mn) && !s.Union && ref.Location != "uri" {
				saved := obj[mn]
				delete(obj, mn)
				*out = append(*out, badCase{op: op, member: p, rule: "required", input: deepCopy(root)})
				obj[mn] = saved
			}
			m.walkAt(op, root, func(v any) { obj[mn] = v }, func() any { return obj[mn] }, ref.Shape, p, depth+1, ref.Location != "", out)
			if !present {
				delete(obj, mn)
			}
		}
	case "list":
		l, _ := get().([]any)
		added := false
		if len(l) == 0 {
			l = []any{m.valid(s.Member.Shape, depth+1)}
			set(l)
			added = true
		}
		m.walk(op, root, func(v any) { l[0] = v }, func() any { return l[0] }, s.Member.Shape, path+"[0]", depth+1, out)
		if added {
			set([]any{})
		}
	case "map":
		mp, _ := get().(map[string]any)
		if mp == nil {
			return
		}
		for _, br := range m.breakers(s.Key.Shape) {
			k, ok := br.v.(string)
			if !ok {
				continue
			}
			mp[k] = m.valid(s.Value.Shape, depth+1)
			*out = append(*out, badCase{op: op, member: path, rule: "key " + br.rule, input: deepCopy(root)})
			delete(mp, k)
		}
	}
}

// notUTF8 stands for the bytes FF FE in a catalogue input until request()
// puts them in the URL: deepCopy's JSON round trip would turn real ones into
// U+FFFD.
const notUTF8 = "\x00not-utf-8\x00"

func deepCopy(v map[string]any) map[string]any {
	data, _ := json.Marshal(v)
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}

func (m *catModel) catalogue() []badCase {
	var out []badCase
	var ops []string
	for op := range m.Operations {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		in := m.Operations[op].Input.Shape
		root := m.valid(in, 0).(map[string]any)
		box := map[string]any{"": root}
		m.walk(op, root, func(v any) {}, func() any { return box[""] }, in, "", 0, &out)
	}
	return out
}

// request turns an input into the HTTP request the SDKs would send.
func (m *catModel) request(base, op string, input map[string]any) (*http.Request, error) {
	o := m.Operations[op]
	in := m.Shapes[o.Input.Shape]
	path := o.HTTP.RequestURI
	q := url.Values{}
	body := map[string]any{}
	for k, v := range input {
		ref := in.Members[k]
		switch ref.Location {
		case "uri":
			path = strings.Replace(path, "{"+ref.LocationName+"}", url.PathEscape(strings.ReplaceAll(fmt.Sprint(v), notUTF8, "\xff\xfe")), 1)
		case "querystring":
			if l, ok := v.([]any); ok {
				for _, e := range l {
					q.Add(ref.LocationName, strings.ReplaceAll(fmt.Sprint(e), notUTF8, "\xff\xfe"))
				}
			} else {
				q.Set(ref.LocationName, strings.ReplaceAll(fmt.Sprint(v), notUTF8, "\xff\xfe"))
			}
		default:
			body[k] = v
		}
	}
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if len(body) > 0 {
		data, _ := json.Marshal(body)
		rd = strings.NewReader(string(data))
	}
	r, err := http.NewRequest(o.HTTP.Method, u, rd)
	if err == nil && rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r, err
}

func TestBadInputCatalogue(t *testing.T) {
	m := loadCatalogueModel(t)
	cases := m.catalogue()
	srv := servertest.MustOpen(t)
	client := servertest.RawClient()
	members := map[string]bool{}
	for _, c := range cases {
		req, err := m.request(srv.URL(), c.op, c.input)
		if err != nil {
			t.Fatalf("%s %s %s: %v", c.op, c.member, c.rule, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s %s: %v", c.op, c.member, c.rule, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		members[c.op+" "+c.member] = true
		want := c.member
		if i := strings.LastIndexAny(want, "."); i >= 0 && c.rule == "required" {
			want = want[i+1:]
		}
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(body), want) {
			t.Errorf("%s with %s breaking %q: %d %s %s", c.op, c.member, c.rule, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
	t.Logf("bad-input catalogue: %d requests over %d constrained members of %d operations", len(cases), len(members), len(m.Operations))
	if len(cases) < 300 {
		t.Errorf("only %d cases generated; the walk is missing members", len(cases))
	}
}
