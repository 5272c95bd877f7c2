package service

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

func TestCreateCaseValidation(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	text := e.field("text", api.FieldTypeText)
	num := e.field("num", api.FieldTypeNumber)
	flag := e.field("flag", api.FieldTypeBoolean)
	when := e.field("when", api.FieldTypeDateTime)
	pick := e.field("pick", api.FieldTypeSingleSelect)
	user := e.field("user", api.FieldTypeUser)
	link := e.field("link", api.FieldTypeUrl)
	gone := e.field("gone", api.FieldTypeText)
	gone2 := e.field("gone2", api.FieldTypeText)
	e.options(pick, true, "red", "green")
	e.options(pick, false, "grey")
	e.deleteField(gone)
	e.deleteField(gone2)
	inactive := e.template(localcases.Template{Status: string(api.TemplateStatusInactive)})
	deleted := e.template(localcases.Template{Deleted: true})
	needsNum := e.template(localcases.Template{RequiredFields: []string{num}})
	title := sv("title", "t")

	tests := []struct {
		name   string
		tpl    string
		fields []api.FieldValue
		want   api.ErrorCode
		msg    string // substring of the message
	}{
		{"ok all types", e.tpl, []api.FieldValue{title, sv(text, "x"), nv(num, 1.5), bv(flag, true),
			sv(when, "2024-05-01T10:00:00.000Z"), sv(pick, "red"), uv(user, "arn:aws:connect:us-east-1:123456789012:instance/i/user/u"),
			sv(link, "https://example.com"), ev("summary")}, "", ""},
		{"unknown template", "nope", []api.FieldValue{title}, api.CodeResourceNotFoundException, "Template"},
		{"inactive template", inactive, []api.FieldValue{title}, api.CodeValidationException, "active"},
		{"deleted template", deleted, []api.FieldValue{title}, api.CodeValidationException, "deleted"},
		{"unknown field", e.tpl, []api.FieldValue{title, sv("nope", "x")}, api.CodeValidationException, "nope"},
		{"deleted fields listed", e.tpl, []api.FieldValue{title, sv(gone, "x"), sv(gone2, "y")}, api.CodeValidationException, gone + ", " + gone2},
		{"duplicate field", e.tpl, []api.FieldValue{title, sv(text, "a"), sv(text, "b")}, api.CodeValidationException, "more than once"},
		{"text as number", e.tpl, []api.FieldValue{title, nv(text, 1)}, api.CodeValidationException, "stringValue"},
		{"number as string", e.tpl, []api.FieldValue{title, sv(num, "1")}, api.CodeValidationException, "doubleValue"},
		{"boolean as string", e.tpl, []api.FieldValue{title, sv(flag, "true")}, api.CodeValidationException, "booleanValue"},
		{"user as string", e.tpl, []api.FieldValue{title, sv(user, "arn")}, api.CodeValidationException, "userArnValue"},
		{"bad datetime", e.tpl, []api.FieldValue{title, sv(when, "yesterday")}, api.CodeValidationException, "ISO-8601"},
		{"unknown option", e.tpl, []api.FieldValue{title, sv(pick, "blue")}, api.CodeValidationException, "option"},
		{"inactive option", e.tpl, []api.FieldValue{title, sv(pick, "grey")}, api.CodeValidationException, "option"},
		{"unknown status", e.tpl, []api.FieldValue{title, sv("status", "pending")}, api.CodeValidationException, "option"},
		{"service-managed field", e.tpl, []api.FieldValue{title, sv("case_id", "x")}, api.CodeValidationException, "case_id"},
		{"service-managed empty", e.tpl, []api.FieldValue{title, ev("last_updated_datetime")}, api.CodeValidationException, "last_updated_datetime"},
		{"title missing", e.tpl, nil, api.CodeValidationException, "title"},
		{"title empty", e.tpl, []api.FieldValue{ev("title")}, api.CodeValidationException, "title"},
		{"title blank", e.tpl, []api.FieldValue{sv("title", "")}, api.CodeValidationException, "title"},
		{"template required missing", needsNum, []api.FieldValue{title}, api.CodeValidationException, num},
		{"template required given", needsNum, []api.FieldValue{title, nv(num, 0)}, "", ""},
		{"summary too long", e.tpl, []api.FieldValue{title, sv("summary", strings.Repeat("s", 3001))}, api.CodeValidationException, "3000"},
		{"summary at limit", e.tpl, []api.FieldValue{title, sv("summary", strings.Repeat("s", 3000))}, "", ""},
		{"customer_id bad", e.tpl, []api.FieldValue{title, sv("customer_id", "cust-1")}, api.CodeValidationException, "Customer Profiles"},
		{"customer_id ok", e.tpl, []api.FieldValue{title, sv("customer_id", "arn:aws:profile:us-east-1:123456789012:domains/acme/profiles/p1")}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.createCase(tc.tpl, tc.fields...)
			csWant(t, err, tc.want)
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not mention %q", err.Error(), tc.msg)
			}
		})
	}
	_, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: api.String("nope"), TemplateId: &e.tpl, Fields: []api.FieldValue{title}})
	csWant(t, err, api.CodeResourceNotFoundException)
}

func TestCreateCaseSystemFieldsTagsAndAudit(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	tpl := e.template(localcases.Template{TagPropagation: map[string]string{"team": "blue", "env": "prod"}, HasPropagation: true})
	user := "arn:aws:connect:us-east-1:123456789012:instance/i/user/agent"
	out, err := e.s.CreateCase(WithPrincipal(e.ctx, "arn:aws:iam::123456789012:role/agent"), &api.CreateCaseRequest{
		DomainId: &e.domain, TemplateId: &tpl, Fields: []api.FieldValue{sv("title", "Broken printer")},
		PerformedBy: &api.UserUnion{UserArn: &user}, Tags: map[string]string{"team": "red"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.CaseId
	if want := e.s.arn("domain/%s/case/%s", e.domain, id); *out.CaseArn != want {
		t.Errorf("arn = %s, want %s", *out.CaseArn, want)
	}
	got := e.get(id, "case_id", "status", "reference_number", "created_datetime", "last_updated_datetime",
		"created_by", "last_updated_user", "title", "last_closed_datetime")
	if *got["case_id"].StringValue != id || *got["status"].StringValue != "open" || *got["title"].StringValue != "Broken printer" {
		t.Errorf("fields = %s", csJSON(got))
	}
	if !regexp.MustCompile(`^[A-Z0-9]{9}$`).MatchString(*got["reference_number"].StringValue) {
		t.Errorf("reference_number = %q", *got["reference_number"].StringValue)
	}
	if *got["created_datetime"].StringValue != *got["last_updated_datetime"].StringValue {
		t.Errorf("created and updated differ at creation")
	}
	if _, ok := parseTime(*got["created_datetime"].StringValue); !ok {
		t.Errorf("created_datetime %q not ISO-8601", *got["created_datetime"].StringValue)
	}
	if *got["created_by"].UserArnValue != user || *got["last_updated_user"].UserArnValue != user {
		t.Errorf("users = %s", csJSON(got))
	}
	if got["last_closed_datetime"] != nil {
		t.Errorf("open case has last_closed_datetime")
	}
	c, _ := e.s.GetCase(e.ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: []api.FieldIdentifier{{Id: api.String("title")}}})
	if *c.Tags["team"] != "red" || *c.Tags["env"] != "prod" || *c.TemplateId != tpl {
		t.Errorf("tags = %s template = %s", csJSON(c.Tags), *c.TemplateId)
	}

	events := e.audit(id)
	if len(events) != 1 || *events[0].Type != api.AuditEventTypeCaseCreated {
		t.Fatalf("audit = %s", csJSON(events))
	}
	pb := events[0].PerformedBy
	if *pb.IamPrincipalArn != "arn:aws:iam::123456789012:role/agent" || *pb.User.UserArn != user {
		t.Errorf("performedBy = %s", csJSON(pb))
	}
	seen := map[string]bool{}
	for _, f := range events[0].Fields {
		seen[*f.EventFieldId] = true
		if f.OldValue != nil {
			t.Errorf("Case.Created field %s has an oldValue", *f.EventFieldId)
		}
	}
	for _, id := range []string{"title", "case_id", "status", "reference_number", "created_datetime", "created_by"} {
		if !seen[id] {
			t.Errorf("Case.Created lacks %s", id)
		}
	}

	// Without a principal in the context the account root is recorded.
	id2 := e.mustCase()
	if got := *e.audit(id2)[0].PerformedBy.IamPrincipalArn; got != "arn:aws:iam::123456789012:root" {
		t.Errorf("default principal = %s", got)
	}
}

func TestCreateCaseStatusClosedAndReferenceNumbers(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	closed := e.mustCase(sv("title", "t"), sv("status", "closed"))
	if e.get(closed, "last_closed_datetime")["last_closed_datetime"] == nil {
		t.Error("a case created closed has no last_closed_datetime")
	}
	e.mustCase(sv("title", "t"), sv("reference_number", "Ab12"))
	_, err := e.createCase(e.tpl, sv("title", "t"), sv("reference_number", "aB12"))
	csWant(t, err, api.CodeConflictException)

	// Generated numbers never collide with each other or with given ones.
	seen := map[string]bool{"AB12": true}
	for range 50 {
		ref := strings.ToUpper(*e.get(e.mustCase(), "reference_number")["reference_number"].StringValue)
		if seen[ref] {
			t.Fatalf("duplicate reference number %s", ref)
		}
		seen[ref] = true
	}
}

func TestCreateCaseIdempotency(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	req := func(title string, fields ...api.FieldValue) *api.CreateCaseRequest {
		return &api.CreateCaseRequest{
			DomainId: &e.domain, TemplateId: &e.tpl, ClientToken: api.String("tok-1"),
			Fields: append([]api.FieldValue{sv("title", title)}, fields...), Tags: map[string]string{"k": "v"},
		}
	}
	first, err := e.s.CreateCase(e.ctx, req("same", sv("summary", "s")))
	if err != nil {
		t.Fatal(err)
	}
	// A retry, even with the fields in another order, returns the same case.
	r := req("same", sv("summary", "s"))
	r.Fields[0], r.Fields[1] = r.Fields[1], r.Fields[0]
	again, err := e.s.CreateCase(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if *again.CaseId != *first.CaseId || *again.CaseArn != *first.CaseArn {
		t.Errorf("retry made case %s, first was %s", *again.CaseId, *first.CaseId)
	}
	_, err = e.s.CreateCase(e.ctx, req("different"))
	csWant(t, err, api.CodeConflictException)
	res, err := e.s.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: &e.domain})
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalCount != 1 {
		t.Errorf("%d cases exist, want 1", res.TotalCount)
	}
	if n := len(e.audit(*first.CaseId)); n != 1 {
		t.Errorf("%d audit events, want 1", n)
	}

	// Concurrent retries of one token make exactly one case.
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl,
				ClientToken: api.String("tok-2"), Fields: []api.FieldValue{sv("title", "race")}})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = *out.CaseId
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent retries made different cases: %v", ids)
		}
	}

	// A failed first attempt leaves the token unused.
	bad := &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl, ClientToken: api.String("tok-3"), Fields: []api.FieldValue{}}
	_, err = e.s.CreateCase(e.ctx, bad)
	csWant(t, err, api.CodeValidationException)
	bad.Fields = []api.FieldValue{sv("title", "fixed")}
	if _, err := e.s.CreateCase(e.ctx, bad); err != nil {
		t.Errorf("retry after a failed attempt: %v", err)
	}
}

func TestGetCase(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	old := e.field("old", api.FieldTypeText)
	id := e.mustCase(sv("title", "t"), sv(old, "kept"), sv("summary", "s"))
	e.deleteField(old)
	out, err := e.s.GetCase(e.ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: []api.FieldIdentifier{
		{Id: api.String("summary")}, {Id: api.String("nope")}, {Id: api.String(old)}, {Id: api.String("assigned_queue")}, {Id: api.String("title")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range out.Fields {
		order = append(order, *f.Id)
	}
	if strings.Join(order, ",") != "summary,"+old+",title" {
		t.Errorf("fields = %v", order)
	}
	if out.Tags == nil || out.NextToken != nil {
		t.Errorf("tags nil or nextToken set: %s", csJSON(out))
	}
	_, err = e.s.GetCase(e.ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: api.String("nope"), Fields: []api.FieldIdentifier{{Id: api.String("title")}}})
	csWant(t, err, api.CodeResourceNotFoundException)
	_, err = e.s.GetCase(e.ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: []api.FieldIdentifier{{Id: api.String("title")}}, NextToken: api.String("x")})
	csWant(t, err, api.CodeValidationException)
}

func TestUpdateCase(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	num := e.field("num", api.FieldTypeNumber)
	pick := e.field("pick", api.FieldTypeSingleSelect)
	old := e.field("old", api.FieldTypeText)
	never := e.field("never", api.FieldTypeText)
	e.options(pick, true, "a", "b")
	tpl := e.template(localcases.Template{RequiredFields: []string{num}})
	id, err := e.createCase(tpl, sv("title", "t"), nv(num, 1), sv(pick, "a"), sv(old, "x"))
	if err != nil {
		t.Fatal(err)
	}
	e.deleteField(old)
	e.deleteField(never)
	// Deactivating an option does not take it from cases that hold it.
	e.options(pick, false, "a")

	csWant(t, e.update(id, ev(num)), api.CodeValidationException)               // required by the template
	csWant(t, e.update(id, sv(never, "x")), api.CodeValidationException)        // deleted, no value held
	csWant(t, e.update(id, sv("created_by", "x")), api.CodeValidationException) // service-managed
	csWant(t, e.update(id, sv(pick, "zzz")), api.CodeValidationException)       // not an option
	csWant(t, e.update(id, ev("title")), api.CodeValidationException)           // title stays required
	csWant(t, e.update(id, sv("title", "x"), sv("title", "y")), api.CodeValidationException)
	_, err = e.s.UpdateCase(e.ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: api.String("nope"), Fields: []api.FieldValue{}})
	csWant(t, err, api.CodeResourceNotFoundException)
	if n := len(e.audit(id)); n != 1 {
		t.Fatalf("failed updates left %d audit events", n)
	}

	before := e.get(id, "last_updated_datetime")["last_updated_datetime"]
	e.mustUpdate(id, sv(pick, "a"), nv(num, 1)) // same values: no change
	e.mustUpdate(id)
	if got := e.get(id, "last_updated_datetime")["last_updated_datetime"]; *got.StringValue != *before.StringValue {
		t.Errorf("a no-op update moved last_updated_datetime")
	}
	if n := len(e.audit(id)); n != 1 {
		t.Fatalf("no-op updates recorded events: %d", n)
	}

	user := "arn:aws:connect:us-east-1:123456789012:instance/i/user/u2"
	_, err = e.s.UpdateCase(e.ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: &id,
		Fields: []api.FieldValue{nv(num, 2), sv(old, "y"), sv("summary", "new")}, PerformedBy: &api.UserUnion{UserArn: &user}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(id, num, pick, old, "summary", "title", "last_updated_user", "last_updated_datetime")
	if *got[num].DoubleValue != 2 || *got[pick].StringValue != "a" || *got[old].StringValue != "y" ||
		*got["summary"].StringValue != "new" || *got["title"].StringValue != "t" || *got["last_updated_user"].UserArnValue != user {
		t.Errorf("after update: %s", csJSON(got))
	}
	if *got["last_updated_datetime"].StringValue == *before.StringValue {
		t.Errorf("last_updated_datetime did not move")
	}
	events := e.audit(id)
	if len(events) != 2 || *events[0].Type != api.AuditEventTypeCaseUpdated {
		t.Fatalf("audit = %s", csJSON(events))
	}
	changed := map[string]api.AuditEventField{}
	for _, f := range events[0].Fields {
		changed[*f.EventFieldId] = f
	}
	for _, want := range []string{num, old, "summary", "last_updated_datetime", "last_updated_user"} {
		if _, ok := changed[want]; !ok {
			t.Errorf("Case.Updated lacks %s: %s", want, csJSON(events[0].Fields))
		}
	}
	if _, ok := changed["title"]; ok {
		t.Errorf("unchanged title in Case.Updated")
	}
	if f := changed["summary"]; f.OldValue == nil || f.OldValue.EmptyValue == nil || *f.NewValue.StringValue != "new" {
		t.Errorf("summary change = %s", csJSON(f))
	}
	if f := changed[num]; *f.OldValue.DoubleValue != 1 || *f.NewValue.DoubleValue != 2 {
		t.Errorf("num change = %s", csJSON(f))
	}

	// A deleted field the case holds may be cleared; then it is gone for good.
	e.mustUpdate(id, ev(old), ev("summary"))
	if got := e.get(id, old, "summary"); len(got) != 0 {
		t.Errorf("cleared fields still returned: %s", csJSON(got))
	}
	csWant(t, e.update(id, sv(old, "z")), api.CodeValidationException)
}

func TestUpdateCaseStatusTransitions(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	e.options("status", true, "pending")
	id := e.mustCase()
	e.mustUpdate(id, sv("status", "closed"))
	closed1 := e.get(id, "last_closed_datetime")["last_closed_datetime"]
	if closed1 == nil || e.get(id, "last_reopened_datetime")["last_reopened_datetime"] != nil {
		t.Fatalf("closing: %s", csJSON(e.get(id, "last_closed_datetime", "last_reopened_datetime")))
	}
	e.mustUpdate(id, sv("status", "pending"))
	got := e.get(id, "last_closed_datetime", "last_reopened_datetime")
	if got["last_reopened_datetime"] == nil || *got["last_closed_datetime"].StringValue != *closed1.StringValue {
		t.Fatalf("reopening: %s", csJSON(got))
	}
	e.mustUpdate(id, sv("status", "open")) // open from pending is no reopen
	if *e.get(id, "last_reopened_datetime")["last_reopened_datetime"].StringValue != *got["last_reopened_datetime"].StringValue {
		t.Error("pending to open moved last_reopened_datetime")
	}
	e.mustUpdate(id, sv("status", "closed"))
	if *e.get(id, "last_closed_datetime")["last_closed_datetime"].StringValue == *closed1.StringValue {
		t.Error("second close did not move last_closed_datetime")
	}
}

func TestUpdateCaseReferenceNumber(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	a := e.mustCase(sv("title", "a"), sv("reference_number", "REF-A"))
	b := e.mustCase(sv("title", "b"))
	csWant(t, e.update(b, sv("reference_number", "ref-a")), api.CodeValidationException)
	e.mustUpdate(a, sv("reference_number", "REF-A2"))
	e.mustUpdate(b, sv("reference_number", "ref-a")) // freed by a's change
	_, err := e.createCase(e.tpl, sv("title", "c"), sv("reference_number", "REF-A2"))
	csWant(t, err, api.CodeConflictException)
}

func TestCaseRulesEnforced(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	resolution := e.field("resolution", api.FieldTypeText)
	parent := e.field("parent", api.FieldTypeSingleSelect)
	child := e.field("child", api.FieldTypeSingleSelect)
	e.options("status", true, "pending")
	e.options(parent, true, "hw", "sw")
	e.options(child, true, "disk", "ram", "os", "app")
	closedNeedsResolution := e.caseRule(api.CaseRuleDetails{Required: &api.RequiredCaseRule{
		DefaultValue: api.Bool(false),
		Conditions: []api.BooleanCondition{{EqualTo: &api.BooleanOperands{
			OperandOne: &api.OperandOne{FieldId: api.String("status")},
			OperandTwo: &api.OperandTwo{StringValue: api.String("closed")},
			Result:     api.Bool(true),
		}}},
	}})
	cascade := e.caseRule(api.CaseRuleDetails{FieldOptions: &api.FieldOptionsCaseRule{
		ParentFieldId: &parent, ChildFieldId: &child,
		ParentChildFieldOptionsMappings: []api.ParentChildFieldOptionsMapping{
			{ParentFieldOptionValue: api.String("hw"), ChildFieldOptionValues: []string{"disk", "ram"}},
			{ParentFieldOptionValue: api.String("sw"), ChildFieldOptionValues: []string{"os", "app"}},
		},
	}})
	deletedRule := e.caseRule(api.CaseRuleDetails{Required: &api.RequiredCaseRule{DefaultValue: api.Bool(true), Conditions: []api.BooleanCondition{}}})
	e.s.store.Update(e.ctx, func(tx localcases.Tx) error {
		var r localcases.CaseRule
		tx.Get(localcases.CaseRules, e.domain, deletedRule, &r)
		r.Deleted = true
		return tx.Put(localcases.CaseRules, e.domain, deletedRule, &r)
	})
	tpl := e.template(localcases.Template{Rules: []localcases.TemplateRule{
		{CaseRuleID: closedNeedsResolution, FieldID: resolution},
		{CaseRuleID: cascade},
		{CaseRuleID: deletedRule, FieldID: "summary"},
	}})

	_, err := e.createCase(tpl, sv("title", "t"), sv("status", "closed"))
	csWant(t, err, api.CodeValidationException)
	_, err = e.createCase(tpl, sv("title", "t"), sv(parent, "hw"), sv(child, "os"))
	csWant(t, err, api.CodeValidationException)
	if _, err := e.createCase(tpl, sv("title", "t"), sv("status", "closed"), sv(resolution, "fixed"), sv(parent, "sw"), sv(child, "os")); err != nil {
		t.Fatal(err)
	}
	id, err := e.createCase(tpl, sv("title", "t"), sv(parent, "hw"), sv(child, "disk"))
	if err != nil {
		t.Fatal(err)
	}
	// The rule is re-evaluated on the merged case: closing needs a resolution.
	csWant(t, e.update(id, sv("status", "closed")), api.CodeValidationException)
	e.mustUpdate(id, sv("status", "closed"), sv(resolution, "done"))
	csWant(t, e.update(id, ev(resolution)), api.CodeValidationException)
	e.mustUpdate(id, sv("status", "pending"), ev(resolution))
	// Changing the parent must keep the child within the new parent's options.
	csWant(t, e.update(id, sv(parent, "sw")), api.CodeValidationException)
	e.mustUpdate(id, sv(parent, "sw"), sv(child, "app"))
}

func TestRuleConditionEvaluation(t *testing.T) {
	f := map[string]localcases.Value{
		"s": {Kind: localcases.ValueString, S: "x"},
		"n": {Kind: localcases.ValueDouble, N: 2},
		"b": {Kind: localcases.ValueBool, B: true},
	}
	eq := func(field string, two api.OperandTwo, result bool) api.BooleanCondition {
		return api.BooleanCondition{EqualTo: &api.BooleanOperands{OperandOne: &api.OperandOne{FieldId: &field}, OperandTwo: &two, Result: &result}}
	}
	ne := func(field string, two api.OperandTwo, result bool) api.BooleanCondition {
		return api.BooleanCondition{NotEqualTo: &api.BooleanOperands{OperandOne: &api.OperandOne{FieldId: &field}, OperandTwo: &two, Result: &result}}
	}
	str2 := api.OperandTwo{StringValue: api.String("x")}
	num2 := api.OperandTwo{DoubleValue: api.Float64(2)}
	bool2 := api.OperandTwo{BooleanValue: api.Bool(true)}
	empty := api.OperandTwo{EmptyValue: &api.EmptyOperandValue{}}
	tests := []struct {
		name  string
		conds []api.BooleanCondition
		def   bool
		want  bool
	}{
		{"no conditions uses default", nil, true, true},
		{"string equal", []api.BooleanCondition{eq("s", str2, true)}, false, true},
		{"number equal", []api.BooleanCondition{eq("n", num2, true)}, false, true},
		{"bool equal", []api.BooleanCondition{eq("b", bool2, true)}, false, true},
		{"kind mismatch", []api.BooleanCondition{eq("s", num2, true)}, false, false},
		{"empty on missing", []api.BooleanCondition{eq("missing", empty, true)}, false, true},
		{"not empty", []api.BooleanCondition{ne("s", empty, true)}, false, true},
		{"first true wins", []api.BooleanCondition{eq("s", str2, false), eq("n", num2, true)}, true, false},
		{"false falls through", []api.BooleanCondition{eq("missing", str2, false), eq("n", num2, true)}, false, true},
		{"andAll yields first child's result", []api.BooleanCondition{{AndAll: &api.CompoundCondition{Conditions: []api.BooleanCondition{eq("s", str2, true), eq("n", num2, false)}}}}, false, true},
		{"andAll false", []api.BooleanCondition{{AndAll: &api.CompoundCondition{Conditions: []api.BooleanCondition{eq("s", str2, true), eq("missing", num2, true)}}}}, false, false},
		{"orAll true", []api.BooleanCondition{{OrAll: &api.CompoundCondition{Conditions: []api.BooleanCondition{eq("missing", str2, true), eq("n", num2, false)}}}}, false, true},
		{"empty andAll never fires", []api.BooleanCondition{{AndAll: &api.CompoundCondition{Conditions: []api.BooleanCondition{}}}}, false, false},
	}
	for _, tc := range tests {
		if got := ruleValue(tc.conds, &tc.def, f); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDeleteCase(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	contact := "arn:aws:connect:us-east-1:123456789012:instance/i/contact/c1"
	out, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl,
		ClientToken: api.String("del-tok"), Fields: []api.FieldValue{sv("title", "t"), sv("reference_number", "R1")}})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.CaseId
	e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: &contact}})
	if _, err := e.s.DeleteCase(e.ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.GetCase(e.ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: []api.FieldIdentifier{{Id: api.String("title")}}})
	csWant(t, err, api.CodeResourceNotFoundException)
	_, err = e.s.DeleteCase(e.ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: &id})
	csWant(t, err, api.CodeResourceNotFoundException)
	_, err = e.s.GetCaseAuditEvents(e.ctx, &api.GetCaseAuditEventsRequest{DomainId: &e.domain, CaseId: &id})
	csWant(t, err, api.CodeResourceNotFoundException)
	_, err = e.s.SearchRelatedItems(e.ctx, &api.SearchRelatedItemsRequest{DomainId: &e.domain, CaseId: &id})
	csWant(t, err, api.CodeResourceNotFoundException)
	csWant(t, e.update(id, sv("title", "x")), api.CodeResourceNotFoundException)
	lc, err := e.s.ListCasesForContact(e.ctx, &api.ListCasesForContactRequest{DomainId: &e.domain, ContactArn: &contact})
	if err != nil || len(lc.Cases) != 0 {
		t.Errorf("ListCasesForContact after delete: %v %s", err, csJSON(lc))
	}
	// The reference number and the client token are free again.
	again, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl,
		ClientToken: api.String("del-tok"), Fields: []api.FieldValue{sv("title", "t"), sv("reference_number", "r1")}})
	if err != nil {
		t.Fatal(err)
	}
	if *again.CaseId == id {
		t.Error("a retried token returned a deleted case")
	}
	var n int
	e.s.store.View(e.ctx, func(tx localcases.Tx) (err error) {
		n, err = tx.Count(localcases.RelatedItems, scope2(e.domain, id))
		return err
	})
	if n != 0 {
		t.Errorf("%d related items survive the case", n)
	}
}

func TestListCasesForContact(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	contact := "arn:aws:connect:us-east-1:123456789012:instance/i/contact/c1"
	other := "arn:aws:connect:us-east-1:123456789012:instance/i/contact/c2"
	var want []string
	for i := range 13 {
		id := e.mustCase()
		e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: &contact}})
		if i == 0 { // a second link from the same case lists it once
			e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: &contact}})
		}
		want = append(want, id)
	}
	e.mustRelate(e.mustCase(), api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: &other}})
	var got []string
	var tok *string
	pages := 0
	for {
		out, err := e.s.ListCasesForContact(e.ctx, &api.ListCasesForContactRequest{DomainId: &e.domain, ContactArn: &contact, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range out.Cases {
			got = append(got, *c.CaseId)
			if *c.TemplateId != e.tpl {
				t.Errorf("templateId = %s", *c.TemplateId)
			}
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 2 {
		t.Errorf("got %d cases in %d pages, want %d in 2", len(got), pages, len(want))
	}
	_, err := e.s.ListCasesForContact(e.ctx, &api.ListCasesForContactRequest{DomainId: &e.domain, ContactArn: &other, NextToken: api.String("garbage")})
	csWant(t, err, api.CodeValidationException)
	_, err = e.s.ListCasesForContact(e.ctx, &api.ListCasesForContactRequest{DomainId: api.String("nope"), ContactArn: &other})
	csWant(t, err, api.CodeResourceNotFoundException)
}

// TestUpdateCaseConcurrent runs many writers against one case: every write
// must survive (no lost update) and the audit history must hold one event
// per effective update.
func TestUpdateCaseConcurrent(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	const writers, each = 16, 8
	fields := make([]string, writers)
	for i := range fields {
		fields[i] = e.field(fmt.Sprintf("w%d", i), api.FieldTypeNumber)
	}
	id := e.mustCase()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 1; k <= each; k++ {
				if err := e.update(id, nv(fields[w], float64(k))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := e.get(id, fields...)
	for _, f := range fields {
		if got[f] == nil || *got[f].DoubleValue != each {
			t.Errorf("field %s = %s, want %d", f, csJSON(got[f]), each)
		}
	}
	events := e.audit(id)
	if len(events) != 1+writers*each {
		t.Errorf("%d audit events, want %d", len(events), 1+writers*each)
	}
	// Replaying the history oldest-first must rebuild the final values.
	replay := map[string]float64{}
	for i := len(events) - 1; i >= 0; i-- {
		for _, f := range events[i].Fields {
			if f.NewValue.DoubleValue != nil {
				if old, ok := replay[*f.EventFieldId]; ok && (f.OldValue == nil || *f.OldValue.DoubleValue != old) {
					t.Fatalf("event %s: oldValue %s does not follow %v", *events[i].EventId, csJSON(f.OldValue), old)
				}
				replay[*f.EventFieldId] = *f.NewValue.DoubleValue
			}
		}
	}
	for _, f := range fields {
		if replay[f] != each {
			t.Errorf("replayed %s = %v", f, replay[f])
		}
	}
}
