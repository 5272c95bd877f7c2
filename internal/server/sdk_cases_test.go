package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// The cases plane end to end through the Go SDK. Helpers carry an sdkc
// prefix so they cannot clash with those of other files in this package.

const (
	sdkcUser     = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/agent/agent-1"
	sdkcOther    = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/agent/agent-2"
	sdkcContact  = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/contact/contact-1"
	sdkcContact2 = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/contact/contact-2"
	sdkcFile     = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/file/file-1"
)

// sdkcEnv is a server with a domain set up the way a contact centre would:
// custom fields of every type, a layout, a Required case rule and a
// template that requires one field and attaches the rule to another.
type sdkcEnv struct {
	t      *testing.T
	ctx    context.Context
	srv    *server.Server
	c      *connectcases.Client
	domain *string

	notes, amount, urgent, due, prio, link, owner string // custom field IDs
	layout, rule, tpl, inactiveTpl                string
}

func sdkcSetup(t *testing.T, opts ...servertest.Option) *sdkcEnv {
	t.Helper()
	srv := servertest.MustOpen(t, opts...)
	c := sdkcClient(t, srv)
	e := &sdkcEnv{t: t, ctx: context.Background(), srv: srv, c: c}
	e.domain = aws.String(newDomain(t, c))
	field := func(name string, typ types.FieldType) string {
		t.Helper()
		out := must[*connectcases.CreateFieldOutput](t)(c.CreateField(e.ctx, &connectcases.CreateFieldInput{DomainId: e.domain, Name: aws.String(name), Type: typ}))
		return *out.FieldId
	}
	e.notes = field("Notes", types.FieldTypeText)
	e.amount = field("Amount", types.FieldTypeNumber)
	e.urgent = field("Urgent", types.FieldTypeBoolean)
	e.due = field("Due", types.FieldTypeDateTime)
	e.prio = field("Priority", types.FieldTypeSingleSelect)
	e.link = field("Link", types.FieldTypeUrl)
	e.owner = field("Owner", types.FieldTypeUser)
	opts2 := must[*connectcases.BatchPutFieldOptionsOutput](t)(c.BatchPutFieldOptions(e.ctx, &connectcases.BatchPutFieldOptionsInput{
		DomainId: e.domain, FieldId: aws.String(e.prio), Options: []types.FieldOption{
			{Name: aws.String("High"), Value: aws.String("high"), Active: aws.Bool(true)},
			{Name: aws.String("Low"), Value: aws.String("low"), Active: aws.Bool(true)},
			{Name: aws.String("Legacy"), Value: aws.String("legacy"), Active: aws.Bool(false)},
		},
	}))
	if len(opts2.Errors) != 0 {
		t.Fatalf("BatchPutFieldOptions errors: %+v", opts2.Errors)
	}
	items := func(ids ...string) []types.FieldItem {
		var out []types.FieldItem
		for _, id := range ids {
			out = append(out, types.FieldItem{Id: aws.String(id)})
		}
		return out
	}
	lay := must[*connectcases.CreateLayoutOutput](t)(c.CreateLayout(e.ctx, &connectcases.CreateLayoutInput{
		DomainId: e.domain, Name: aws.String("Main"),
		Content: &types.LayoutContentMemberBasic{Value: types.BasicLayout{
			TopPanel: &types.LayoutSections{Sections: []types.Section{&types.SectionMemberFieldGroup{Value: types.FieldGroup{
				Name: aws.String("Top"), Fields: items(e.prio, e.notes)}}}},
			MoreInfo: &types.LayoutSections{Sections: []types.Section{&types.SectionMemberFieldGroup{Value: types.FieldGroup{
				Name: aws.String("More"), Fields: items(e.amount, e.urgent, e.due, e.link, e.owner)}}}},
		}},
	}))
	e.layout = *lay.LayoutId
	// Notes are required while the priority is high.
	rule := must[*connectcases.CreateCaseRuleOutput](t)(c.CreateCaseRule(e.ctx, &connectcases.CreateCaseRuleInput{
		DomainId: e.domain, Name: aws.String("Notes when high"),
		Rule: &types.CaseRuleDetailsMemberRequired{Value: types.RequiredCaseRule{
			DefaultValue: aws.Bool(false),
			Conditions: []types.BooleanCondition{&types.BooleanConditionMemberEqualTo{Value: types.BooleanOperands{
				OperandOne: &types.OperandOneMemberFieldId{Value: e.prio},
				OperandTwo: &types.OperandTwoMemberStringValue{Value: "high"},
				Result:     aws.Bool(true),
			}}},
		}},
	}))
	e.rule = *rule.CaseRuleId
	tpl := must[*connectcases.CreateTemplateOutput](t)(c.CreateTemplate(e.ctx, &connectcases.CreateTemplateInput{
		DomainId: e.domain, Name: aws.String("Support"),
		LayoutConfiguration: &types.LayoutConfiguration{DefaultLayout: aws.String(e.layout)},
		RequiredFields:      []types.RequiredField{{FieldId: aws.String(e.prio)}},
		Rules:               []types.TemplateRule{{CaseRuleId: aws.String(e.rule), FieldId: aws.String(e.notes)}},
		TagPropagationConfigurations: []types.TagPropagationConfiguration{{
			ResourceType: types.TagPropagationResourceTypeCases, TagMap: map[string]string{"source": "template", "team": "default"},
		}},
	}))
	e.tpl = *tpl.TemplateId
	old := must[*connectcases.CreateTemplateOutput](t)(c.CreateTemplate(e.ctx, &connectcases.CreateTemplateInput{
		DomainId: e.domain, Name: aws.String("Old"), Status: types.TemplateStatusInactive,
	}))
	e.inactiveTpl = *old.TemplateId
	return e
}

// sdkcClient is servertest.Client with two changes that keep tests
// running under -race from failing for client-side reasons:
//
//   - The request body is passed to net/http without its WriteTo method.
//     The SDK closes the request body as soon as the response headers
//     arrive; net/http may still be in its final read of that body, which
//     for the SDK's safeWriteToReadCloser then fails with io.EOF from
//     WriteTo (a WriterTo should return nil at EOF). net/http treats that
//     as a failed request write and closes the connection under the
//     response body still being read: "use of closed network connection"
//     on a 200. A localhost server answers fast enough to hit this window
//     when the race detector slows the client.
//   - Idle connections are closed before the server shuts down: under
//     concurrency the transport dials connections it then never uses, and
//     http.Server.Shutdown waits five seconds for such never-used
//     connections, as long as servertest allows for the whole close.
func sdkcClient(t *testing.T, srv *server.Server, opts ...func(*connectcases.Options)) *connectcases.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections) // runs before the server's close
	hc := sdkcHTTPClient{&http.Client{Transport: tr}}
	return servertest.Client(srv.URL(), append([]func(*connectcases.Options){func(o *connectcases.Options) { o.HTTPClient = hc }}, opts...)...)
}

type sdkcHTTPClient struct{ c *http.Client }

func (h sdkcHTTPClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct{ io.ReadCloser }{r.Body} // hides WriteTo
	}
	return h.c.Do(r)
}

// Field value constructors, one per union member.
func sdkcS(id, s string) types.FieldValue {
	return types.FieldValue{Id: aws.String(id), Value: &types.FieldValueUnionMemberStringValue{Value: s}}
}
func sdkcN(id string, n float64) types.FieldValue {
	return types.FieldValue{Id: aws.String(id), Value: &types.FieldValueUnionMemberDoubleValue{Value: n}}
}
func sdkcB(id string, b bool) types.FieldValue {
	return types.FieldValue{Id: aws.String(id), Value: &types.FieldValueUnionMemberBooleanValue{Value: b}}
}
func sdkcU(id, arn string) types.FieldValue {
	return types.FieldValue{Id: aws.String(id), Value: &types.FieldValueUnionMemberUserArnValue{Value: arn}}
}
func sdkcE(id string) types.FieldValue {
	return types.FieldValue{Id: aws.String(id), Value: &types.FieldValueUnionMemberEmptyValue{Value: types.EmptyFieldValue{}}}
}

// sdkcVal flattens a value union: string, float64, bool, "user:"+ARN, or
// nil for emptyValue.
func sdkcVal(u types.FieldValueUnion) any {
	switch v := u.(type) {
	case *types.FieldValueUnionMemberStringValue:
		return v.Value
	case *types.FieldValueUnionMemberDoubleValue:
		return v.Value
	case *types.FieldValueUnionMemberBooleanValue:
		return v.Value
	case *types.FieldValueUnionMemberUserArnValue:
		return "user:" + v.Value
	case *types.FieldValueUnionMemberEmptyValue:
		return nil
	}
	return fmt.Sprintf("unexpected %T", u)
}

func sdkcAuditVal(u types.AuditEventFieldValueUnion) any {
	switch v := u.(type) {
	case nil:
		return "absent"
	case *types.AuditEventFieldValueUnionMemberStringValue:
		return v.Value
	case *types.AuditEventFieldValueUnionMemberDoubleValue:
		return v.Value
	case *types.AuditEventFieldValueUnionMemberBooleanValue:
		return v.Value
	case *types.AuditEventFieldValueUnionMemberUserArnValue:
		return "user:" + v.Value
	case *types.AuditEventFieldValueUnionMemberEmptyValue:
		return nil
	}
	return fmt.Sprintf("unexpected %T", u)
}

func sdkcIDs(ids ...string) []types.FieldIdentifier {
	out := make([]types.FieldIdentifier, 0, len(ids))
	for _, id := range ids {
		out = append(out, types.FieldIdentifier{Id: aws.String(id)})
	}
	return out
}

// sdkcValues turns returned fields into id → flattened value.
func sdkcValues(fields []types.FieldValue) map[string]any {
	m := map[string]any{}
	for _, f := range fields {
		m[*f.Id] = sdkcVal(f.Value)
	}
	return m
}

// fieldsWith returns a valid field list for e.tpl (title and a low
// priority) with extra values added or replacing those.
func (e *sdkcEnv) fieldsWith(extra ...types.FieldValue) []types.FieldValue {
	base := []types.FieldValue{sdkcS("title", "a case"), sdkcS(e.prio, "low")}
	for _, x := range extra {
		i := slices.IndexFunc(base, func(b types.FieldValue) bool { return *b.Id == *x.Id })
		if i >= 0 {
			base[i] = x
		} else {
			base = append(base, x)
		}
	}
	return base
}

func (e *sdkcEnv) create(extra ...types.FieldValue) *connectcases.CreateCaseOutput {
	e.t.Helper()
	return must[*connectcases.CreateCaseOutput](e.t)(e.c.CreateCase(e.ctx, &connectcases.CreateCaseInput{
		DomainId: e.domain, TemplateId: aws.String(e.tpl), Fields: e.fieldsWith(extra...),
	}))
}

func (e *sdkcEnv) get(caseID string, ids ...string) map[string]any {
	e.t.Helper()
	out := must[*connectcases.GetCaseOutput](e.t)(e.c.GetCase(e.ctx, &connectcases.GetCaseInput{
		DomainId: e.domain, CaseId: aws.String(caseID), Fields: sdkcIDs(ids...),
	}))
	return sdkcValues(out.Fields)
}

func (e *sdkcEnv) update(caseID string, fields ...types.FieldValue) error {
	if fields == nil {
		fields = []types.FieldValue{} // required, but may be empty
	}
	_, err := e.c.UpdateCase(e.ctx, &connectcases.UpdateCaseInput{DomainId: e.domain, CaseId: aws.String(caseID), Fields: fields})
	return err
}

func (e *sdkcEnv) mustUpdate(caseID string, fields ...types.FieldValue) {
	e.t.Helper()
	if err := e.update(caseID, fields...); err != nil {
		e.t.Fatalf("UpdateCase: %v", err)
	}
}

// audit walks the case's whole history with the SDK paginator.
func (e *sdkcEnv) audit(caseID string, pageSize int32) []*types.AuditEvent {
	e.t.Helper()
	p := connectcases.NewGetCaseAuditEventsPaginator(e.c, &connectcases.GetCaseAuditEventsInput{
		DomainId: e.domain, CaseId: aws.String(caseID), MaxResults: aws.Int32(pageSize),
	})
	var all []*types.AuditEvent
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("GetCaseAuditEvents: %v", err)
		}
		if len(page.AuditEvents) > int(pageSize) {
			e.t.Fatalf("page of %d events, asked for %d", len(page.AuditEvents), pageSize)
		}
		all = append(all, page.AuditEvents...)
	}
	return all
}

func (e *sdkcEnv) relate(caseID string, typ types.RelatedItemType, content types.RelatedItemInputContent) (*connectcases.CreateRelatedItemOutput, error) {
	return e.c.CreateRelatedItem(e.ctx, &connectcases.CreateRelatedItemInput{
		DomainId: e.domain, CaseId: aws.String(caseID), Type: typ, Content: content,
		PerformedBy: &types.UserUnionMemberUserArn{Value: sdkcUser},
	})
}

func (e *sdkcEnv) mustRelate(caseID string, typ types.RelatedItemType, content types.RelatedItemInputContent) *connectcases.CreateRelatedItemOutput {
	e.t.Helper()
	out, err := e.relate(caseID, typ, content)
	if err != nil {
		e.t.Fatalf("CreateRelatedItem %s: %v", typ, err)
	}
	return out
}

// searchRelated walks SearchRelatedItems with its paginator and returns
// the item IDs in the order served.
func (e *sdkcEnv) searchRelated(caseID string, pageSize int32, filters ...types.RelatedItemTypeFilter) []*types.SearchRelatedItemsResponseItem {
	e.t.Helper()
	p := connectcases.NewSearchRelatedItemsPaginator(e.c, &connectcases.SearchRelatedItemsInput{
		DomainId: e.domain, CaseId: aws.String(caseID), Filters: filters, MaxResults: aws.Int32(pageSize),
	})
	var all []*types.SearchRelatedItemsResponseItem
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("SearchRelatedItems: %v", err)
		}
		all = append(all, page.RelatedItems...)
	}
	return all
}

// search walks every page of a SearchCases query with the SDK paginator
// and checks that totalCount is the same on every page.
func (e *sdkcEnv) search(in connectcases.SearchCasesInput) ([]*types.SearchCasesResponseItem, int64) {
	e.t.Helper()
	in.DomainId = e.domain
	p := connectcases.NewSearchCasesPaginator(e.c, &in)
	var all []*types.SearchCasesResponseItem
	total := int64(-1)
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("SearchCases: %v", err)
		}
		if total >= 0 && page.TotalCount != total {
			e.t.Errorf("totalCount changed between pages: %d then %d", total, page.TotalCount)
		}
		total = page.TotalCount
		all = append(all, page.Cases...)
	}
	return all, total
}

func sdkcCaseIDs(items []*types.SearchCasesResponseItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = *it.CaseId
	}
	return out
}

func sdkcNotFound(t *testing.T, err error, resourceType, id string) {
	t.Helper()
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want ResourceNotFoundException", err)
	}
	if aws.ToString(nf.ResourceType) != resourceType || (id != "" && aws.ToString(nf.ResourceId) != id) {
		t.Fatalf("ResourceNotFoundException names %s %s, want %s %s", aws.ToString(nf.ResourceType), aws.ToString(nf.ResourceId), resourceType, id)
	}
}

func TestSDKCasesCreateAndGet(t *testing.T) {
	e := sdkcSetup(t)
	ctx, c := e.ctx, e.c
	in := &connectcases.CreateCaseInput{
		DomainId: e.domain, TemplateId: aws.String(e.tpl), ClientToken: aws.String("token-1"),
		PerformedBy: &types.UserUnionMemberUserArn{Value: sdkcUser},
		Tags:        map[string]string{"team": "red"},
		Fields: []types.FieldValue{
			sdkcS("title", "Printer on fire"), sdkcS(e.prio, "low"), sdkcS(e.notes, "smoke seen"),
			sdkcN(e.amount, 12.5), sdkcB(e.urgent, true), sdkcS(e.due, "2025-01-02T03:04:05.000Z"),
			sdkcS(e.link, "https://example.com/ticket/1"), sdkcU(e.owner, sdkcOther), sdkcS("summary", "it burns"),
		},
	}
	first := must[*connectcases.CreateCaseOutput](t)(c.CreateCase(ctx, in))
	if *first.CaseArn != "arn:aws:cases:us-east-1:000000000000:domain/"+*e.domain+"/case/"+*first.CaseId {
		t.Errorf("caseArn = %s", *first.CaseArn)
	}

	// A retry with the same token, even with the fields reordered, returns
	// the first case; a different request under that token conflicts.
	retry := *in
	retry.Fields = slices.Clone(in.Fields)
	slices.Reverse(retry.Fields)
	again := must[*connectcases.CreateCaseOutput](t)(c.CreateCase(ctx, &retry))
	if *again.CaseId != *first.CaseId || *again.CaseArn != *first.CaseArn {
		t.Errorf("retry created %s, want %s", *again.CaseId, *first.CaseId)
	}
	changed := *in
	changed.Fields = e.fieldsWith(sdkcS("title", "Another title"))
	_, err := c.CreateCase(ctx, &changed)
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("same token, other request: %v, want ConflictException", err)
	}
	if _, total := e.search(connectcases.SearchCasesInput{}); total != 1 {
		t.Errorf("%d cases exist after the retries, want 1", total)
	}

	// GetCase: request order, unknown IDs and empty fields left out.
	got := must[*connectcases.GetCaseOutput](t)(c.GetCase(ctx, &connectcases.GetCaseInput{
		DomainId: e.domain, CaseId: first.CaseId,
		Fields: sdkcIDs(e.owner, "title", "no-such-field", e.amount, e.urgent, e.due, e.link, "status", "case_id",
			"reference_number", "created_by", "last_updated_user", "created_datetime", "last_closed_datetime", "title"),
	}))
	var order []string
	for _, f := range got.Fields {
		order = append(order, *f.Id)
	}
	wantOrder := []string{e.owner, "title", e.amount, e.urgent, e.due, e.link, "status", "case_id", "reference_number", "created_by", "last_updated_user", "created_datetime"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("GetCase order = %v\nwant %v", order, wantOrder)
	}
	v := sdkcValues(got.Fields)
	for id, want := range map[string]any{
		e.owner: "user:" + sdkcOther, "title": "Printer on fire", e.amount: 12.5, e.urgent: true,
		e.due: "2025-01-02T03:04:05.000Z", e.link: "https://example.com/ticket/1", "status": "open",
		"case_id": *first.CaseId, "created_by": "user:" + sdkcUser, "last_updated_user": "user:" + sdkcUser,
	} {
		if v[id] != want {
			t.Errorf("%s = %#v, want %#v", id, v[id], want)
		}
	}
	if ref, _ := v["reference_number"].(string); len(ref) != 9 || strings.ToUpper(ref) != ref {
		t.Errorf("reference_number = %q, want 9 upper-case alphanumerics", ref)
	}
	if ts, _ := v["created_datetime"].(string); ts == "" {
		t.Errorf("created_datetime missing")
	} else if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("created_datetime %q: %v", ts, err)
	}
	if *got.TemplateId != e.tpl {
		t.Errorf("templateId = %s", *got.TemplateId)
	}
	// Request tags win over the template's propagated tags.
	if aws.ToString(got.Tags["team"]) != "red" || aws.ToString(got.Tags["source"]) != "template" {
		t.Errorf("tags = %v", got.Tags)
	}

	_, err = c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: e.domain, CaseId: aws.String("nope"), Fields: sdkcIDs("title")})
	sdkcNotFound(t, err, "Case", "nope")
	_, err = c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: e.domain, CaseId: first.CaseId, Fields: []types.FieldIdentifier{}})
	mustCode(t, err, "ValidationException")

	// emptyValue on an optional field simply leaves it unset.
	opt := e.create(sdkcE(e.notes), sdkcN(e.amount, 1))
	if v := e.get(*opt.CaseId, e.notes, e.amount); len(v) != 1 || v[e.amount] != 1.0 {
		t.Errorf("case with emptyValue notes = %v", v)
	}
	// A high priority needs notes (case rule); with them it is fine.
	high := e.create(sdkcS(e.prio, "high"), sdkcS(e.notes, "why"))
	if v := e.get(*high.CaseId, e.prio); v[e.prio] != "high" {
		t.Errorf("priority = %v", v)
	}
}

func TestSDKCasesCreateValidation(t *testing.T) {
	e := sdkcSetup(t)
	gone := must[*connectcases.CreateFieldOutput](t)(e.c.CreateField(e.ctx, &connectcases.CreateFieldInput{
		DomainId: e.domain, Name: aws.String("Gone"), Type: types.FieldTypeText}))
	must[*connectcases.DeleteFieldOutput](t)(e.c.DeleteField(e.ctx, &connectcases.DeleteFieldInput{DomainId: e.domain, FieldId: gone.FieldId}))

	tests := []struct {
		name   string
		tpl    string
		fields []types.FieldValue
		code   string
	}{
		{"number given a string", e.tpl, e.fieldsWith(sdkcS(e.amount, "12")), "ValidationException"},
		{"boolean given a number", e.tpl, e.fieldsWith(sdkcN(e.urgent, 1)), "ValidationException"},
		{"text given a boolean", e.tpl, e.fieldsWith(sdkcB(e.notes, true)), "ValidationException"},
		{"user given a string", e.tpl, e.fieldsWith(sdkcS(e.owner, sdkcUser)), "ValidationException"},
		{"date-time not a timestamp", e.tpl, e.fieldsWith(sdkcS(e.due, "tomorrow")), "ValidationException"},
		{"inactive option", e.tpl, e.fieldsWith(sdkcS(e.prio, "legacy")), "ValidationException"},
		{"unknown option", e.tpl, e.fieldsWith(sdkcS(e.prio, "medium")), "ValidationException"},
		{"unknown field", e.tpl, e.fieldsWith(sdkcS("no-such-field", "x")), "ValidationException"},
		{"deleted field", e.tpl, e.fieldsWith(sdkcS(*gone.FieldId, "x")), "ValidationException"},
		{"duplicate field", e.tpl, append(e.fieldsWith(), sdkcS("title", "twice")), "ValidationException"},
		{"service-managed field", e.tpl, e.fieldsWith(sdkcS("case_id", "mine")), "ValidationException"},
		{"missing title", e.tpl, []types.FieldValue{sdkcS(e.prio, "low")}, "ValidationException"},
		{"empty title", e.tpl, e.fieldsWith(sdkcE("title")), "ValidationException"},
		{"missing required field", e.tpl, []types.FieldValue{sdkcS("title", "t")}, "ValidationException"},
		{"required field emptied", e.tpl, e.fieldsWith(sdkcE(e.prio)), "ValidationException"},
		{"case rule requires notes", e.tpl, e.fieldsWith(sdkcS(e.prio, "high")), "ValidationException"},
		{"customer_id not a profile ARN", e.tpl, e.fieldsWith(sdkcS("customer_id", "bob")), "ValidationException"},
		{"inactive template", e.inactiveTpl, []types.FieldValue{sdkcS("title", "t")}, "ValidationException"},
		{"unknown template", "no-such-template", []types.FieldValue{sdkcS("title", "t")}, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.CreateCase(e.ctx, &connectcases.CreateCaseInput{DomainId: e.domain, TemplateId: aws.String(tt.tpl), Fields: tt.fields})
			mustCode(t, err, tt.code)
		})
	}
	_, err := e.c.CreateCase(e.ctx, &connectcases.CreateCaseInput{DomainId: aws.String("no-such-domain"), TemplateId: aws.String(e.tpl), Fields: e.fieldsWith()})
	sdkcNotFound(t, err, "Domain", "no-such-domain")
	// None of the failures left a case or used up a token behind.
	if _, total := e.search(connectcases.SearchCasesInput{}); total != 0 {
		t.Errorf("%d cases exist after only failed creates", total)
	}
}

func TestSDKCasesUpdateAndAudit(t *testing.T) {
	e := sdkcSetup(t)
	ctx, c := e.ctx, e.c
	cs := e.create(sdkcN(e.amount, 12.5), sdkcS(e.notes, "first"))
	id := *cs.CaseId
	before := e.get(id, "last_updated_datetime", "created_datetime")

	// Partial merge: only the named field changes.
	time.Sleep(2 * time.Millisecond) // timestamps have millisecond precision
	must[*connectcases.UpdateCaseOutput](t)(c.UpdateCase(ctx, &connectcases.UpdateCaseInput{
		DomainId: e.domain, CaseId: cs.CaseId, Fields: []types.FieldValue{sdkcN(e.amount, 99)},
		PerformedBy: &types.UserUnionMemberUserArn{Value: sdkcOther},
	}))
	v := e.get(id, "title", e.amount, e.notes, e.prio, "last_updated_datetime", "last_updated_user", "created_datetime")
	if v["title"] != "a case" || v[e.amount] != 99.0 || v[e.notes] != "first" || v[e.prio] != "low" || v["last_updated_user"] != "user:"+sdkcOther {
		t.Errorf("after partial update: %v", v)
	}
	if v["created_datetime"] != before["created_datetime"] || v["last_updated_datetime"] == before["last_updated_datetime"] {
		t.Errorf("timestamps before %v after %v", before, v)
	}

	// Close, then reopen: last_closed_datetime stays, last_reopened appears.
	e.mustUpdate(id, sdkcS("status", "closed"))
	closed := e.get(id, "status", "last_closed_datetime", "last_reopened_datetime")
	if closed["status"] != "closed" || closed["last_closed_datetime"] == nil || closed["last_reopened_datetime"] != nil {
		t.Errorf("after closing: %v", closed)
	}
	time.Sleep(2 * time.Millisecond)
	e.mustUpdate(id, sdkcS("status", "open"))
	reopened := e.get(id, "status", "last_closed_datetime", "last_reopened_datetime")
	if reopened["status"] != "open" || reopened["last_closed_datetime"] != closed["last_closed_datetime"] || reopened["last_reopened_datetime"] == nil {
		t.Errorf("after reopening: %v (closed: %v)", reopened, closed)
	}

	// Clearing: optional fields may be emptied, required ones may not.
	e.mustUpdate(id, sdkcE(e.notes))
	if v := e.get(id, e.notes); len(v) != 0 {
		t.Errorf("notes after emptyValue: %v", v)
	}
	for name, f := range map[string]types.FieldValue{
		"empty title": sdkcE("title"), "empty required field": sdkcE(e.prio),
		"rule makes notes required": sdkcS(e.prio, "high"), "inactive option": sdkcS(e.prio, "legacy"),
		"type mismatch": sdkcS(e.amount, "100"), "unknown field": sdkcS("nope", "x"),
		"service-managed field": sdkcS("created_datetime", "2020-01-01T00:00:00Z"),
	} {
		if err := e.update(id, f); errCode(err) != "ValidationException" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
	sdkcNotFound(t, e.update("no-such-case", sdkcN(e.amount, 1)), "Case", "no-such-case")

	// An option deactivated after the case took it may be kept.
	e.mustUpdate(id, sdkcS(e.prio, "high"), sdkcS(e.notes, "urgent now"))
	must[*connectcases.BatchPutFieldOptionsOutput](t)(c.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{
		DomainId: e.domain, FieldId: aws.String(e.prio), Options: []types.FieldOption{{Name: aws.String("High"), Value: aws.String("high"), Active: aws.Bool(false)}},
	}))
	e.mustUpdate(id, sdkcS(e.prio, "high"), sdkcN(e.amount, 5))

	// A no-op update leaves no trace in the history.
	n := len(e.audit(id, 25))
	e.mustUpdate(id, sdkcN(e.amount, 5))
	e.mustUpdate(id)

	events := e.audit(id, 2) // small pages exercise the paginator
	if len(events) != n {
		t.Errorf("no-op updates added %d events", len(events)-n)
	}
	// created, amount, close, reopen, clear notes, high+notes, amount 5
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, string(ev.Type))
		if ev.PerformedBy == nil || !strings.HasPrefix(aws.ToString(ev.PerformedBy.IamPrincipalArn), "arn:aws:iam::") {
			t.Errorf("event %s performedBy = %+v", aws.ToString(ev.EventId), ev.PerformedBy)
		}
	}
	want := []string{"Case.Updated", "Case.Updated", "Case.Updated", "Case.Updated", "Case.Updated", "Case.Updated", "Case.Created"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("audit types = %v, want %v (newest first)", kinds, want)
	}
	for i := 1; i < len(events); i++ {
		if events[i].PerformedTime.After(*events[i-1].PerformedTime) {
			t.Errorf("event %d is newer than event %d", i, i-1)
		}
	}
	changes := func(ev *types.AuditEvent) map[string][2]any {
		m := map[string][2]any{}
		for _, f := range ev.Fields {
			m[*f.EventFieldId] = [2]any{sdkcAuditVal(f.OldValue), sdkcAuditVal(f.NewValue)}
		}
		return m
	}
	created := changes(events[6])
	if created["title"] != [2]any{"absent", "a case"} || created[e.amount] != [2]any{"absent", 12.5} || created["case_id"][1] != id {
		t.Errorf("Case.Created fields = %v", created)
	}
	amount := changes(events[5])
	if amount[e.amount] != [2]any{12.5, 99.0} || amount["last_updated_user"][1] != "user:"+sdkcOther {
		t.Errorf("first update = %v", amount)
	}
	if _, ok := amount["title"]; ok {
		t.Errorf("an unchanged field is in the update event: %v", amount)
	}
	if u, ok := events[5].PerformedBy.User.(*types.UserUnionMemberUserArn); !ok || u.Value != sdkcOther {
		t.Errorf("performedBy.user = %#v", events[5].PerformedBy.User)
	}
	if st := changes(events[4]); st["status"] != [2]any{"open", "closed"} || st["last_closed_datetime"][0] != nil {
		t.Errorf("close event = %v", st)
	}
	if st := changes(events[3]); st["status"] != [2]any{"closed", "open"} {
		t.Errorf("reopen event = %v", st)
	}
	if cl := changes(events[2]); cl[e.notes] != [2]any{"first", nil} {
		t.Errorf("clear event = %v", cl)
	}

	_, err := c.GetCaseAuditEvents(ctx, &connectcases.GetCaseAuditEventsInput{DomainId: e.domain, CaseId: cs.CaseId, NextToken: aws.String("forged")})
	mustCode(t, err, "ValidationException")
	_, err = c.GetCaseAuditEvents(ctx, &connectcases.GetCaseAuditEventsInput{DomainId: e.domain, CaseId: aws.String("nope")})
	sdkcNotFound(t, err, "Case", "nope")
}

func TestSDKCasesRelatedItems(t *testing.T) {
	e := sdkcSetup(t)
	ctx, c := e.ctx, e.c
	a, b := *e.create().CaseId, *e.create().CaseId

	contact := e.mustRelate(a, types.RelatedItemTypeContact, &types.RelatedItemInputContentMemberContact{Value: types.Contact{ContactArn: aws.String(sdkcContact)}})
	comment := e.mustRelate(a, types.RelatedItemTypeComment, &types.RelatedItemInputContentMemberComment{Value: types.CommentContent{Body: aws.String("first look"), ContentType: types.CommentBodyTextTypePlaintext}})
	file := e.mustRelate(a, types.RelatedItemTypeFile, &types.RelatedItemInputContentMemberFile{Value: types.FileContent{FileArn: aws.String(sdkcFile)}})
	sla := e.mustRelate(a, types.RelatedItemTypeSla, &types.RelatedItemInputContentMemberSla{Value: &types.SlaInputContentMemberSlaInputConfiguration{Value: types.SlaInputConfiguration{
		Name: aws.String("close in an hour"), Type: types.SlaTypeCaseField, FieldId: aws.String("status"),
		TargetFieldValues: []types.FieldValueUnion{&types.FieldValueUnionMemberStringValue{Value: "closed"}}, TargetSlaMinutes: aws.Int64(60),
	}}})
	link := e.mustRelate(a, types.RelatedItemTypeConnectCase, &types.RelatedItemInputContentMemberConnectCase{Value: types.ConnectCaseInputContent{CaseId: aws.String(b)}})
	custom := e.mustRelate(a, types.RelatedItemTypeCustom, &types.RelatedItemInputContentMemberCustom{Value: types.CustomInputContent{Fields: []types.FieldValue{
		sdkcN(e.amount, 42), sdkcS(e.notes, "custom notes")}}})
	wantARN := "arn:aws:cases:us-east-1:000000000000:domain/" + *e.domain + "/case/" + a + "/related-item/" + *custom.RelatedItemId
	if *custom.RelatedItemArn != wantARN {
		t.Errorf("relatedItemArn = %s, want %s", *custom.RelatedItemArn, wantARN)
	}

	// Requests the service must refuse.
	for name, tc := range map[string]struct {
		caseID  string
		typ     types.RelatedItemType
		content types.RelatedItemInputContent
		code    string
	}{
		"type does not match content": {a, types.RelatedItemTypeComment, &types.RelatedItemInputContentMemberFile{Value: types.FileContent{FileArn: aws.String(sdkcFile)}}, "ValidationException"},
		"case related to itself":      {a, types.RelatedItemTypeConnectCase, &types.RelatedItemInputContentMemberConnectCase{Value: types.ConnectCaseInputContent{CaseId: aws.String(a)}}, "ValidationException"},
		"related case missing":        {a, types.RelatedItemTypeConnectCase, &types.RelatedItemInputContentMemberConnectCase{Value: types.ConnectCaseInputContent{CaseId: aws.String("nope")}}, "ResourceNotFoundException"},
		"custom with a system field":  {a, types.RelatedItemTypeCustom, &types.RelatedItemInputContentMemberCustom{Value: types.CustomInputContent{Fields: []types.FieldValue{sdkcS("title", "x")}}}, "ValidationException"},
		"custom with a wrong type":    {a, types.RelatedItemTypeCustom, &types.RelatedItemInputContentMemberCustom{Value: types.CustomInputContent{Fields: []types.FieldValue{sdkcS(e.amount, "x")}}}, "ValidationException"},
		"unknown case":                {"nope", types.RelatedItemTypeComment, &types.RelatedItemInputContentMemberComment{Value: types.CommentContent{Body: aws.String("x"), ContentType: types.CommentBodyTextTypePlaintext}}, "ResourceNotFoundException"},
	} {
		_, err := e.relate(tc.caseID, tc.typ, tc.content)
		if errCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}

	// All six, newest first, each once, over pages of two.
	all := e.searchRelated(a, 2)
	var types6 []string
	for _, it := range all {
		types6 = append(types6, string(it.Type))
	}
	if got := strings.Join(types6, ","); got != "Custom,ConnectCase,Sla,File,Comment,Contact" {
		t.Fatalf("SearchRelatedItems order = %s", got)
	}
	byID := map[string]*types.SearchRelatedItemsResponseItem{}
	for _, it := range all {
		byID[*it.RelatedItemId] = it
	}
	if cc, ok := byID[*contact.RelatedItemId].Content.(*types.RelatedItemContentMemberContact); !ok ||
		*cc.Value.ContactArn != sdkcContact || aws.ToString(cc.Value.Channel) == "" || cc.Value.ConnectedToSystemTime == nil {
		t.Errorf("contact content = %#v", byID[*contact.RelatedItemId].Content)
	}
	if u, ok := byID[*comment.RelatedItemId].PerformedBy.(*types.UserUnionMemberUserArn); !ok || u.Value != sdkcUser {
		t.Errorf("comment performedBy = %#v", byID[*comment.RelatedItemId].PerformedBy)
	}
	slaContent, ok := byID[*sla.RelatedItemId].Content.(*types.RelatedItemContentMemberSla)
	if !ok || slaContent.Value.SlaConfiguration.Status != types.SlaStatusActive || slaContent.Value.SlaConfiguration.TargetTime == nil {
		t.Fatalf("sla content = %#v", byID[*sla.RelatedItemId].Content)
	}
	target := slaContent.Value.SlaConfiguration.TargetTime.UTC()
	if v := e.get(a, "next_sla_breach_datetime"); v["next_sla_breach_datetime"] == nil {
		t.Errorf("next_sla_breach_datetime not set after adding an SLA")
	} else if got, _ := time.Parse(time.RFC3339, v["next_sla_breach_datetime"].(string)); !got.Equal(target) {
		t.Errorf("next_sla_breach_datetime = %v, want %v", v["next_sla_breach_datetime"], target)
	}

	// Filters: one member each, several OR together.
	count := func(filters ...types.RelatedItemTypeFilter) []string {
		var ids []string
		for _, it := range e.searchRelated(a, 25, filters...) {
			ids = append(ids, *it.RelatedItemId)
		}
		return ids
	}
	for name, tc := range map[string]struct {
		filters []types.RelatedItemTypeFilter
		want    []string
	}{
		"comment":                {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberComment{}}, []string{*comment.RelatedItemId}},
		"contact by ARN":         {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberContact{Value: types.ContactFilter{ContactArn: aws.String(sdkcContact)}}}, []string{*contact.RelatedItemId}},
		"contact other channel":  {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberContact{Value: types.ContactFilter{Channel: []string{"EMAIL"}}}}, nil},
		"file by ARN":            {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberFile{Value: types.FileFilter{FileArn: aws.String(sdkcFile)}}}, []string{*file.RelatedItemId}},
		"active sla":             {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberSla{Value: types.SlaFilter{Status: types.SlaStatusActive}}}, []string{*sla.RelatedItemId}},
		"linked case":            {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberConnectCase{Value: types.ConnectCaseFilter{CaseId: aws.String(b)}}}, []string{*link.RelatedItemId}},
		"custom amount = 42":     {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberCustom{Value: types.CustomFilter{Fields: &types.CustomFieldsFilterMemberField{Value: &types.FieldFilterMemberEqualTo{Value: sdkcN(e.amount, 42)}}}}}, []string{*custom.RelatedItemId}},
		"custom not amount > 40": {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberCustom{Value: types.CustomFilter{Fields: &types.CustomFieldsFilterMemberNot{Value: &types.CustomFieldsFilterMemberField{Value: &types.FieldFilterMemberGreaterThan{Value: sdkcN(e.amount, 40)}}}}}}, nil},
		"file or comment":        {[]types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberComment{}, &types.RelatedItemTypeFilterMemberFile{Value: types.FileFilter{}}}, []string{*file.RelatedItemId, *comment.RelatedItemId}},
	} {
		if got := count(tc.filters...); !slices.Equal(got, tc.want) {
			t.Errorf("filter %s: %v, want %v", name, got, tc.want)
		}
	}
	_, err := c.SearchRelatedItems(ctx, &connectcases.SearchRelatedItemsInput{DomainId: e.domain, CaseId: aws.String(a),
		Filters: []types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberCustom{Value: types.CustomFilter{Fields: &types.CustomFieldsFilterMemberField{Value: &types.FieldFilterMemberEqualTo{Value: sdkcN("nope", 1)}}}}}})
	mustCode(t, err, "ValidationException")

	// Closing the case meets the SLA.
	e.mustUpdate(a, sdkcS("status", "closed"))
	met := count(&types.RelatedItemTypeFilterMemberSla{Value: types.SlaFilter{Status: types.SlaStatusMet}})
	if !slices.Equal(met, []string{*sla.RelatedItemId}) {
		t.Errorf("met SLAs = %v", met)
	}
	if v := e.get(a, "next_sla_breach_datetime"); len(v) != 0 {
		t.Errorf("next_sla_breach_datetime after the SLA was met: %v", v)
	}

	// UpdateRelatedItem: Comment and Custom only, each with its own content.
	up := must[*connectcases.UpdateRelatedItemOutput](t)(c.UpdateRelatedItem(ctx, &connectcases.UpdateRelatedItemInput{
		DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: comment.RelatedItemId,
		Content:     &types.RelatedItemUpdateContentMemberComment{Value: types.CommentUpdateContent{Body: aws.String("second look"), ContentType: types.CommentBodyTextTypePlaintext}},
		PerformedBy: &types.UserUnionMemberUserArn{Value: sdkcOther},
	}))
	if body := up.Content.(*types.RelatedItemContentMemberComment).Value.Body; *body != "second look" || up.Type != types.RelatedItemTypeComment {
		t.Errorf("UpdateRelatedItem = %+v", up)
	}
	if u, ok := up.LastUpdatedUser.(*types.UserUnionMemberUserArn); !ok || u.Value != sdkcOther {
		t.Errorf("lastUpdatedUser = %#v", up.LastUpdatedUser)
	}
	if u, ok := up.CreatedBy.(*types.UserUnionMemberUserArn); !ok || u.Value != sdkcUser {
		t.Errorf("createdBy = %#v", up.CreatedBy)
	}
	upc := must[*connectcases.UpdateRelatedItemOutput](t)(c.UpdateRelatedItem(ctx, &connectcases.UpdateRelatedItemInput{
		DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: custom.RelatedItemId,
		Content: &types.RelatedItemUpdateContentMemberCustom{Value: types.CustomUpdateContent{Fields: []types.FieldValue{sdkcB(e.urgent, true)}}},
	}))
	// The whole field set is replaced: amount and notes are gone.
	if got := sdkcValues(upc.Content.(*types.RelatedItemContentMemberCustom).Value.Fields); len(got) != 1 || got[e.urgent] != true {
		t.Errorf("custom after update = %v", got)
	}
	if got := count(&types.RelatedItemTypeFilterMemberCustom{Value: types.CustomFilter{Fields: &types.CustomFieldsFilterMemberField{Value: &types.FieldFilterMemberEqualTo{Value: sdkcN(e.amount, 42)}}}}); len(got) != 0 {
		t.Errorf("replaced custom field still matches: %v", got)
	}
	for name, tc := range map[string]struct {
		id      *string
		content types.RelatedItemUpdateContent
	}{
		"contact cannot change":   {contact.RelatedItemId, &types.RelatedItemUpdateContentMemberComment{Value: types.CommentUpdateContent{Body: aws.String("x"), ContentType: types.CommentBodyTextTypePlaintext}}},
		"comment given custom":    {comment.RelatedItemId, &types.RelatedItemUpdateContentMemberCustom{Value: types.CustomUpdateContent{Fields: []types.FieldValue{sdkcB(e.urgent, true)}}}},
		"custom with wrong types": {custom.RelatedItemId, &types.RelatedItemUpdateContentMemberCustom{Value: types.CustomUpdateContent{Fields: []types.FieldValue{sdkcS(e.urgent, "yes")}}}},
	} {
		_, err := c.UpdateRelatedItem(ctx, &connectcases.UpdateRelatedItemInput{DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: tc.id, Content: tc.content})
		if errCode(err) != "ValidationException" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}

	// ListCasesForContact follows Contact items.
	e.mustRelate(b, types.RelatedItemTypeContact, &types.RelatedItemInputContentMemberContact{Value: types.Contact{ContactArn: aws.String(sdkcContact)}})
	e.mustRelate(b, types.RelatedItemTypeContact, &types.RelatedItemInputContentMemberContact{Value: types.Contact{ContactArn: aws.String(sdkcContact2)}})
	forContact := func(arn string) []string {
		var ids []string
		p := connectcases.NewListCasesForContactPaginator(c, &connectcases.ListCasesForContactInput{DomainId: e.domain, ContactArn: aws.String(arn), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListCasesForContact: %v", err)
			}
			for _, cs := range page.Cases {
				if *cs.TemplateId != e.tpl {
					t.Errorf("templateId = %s", *cs.TemplateId)
				}
				ids = append(ids, *cs.CaseId)
			}
		}
		return ids
	}
	if got := forContact(sdkcContact); !slices.Equal(got, []string{a, b}) {
		t.Errorf("cases for contact 1 = %v, want [%s %s]", got, a, b)
	}
	if got := forContact(sdkcContact2); !slices.Equal(got, []string{b}) {
		t.Errorf("cases for contact 2 = %v", got)
	}

	// DeleteRelatedItem: not for files; gone afterwards.
	_, err = c.DeleteRelatedItem(ctx, &connectcases.DeleteRelatedItemInput{DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: file.RelatedItemId})
	mustCode(t, err, "ValidationException")
	for _, id := range []*string{comment.RelatedItemId, contact.RelatedItemId} {
		must[*connectcases.DeleteRelatedItemOutput](t)(c.DeleteRelatedItem(ctx, &connectcases.DeleteRelatedItemInput{DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: id}))
	}
	_, err = c.DeleteRelatedItem(ctx, &connectcases.DeleteRelatedItemInput{DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: comment.RelatedItemId})
	sdkcNotFound(t, err, "RelatedItem", *comment.RelatedItemId)
	_, err = c.UpdateRelatedItem(ctx, &connectcases.UpdateRelatedItemInput{DomainId: e.domain, CaseId: aws.String(a), RelatedItemId: comment.RelatedItemId,
		Content: &types.RelatedItemUpdateContentMemberComment{Value: types.CommentUpdateContent{Body: aws.String("x"), ContentType: types.CommentBodyTextTypePlaintext}}})
	sdkcNotFound(t, err, "RelatedItem", *comment.RelatedItemId)
	if got := count(&types.RelatedItemTypeFilterMemberComment{}); len(got) != 0 {
		t.Errorf("deleted comment still found: %v", got)
	}
	if got := forContact(sdkcContact); !slices.Equal(got, []string{b}) {
		t.Errorf("after unlinking, cases for contact 1 = %v, want [%s]", got, b)
	}

	// SearchAllRelatedItems across the domain, sorted by case then newest.
	var walked []*types.SearchAllRelatedItemsResponseItem
	p := connectcases.NewSearchAllRelatedItemsPaginator(c, &connectcases.SearchAllRelatedItemsInput{
		DomainId: e.domain, MaxResults: aws.Int32(2), Sorts: []types.SearchAllRelatedItemsSort{
			{SortProperty: types.SearchAllRelatedItemsSortPropertyCaseId, SortOrder: types.OrderAscending},
			{SortProperty: types.SearchAllRelatedItemsSortPropertyAssociationTime, SortOrder: types.OrderDescending},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("SearchAllRelatedItems: %v", err)
		}
		walked = append(walked, page.RelatedItems...)
	}
	if len(walked) != 6 { // a: file, sla, link, custom; b: two contacts
		t.Fatalf("SearchAllRelatedItems found %d items, want 6", len(walked))
	}
	seen := map[string]bool{}
	for i, it := range walked {
		if seen[*it.RelatedItemId] {
			t.Errorf("item %s served twice", *it.RelatedItemId)
		}
		seen[*it.RelatedItemId] = true
		if i == 0 {
			continue
		}
		prev := walked[i-1]
		if *prev.CaseId > *it.CaseId || (*prev.CaseId == *it.CaseId && prev.AssociationTime.Before(*it.AssociationTime)) {
			t.Errorf("item %d (%s %v) out of order after (%s %v)", i, *it.CaseId, it.AssociationTime, *prev.CaseId, prev.AssociationTime)
		}
	}
	sl := must[*connectcases.SearchAllRelatedItemsOutput](t)(c.SearchAllRelatedItems(ctx, &connectcases.SearchAllRelatedItemsInput{
		DomainId: e.domain, Filters: []types.RelatedItemTypeFilter{&types.RelatedItemTypeFilterMemberContact{Value: types.ContactFilter{}}},
	}))
	if len(sl.RelatedItems) != 2 || *sl.RelatedItems[0].CaseId != b || *sl.RelatedItems[1].CaseId != b {
		t.Errorf("contacts across the domain = %d items", len(sl.RelatedItems))
	}

	// The history records every related-item change.
	var rel []string
	for _, ev := range e.audit(a, 25) {
		if ev.RelatedItemType != "" {
			rel = append(rel, string(ev.Type)+":"+string(ev.RelatedItemType))
		}
	}
	wantRel := []string{"RelatedItem.Deleted:Contact", "RelatedItem.Deleted:Comment", "RelatedItem.Updated:Custom", "RelatedItem.Updated:Comment",
		"RelatedItem.Created:Custom", "RelatedItem.Created:ConnectCase", "RelatedItem.Created:Sla", "RelatedItem.Created:File",
		"RelatedItem.Created:Comment", "RelatedItem.Created:Contact"}
	if !slices.Equal(rel, wantRel) {
		t.Errorf("related-item events = %v\nwant %v", rel, wantRel)
	}
}

func TestSDKCasesSearch(t *testing.T) {
	e := sdkcSetup(t)
	const n = 30
	type row struct {
		id     string
		amount float64
		high   bool
		urgent bool
		team   string
		notes  bool
	}
	rows := make([]row, n)
	for i := range rows {
		r := row{amount: float64(i), high: i%4 == 0, urgent: i%3 == 0, team: []string{"red", "blue"}[i%2], notes: i%5 == 0 || i%4 == 0}
		fields := []types.FieldValue{sdkcS("title", fmt.Sprintf("case-%02d", i)), sdkcN(e.amount, r.amount), sdkcB(e.urgent, r.urgent)}
		if r.high {
			fields = append(fields, sdkcS(e.prio, "high"))
		}
		if r.notes {
			fields = append(fields, sdkcS(e.notes, fmt.Sprintf("notes %d", i)))
		}
		if i == 17 {
			fields = append(fields, sdkcS("summary", "a Needle in the haystack"))
		}
		out := must[*connectcases.CreateCaseOutput](t)(e.c.CreateCase(e.ctx, &connectcases.CreateCaseInput{
			DomainId: e.domain, TemplateId: aws.String(e.tpl), Fields: e.fieldsWith(fields...), Tags: map[string]string{"team": r.team},
		}))
		r.id = *out.CaseId
		rows[i] = r
	}
	expect := func(keep func(row) bool) []string {
		var ids []string
		for _, r := range rows {
			if keep(r) {
				ids = append(ids, r.id)
			}
		}
		sort.Strings(ids)
		return ids
	}
	field := func(f types.FieldFilter) types.CaseFilter { return &types.CaseFilterMemberField{Value: f} }
	tests := []struct {
		name   string
		filter types.CaseFilter
		term   string
		want   []string
	}{
		{"range with andAll", &types.CaseFilterMemberAndAll{Value: []types.CaseFilter{
			field(&types.FieldFilterMemberGreaterThanOrEqualTo{Value: sdkcN(e.amount, 10)}),
			field(&types.FieldFilterMemberLessThan{Value: sdkcN(e.amount, 20)}),
		}}, "", expect(func(r row) bool { return r.amount >= 10 && r.amount < 20 })},
		{"orAll of a field and a tag", &types.CaseFilterMemberOrAll{Value: []types.CaseFilter{
			field(&types.FieldFilterMemberEqualTo{Value: sdkcS(e.prio, "high")}),
			&types.CaseFilterMemberTag{Value: &types.TagFilterMemberEqualTo{Value: types.TagValue{Key: aws.String("team"), Value: aws.String("blue")}}},
		}}, "", expect(func(r row) bool { return r.high || r.team == "blue" })},
		{"not", &types.CaseFilterMemberNot{Value: field(&types.FieldFilterMemberEqualTo{Value: sdkcB(e.urgent, true)})}, "",
			expect(func(r row) bool { return !r.urgent })},
		{"nested", &types.CaseFilterMemberAndAll{Value: []types.CaseFilter{
			&types.CaseFilterMemberNot{Value: &types.CaseFilterMemberTag{Value: &types.TagFilterMemberEqualTo{Value: types.TagValue{Key: aws.String("team"), Value: aws.String("red")}}}},
			&types.CaseFilterMemberOrAll{Value: []types.CaseFilter{
				field(&types.FieldFilterMemberLessThanOrEqualTo{Value: sdkcN(e.amount, 3)}),
				field(&types.FieldFilterMemberGreaterThan{Value: sdkcN(e.amount, 26)}),
			}},
		}}, "", expect(func(r row) bool { return r.team == "blue" && (r.amount <= 3 || r.amount > 26) })},
		{"contains", field(&types.FieldFilterMemberContains{Value: sdkcS("title", "CASE-1")}), "",
			expect(func(r row) bool { return r.amount >= 10 && r.amount < 20 })},
		{"no value", field(&types.FieldFilterMemberEqualTo{Value: sdkcE(e.notes)}), "", expect(func(r row) bool { return !r.notes })},
		{"search term", nil, "needle", expect(func(r row) bool { return r.amount == 17 })},
		{"search term and filter", field(&types.FieldFilterMemberEqualTo{Value: sdkcB(e.urgent, true)}), "needle", nil},
		{"everything", nil, "", expect(func(row) bool { return true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, total := e.search(connectcases.SearchCasesInput{Filter: tt.filter, SearchTerm: aws.String(tt.term), MaxResults: aws.Int32(4)})
			got := sdkcCaseIDs(items)
			sort.Strings(got)
			if !slices.Equal(got, tt.want) || total != int64(len(tt.want)) {
				t.Errorf("got %d cases (totalCount %d), want %d", len(got), total, len(tt.want))
			}
		})
	}

	// Sorted and projected, walked with the paginator: each case once, in
	// order, with just the requested fields in request order.
	items, total := e.search(connectcases.SearchCasesInput{
		MaxResults: aws.Int32(7), Fields: sdkcIDs(e.amount, "title", "no-such-value"),
		Sorts: []types.Sort{{FieldId: aws.String(e.urgent), SortOrder: types.OrderDescending}, {FieldId: aws.String(e.amount), SortOrder: types.OrderAscending}},
	})
	if total != n || len(items) != n {
		t.Fatalf("walked %d cases, totalCount %d, want %d", len(items), total, n)
	}
	seen := map[string]bool{}
	var prevUrgent bool
	prevAmount := -1.0
	for i, it := range items {
		if seen[*it.CaseId] {
			t.Fatalf("case %s served twice", *it.CaseId)
		}
		seen[*it.CaseId] = true
		if len(it.Fields) != 2 || *it.Fields[0].Id != e.amount || *it.Fields[1].Id != "title" {
			t.Fatalf("projection = %+v", it.Fields)
		}
		amount := sdkcVal(it.Fields[0].Value).(float64)
		urgent := int(amount)%3 == 0
		if i > 0 && (urgent && !prevUrgent || urgent == prevUrgent && amount < prevAmount) {
			t.Errorf("case %d (urgent %v, amount %v) after (urgent %v, amount %v)", i, urgent, amount, prevUrgent, prevAmount)
		}
		prevUrgent, prevAmount = urgent, amount
		if aws.ToString(it.Tags["team"]) == "" || *it.TemplateId != e.tpl {
			t.Errorf("item %s: tags %v template %s", *it.CaseId, it.Tags, *it.TemplateId)
		}
	}
	if aws.ToString(items[0].Tags["source"]) != "template" {
		t.Errorf("propagated tag missing: %v", items[0].Tags)
	}

	// Default order: most recently updated first.
	time.Sleep(2 * time.Millisecond) // timestamps have millisecond precision
	e.mustUpdate(rows[5].id, sdkcN(e.amount, 500))
	first := must[*connectcases.SearchCasesOutput](t)(e.c.SearchCases(e.ctx, &connectcases.SearchCasesInput{DomainId: e.domain, MaxResults: aws.Int32(1)}))
	if len(first.Cases) != 1 || *first.Cases[0].CaseId != rows[5].id || first.TotalCount != n || first.NextToken == nil {
		t.Errorf("default order put %v first, want the updated case %s", sdkcCaseIDs(first.Cases), rows[5].id)
	}
	if len(first.Cases[0].Fields) != 0 {
		t.Errorf("fields returned without a projection: %+v", first.Cases[0].Fields)
	}

	bad := map[string]connectcases.SearchCasesInput{
		"unknown field in filter": {Filter: field(&types.FieldFilterMemberEqualTo{Value: sdkcS("nope", "x")})},
		"unknown sort field":      {Sorts: []types.Sort{{FieldId: aws.String("nope"), SortOrder: types.OrderAscending}}},
		"forged token":            {NextToken: aws.String("forged")},
		"token of another query":  {NextToken: first.NextToken, SearchTerm: aws.String("x")},
		"maxResults above 100":    {MaxResults: aws.Int32(101)},
	}
	for name, in := range bad {
		in.DomainId = e.domain
		if _, err := e.c.SearchCases(e.ctx, &in); errCode(err) != "ValidationException" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
	_, err := e.c.SearchCases(e.ctx, &connectcases.SearchCasesInput{DomainId: aws.String("nope")})
	sdkcNotFound(t, err, "Domain", "nope")
}

// TestSDKCasesSearchWalkWhileWriting: cases updated and created while a
// client pages through a sorted search neither repeat nor vanish.
func TestSDKCasesSearchWalkWhileWriting(t *testing.T) {
	e := sdkcSetup(t)
	var ids []string
	for i := 0; i < 20; i++ {
		ids = append(ids, *e.create(sdkcN(e.amount, float64(i))).CaseId)
	}
	p := connectcases.NewSearchCasesPaginator(e.c, &connectcases.SearchCasesInput{
		DomainId: e.domain, MaxResults: aws.Int32(5), Sorts: []types.Sort{{FieldId: aws.String(e.amount), SortOrder: types.OrderAscending}},
	})
	seen := map[string]int{}
	page := 0
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Cases {
			seen[*c.CaseId]++
		}
		// Move a case not yet served to the front, and one already served
		// to the back, and add a case.
		time.Sleep(2 * time.Millisecond)
		e.mustUpdate(ids[19-page], sdkcN(e.amount, -1-float64(page)))
		e.mustUpdate(ids[page], sdkcN(e.amount, 1000+float64(page)))
		e.create(sdkcN(e.amount, 5.5))
		page++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("case %s served %d times", id, seen[id])
		}
	}
}

func TestSDKCasesTagsAndDelete(t *testing.T) {
	e := sdkcSetup(t)
	ctx, c := e.ctx, e.c
	cs := e.create()
	keep := e.create()
	item := e.mustRelate(*cs.CaseId, types.RelatedItemTypeContact, &types.RelatedItemInputContentMemberContact{Value: types.Contact{ContactArn: aws.String(sdkcContact)}})

	// Tags on a case ARN reach GetCase and tag filters.
	must[*connectcases.TagResourceOutput](t)(c.TagResource(ctx, &connectcases.TagResourceInput{Arn: cs.CaseArn, Tags: map[string]*string{"tier": aws.String("gold")}}))
	tags := must[*connectcases.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &connectcases.ListTagsForResourceInput{Arn: cs.CaseArn}))
	if aws.ToString(tags.Tags["tier"]) != "gold" || aws.ToString(tags.Tags["source"]) != "template" {
		t.Errorf("case tags = %v", tags.Tags)
	}
	got := must[*connectcases.GetCaseOutput](t)(c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: e.domain, CaseId: cs.CaseId, Fields: sdkcIDs("title")}))
	if aws.ToString(got.Tags["tier"]) != "gold" {
		t.Errorf("GetCase tags = %v", got.Tags)
	}
	gold, total := e.search(connectcases.SearchCasesInput{Filter: &types.CaseFilterMemberTag{Value: &types.TagFilterMemberEqualTo{Value: types.TagValue{Key: aws.String("tier"), Value: aws.String("gold")}}}})
	if total != 1 || *gold[0].CaseId != *cs.CaseId {
		t.Errorf("tag filter found %v", sdkcCaseIDs(gold))
	}
	must[*connectcases.UntagResourceOutput](t)(c.UntagResource(ctx, &connectcases.UntagResourceInput{Arn: cs.CaseArn, TagKeys: []string{"tier"}}))
	if _, total := e.search(connectcases.SearchCasesInput{Filter: &types.CaseFilterMemberTag{Value: &types.TagFilterMemberEqualTo{Value: types.TagValue{Key: aws.String("tier"), Value: aws.String("gold")}}}}); total != 0 {
		t.Errorf("untagged case still matches the tag filter")
	}

	// Tags on a related-item ARN show on the item.
	must[*connectcases.TagResourceOutput](t)(c.TagResource(ctx, &connectcases.TagResourceInput{Arn: item.RelatedItemArn, Tags: map[string]*string{"channel": aws.String("phone")}}))
	itags := must[*connectcases.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &connectcases.ListTagsForResourceInput{Arn: item.RelatedItemArn}))
	if aws.ToString(itags.Tags["channel"]) != "phone" {
		t.Errorf("related item tags = %v", itags.Tags)
	}
	if items := e.searchRelated(*cs.CaseId, 25); len(items) != 1 || aws.ToString(items[0].Tags["channel"]) != "phone" {
		t.Errorf("SearchRelatedItems tags = %+v", items)
	}
	_, err := c.TagResource(ctx, &connectcases.TagResourceInput{Arn: aws.String(*cs.CaseArn + "/related-item/nope"), Tags: map[string]*string{"a": aws.String("b")}})
	mustCode(t, err, "ResourceNotFoundException")

	// DeleteCase takes the case, its items and its history with it.
	must[*connectcases.DeleteCaseOutput](t)(c.DeleteCase(ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: cs.CaseId}))
	_, err = c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: e.domain, CaseId: cs.CaseId, Fields: sdkcIDs("title")})
	sdkcNotFound(t, err, "Case", *cs.CaseId)
	_, err = c.DeleteCase(ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: cs.CaseId})
	sdkcNotFound(t, err, "Case", *cs.CaseId)
	sdkcNotFound(t, e.update(*cs.CaseId, sdkcN(e.amount, 1)), "Case", *cs.CaseId)
	_, err = c.GetCaseAuditEvents(ctx, &connectcases.GetCaseAuditEventsInput{DomainId: e.domain, CaseId: cs.CaseId})
	sdkcNotFound(t, err, "Case", *cs.CaseId)
	_, err = c.SearchRelatedItems(ctx, &connectcases.SearchRelatedItemsInput{DomainId: e.domain, CaseId: cs.CaseId})
	sdkcNotFound(t, err, "Case", *cs.CaseId)
	_, err = c.ListTagsForResource(ctx, &connectcases.ListTagsForResourceInput{Arn: cs.CaseArn})
	mustCode(t, err, "ResourceNotFoundException")
	_, err = c.ListTagsForResource(ctx, &connectcases.ListTagsForResourceInput{Arn: item.RelatedItemArn})
	mustCode(t, err, "ResourceNotFoundException")
	_, err = e.relate(*keep.CaseId, types.RelatedItemTypeConnectCase, &types.RelatedItemInputContentMemberConnectCase{Value: types.ConnectCaseInputContent{CaseId: cs.CaseId}})
	mustCode(t, err, "ResourceNotFoundException")
	left, total := e.search(connectcases.SearchCasesInput{})
	if total != 1 || *left[0].CaseId != *keep.CaseId {
		t.Errorf("after DeleteCase, search finds %v", sdkcCaseIDs(left))
	}
	lc := must[*connectcases.ListCasesForContactOutput](t)(c.ListCasesForContact(ctx, &connectcases.ListCasesForContactInput{DomainId: e.domain, ContactArn: aws.String(sdkcContact)}))
	if len(lc.Cases) != 0 {
		t.Errorf("deleted case still listed for its contact: %+v", lc.Cases)
	}
}

// TestSDKCasesClientTokenAfterDelete: a deleted case's ID is never handed
// out again, even to a retry carrying its clientToken.
func TestSDKCasesClientTokenAfterDelete(t *testing.T) {
	e := sdkcSetup(t)
	in := &connectcases.CreateCaseInput{DomainId: e.domain, TemplateId: aws.String(e.tpl), ClientToken: aws.String("tok"), Fields: e.fieldsWith()}
	first := must[*connectcases.CreateCaseOutput](t)(e.c.CreateCase(e.ctx, in))
	must[*connectcases.DeleteCaseOutput](t)(e.c.DeleteCase(e.ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: first.CaseId}))
	second := must[*connectcases.CreateCaseOutput](t)(e.c.CreateCase(e.ctx, in))
	if *second.CaseId == *first.CaseId {
		t.Fatalf("the token handed back the deleted case %s", *first.CaseId)
	}
	e.get(*second.CaseId, "title")
}

// TestSDKCasesConcurrentUpdates: 8 clients update one case 10 times each.
// The store serialises them, so the history is one unbroken chain of
// changes and its last link is the case's final state.
func TestSDKCasesConcurrentUpdates(t *testing.T) {
	e := sdkcSetup(t)
	cs := e.create(sdkcN(e.amount, -1))
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Every value is distinct, so every update changes the case.
				_, err := e.c.UpdateCase(e.ctx, &connectcases.UpdateCaseInput{DomainId: e.domain, CaseId: cs.CaseId,
					Fields: []types.FieldValue{sdkcN(e.amount, float64(w*100+i)), sdkcS(e.notes, fmt.Sprintf("worker %d update %d", w, i))}})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("UpdateCase: %v", err)
	}
	final := e.get(*cs.CaseId, e.amount, e.notes)
	events := e.audit(*cs.CaseId, 25)
	if len(events) != 1+workers*each {
		t.Fatalf("%d audit events, want %d", len(events), 1+workers*each)
	}
	// Walk oldest to newest: each update's old value is its predecessor's
	// new value.
	cur := map[string]any{e.amount: -1.0, e.notes: "absent"}
	seen := map[float64]bool{}
	for i := len(events) - 2; i >= 0; i-- {
		ev := events[i]
		if ev.Type != types.AuditEventTypeCaseUpdated {
			t.Fatalf("event %d is %s", i, ev.Type)
		}
		for _, f := range ev.Fields {
			id := *f.EventFieldId
			if id != e.amount && id != e.notes {
				continue
			}
			old, nv := sdkcAuditVal(f.OldValue), sdkcAuditVal(f.NewValue)
			if id == e.notes && old == nil {
				old = "absent"
			}
			if old != cur[id] {
				t.Fatalf("event %d: %s old value %v, but the previous event left %v", i, id, old, cur[id])
			}
			cur[id] = nv
			if id == e.amount {
				seen[nv.(float64)] = true
			}
		}
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct amounts in the history, want %d", len(seen), workers*each)
	}
	if final[e.amount] != cur[e.amount] || final[e.notes] != cur[e.notes] {
		t.Errorf("final state %v, history ends at %v", final, cur)
	}
	w, i := int(final[e.amount].(float64))/100, int(final[e.amount].(float64))%100
	if final[e.notes] != fmt.Sprintf("worker %d update %d", w, i) {
		t.Errorf("amount and notes of the final state come from different updates: %v", final)
	}
}

// TestSDKCasesCommitThenFail: the server stores the case, then fails the
// response. The SDK retries with the clientToken it filled in, and the
// retry gets the stored case instead of creating a second one.
func TestSDKCasesCommitThenFail(t *testing.T) {
	for _, then := range []string{"error", "drop"} {
		t.Run(then, func(t *testing.T) {
			e := sdkcSetup(t)
			rule := `[{"operation":"CreateCase","action":"commit-then-fail","count":1,"error":{"code":"InternalServerException","retryAfterSeconds":0}}]`
			if then == "drop" {
				rule = `[{"operation":"CreateCase","action":"commit-then-fail","then":"drop","count":1}]`
			}
			mustRules(t, e.srv, rule)
			c := sdkcClient(t, e.srv, noDelayRetryer(3))
			out, err := c.CreateCase(e.ctx, &connectcases.CreateCaseInput{DomainId: e.domain, TemplateId: aws.String(e.tpl), Fields: e.fieldsWith()})
			if err != nil {
				t.Fatalf("CreateCase through the retryer: %v", err)
			}
			items, total := e.search(connectcases.SearchCasesInput{})
			if total != 1 || *items[0].CaseId != *out.CaseId {
				t.Fatalf("after a committed-then-failed create and its retry: %d cases %v, want just %s", total, sdkcCaseIDs(items), *out.CaseId)
			}
			// The recorder may log an attempt just after its client saw the
			// outcome, so give it a moment.
			var attempts int
			for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				attempts = 0
				for _, r := range e.srv.Records().Recent(50) {
					if r.Operation == "CreateCase" {
						attempts++
					}
				}
				if attempts >= 2 || time.Now().After(deadline) {
					break
				}
			}
			if attempts != 2 {
				t.Errorf("CreateCase took %d attempts, want 2 (the failed one and its retry)", attempts)
			}
			if evs := e.audit(*out.CaseId, 25); len(evs) != 1 {
				t.Errorf("%d audit events, want one Case.Created", len(evs))
			}
		})
	}
}

// sdkcClock is a settable clock that also steps a millisecond per
// reading, so every write gets its own instant.
type sdkcClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sdkcClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *sdkcClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSDKCasesSLAStatusOverTime: an SLA turns Overdue when its target time
// passes, and NotMet when the case reaches the target value too late.
func TestSDKCasesSLAStatusOverTime(t *testing.T) {
	clock := &sdkcClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) { c.Clock = clock }))
	id := *e.create().CaseId
	sla := e.mustRelate(id, types.RelatedItemTypeSla, &types.RelatedItemInputContentMemberSla{Value: &types.SlaInputContentMemberSlaInputConfiguration{Value: types.SlaInputConfiguration{
		Name: aws.String("close in an hour"), Type: types.SlaTypeCaseField, FieldId: aws.String("status"),
		TargetFieldValues: []types.FieldValueUnion{&types.FieldValueUnionMemberStringValue{Value: "closed"}}, TargetSlaMinutes: aws.Int64(60),
	}}})
	status := func() (types.SlaStatus, *types.SlaConfiguration) {
		t.Helper()
		items := e.searchRelated(id, 25)
		if len(items) != 1 || *items[0].RelatedItemId != *sla.RelatedItemId {
			t.Fatalf("related items = %+v", items)
		}
		cfg := items[0].Content.(*types.RelatedItemContentMemberSla).Value.SlaConfiguration
		return cfg.Status, cfg
	}
	// Target = association time + 60 minutes; the stepping clock has moved
	// a few milliseconds past noon by then.
	if st, cfg := status(); st != types.SlaStatusActive || cfg.TargetTime.Before(time.Date(2025, 6, 1, 13, 0, 0, 0, time.UTC)) ||
		cfg.TargetTime.After(time.Date(2025, 6, 1, 13, 0, 1, 0, time.UTC)) {
		t.Errorf("fresh SLA: %s, target %v", st, cfg.TargetTime)
	}
	clock.advance(61 * time.Minute)
	if st, _ := status(); st != types.SlaStatusOverdue {
		t.Errorf("after the target time: %s, want Overdue", st)
	}
	overdue := e.searchRelated(id, 25, &types.RelatedItemTypeFilterMemberSla{Value: types.SlaFilter{Status: types.SlaStatusOverdue}})
	if len(overdue) != 1 {
		t.Errorf("Overdue filter found %d items", len(overdue))
	}
	e.mustUpdate(id, sdkcS("status", "closed"))
	st, cfg := status()
	if st != types.SlaStatusNotMet || cfg.CompletionTime == nil || !cfg.CompletionTime.After(*cfg.TargetTime) {
		t.Errorf("met late: %s, completion %v, target %v", st, cfg.CompletionTime, cfg.TargetTime)
	}
	// Reopening does not un-complete it.
	e.mustUpdate(id, sdkcS("status", "open"))
	if st, _ := status(); st != types.SlaStatusNotMet {
		t.Errorf("after reopening: %s", st)
	}
}
