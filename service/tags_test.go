package service_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
)

const cpARNPrefix = "arn:aws:cases:us-east-1:000000000000:"

// cpPutCase writes a case and one related item the way the cases plane
// stores them, so the tag operations can be tested without it.
func cpPutCase(t *testing.T, s *service.Service, domainID, caseID, itemID string) {
	t.Helper()
	err := s.Store().Update(context.Background(), func(tx localcases.Tx) error {
		c := localcases.Case{
			ID: caseID, ARN: cpARNPrefix + "domain/" + domainID + "/case/" + caseID, TemplateID: "tmpl",
			Fields:  map[string]localcases.Value{"title": {Kind: localcases.ValueString, S: "hello"}},
			Tags:    map[string]string{"from": "create"},
			Version: 7,
		}
		if err := tx.Put(localcases.Cases, domainID, caseID, &c); err != nil {
			return err
		}
		ri := localcases.RelatedItem{
			ID: itemID, CaseID: caseID, Type: "Comment",
			ARN:     c.ARN + "/related-item/" + itemID,
			Content: json.RawMessage(`{"comment":{"body":"hi","contentType":"Text/Plain"}}`),
		}
		return tx.Put(localcases.RelatedItems, domainID+"/"+caseID, itemID, &ri)
	})
	if err != nil {
		t.Fatalf("put case: %v", err)
	}
}

func cpListTags(t *testing.T, s *service.Service, arn string) map[string]string {
	t.Helper()
	out, err := s.ListTagsForResource(context.Background(), &api.ListTagsForResourceRequest{Arn: &arn})
	cpOK(t, err)
	if out.Tags == nil {
		t.Fatal("ListTagsForResource tags is nil, want a map")
	}
	m := map[string]string{}
	for k, v := range out.Tags {
		m[k] = *v
	}
	return m
}

func TestTagsOnEveryResourceType(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	f := cpField(t, s, d, "F", api.FieldTypeText)
	l := cpLayoutID(t, s, d, "L")
	r := cpRequiredRule(t, s, d, "R")
	tm, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("T")})
	cpOK(t, err)
	cpPutCase(t, s, d, "case-1", "item-1")
	dom := cpARNPrefix + "domain/" + d

	tests := []struct {
		name    string
		arn     string
		initial map[string]string
	}{
		{"domain", dom, map[string]string{}},
		{"custom field", dom + "/field/" + f, map[string]string{}},
		{"system field", dom + "/field/title", map[string]string{}},
		{"layout", dom + "/layout/" + l, map[string]string{}},
		{"template", dom + "/template/" + *tm.TemplateId, map[string]string{}},
		{"case rule", dom + "/case-rule/" + r, map[string]string{}},
		{"case", dom + "/case/case-1", map[string]string{"from": "create"}},
		{"related item", dom + "/case/case-1/related-item/item-1", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cpListTags(t, s, tc.arn); !reflect.DeepEqual(got, tc.initial) {
				t.Fatalf("initial tags = %v, want %v", got, tc.initial)
			}
			in := &api.TagResourceRequest{Arn: &tc.arn, Tags: map[string]*string{"team": api.String("blue"), "env": api.String("dev"), "blank": nil}}
			cpValid(t, in)
			cpOK(t, s.TagResource(ctx, in))
			want := map[string]string{"team": "blue", "env": "dev", "blank": ""}
			for k, v := range tc.initial {
				want[k] = v
			}
			if got := cpListTags(t, s, tc.arn); !reflect.DeepEqual(got, want) {
				t.Fatalf("after TagResource = %v, want %v", got, want)
			}
			// Overwrite one, untag another plus one that was never there.
			cpOK(t, s.TagResource(ctx, &api.TagResourceRequest{Arn: &tc.arn, Tags: map[string]*string{"team": api.String("red")}}))
			un := &api.UntagResourceRequest{Arn: &tc.arn, TagKeys: []string{"env", "never"}}
			cpValid(t, un)
			cpOK(t, s.UntagResource(ctx, un))
			want["team"] = "red"
			delete(want, "env")
			if got := cpListTags(t, s, tc.arn); !reflect.DeepEqual(got, want) {
				t.Fatalf("after update and untag = %v, want %v", got, want)
			}
		})
	}

	// The tags live on the records the other operations read.
	gd, err := s.GetDomain(ctx, &api.GetDomainRequest{DomainId: &d})
	cpOK(t, err)
	if gd.Tags["team"] == nil || *gd.Tags["team"] != "red" {
		t.Errorf("GetDomain tags = %v", gd.Tags)
	}
	gl, err := s.GetLayout(ctx, &api.GetLayoutRequest{DomainId: &d, LayoutId: &l})
	cpOK(t, err)
	if gl.Tags["team"] == nil || *gl.Tags["team"] != "red" {
		t.Errorf("GetLayout tags = %v", gl.Tags)
	}
	// Writing tags back keeps the rest of the case record.
	var c localcases.Case
	cpOK(t, s.Store().View(ctx, func(tx localcases.Tx) error { return tx.Get(localcases.Cases, d, "case-1", &c) }))
	if c.Version != 7 || c.TemplateID != "tmpl" || c.Fields["title"].S != "hello" {
		t.Errorf("case record after tagging = %+v", c)
	}
}

func TestTagErrors(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	cpPutCase(t, s, d, "case-1", "item-1")
	dom := cpARNPrefix + "domain/" + d

	tests := []struct {
		name     string
		arn      string
		want     api.ErrorCode
		resource string // ResourceNotFoundException resourceType
	}{
		{"not an arn", "domain/" + d, api.CodeValidationException, ""},
		{"too few parts", "arn:aws:cases:us-east-1:000000000000", api.CodeValidationException, ""},
		{"other partition", "arn:aws-cn:cases:us-east-1:000000000000:domain/" + d, api.CodeValidationException, ""},
		{"other service", "arn:aws:connect:us-east-1:000000000000:domain/" + d, api.CodeValidationException, ""},
		{"other region", "arn:aws:cases:eu-west-1:000000000000:domain/" + d, api.CodeValidationException, ""},
		{"other account", "arn:aws:cases:us-east-1:111111111111:domain/" + d, api.CodeValidationException, ""},
		{"not a domain", cpARNPrefix + "instance/" + d, api.CodeValidationException, ""},
		{"no domain id", cpARNPrefix + "domain/", api.CodeValidationException, ""},
		{"unknown type", dom + "/queue/q", api.CodeValidationException, ""},
		{"missing id", dom + "/field", api.CodeValidationException, ""},
		{"empty segment", dom + "//field/title", api.CodeValidationException, ""},
		{"trailing slash", dom + "/field/title/", api.CodeValidationException, ""},
		{"bad related-item path", dom + "/case/case-1/comment/item-1", api.CodeValidationException, ""},
		{"too long a path", dom + "/case/case-1/related-item/item-1/x", api.CodeValidationException, ""},
		{"unknown domain", cpARNPrefix + "domain/nd", api.CodeResourceNotFoundException, "Domain"},
		{"field in unknown domain", cpARNPrefix + "domain/nd/field/title", api.CodeResourceNotFoundException, "Domain"},
		{"unknown field", dom + "/field/nope", api.CodeResourceNotFoundException, "Field"},
		{"unknown layout", dom + "/layout/nope", api.CodeResourceNotFoundException, "Layout"},
		{"unknown template", dom + "/template/nope", api.CodeResourceNotFoundException, "Template"},
		{"unknown case rule", dom + "/case-rule/nope", api.CodeResourceNotFoundException, "CaseRule"},
		{"unknown case", dom + "/case/nope", api.CodeResourceNotFoundException, "Case"},
		{"item of unknown case", dom + "/case/nope/related-item/item-1", api.CodeResourceNotFoundException, "Case"},
		{"unknown related item", dom + "/case/case-1/related-item/nope", api.CodeResourceNotFoundException, "RelatedItem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if got := cpCode(err); got != tc.want {
					t.Fatalf("%s: error %v, want code %s", op, err, tc.want)
				}
				if tc.resource != "" {
					e := err.(*api.Error)
					if e.ResourceType != tc.resource || e.ResourceID != tc.arn {
						t.Errorf("%s: resourceType %q resourceId %q, want %q and the ARN", op, e.ResourceType, e.ResourceID, tc.resource)
					}
				}
			}
			check("TagResource", s.TagResource(ctx, &api.TagResourceRequest{Arn: &tc.arn, Tags: map[string]*string{"k": api.String("v")}}))
			check("UntagResource", s.UntagResource(ctx, &api.UntagResourceRequest{Arn: &tc.arn, TagKeys: []string{"k"}}))
			_, err := s.ListTagsForResource(ctx, &api.ListTagsForResourceRequest{Arn: &tc.arn})
			check("ListTagsForResource", err)
		})
	}

	reserved := []struct {
		name string
		tags map[string]*string
	}{
		{"aws: prefix", map[string]*string{"aws:team": api.String("x")}},
		{"AWS: prefix", map[string]*string{"ok": api.String("x"), "AWS:team": api.String("x")}},
		{"Aws: prefix, nil value", map[string]*string{"Aws:x": nil}},
		{"empty key", map[string]*string{"": api.String("x")}},
	}
	for _, tc := range reserved {
		t.Run(tc.name, func(t *testing.T) {
			in := &api.TagResourceRequest{Arn: &dom, Tags: tc.tags}
			cpValid(t, in)
			cpWant(t, s.TagResource(ctx, in), api.CodeValidationException)
		})
	}
	if got := cpListTags(t, s, dom); len(got) != 0 {
		t.Errorf("rejected TagResource calls left tags behind: %v", got)
	}

	// Deleted resources stay readable, so they stay taggable.
	l := cpLayoutID(t, s, d, "L")
	_, err := s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: &d, LayoutId: &l})
	cpOK(t, err)
	cpOK(t, s.TagResource(ctx, &api.TagResourceRequest{Arn: api.String(dom + "/layout/" + l), Tags: map[string]*string{"k": api.String("v")}}))
}
