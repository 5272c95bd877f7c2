package api_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/localcases/localcases/api"
)

// vcase is one Validate call and what it must report. wantCount 0 means the
// input is valid. wantMsg, when set, is the whole expected message: the
// wording is what AWS SDK users grep logs for, so it is pinned exactly where
// it matters and checked by substring elsewhere.
type vcase struct {
	name      string
	in        api.Input
	wantCount int
	wantSubs  []string
	wantMsg   string
}

func runValidation(t *testing.T, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.wantCount == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want a ValidationException")
			}
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("Validate() returned %T (%v), want *api.Error", err, err)
			}
			if ae.Code != api.CodeValidationException {
				t.Errorf("code = %q, want %q", ae.Code, api.CodeValidationException)
			}
			if ae.Code.Status() != 400 {
				t.Errorf("status = %d, want 400", ae.Code.Status())
			}
			noun := "errors"
			if tc.wantCount == 1 {
				noun = "error"
			}
			prefix := fmt.Sprintf("%d validation %s detected: ", tc.wantCount, noun)
			if !strings.HasPrefix(ae.Message, prefix) {
				t.Errorf("message %q does not start with %q", ae.Message, prefix)
			}
			if tc.wantMsg != "" && ae.Message != tc.wantMsg {
				t.Errorf("message:\n got %q\nwant %q", ae.Message, tc.wantMsg)
			}
			for _, s := range tc.wantSubs {
				if !strings.Contains(ae.Message, s) {
					t.Errorf("message %q does not contain %q", ae.Message, s)
				}
			}
		})
	}
}

func str(s string) *string { return &s }
func i32(n int32) *int32   { return &n }
func i64(n int64) *int64   { return &n }

func createDomain(name string) *api.CreateDomainRequest {
	return &api.CreateDomainRequest{Name: str(name)}
}

func createCase(fields []api.FieldValue, tags map[string]string) *api.CreateCaseRequest {
	if fields == nil {
		fields = []api.FieldValue{}
	}
	return &api.CreateCaseRequest{DomainId: str("d"), TemplateId: str("t"), Fields: fields, Tags: tags}
}

func untag(keys ...string) *api.UntagResourceRequest {
	return &api.UntagResourceRequest{Arn: str("arn:aws:cases:us-east-1:000000000000:domain/d"), TagKeys: keys}
}

func slaItem(minutes int64) *api.CreateRelatedItemRequest {
	typ := api.RelatedItemTypeSla
	slaType := api.SlaTypeCaseField
	return &api.CreateRelatedItemRequest{
		DomainId: str("d"), CaseId: str("c"), Type: &typ,
		Content: &api.RelatedItemInputContent{Sla: &api.SlaInputContent{SlaInputConfiguration: &api.SlaInputConfiguration{
			Name: str("sla"), Type: &slaType, TargetSlaMinutes: i64(minutes),
		}}},
	}
}

func fieldIDs(n int) []api.FieldIdentifier {
	out := make([]api.FieldIdentifier, n)
	for i := range out {
		out[i].Id = str(fmt.Sprintf("f%d", i))
	}
	return out
}

func tagMap(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

func TestValidateRequired(t *testing.T) {
	runValidation(t, []vcase{
		{
			name:      "CreateDomain name null",
			in:        &api.CreateDomainRequest{},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
		},
		{
			name:      "CreateCase domainId, fields and templateId null",
			in:        &api.CreateCaseRequest{},
			wantCount: 3,
			wantSubs: []string{
				"Value null at 'domainId' failed to satisfy constraint: Member must not be null",
				"Value null at 'fields' failed to satisfy constraint: Member must not be null",
				"Value null at 'templateId' failed to satisfy constraint: Member must not be null",
			},
		},
		{
			name:      "CreateCase nested field id and value null",
			in:        createCase([]api.FieldValue{{}}, nil),
			wantCount: 2,
			wantSubs:  []string{"at 'fields[0].id'", "at 'fields[0].value'", "Member must not be null"},
		},
		{
			name:      "TagResource tags null",
			in:        &api.TagResourceRequest{Arn: str("arn")},
			wantCount: 1,
			wantSubs:  []string{"Value null at 'tags'"},
		},
	})
}

func TestValidateLength(t *testing.T) {
	runValidation(t, []vcase{
		{
			name:      "name empty is below min 1",
			in:        createDomain(""),
			wantCount: 2, // length and the pattern, which needs one non-space character
			wantSubs: []string{
				"Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
				"Member must satisfy regular expression pattern: .*[\\S]",
			},
		},
		{
			name:      "name at max 100 ASCII",
			in:        createDomain(strings.Repeat("a", 100)),
			wantCount: 0,
		},
		{
			name:      "name 101 ASCII is above max",
			in:        createDomain(strings.Repeat("a", 101)),
			wantCount: 1,
			wantSubs:  []string{"at 'name' failed to satisfy constraint: Member must have length less than or equal to 100"},
		},
		{
			// 100 two-byte runes are 200 bytes: counting bytes would reject it.
			name:      "name 100 multi-byte runes is at max",
			in:        createDomain(strings.Repeat("é", 100)),
			wantCount: 0,
		},
		{
			name:      "name 34 three-byte runes is well under max",
			in:        createDomain(strings.Repeat("日本語", 11) + "語"),
			wantCount: 0,
		},
		{
			name:      "name 101 multi-byte runes is above max",
			in:        createDomain(strings.Repeat("é", 101)),
			wantCount: 1,
			wantSubs:  []string{"Member must have length less than or equal to 100"},
		},
		{
			name:      "case field stringValue above 4100 runes",
			in:        createCase([]api.FieldValue{{Id: str("f"), Value: &api.FieldValueUnion{StringValue: str(strings.Repeat("ü", 4101))}}}, nil),
			wantCount: 1,
			wantSubs:  []string{"at 'fields[0].value.stringValue'", "Member must have length less than or equal to 4100"},
		},
		{
			name:      "case field stringValue of 4100 multi-byte runes is fine",
			in:        createCase([]api.FieldValue{{Id: str("f"), Value: &api.FieldValueUnion{StringValue: str(strings.Repeat("ü", 4100))}}}, nil),
			wantCount: 0,
		},
		{
			name:      "clientToken above 64",
			in:        &api.CreateCaseRequest{DomainId: str("d"), TemplateId: str("t"), Fields: []api.FieldValue{}, ClientToken: str(strings.Repeat("x", 65))},
			wantCount: 1,
			wantSubs:  []string{"at 'clientToken'", "less than or equal to 64"},
		},
	})
}

func TestValidatePattern(t *testing.T) {
	runValidation(t, []vcase{
		{
			name:      "trailing space fails .*[\\S]",
			in:        createDomain("abc "),
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value 'abc ' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: .*[\\S]",
		},
		{
			name:      "leading space is fine",
			in:        createDomain(" abc"),
			wantCount: 0,
		},
		{
			// Unanchored, .*[\S] would find "a" in "a\nb"; the full-string
			// match must reject it because . does not cross a newline.
			name:      "newline in the middle",
			in:        createDomain("a\nb"),
			wantCount: 1,
			wantSubs:  []string{"at 'name'", "regular expression pattern: .*[\\S]"},
		},
		{
			name:      "trailing tab",
			in:        createDomain("abc\t"),
			wantCount: 1,
			wantSubs:  []string{"regular expression pattern"},
		},
		{
			name:      "tag value with a forbidden character",
			in:        createCase(nil, map[string]string{"k": "v!"}),
			wantCount: 1,
			wantSubs:  []string{`at 'tags["k"]'`, "regular expression pattern: ([a-zA-Z0-9 _.:/=+\\-@]*)"},
		},
	})
}

func TestValidateMutableTagKey(t *testing.T) {
	reject := func(k string) vcase {
		return vcase{
			name:      "rejects " + k,
			in:        createCase(nil, map[string]string{k: "v"}),
			wantCount: 1,
			wantSubs: []string{
				fmt.Sprintf("Value '%s' at 'tags[%q]'", k, k),
				"Member must satisfy regular expression pattern: (?![aA][wW][sS]:)[a-zA-Z0-9 _.:/=+\\-@]+",
			},
		}
	}
	accept := func(k string) vcase {
		return vcase{name: "accepts " + k, in: createCase(nil, map[string]string{k: "v"})}
	}
	runValidation(t, []vcase{
		reject("aws:x"),
		reject("AWS:x"),
		reject("Aws:x"),
		reject("aWs:"),
		reject("has!bang"),
		accept("awsx"),
		accept("aws"),
		accept("x:aws:y"),
		accept("team name@corp/1=2+3-4_5.6"),
	})
}

func TestValidateTagKey(t *testing.T) {
	reject := func(k string) vcase {
		return vcase{
			name:      "rejects " + k,
			in:        untag(k),
			wantCount: 1,
			wantSubs: []string{
				fmt.Sprintf("Value '%s' at 'tagKeys[0]'", k),
				"Member must satisfy regular expression pattern: (?!aws:)[a-zA-Z+-=._:/]+",
			},
		}
	}
	accept := func(k string) vcase {
		return vcase{name: "accepts " + k, in: untag(k)}
	}
	runValidation(t, []vcase{
		reject("aws:x"),
		// +-= is the range 0x2B-0x3D, which ends before > and excludes
		// space and @ (MutableTagKey allows both).
		reject("a>b"),
		reject("a b"),
		reject("a@b"),
		reject("a!b"),
		// The look-ahead is case-sensitive, unlike MutableTagKey's.
		accept("AWS:x"),
		accept("Aws:x"),
		accept("awsx"),
		// Digits, comma, semicolon and < sit inside the +-= range.
		accept("key1"),
		accept("a,b"),
		accept("a;b"),
		accept("a<b"),
		accept("a+b-c=d"),
		accept("x:aws:y"),
		{
			name:      "second key is reported by index",
			in:        untag("ok", "aws:bad"),
			wantCount: 1,
			wantSubs:  []string{"at 'tagKeys[1]'"},
		},
		{
			name:      "empty key fails length and pattern",
			in:        untag(""),
			wantCount: 2,
			wantSubs:  []string{"at 'tagKeys[0]'", "length greater than or equal to 1"},
		},
	})
}

func TestValidateRange(t *testing.T) {
	runValidation(t, []vcase{
		{
			name:      "SearchCases maxResults 0",
			in:        &api.SearchCasesRequest{DomainId: str("d"), MaxResults: i32(0)},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{
			name:      "SearchCases maxResults 101",
			in:        &api.SearchCasesRequest{DomainId: str("d"), MaxResults: i32(101)},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100",
		},
		{
			name: "SearchCases maxResults 100 is the max",
			in:   &api.SearchCasesRequest{DomainId: str("d"), MaxResults: i32(100)},
		},
		{
			name:      "ListDomains maxResults 11 (max 10)",
			in:        &api.ListDomainsRequest{MaxResults: i32(11)},
			wantCount: 1,
			wantSubs:  []string{"Value '11' at 'maxResults'", "less than or equal to 10"},
		},
		{
			name:      "ListDomains maxResults negative",
			in:        &api.ListDomainsRequest{MaxResults: i32(-5)},
			wantCount: 1,
			wantSubs:  []string{"Value '-5' at 'maxResults'", "greater than or equal to 1"},
		},
		{
			name:      "TargetSlaMinutes 0",
			in:        slaItem(0),
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value '0' at 'content.sla.slaInputConfiguration.targetSlaMinutes' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{
			// Bounds of a million and more must print as plain integers, not
			// 1.0512e+06, like every other bound in the messages.
			name:      "TargetSlaMinutes 1051201",
			in:        slaItem(1051201),
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value '1051201' at 'content.sla.slaInputConfiguration.targetSlaMinutes' failed to satisfy constraint: Member must have value less than or equal to 1051200",
		},
		{
			name: "TargetSlaMinutes 1051200 is the max",
			in:   slaItem(1051200),
		},
		{
			name: "TargetSlaMinutes 1 is the min",
			in:   slaItem(1),
		},
	})
}

func TestValidateListAndMapSize(t *testing.T) {
	runValidation(t, []vcase{
		{
			name:      "BatchGetField 0 fields",
			in:        &api.BatchGetFieldRequest{DomainId: str("d"), Fields: []api.FieldIdentifier{}},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value with 0 elements at 'fields' failed to satisfy constraint: Member must have length greater than or equal to 1",
		},
		{
			name: "BatchGetField 50 fields",
			in:   &api.BatchGetFieldRequest{DomainId: str("d"), Fields: fieldIDs(50)},
		},
		{
			name:      "BatchGetField 51 fields",
			in:        &api.BatchGetFieldRequest{DomainId: str("d"), Fields: fieldIDs(51)},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value with 51 elements at 'fields' failed to satisfy constraint: Member must have length less than or equal to 50",
		},
		{
			name: "CreateCase 50 tags",
			in:   createCase(nil, tagMap(50)),
		},
		{
			name:      "CreateCase 51 tags",
			in:        createCase(nil, tagMap(51)),
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value with 51 elements at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
		},
		{
			name:      "UntagResource 51 keys",
			in:        untag(strings.Split(strings.TrimSuffix(strings.Repeat("k,", 51), ","), ",")...),
			wantCount: 1,
			wantSubs:  []string{"Value with 51 elements at 'tagKeys'", "less than or equal to 50"},
		},
		{
			name: "SearchCases andAll of 11 is above 10",
			in: &api.SearchCasesRequest{DomainId: str("d"), Filter: &api.CaseFilter{
				AndAll: make([]api.CaseFilter, 11),
			}},
			// The size rule plus each of the 11 empty unions.
			wantCount: 12,
			wantSubs:  []string{"Value with 11 elements at 'filter.andAll'", "less than or equal to 10"},
		},
	})
}

func TestValidateEnum(t *testing.T) {
	bogus := api.FieldType("Bogus")
	text := api.FieldTypeText
	lower := api.FieldType("text")
	runValidation(t, []vcase{
		{
			name:      "FieldType Bogus",
			in:        &api.CreateFieldRequest{DomainId: str("d"), Name: str("n"), Type: &bogus},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value 'Bogus' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [Text, Number, Boolean, DateTime, SingleSelect, Url, User]",
		},
		{
			name:      "enums are case-sensitive",
			in:        &api.CreateFieldRequest{DomainId: str("d"), Name: str("n"), Type: &lower},
			wantCount: 1,
			wantSubs:  []string{"Value 'text' at 'type'", "enum value set"},
		},
		{
			name: "FieldType Text",
			in:   &api.CreateFieldRequest{DomainId: str("d"), Name: str("n"), Type: &text},
		},
		{
			name:      "ListTemplates status from the query",
			in:        &api.ListTemplatesRequest{DomainId: str("d"), Status: []api.TemplateStatus{"Active", "Deleted"}},
			wantCount: 1,
			wantSubs:  []string{"Value 'Deleted' at 'status[1]'", "enum value set: [Active, Inactive]"},
		},
	})
}

func TestValidateUnion(t *testing.T) {
	const members = "booleanValue, doubleValue, emptyValue, stringValue, userArnValue"
	runValidation(t, []vcase{
		{
			name: "FieldValueUnion with two members",
			in: createCase([]api.FieldValue{{Id: str("f"), Value: &api.FieldValueUnion{
				StringValue: str("x"), BooleanValue: new(bool),
			}}}, nil),
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value at 'fields[0].value' failed to satisfy constraint: Member must have exactly one of [" + members + "] set, found 2",
		},
		{
			name:      "FieldValueUnion with zero members",
			in:        createCase([]api.FieldValue{{Id: str("f"), Value: &api.FieldValueUnion{}}}, nil),
			wantCount: 1,
			wantSubs:  []string{"at 'fields[0].value'", "exactly one of [" + members + "] set, found 0"},
		},
		{
			name: "emptyValue alone is one member",
			in:   createCase([]api.FieldValue{{Id: str("f"), Value: &api.FieldValueUnion{EmptyValue: &api.EmptyFieldValue{}}}}, nil),
		},
		{
			name: "the third field is the bad one",
			in: createCase([]api.FieldValue{
				{Id: str("a"), Value: &api.FieldValueUnion{StringValue: str("x")}},
				{Id: str("b"), Value: &api.FieldValueUnion{DoubleValue: new(float64)}},
				{Id: str("c"), Value: &api.FieldValueUnion{}},
			}, nil),
			wantCount: 1,
			wantSubs:  []string{"Value at 'fields[2].value'"},
		},
		{
			name:      "CaseFilter with none",
			in:        &api.SearchCasesRequest{DomainId: str("d"), Filter: &api.CaseFilter{}},
			wantCount: 1,
			wantMsg:   "1 validation error detected: Value at 'filter' failed to satisfy constraint: Member must have exactly one of [andAll, field, not, orAll, tag] set, found 0",
		},
		{
			name: "CaseFilter nested under not and andAll",
			in: &api.SearchCasesRequest{DomainId: str("d"), Filter: &api.CaseFilter{Not: &api.CaseFilter{
				AndAll: []api.CaseFilter{{Tag: &api.TagFilter{EqualTo: &api.TagValue{Key: str("k")}}}, {}},
			}}},
			wantCount: 1,
			wantSubs:  []string{"Value at 'filter.not.andAll[1]'", "found 0"},
		},
		{
			name:      "RelatedItemInputContent with none",
			in:        &api.CreateRelatedItemRequest{DomainId: str("d"), CaseId: str("c"), Type: new(api.RelatedItemType(api.RelatedItemTypeComment)), Content: &api.RelatedItemInputContent{}},
			wantCount: 1,
			wantSubs:  []string{"Value at 'content'", "exactly one of [comment, connectCase, contact, custom, file, sla] set, found 0"},
		},
	})
}

func TestValidateCountsAndCap(t *testing.T) {
	noIDs := make([]api.FieldIdentifier, 50)
	in := &api.BatchGetFieldRequest{DomainId: str("d"), Fields: noIDs}
	err := in.Validate()
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeValidationException {
		t.Fatalf("Validate() = %v, want a ValidationException", err)
	}
	if !strings.HasPrefix(ae.Message, "50 validation errors detected: ") {
		t.Errorf("message does not report all 50 errors: %q", ae.Message)
	}
	if n := strings.Count(ae.Message, "failed to satisfy constraint"); n != 10 {
		t.Errorf("message lists %d errors, want the cap of 10", n)
	}
	if !strings.Contains(ae.Message, "'fields[9].id'") || strings.Contains(ae.Message, "'fields[10].id'") {
		t.Errorf("message should list fields[0..9] in order and stop: %q", ae.Message)
	}
	if n := strings.Count(ae.Message, "; "); n != 9 {
		t.Errorf("messages should be joined by \"; \": found %d separators", n)
	}

	two := &api.CreateDomainRequest{Name: str(strings.Repeat("x", 100) + " ")}
	err = two.Validate()
	if !errors.As(err, &ae) {
		t.Fatalf("Validate() = %v", err)
	}
	if !strings.HasPrefix(ae.Message, "2 validation errors detected: ") {
		t.Errorf("two errors should be counted in the plural: %q", ae.Message)
	}
}

func TestValidateClipsHugeValues(t *testing.T) {
	// A value echoed into the message is clipped, so a 1 MB name cannot
	// become a 1 MB error response.
	huge := strings.Repeat("é", 500_000) + " "
	err := createDomain(huge).Validate()
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("Validate() = %v", err)
	}
	if len(ae.Message) > 2000 {
		t.Errorf("message is %d bytes; values should be clipped", len(ae.Message))
	}
	if !strings.Contains(ae.Message, "...") {
		t.Errorf("clipped value should end with ...: %q", ae.Message)
	}
}

func TestValidateEveryOperationZeroInput(t *testing.T) {
	// Every operation input must validate without panicking when empty, and
	// every input with a required member must say so.
	for _, op := range api.Operations {
		in := op.NewInput()
		err := in.Validate()
		if err == nil {
			continue
		}
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.CodeValidationException {
			t.Errorf("%s: Validate() on the zero input = %v, want nil or a ValidationException", op.Name, err)
			continue
		}
		if !strings.Contains(ae.Message, "Member must not be null") {
			t.Errorf("%s: zero input should only miss required members: %q", op.Name, ae.Message)
		}
	}
}
