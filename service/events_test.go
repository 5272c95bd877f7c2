package service

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/sqlite"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden event files under testdata/events")

// outboxEvents returns the envelopes in the service's outbox.
func (e *csEnv) outboxEvents() []json.RawMessage {
	e.t.Helper()
	var out []json.RawMessage
	err := e.s.store.View(e.ctx, func(tx localcases.Tx) error {
		evs, err := tx.ListEvents(0, "", 1000)
		for _, ev := range evs {
			out = append(out, ev.Data)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *csEnv) enableEvents(content bool, fields ...string) {
	e.t.Helper()
	ids := []api.FieldIdentifier{}
	for _, f := range fields {
		ids = append(ids, api.FieldIdentifier{Id: api.String(f)})
	}
	_, err := e.s.PutCaseEventConfiguration(e.ctx, &api.PutCaseEventConfigurationRequest{DomainId: &e.domain, EventBridge: &api.EventBridgeConfiguration{
		Enabled: api.Bool(true), IncludedData: &api.EventIncludedData{
			CaseData:        &api.CaseEventIncludedData{Fields: ids},
			RelatedItemData: &api.RelatedItemEventIncludedData{IncludeContent: api.Bool(content)},
		},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
}

var uuidPattern = regexp.MustCompile(`"id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`)

// TestEventEnvelopesGolden holds the envelopes of a case's whole life, with
// every field type and every related-item type, to testdata/events. IDs
// are replaced by names so the file is stable; rewrite it with -update.
func TestEventEnvelopesGolden(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	const user = "arn:aws:connect:us-east-1:123456789012:instance/i-1/user/u-7"
	names := map[string]string{e.domain: "DOMAIN", e.tpl: "TEMPLATE"}
	num := e.field("Amount", api.FieldTypeNumber)
	urgent := e.field("Urgent", api.FieldTypeBoolean)
	owner := e.field("Owner", api.FieldTypeUser)
	due := e.field("Due", api.FieldTypeDateTime)
	names[num], names[urgent], names[owner], names[due] = "FIELD-AMOUNT", "FIELD-URGENT", "FIELD-OWNER", "FIELD-DUE"
	e.enableEvents(true, "status", "title", num, urgent, owner, due, "created_datetime", "last_updated_user")

	c, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl,
		Fields:      []api.FieldValue{sv("title", "Shipment lost"), nv(num, 300), bv(urgent, true), uv(owner, user), sv(due, "2025-07-01T00:00:00.000Z")},
		PerformedBy: &api.UserUnion{UserArn: api.String(user)}})
	if err != nil {
		t.Fatal(err)
	}
	names[*c.CaseId] = "CASE"
	other := e.mustCase()
	names[other] = "OTHER-CASE"
	_, err = e.s.UpdateCase(e.ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: c.CaseId,
		Fields: []api.FieldValue{sv("status", "closed"), nv(num, 42.5), ev(urgent)}, PerformedBy: &api.UserUnion{UserArn: api.String(user)}})
	if err != nil {
		t.Fatal(err)
	}
	items := []struct {
		typ api.RelatedItemType
		in  api.RelatedItemInputContent
	}{
		{api.RelatedItemTypeComment, api.RelatedItemInputContent{Comment: &api.CommentContent{Body: api.String("customer called back"), ContentType: ptr(api.CommentBodyTextTypeTextPlain)}}},
		{api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String("arn:aws:connect:us-east-1:123456789012:instance/i-1/contact/c-1")}}},
		{api.RelatedItemTypeFile, api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:aws:connect:us-east-1:123456789012:instance/i-1/file/f-1")}}},
		{api.RelatedItemTypeConnectCase, api.RelatedItemInputContent{ConnectCase: &api.ConnectCaseInputContent{CaseId: &other}}},
		{api.RelatedItemTypeSla, api.RelatedItemInputContent{Sla: &api.SlaInputContent{SlaInputConfiguration: &api.SlaInputConfiguration{
			Name: api.String("First response"), Type: ptr(api.SlaTypeCaseField), FieldId: api.String("status"),
			TargetFieldValues: []api.FieldValueUnion{{StringValue: api.String("open")}}, TargetSlaMinutes: ptr(int64(60)),
		}}}},
	}
	for i, it := range items {
		id, err := e.relate(*c.CaseId, it.typ, it.in)
		if err != nil {
			t.Fatalf("CreateRelatedItem %s: %v", it.typ, err)
		}
		names[id] = fmt.Sprintf("ITEM-%d-%s", i+1, strings.ToUpper(string(it.typ)))
	}
	if _, err := e.s.DeleteCase(e.ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: c.CaseId}); err != nil {
		t.Fatal(err)
	}

	var all []json.RawMessage
	for i, raw := range e.outboxEvents() {
		s := string(raw)
		if !uuidPattern.MatchString(s) {
			t.Errorf("event %d has no UUIDv4 id: %s", i, s)
		}
		s = uuidPattern.ReplaceAllString(s, fmt.Sprintf(`"id":"EVENT-%d"`, i+1))
		if !strings.HasPrefix(s, `{"version":"0","id":`) || !strings.Contains(s, `"resources":[`) {
			t.Errorf("event %d does not keep the envelope's member order: %.80s", i, s)
		}
		for id, name := range names {
			s = strings.ReplaceAll(s, id, name)
		}
		// Re-encoded, so that objects keyed by field ID sort by the
		// names that replaced the random IDs.
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		all = append(all, mustJSON(v))
	}
	var got bytes.Buffer
	enc := json.NewEncoder(&got)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(all); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "events", "lifecycle.json")
	if *updateGolden {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("envelopes differ from %s (rerun with -update to accept):\n%s", path, got.String())
	}
}

func TestEventTimes(t *testing.T) {
	tests := []struct {
		at           time.Time
		envelope, ch string
	}{
		{time.Date(2024, 5, 1, 10, 0, 0, 412e6, time.UTC), "2024-05-01T10:00:01Z", "2024-05-01T10:00:00.412Z"},
		{time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"},
		{time.Date(2024, 12, 31, 23, 59, 59, 999e6, time.UTC), "2025-01-01T00:00:00Z", "2024-12-31T23:59:59.999Z"},
	}
	for _, tt := range tests {
		env, ch := eventTimes(tt.at)
		if env != tt.envelope || ch != tt.ch {
			t.Errorf("eventTimes(%v) = %s, %s; want %s, %s", tt.at, env, ch, tt.envelope, tt.ch)
		}
	}
}

func TestChangedFieldIDs(t *testing.T) {
	changed := func(ids ...string) []localcases.AuditField {
		var out []localcases.AuditField
		for _, id := range ids {
			out = append(out, localcases.AuditField{FieldID: id})
		}
		return out
	}
	tests := []struct {
		name    string
		named   []string
		changed []localcases.AuditField
		want    []string
	}{
		{"named first, then side effects sorted", []string{"status", "f-2"}, changed("f-2", "last_updated_datetime", "status"), []string{"status", "f-2", "last_updated_datetime"}},
		{"a named field that did not change is left out", []string{"title", "status"}, changed("last_updated_datetime", "status"), []string{"status", "last_updated_datetime"}},
		{"nothing changed", nil, nil, []string{}},
	}
	for _, tt := range tests {
		got := changedFieldIDs(tt.named, tt.changed)
		if csJSON(got) != csJSON(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRejectedChangesPublishNothing: refused writes leave no event.
func TestRejectedChangesPublishNothing(t *testing.T) {
	e := csNewEnv(t, Quotas{RelatedItemsPerCase: 1})
	e.enableEvents(false)
	id := e.mustCase()
	e.mustRelate(id, api.RelatedItemTypeComment, api.RelatedItemInputContent{Comment: &api.CommentContent{Body: api.String("one")}})
	if _, err := e.relate(id, api.RelatedItemTypeComment, api.RelatedItemInputContent{Comment: &api.CommentContent{Body: api.String("two")}}); err == nil {
		t.Fatal("a related item over the quota was accepted")
	}
	if err := e.update(id, sv("status", "no-such-option")); err == nil {
		t.Fatal("an invalid status was accepted")
	}
	if n := len(e.outboxEvents()); n != 2 {
		t.Errorf("outbox holds %d events, want 2 (the case and its first comment)", n)
	}
}

// TestDeleteDomainPublishesNothing: deleting a domain removes its cases
// without a CASE.DELETED for each (AWS documents no event for it; docs/EVENTS.md,
// "Choices where AWS documents nothing"), and the events already published for
// the domain stay in the outbox to be delivered.
func TestDeleteDomainPublishesNothing(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	e.enableEvents(false)
	e.mustCase()
	e.mustCase()
	before := len(e.outboxEvents())
	if before != 2 {
		t.Fatalf("outbox holds %d events before DeleteDomain, want 2", before)
	}
	if _, err := e.s.DeleteDomain(e.ctx, &api.DeleteDomainRequest{DomainId: &e.domain}); err != nil {
		t.Fatal(err)
	}
	after := e.outboxEvents()
	if len(after) != before {
		t.Fatalf("outbox holds %d events after DeleteDomain, want the %d from before", len(after), before)
	}
	for _, ev := range after {
		if bytes.Contains(ev, []byte(`CASE.DELETED`)) {
			t.Errorf("DeleteDomain published %s", ev)
		}
	}
}

// BenchmarkCreateCaseEvents is what publishing costs a CreateCase on the
// memory store (no I/O, so the relative cost is at its largest):
//
//	go test ./service -run '^$' -bench CreateCaseEvents -benchmem
//
// BenchmarkCreateCaseEventsSQLite is the same on the durable SQLite store,
// with 16 concurrent callers as the bench command's default, so that what
// publishing adds inside the store's one writer shows:
//
//	go test ./service -run '^$' -bench CreateCaseEventsSQLite -benchmem
func BenchmarkCreateCaseEvents(b *testing.B) {
	benchCreateCaseEvents(b, func(b *testing.B) localcases.Store { return memory.New() }, 1)
}

func BenchmarkCreateCaseEventsSQLite(b *testing.B) {
	benchCreateCaseEvents(b, func(b *testing.B) localcases.Store {
		st, err := sqlite.Open(context.Background(), b.TempDir(), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}, 16)
}

func benchCreateCaseEvents(b *testing.B, store func(*testing.B) localcases.Store, callers int) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("events=%v", on), func(b *testing.B) {
			e := csNewEnvOn(b, store(b), Quotas{})
			if on {
				ids := []api.FieldIdentifier{{Id: api.String("status")}, {Id: api.String("title")}}
				if _, err := e.s.PutCaseEventConfiguration(e.ctx, &api.PutCaseEventConfigurationRequest{DomainId: &e.domain,
					EventBridge: &api.EventBridgeConfiguration{Enabled: api.Bool(true), IncludedData: &api.EventIncludedData{
						CaseData: &api.CaseEventIncludedData{Fields: ids}}}}); err != nil {
					b.Fatal(err)
				}
			}
			in := &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl, Fields: []api.FieldValue{sv("title", "a case"), sv("summary", "the device does not power on")}}
			b.ReportAllocs()
			if callers == 1 {
				for b.Loop() {
					if _, err := e.s.CreateCase(e.ctx, in); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.s.CreateCase(e.ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
