package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/localcases/localcases/api"
)

// OpWeight is one operation of a workload and its share of the requests.
type OpWeight struct {
	Op     string `json:"op"`
	Weight int    `json:"weight"`
}

// ParseWorkload turns --op or --mix into a workload: "GetCase" or
// "GetCase=60,SearchCases=20,UpdateCase=15,CreateCase=5". Weights are
// relative; they need not add up to 100.
func ParseWorkload(op, mix string) ([]OpWeight, error) {
	switch {
	case op != "" && mix != "":
		return nil, fmt.Errorf("--op and --mix are exclusive")
	case op == "" && mix == "":
		return nil, fmt.Errorf("give --op NAME or --mix NAME=WEIGHT,...; operations: %s", strings.Join(Operations(), ", "))
	case op != "":
		if _, ok := catalogue[op]; !ok {
			return nil, unknownOp(op)
		}
		return []OpWeight{{Op: op, Weight: 1}}, nil
	}
	var w []OpWeight
	seen := map[string]bool{}
	for part := range strings.SplitSeq(mix, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("--mix %q: %q is not NAME=WEIGHT", mix, part)
		}
		if _, ok := catalogue[name]; !ok {
			return nil, unknownOp(name)
		}
		if seen[name] {
			return nil, fmt.Errorf("--mix %q: %s appears twice", mix, name)
		}
		seen[name] = true
		n, err := strconv.Atoi(weight)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--mix %q: weight of %s must be a whole number >= 0", mix, name)
		}
		if n > 0 {
			w = append(w, OpWeight{Op: name, Weight: n})
		}
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("--mix %q: every weight is zero", mix)
	}
	return w, nil
}

func unknownOp(name string) error {
	return fmt.Errorf("bench does not drive %q; operations: %s", name, strings.Join(Operations(), ", "))
}

// Operations lists the operations a workload may name.
func Operations() []string {
	names := make([]string, 0, len(catalogue))
	for n := range catalogue {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// needs is the state an operation's requests refer to; seeding creates only
// what the chosen workload needs.
type needs uint8

const (
	needDomain needs = 1 << iota
	needFields
	needTemplate
	needCases
	// needFieldQuota: the operation creates fields, so an in-process server
	// gets a quota that a long run cannot exhaust.
	needFieldQuota
)

// opDef describes how to drive one operation.
type opDef struct {
	needs needs
	// gen returns the request generator for the seeded state.
	gen func(st *state) (generator, error)
}

// generator makes the requests of one operation. next is called by one
// worker at a time with that worker's sequence number and random source, so
// a run and its --ceiling twin send the same requests in the same order per
// worker.
type generator interface {
	next(w *workerGen) *request
}

// workerGen is a worker's private request state.
type workerGen struct {
	id  int
	seq uint64
	rnd *rand.Rand
	// runID makes dynamic names and idempotency tokens unique across runs
	// against a long-lived server.
	runID string
}

// fixed rotates through requests encoded once, before measuring.
type fixed []request

func (f fixed) next(w *workerGen) *request {
	return &f[w.seq%uint64(len(f))]
}

// grid crosses a set of paths (one per case) with a set of bodies; both
// rotate, at different speeds so each case sees every body.
type grid struct {
	op, method string
	paths      []string
	bodies     [][]byte
	hashes     []string
}

func (g *grid) next(w *workerGen) *request {
	i := w.rnd.IntN(len(g.paths))
	j := int(w.seq % uint64(len(g.bodies)))
	return &request{op: g.op, method: g.method, path: g.paths[i], body: g.bodies[j], hash: g.hashes[j]}
}

// dynamic builds a body per request, for operations whose bodies must be
// unique (names, idempotency tokens). The body is a prefix and suffix
// encoded once with a token spliced between them.
type dynamic struct {
	op, method, path string
	prefix, suffix   []byte
	token            func(w *workerGen) string
}

func (d *dynamic) next(w *workerGen) *request {
	tok := d.token(w)
	b := make([]byte, 0, len(d.prefix)+len(tok)+len(d.suffix))
	b = append(append(append(b, d.prefix...), tok...), d.suffix...)
	return &request{op: d.op, method: d.method, path: d.path, body: b}
}

// one builds a fixed request for op with path parameters filled in and the
// body JSON-encoded from v (nil for operations without a body).
func one(name string, params map[string]string, v any) (request, error) {
	op := api.OperationByName(name)
	if op == nil {
		return request{}, fmt.Errorf("operation %s is not in the API model", name)
	}
	r := request{op: name, method: op.Method, path: fillPath(op.URI, params), hash: emptyHash}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return request{}, err
		}
		r.body, r.hash = b, hashOf(b)
	}
	return r, nil
}

func fillPath(uri string, params map[string]string) string {
	for k, v := range params {
		uri = strings.ReplaceAll(uri, "{"+k+"}", escapeSegment(v))
	}
	return uri
}

// escapeSegment escapes a path parameter as the SDKs do (every byte outside
// the unreserved set), so an ARN stays one segment.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func ids(names ...string) []api.FieldIdentifier {
	out := make([]api.FieldIdentifier, len(names))
	for i, n := range names {
		out[i] = api.FieldIdentifier{Id: &n}
	}
	return out
}

func strVal(id, v string) api.FieldValue {
	return api.FieldValue{Id: &id, Value: &api.FieldValueUnion{StringValue: &v}}
}

func numVal(id string, v float64) api.FieldValue {
	return api.FieldValue{Id: &id, Value: &api.FieldValueUnion{DoubleValue: &v}}
}

// categories is how many distinct values the category field takes; a
// SearchCases filter on one matches 1/categories of the seeded cases.
const categories = 10

// fixedOf wraps a single fixed request as a generator.
func fixedOf(name string, params map[string]string, v any) (generator, error) {
	r, err := one(name, params, v)
	if err != nil {
		return nil, err
	}
	return fixed{r}, nil
}

// catalogue is every operation bench knows how to drive. Configuration reads
// work today; the cases plane is designed against the model's shapes and
// starts answering once the service implements it.
var catalogue = map[string]opDef{
	"ListDomains": {gen: func(st *state) (generator, error) {
		return fixedOf("ListDomains", nil, nil)
	}},
	"GetDomain": {needs: needDomain, gen: func(st *state) (generator, error) {
		return fixedOf("GetDomain", st.domainParams(), nil)
	}},
	"ListFields": {needs: needDomain, gen: func(st *state) (generator, error) {
		return fixedOf("ListFields", st.domainParams(), nil)
	}},
	"ListTemplates": {needs: needDomain, gen: func(st *state) (generator, error) {
		return fixedOf("ListTemplates", st.domainParams(), nil)
	}},
	"ListLayouts": {needs: needDomain, gen: func(st *state) (generator, error) {
		return fixedOf("ListLayouts", st.domainParams(), nil)
	}},
	"GetCaseEventConfiguration": {needs: needDomain, gen: func(st *state) (generator, error) {
		return fixedOf("GetCaseEventConfiguration", st.domainParams(), nil)
	}},
	"BatchGetField": {needs: needDomain | needFields, gen: func(st *state) (generator, error) {
		return fixedOf("BatchGetField", st.domainParams(), &api.BatchGetFieldRequest{
			Fields: ids("title", "status", st.categoryField, st.scoreField),
		})
	}},
	"GetTemplate": {needs: needDomain | needFields | needTemplate, gen: func(st *state) (generator, error) {
		p := st.domainParams()
		p["templateId"] = st.templateID
		return fixedOf("GetTemplate", p, nil)
	}},
	"CreateField": {needs: needDomain | needFieldQuota, gen: func(st *state) (generator, error) {
		pre, suf, err := splice(&api.CreateFieldRequest{Name: ptr("\x00"), Type: ptr(api.FieldTypeText)})
		if err != nil {
			return nil, err
		}
		return &dynamic{op: "CreateField", method: "POST", path: fillPath("/domains/{domainId}/fields", st.domainParams()),
			prefix: pre, suffix: suf,
			token: func(w *workerGen) string { return fmt.Sprintf("bench_%s_%d_%d", w.runID, w.id, w.seq) }}, nil
	}},
	"CreateCase": {needs: needDomain | needFields | needTemplate, gen: func(st *state) (generator, error) {
		in := st.caseInput(0)
		in.ClientToken = ptr("\x00")
		pre, suf, err := splice(in)
		if err != nil {
			return nil, err
		}
		return &dynamic{op: "CreateCase", method: "POST", path: fillPath("/domains/{domainId}/cases", st.domainParams()),
			prefix: pre, suffix: suf,
			// The SDKs send a fresh UUID per call; a unique token keeps
			// each request a new case rather than an idempotent replay.
			token: func(w *workerGen) string { return fmt.Sprintf("bench-%s-%d-%d", w.runID, w.id, w.seq) }}, nil
	}},
	"GetCase": {needs: needDomain | needFields | needTemplate | needCases, gen: func(st *state) (generator, error) {
		return st.caseGrid("GetCase", []any{&api.GetCaseRequest{
			Fields: ids("title", "status", "summary", st.categoryField, st.scoreField, "created_datetime"),
		}})
	}},
	"UpdateCase": {needs: needDomain | needFields | needTemplate | needCases, gen: func(st *state) (generator, error) {
		var bodies []any
		for i := range 16 {
			bodies = append(bodies, &api.UpdateCaseRequest{Fields: []api.FieldValue{
				numVal(st.scoreField, float64(i*7)),
				strVal("summary", fmt.Sprintf("Updated by localcases bench, revision %d.", i)),
			}})
		}
		return st.caseGrid("UpdateCase", bodies)
	}},
	"SearchCases": {needs: needDomain | needFields | needTemplate | needCases, gen: func(st *state) (generator, error) {
		var reqs fixed
		for i := range categories {
			v := strVal(st.categoryField, "cat-"+strconv.Itoa(i))
			r, err := one("SearchCases", st.domainParams(), &api.SearchCasesRequest{
				MaxResults: ptr(int32(25)),
				Fields:     ids("title", "status", st.categoryField),
				Filter:     &api.CaseFilter{Field: &api.FieldFilter{EqualTo: &v}},
			})
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, r)
		}
		return reqs, nil
	}},
}

func ptr[T any](v T) *T { return &v }

// splice encodes v, whose one dynamic string member holds "\x00", and
// returns the bytes before and after that member's value.
func splice(v any) (prefix, suffix []byte, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	const mark = `\u0000`
	i := strings.Index(string(b), mark)
	if i < 0 {
		return nil, nil, fmt.Errorf("splice: no marker in %s", b)
	}
	return b[:i], b[i+len(mark):], nil
}

// outputType is the operation's output shape, read off the Service
// interface so the ceiling needs no table of its own.
func outputType(name string) reflect.Type {
	m, ok := reflect.TypeFor[api.Service]().MethodByName(name)
	if !ok || m.Type.NumOut() != 2 {
		return nil
	}
	return m.Type.Out(0).Elem()
}
