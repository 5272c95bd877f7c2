package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases/api"
)

// Names of the resources bench seeds. Seeding looks them up first and reuses
// them, so repeated runs against one long-lived server do not pile up
// domains (five per account), fields or templates.
const (
	benchDomain   = "localcases-bench"
	benchTemplate = "localcases-bench"
	categoryName  = "bench_category"
	scoreName     = "bench_score"
)

// state is what the workload's requests refer to.
type state struct {
	domainID      string
	categoryField string
	scoreField    string
	templateID    string
	caseIDs       []string
}

func (st *state) domainParams() map[string]string {
	return map[string]string{"domainId": st.domainID}
}

// caseInput is the CreateCase body for the i-th seeded case: the system
// fields a real case has plus the two bench fields.
func (st *state) caseInput(i int) *api.CreateCaseRequest {
	return &api.CreateCaseRequest{
		TemplateId: &st.templateID,
		Fields: []api.FieldValue{
			strVal("title", fmt.Sprintf("Bench case %d: customer cannot sign in", i)),
			strVal("summary", "The customer reports that sign-in fails after a password reset; seeded by localcases bench."),
			strVal(st.categoryField, fmt.Sprintf("cat-%d", i%categories)),
			numVal(st.scoreField, float64(i)),
		},
		PerformedBy: &api.UserUnion{CustomEntity: ptr("localcases-bench")},
	}
}

// caseGrid builds requests for op against every seeded case.
func (st *state) caseGrid(op string, bodies []any) (generator, error) {
	g := &grid{op: op, method: api.OperationByName(op).Method}
	for _, id := range st.caseIDs {
		g.paths = append(g.paths, fillPath(api.OperationByName(op).URI, map[string]string{"domainId": st.domainID, "caseId": id}))
	}
	for _, b := range bodies {
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		g.bodies = append(g.bodies, data)
		g.hashes = append(g.hashes, hashOf(data))
	}
	if len(g.paths) == 0 {
		return nil, fmt.Errorf("%s needs seeded cases; set --seed-cases above 0", op)
	}
	return g, nil
}

// Seed reports what seeding found or created. Cases is how many cases
// seeding created; CasesReused how many of the domain's cases from earlier
// runs it used instead (see seeder.cases).
type Seed struct {
	DomainID      string  `json:"domainId,omitempty"`
	DomainCreated bool    `json:"domainCreated"`
	Fields        int     `json:"fieldsCreated"`
	TemplateID    string  `json:"templateId,omitempty"`
	Cases         int     `json:"casesCreated"`
	CasesReused   int     `json:"casesReused"`
	Seconds       float64 `json:"seconds"`
}

// seeder creates state through the same client the workload uses.
type seeder struct {
	c    *client
	seed Seed
}

// call sends one request built from v and decodes a 200 answer into out.
func (s *seeder) call(ctx context.Context, name string, params map[string]string, query string, in, out any) error {
	r, err := one(name, params, in)
	if err != nil {
		return err
	}
	r.path += query
	o := s.c.do(ctx, &r, true)
	if o.errType != "" {
		return &opError{op: name, status: o.status, errType: o.errType, body: o.body}
	}
	if out != nil {
		if err := json.Unmarshal(o.body, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", name, err)
		}
	}
	return nil
}

// opError is an API call that did not answer 2xx during seeding.
type opError struct {
	op, errType string
	status      int
	body        []byte
}

func (e *opError) Error() string {
	var b struct {
		Message string `json:"message"`
	}
	json.Unmarshal(e.body, &b)
	msg := fmt.Sprintf("%s answered %s", e.op, e.errType)
	if e.status != 0 {
		msg = fmt.Sprintf("%s answered %d %s", e.op, e.status, e.errType)
	}
	if b.Message != "" {
		msg += ": " + b.Message
	}
	if e.errType == string(api.CodeNotImplementedException) {
		msg += " (the server does not implement this operation yet, so a workload that needs it cannot run)"
	}
	return msg
}

func (s *seeder) run(ctx context.Context, cfg *Config, need needs) (*state, error) {
	start := time.Now()
	defer func() { s.seed.Seconds = time.Since(start).Seconds() }()
	st := &state{}
	if need&(needFields|needTemplate|needCases) != 0 {
		need |= needDomain
	}
	if need&needDomain != 0 {
		if err := s.domain(ctx, cfg, st); err != nil {
			return nil, fmt.Errorf("seed domain: %w", err)
		}
	}
	if need&(needFields|needTemplate|needCases) != 0 {
		if err := s.fields(ctx, st); err != nil {
			return nil, fmt.Errorf("seed fields: %w", err)
		}
	}
	if need&(needTemplate|needCases) != 0 {
		if err := s.template(ctx, st); err != nil {
			return nil, fmt.Errorf("seed template: %w", err)
		}
	}
	if need&needCases != 0 {
		if err := s.cases(ctx, cfg, st); err != nil {
			return nil, fmt.Errorf("seed cases: %w", err)
		}
	}
	return st, nil
}

func (s *seeder) domain(ctx context.Context, cfg *Config, st *state) error {
	if cfg.DomainID != "" {
		st.domainID = cfg.DomainID
		s.seed.DomainID = st.domainID
		return s.call(ctx, "GetDomain", st.domainParams(), "", nil, nil)
	}
	var found string
	err := s.pages(ctx, "ListDomains", nil, func(body []byte) error {
		var out api.ListDomainsResponse
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		for _, d := range out.Domains {
			if d.Name != nil && *d.Name == benchDomain && d.DomainId != nil {
				found = *d.DomainId
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if found == "" {
		var out api.CreateDomainResponse
		err := s.call(ctx, "CreateDomain", nil, "", &api.CreateDomainRequest{Name: ptr(benchDomain)}, &out)
		if oe, ok := err.(*opError); ok && oe.errType == string(api.CodeServiceQuotaExceededException) {
			return fmt.Errorf("%w; pass --domain-id to use an existing domain", err)
		}
		if err != nil {
			return err
		}
		found = *out.DomainId
		s.seed.DomainCreated = true
	}
	st.domainID = found
	s.seed.DomainID = found
	return nil
}

// pages calls a list operation until it has no next token.
func (s *seeder) pages(ctx context.Context, op string, params map[string]string, page func([]byte) error) error {
	tok := ""
	for range 10000 {
		// ListDomains pages hold at most 10, the others 100.
		q := "?maxResults=100"
		if op == "ListDomains" {
			q = "?maxResults=10"
		}
		if tok != "" {
			q += "&nextToken=" + escapeSegment(tok)
		}
		var raw json.RawMessage
		if err := s.call(ctx, op, params, q, nil, &raw); err != nil {
			return err
		}
		if err := page(raw); err != nil {
			return err
		}
		var next struct {
			NextToken *string `json:"nextToken"`
		}
		json.Unmarshal(raw, &next)
		if next.NextToken == nil || *next.NextToken == "" {
			return nil
		}
		tok = *next.NextToken
	}
	return fmt.Errorf("%s: too many pages", op)
}

func (s *seeder) fields(ctx context.Context, st *state) error {
	err := s.pages(ctx, "ListFields", st.domainParams(), func(body []byte) error {
		var out api.ListFieldsResponse
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		for _, f := range out.Fields {
			if f.Name == nil || f.FieldId == nil {
				continue
			}
			switch *f.Name {
			case categoryName:
				st.categoryField = *f.FieldId
			case scoreName:
				st.scoreField = *f.FieldId
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		typ  api.FieldType
		id   *string
	}{{categoryName, api.FieldTypeText, &st.categoryField}, {scoreName, api.FieldTypeNumber, &st.scoreField}} {
		if *f.id != "" {
			continue
		}
		var out api.CreateFieldResponse
		err := s.call(ctx, "CreateField", st.domainParams(), "", &api.CreateFieldRequest{
			Name: ptr(f.name), Type: ptr(f.typ), Description: ptr("Seeded by localcases bench."),
		}, &out)
		if err != nil {
			return err
		}
		*f.id = *out.FieldId
		s.seed.Fields++
	}
	return nil
}

func (s *seeder) template(ctx context.Context, st *state) error {
	err := s.pages(ctx, "ListTemplates", st.domainParams(), func(body []byte) error {
		var out api.ListTemplatesResponse
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		for _, t := range out.Templates {
			if t.Name != nil && *t.Name == benchTemplate && t.TemplateId != nil &&
				(t.Status == nil || *t.Status == api.TemplateStatusActive) {
				st.templateID = *t.TemplateId
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if st.templateID == "" {
		var out api.CreateTemplateResponse
		err := s.call(ctx, "CreateTemplate", st.domainParams(), "", &api.CreateTemplateRequest{
			Name:           ptr(benchTemplate),
			Description:    ptr("Seeded by localcases bench."),
			Status:         ptr(api.TemplateStatusActive),
			RequiredFields: []api.RequiredField{{FieldId: ptr("title")}},
		}, &out)
		if err != nil {
			return err
		}
		st.templateID = *out.TemplateId
	}
	s.seed.TemplateID = st.templateID
	return nil
}

// cases gives the workload cfg.SeedCases cases: the bench-template cases
// the domain already holds (reuse), and new ones for what is missing. A
// 100,000-case domain that took minutes to seed then costs a thousand
// searches on the next run instead of a hundred thousand creates.
//
// The cases are slots 0..n-1, slot i being what caseInput(i) creates: its
// category is cat-(i mod categories), which is what the SearchCases
// workload's equalTo filters count on to match 1/categories of the cases. A
// held case is reused for a free slot of its own category only, so the
// cases the workload sees split over the categories exactly as freshly
// seeded ones would, and new cases fill the remaining slots.
//
// A reused case is assumed to look like one bench seeded: made from the
// bench template (checked), with a category value cat-K for 0 <= K <
// categories (checked; cases without one are left alone), and otherwise
// with caseInput's title, summary and a numeric score (not checked: the
// read and update workloads work on any case of the template, and the
// UpdateCase workload rewrites score and summary anyway). Cases the
// CreateCase workload added (all cat-0) fill only cat-0 slots.
func (s *seeder) cases(ctx context.Context, cfg *Config, st *state) error {
	n := cfg.SeedCases
	if n <= 0 {
		return fmt.Errorf("the workload reads cases; set --seed-cases above 0")
	}
	ids := make([]string, n)
	reused, err := s.held(ctx, st, ids)
	if err != nil {
		return fmt.Errorf("find the cases a previous run left: %w", err)
	}
	s.seed.CasesReused = reused
	var missing []int
	for i, id := range ids {
		if id == "" {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		if err := s.create(ctx, cfg, st, ids, missing); err != nil {
			return err
		}
	}
	st.caseIDs = ids
	s.seed.Cases = len(missing)
	return nil
}

// held fills slots (one per seeded case, see cases) with bench-template cases the
// domain already holds and returns how many it filled. It pages SearchCases
// sorted by case_id alone, an order the server serves from an index and
// keeps stable while paging, and stops once every slot is taken. The
// template cannot be filtered on (template_id is not a searchable field:
// the server answers ValidationException), so each page is checked here.
func (s *seeder) held(ctx context.Context, st *state, slots []string) (int, error) {
	n := len(slots)
	// next[k] is the next free slot of category k: k, k+categories, ...
	var next [categories]int
	for k := range next {
		next[k] = k
	}
	filled := 0
	var tok *string
	for filled < n {
		in := &api.SearchCasesRequest{
			MaxResults: ptr(int32(100)),
			Fields:     ids(st.categoryField),
			Sorts:      []api.Sort{{FieldId: ptr("case_id"), SortOrder: ptr(api.OrderAsc)}},
			NextToken:  tok,
		}
		var out api.SearchCasesResponse
		if err := s.call(ctx, "SearchCases", st.domainParams(), "", in, &out); err != nil {
			return filled, err
		}
		for _, c := range out.Cases {
			if c.CaseId == nil || c.TemplateId == nil || *c.TemplateId != st.templateID {
				continue
			}
			k, ok := categoryOf(c.Fields, st.categoryField)
			if !ok || next[k] >= n {
				continue
			}
			slots[next[k]] = *c.CaseId
			next[k] += categories
			filled++
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		tok = out.NextToken
	}
	return filled, nil
}

// categoryOf reads K off a case's cat-K category value.
func categoryOf(fields []api.FieldValue, categoryField string) (int, bool) {
	for _, f := range fields {
		if f.Id == nil || *f.Id != categoryField || f.Value == nil || f.Value.StringValue == nil {
			continue
		}
		rest, ok := strings.CutPrefix(*f.Value.StringValue, "cat-")
		if !ok {
			return 0, false
		}
		k, err := strconv.Atoi(rest)
		if err != nil || k < 0 || k >= categories || strconv.Itoa(k) != rest {
			return 0, false
		}
		return k, true
	}
	return 0, false
}

// create makes the cases of the given slots with a few workers: seeding
// 10,000 cases one at a time would take longer than the measurement.
func (s *seeder) create(ctx context.Context, cfg *Config, st *state, ids []string, slots []int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	var mu sync.Mutex // orders SeedProgress calls
	done := 0
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(cfg.Concurrency, 16, len(slots)) {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= len(slots) || ctx.Err() != nil {
					return
				}
				i := slots[j]
				in := st.caseInput(i)
				in.ClientToken = ptr(fmt.Sprintf("bench-seed-%s-%d", cfg.runID, i))
				var out api.CreateCaseResponse
				if err := s.call(ctx, "CreateCase", st.domainParams(), "", in, &out); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				if out.CaseId == nil {
					once.Do(func() { firstErr = fmt.Errorf("CreateCase answered without a caseId"); cancel() })
					return
				}
				ids[i] = *out.CaseId
				if cfg.SeedProgress != nil {
					mu.Lock()
					done++
					cfg.SeedProgress(done, len(slots))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// mergeNeeds is what a whole workload needs.
func mergeNeeds(w []OpWeight) needs {
	var n needs
	for _, o := range w {
		n |= catalogue[o.Op].needs
	}
	return n
}

// workloadString renders a workload the way --mix spells it.
func workloadString(w []OpWeight) string {
	if len(w) == 1 {
		return w[0].Op
	}
	parts := make([]string, len(w))
	for i, o := range w {
		parts[i] = fmt.Sprintf("%s=%d", o.Op, o.Weight)
	}
	return strings.Join(parts, ",")
}
