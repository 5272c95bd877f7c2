package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/events"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/store/storetest"
)

// Case events end to end: the Go SDK drives cases and the poll endpoint
// must show exactly the events EVENTS.md describes. Helpers carry an ev
// prefix.

// evEngines runs fn on every store engine, PostgreSQL when one answers.
func evEngines(t *testing.T, fn func(t *testing.T, engine servertest.Option)) {
	engines := []struct {
		name string
		opt  func(t *testing.T) servertest.Option
	}{
		{"memory", func(t *testing.T) servertest.Option {
			return servertest.WithConfig(func(c *server.Config) { c.Memory, c.StoreURL = true, "" })
		}},
		{"sqlite", func(t *testing.T) servertest.Option {
			dir := t.TempDir()
			return servertest.WithConfig(func(c *server.Config) { c.Memory, c.StoreURL, c.DataDir = false, "", dir })
		}},
		{"postgres", func(t *testing.T) servertest.Option {
			db := storetest.PostgresURL(t)
			url := storetest.WithSchema(db, storetest.PostgresSchema(t, db))
			return servertest.WithConfig(func(c *server.Config) { c.Memory, c.StoreURL = false, url })
		}},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { fn(t, e.opt(t)) })
	}
}

// evPoll reads every event of domain past after, without waiting.
func evPoll(t *testing.T, srv *server.Server, domain, after string) ([]map[string]any, string) {
	t.Helper()
	return evPollClient(t, admin.NewClient(srv.URL()), domain, after)
}

// evPollClient reads every event past after, a page at a time, decoded.
func evPollClient(t *testing.T, c *admin.Client, domain, after string) ([]map[string]any, string) {
	t.Helper()
	var out []map[string]any
	for {
		page, err := c.Events(t.Context(), admin.EventQuery{After: after, DomainID: domain, Limit: 500})
		if err != nil {
			t.Fatalf("events: %v", err)
		}
		for _, raw := range page.Events {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("event %s: %v", raw, err)
			}
			out = append(out, m)
		}
		if page.Cursor == after || len(page.Events) == 0 {
			return out, page.Cursor
		}
		after = page.Cursor
	}
}

func evTypes(evs []map[string]any) []string {
	var out []string
	for _, e := range evs {
		out = append(out, evAt(e, "detail", "eventType").(string))
	}
	return out
}

// evAt walks m by keys; nil when a key is missing.
func evAt(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func evJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func evConfigure(t *testing.T, e *sdkcEnv, content bool, fields ...string) {
	t.Helper()
	ids := []types.FieldIdentifier{}
	for _, f := range fields {
		ids = append(ids, types.FieldIdentifier{Id: aws.String(f)})
	}
	_, err := e.c.PutCaseEventConfiguration(e.ctx, &connectcases.PutCaseEventConfigurationInput{
		DomainId: e.domain, EventBridge: &types.EventBridgeConfiguration{
			Enabled: aws.Bool(true),
			IncludedData: &types.EventIncludedData{
				CaseData:        &types.CaseEventIncludedData{Fields: ids},
				RelatedItemData: &types.RelatedItemEventIncludedData{IncludeContent: aws.Bool(content)},
			},
		},
	})
	if err != nil {
		t.Fatalf("PutCaseEventConfiguration: %v", err)
	}
}

func TestEventsFollowTheCaseLifecycle(t *testing.T) {
	evEngines(t, func(t *testing.T, engine servertest.Option) {
		e := sdkcSetup(t, engine)
		// Nothing is published before the configuration is enabled.
		before := e.create()
		if evs, _ := evPoll(t, e.srv, *e.domain, ""); len(evs) != 0 {
			t.Fatalf("events before any configuration: %v", evTypes(evs))
		}
		evConfigure(t, e, true, "status", "title", e.amount, e.notes)
		account, region := e.srv.Config().Account, e.srv.Config().Region
		domainARN := fmt.Sprintf("arn:aws:cases:%s:%s:domain/%s", region, account, *e.domain)

		c := must[*connectcases.CreateCaseOutput](t)(e.c.CreateCase(e.ctx, &connectcases.CreateCaseInput{
			DomainId: e.domain, TemplateId: aws.String(e.tpl),
			Fields:      e.fieldsWith(sdkcN(e.amount, 42.5)),
			PerformedBy: &types.UserUnionMemberUserArn{Value: sdkcUser},
		}))
		// Rejected: notes are required while the priority is high.
		if err := e.update(*c.CaseId, sdkcS(e.prio, "high")); err == nil {
			t.Fatal("an update breaking a case rule succeeded")
		}
		_, err := e.c.UpdateCase(e.ctx, &connectcases.UpdateCaseInput{
			DomainId: e.domain, CaseId: c.CaseId, Fields: []types.FieldValue{sdkcS("status", "closed"), sdkcE(e.amount)},
			PerformedBy: &types.UserUnionMemberCustomEntity{Value: "rule-engine"},
		})
		if err != nil {
			t.Fatal(err)
		}
		// An update that changes nothing publishes nothing (EVENTS.md §3.1).
		e.mustUpdate(*c.CaseId, sdkcS("status", "closed"))
		item := e.mustRelate(*c.CaseId, types.RelatedItemTypeComment, &types.RelatedItemInputContentMemberComment{
			Value: types.CommentContent{Body: aws.String("customer called back"), ContentType: types.CommentBodyTextTypePlaintext},
		})
		must[*connectcases.DeleteCaseOutput](t)(e.c.DeleteCase(e.ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: c.CaseId}))
		must[*connectcases.DeleteCaseOutput](t)(e.c.DeleteCase(e.ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: before.CaseId}))

		evs, _ := evPoll(t, e.srv, *e.domain, "")
		want := []string{"CASE.CREATED", "CASE.UPDATED", "RELATED_ITEM.CREATED", "CASE.DELETED", "CASE.DELETED"}
		if got := evTypes(evs); !reflect.DeepEqual(got, want) {
			t.Fatalf("event types = %v, want %v", got, want)
		}
		ids := map[string]bool{}
		for i, ev := range evs {
			for k, want := range map[string]any{"version": "0", "detail-type": "Amazon Connect Cases Change", "source": "aws.cases", "account": account, "region": region} {
				if ev[k] != want {
					t.Errorf("event %d: %s = %v, want %v", i, k, ev[k], want)
				}
			}
			id, _ := ev["id"].(string)
			if len(id) != 36 || ids[id] {
				t.Errorf("event %d: id %q is not a fresh UUID", i, id)
			}
			ids[id] = true
			tm, err := time.Parse(time.RFC3339, ev["time"].(string))
			change, err2 := time.Parse(time.RFC3339Nano, evAt(ev, "detail", "approximateChangeTime").(string))
			if err != nil || err2 != nil || tm.Before(change) || tm.Nanosecond() != 0 {
				t.Errorf("event %d: time %v and approximateChangeTime %v: want whole seconds, not before the change", i, ev["time"], evAt(ev, "detail", "approximateChangeTime"))
			}
			if evAt(ev, "detail", "version") != "0" || evAt(ev, "detail", "performedBy", "iamPrincipalArn") == nil {
				t.Errorf("event %d: detail %s lacks version or performedBy.iamPrincipalArn", i, evJSON(ev["detail"]))
			}
		}
		caseARN := domainARN + "/case/" + *c.CaseId
		created, updated, related, deleted := evs[0], evs[1], evs[2], evs[3]
		if got := evJSON(created["resources"]); got != evJSON([]string{domainARN, caseARN}) {
			t.Errorf("resources = %s", got)
		}
		if got := evJSON(evAt(created, "detail", "case", "fields")); got != evJSON(map[string]any{
			"status": map[string]any{"value": map[string]any{"stringValue": "open"}},
			"title":  map[string]any{"value": map[string]any{"stringValue": "a case"}},
			e.amount: map[string]any{"value": map[string]any{"doubleValue": 42.5}},
		}) {
			t.Errorf("CASE.CREATED fields = %s", got)
		}
		if got := evJSON(evAt(created, "detail", "performedBy", "user")); got != evJSON(map[string]string{"userArn": sdkcUser}) {
			t.Errorf("CASE.CREATED performedBy.user = %s", got)
		}
		if got := evAt(created, "detail", "case", "caseId"); got != *c.CaseId {
			t.Errorf("caseId = %v", got)
		}
		// Changed: the two the request named, in its order, then the side
		// effects; last_updated_user goes, as a custom entity made the change.
		if got, want := evJSON(evAt(updated, "detail", "changedFieldIds")), evJSON([]string{"status", e.amount, "last_closed_datetime", "last_updated_datetime", "last_updated_user"}); got != want {
			t.Errorf("CASE.UPDATED changedFieldIds = %s, want %s", got, want)
		}
		if got := evJSON(evAt(updated, "detail", "case", "fields")); got != evJSON(map[string]any{
			"status": map[string]any{"value": map[string]any{"stringValue": "closed"}},
			"title":  map[string]any{"value": map[string]any{"stringValue": "a case"}},
		}) {
			t.Errorf("CASE.UPDATED fields = %s (a cleared field is absent)", got)
		}
		if got := evJSON(evAt(updated, "detail", "performedBy", "user")); got != evJSON(map[string]string{"customEntity": "rule-engine"}) {
			t.Errorf("CASE.UPDATED performedBy.user = %s", got)
		}
		if got := evJSON(related["resources"]); got != evJSON([]string{domainARN, *item.RelatedItemArn}) {
			t.Errorf("related-item resources = %s", got)
		}
		if evAt(related, "detail", "case") != nil || evAt(related, "detail", "changedFieldIds") != nil {
			t.Errorf("a related-item event carries case data: %s", evJSON(related["detail"]))
		}
		if got := evJSON(evAt(related, "detail", "changedAttributes")); got != `["comment.commentText"]` {
			t.Errorf("changedAttributes = %s", got)
		}
		ri := evAt(related, "detail", "relatedItem")
		for k, want := range map[string]any{"relatedItemType": "Comment", "relatedItemId": *item.RelatedItemId, "caseId": *c.CaseId} {
			if got := evAt(ri, k); got != want {
				t.Errorf("relatedItem.%s = %v, want %v", k, got, want)
			}
		}
		if got := evJSON(evAt(ri, "comment")); got != `{"body":"customer called back","contentType":"Text/Plain"}` {
			t.Errorf("relatedItem.comment = %s", got)
		}
		if got := evJSON(evAt(deleted, "detail", "changedFieldIds")); got != "[]" {
			t.Errorf("CASE.DELETED changedFieldIds = %s", got)
		}
		if got := evAt(deleted, "detail", "case", "fields", "status", "value", "stringValue"); got != "closed" {
			t.Errorf("CASE.DELETED carries status %v, want the last value", got)
		}
		if evAt(deleted, "detail", "performedBy", "user") != nil {
			t.Errorf("CASE.DELETED names a user, but DeleteCase takes none: %s", evJSON(evAt(deleted, "detail", "performedBy")))
		}

		// Another domain's events stay out of this one's poll, and the
		// unfiltered poll holds both.
		od := must[*connectcases.CreateDomainOutput](t)(e.c.CreateDomain(e.ctx, &connectcases.CreateDomainInput{Name: aws.String("other")}))
		other := od.DomainId
		must[*connectcases.PutCaseEventConfigurationOutput](t)(e.c.PutCaseEventConfiguration(e.ctx, &connectcases.PutCaseEventConfigurationInput{
			DomainId: other, EventBridge: &types.EventBridgeConfiguration{Enabled: aws.Bool(true)}}))
		tpl := must[*connectcases.CreateTemplateOutput](t)(e.c.CreateTemplate(e.ctx, &connectcases.CreateTemplateInput{DomainId: other, Name: aws.String("t")}))
		oc := must[*connectcases.CreateCaseOutput](t)(e.c.CreateCase(e.ctx, &connectcases.CreateCaseInput{
			DomainId: other, TemplateId: tpl.TemplateId, Fields: []types.FieldValue{sdkcS("title", "x")}}))
		if evs, _ := evPoll(t, e.srv, *e.domain, ""); len(evs) != 5 {
			t.Errorf("the first domain has %d events after the second's case", len(evs))
		}
		oevs, _ := evPoll(t, e.srv, *other, "")
		if len(oevs) != 1 || evAt(oevs[0], "detail", "case", "caseId") != *oc.CaseId {
			t.Fatalf("the second domain's events: %v", oevs)
		}
		// Metadata only without includedData (EVENTS.md §2.5).
		if f := evAt(oevs[0], "detail", "case"); evAt(f, "fields") != nil || evAt(f, "templateId") != *tpl.TemplateId || evAt(f, "createdDateTime") == nil {
			t.Errorf("metadata-only case = %s", evJSON(f))
		}
		if all, _ := evPoll(t, e.srv, "", ""); len(all) != 6 {
			t.Errorf("the unfiltered poll has %d events, want 6", len(all))
		}
	})
}

// TestEventsOptions: the switches for what the spec leaves open.
func TestEventsOptions(t *testing.T) {
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.RelatedItemChanges = true
		c.Events.NoopUpdates = true
		c.Events.BareDeletes = true
		c.Events.CaseARN = true
		c.Events.FilterChangedFields = true
		c.Events.RelatedItemDeletedType = "CASE.RELATED_ITEM.DELETED"
	}))
	evConfigure(t, e, false, "status")
	c := e.create()
	e.mustUpdate(*c.CaseId, sdkcS(e.notes, "n"))
	item := e.mustRelate(*c.CaseId, types.RelatedItemTypeComment, &types.RelatedItemInputContentMemberComment{
		Value: types.CommentContent{Body: aws.String("one"), ContentType: types.CommentBodyTextTypePlaintext}})
	must[*connectcases.UpdateRelatedItemOutput](t)(e.c.UpdateRelatedItem(e.ctx, &connectcases.UpdateRelatedItemInput{
		DomainId: e.domain, CaseId: c.CaseId, RelatedItemId: item.RelatedItemId,
		Content: &types.RelatedItemUpdateContentMemberComment{Value: types.CommentUpdateContent{Body: aws.String("two"), ContentType: types.CommentBodyTextTypePlaintext}},
	}))
	must[*connectcases.DeleteRelatedItemOutput](t)(e.c.DeleteRelatedItem(e.ctx, &connectcases.DeleteRelatedItemInput{DomainId: e.domain, CaseId: c.CaseId, RelatedItemId: item.RelatedItemId}))
	must[*connectcases.DeleteCaseOutput](t)(e.c.DeleteCase(e.ctx, &connectcases.DeleteCaseInput{DomainId: e.domain, CaseId: c.CaseId}))
	evs, _ := evPoll(t, e.srv, *e.domain, "")
	want := []string{"CASE.CREATED", "CASE.UPDATED", "RELATED_ITEM.CREATED", "RELATED_ITEM.UPDATED", "CASE.RELATED_ITEM.DELETED", "CASE.DELETED"}
	if got := evTypes(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("event types = %v, want %v", got, want)
	}
	if got := evJSON(evAt(evs[0], "detail", "changedFieldIds")); got != `["status"]` {
		t.Errorf("filtered changedFieldIds = %s", got)
	}
	if got := evJSON(evAt(evs[1], "detail", "changedFieldIds")); got != `[]` {
		t.Errorf("a no-op update's changedFieldIds = %s (notes are not configured)", got)
	}
	if evAt(evs[0], "detail", "case", "caseArn") != *c.CaseArn {
		t.Errorf("caseArn = %v", evAt(evs[0], "detail", "case", "caseArn"))
	}
	if evAt(evs[2], "detail", "relatedItem", "comment") != nil {
		t.Errorf("content without includeContent: %s", evJSON(evs[2]["detail"]))
	}
	if got := evJSON(evAt(evs[5], "detail", "case", "fields")); got != "{}" {
		t.Errorf("a bare CASE.DELETED has fields %s", got)
	}
}

func evGet(t *testing.T, srv *server.Server, query string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+events.Path+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestEventsEndpointRefusesBadQueries(t *testing.T) {
	srv := servertest.MustOpen(t)
	tests := []struct{ query, want string }{
		{"?wait=21", "wait is a number of seconds from 0 to 20"},
		{"?wait=-1", "wait is a number of seconds"},
		{"?wait=soon", "wait is a number of seconds"},
		{"?wait=NaN", "wait is a number of seconds"},
		{"?after=abc", "abc\\\" is not one this server gave out"},
		{"?after=-3", "is not one this server gave out"},
		{"?after=007", "is not one this server gave out"},
		{"?limit=0", "limit is a whole number from 1 to 1000"},
		{"?limit=5000", "limit is a whole number"},
		{"?domain=d-1", "unknown parameter \\\"domain\\\""},
		{"?after=1&after=2", "parameter after is given 2 times"},
	}
	for _, tt := range tests {
		status, body := evGet(t, srv, tt.query, nil)
		if status != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d %s, want 400 with %q", tt.query, status, body, tt.want)
		}
	}
	if status, body := evGet(t, srv, "?wait=0.5&limit=10", nil); status != http.StatusOK || body != "{\"events\":[],\"cursor\":\"0\"}\n" {
		t.Errorf("an empty outbox answers %d %s", status, body)
	}
	status, body := evGet(t, srv, "", http.Header{"Accept": {"text/event-stream"}, "Last-Event-Id": {"x"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "Last-Event-ID") {
		t.Errorf("a bad Last-Event-ID answers %d %s", status, body)
	}
}

// TestEventsEndpointIsAdminOnly: with an admin token the events, which
// carry case data, need it like every other control-plane call.
func TestEventsEndpointIsAdminOnly(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.AdminToken = "s3cret" }))
	if status, _ := evGet(t, srv, "", nil); status != http.StatusForbidden {
		t.Errorf("without the token: %d, want 403", status)
	}
	if status, _ := evGet(t, srv, "", http.Header{"Authorization": {"Bearer s3cret"}}); status != http.StatusOK {
		t.Errorf("with the token: %d, want 200", status)
	}
}

// TestEventsLongPollWakesOnCommit: a poll waiting for the next event
// answers with it once the change commits. (That the notifier, not the
// recheck, wakes it is held by the events package's own tests.)
func TestEventsLongPollWakesOnCommit(t *testing.T) {
	e := sdkcSetup(t)
	evConfigure(t, e, false)
	_, cursor := evPoll(t, e.srv, *e.domain, "")
	type answer struct {
		page events.Page
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		page, err := admin.NewClient(e.srv.URL()).Events(e.ctx, admin.EventQuery{After: cursor, DomainID: *e.domain, Wait: 20 * time.Second})
		got <- answer{page, err}
	}()
	// The poll must be waiting before the change, or it proves nothing;
	// if the create races ahead, the poll still returns it at once.
	time.Sleep(100 * time.Millisecond)
	c := e.create()
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if len(a.page.Events) != 1 || !strings.Contains(string(a.page.Events[0]), *c.CaseId) {
		t.Fatalf("the long poll answered %s", a.page.Events)
	}
	// The cursor continues after the event: the next poll is empty.
	if evs, _ := evPoll(t, e.srv, *e.domain, a.page.Cursor); len(evs) != 0 {
		t.Errorf("after the cursor: %v", evTypes(evs))
	}
}

// evStream opens the SSE stream and returns a reader of (id, data) pairs.
func evStream(t *testing.T, ctx context.Context, srv *server.Server, query, lastID string) func() (string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+events.Path+query, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return func() (string, string) {
		t.Helper()
		var id, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && data != "":
				return id, data
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return "", ""
	}
}

func TestEventsStream(t *testing.T) {
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {}))
	evConfigure(t, e, false)
	first := e.create()
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	next := evStream(t, ctx, e.srv, "?domainId="+*e.domain, "")
	id1, data := next()
	if !strings.Contains(data, *first.CaseId) || !strings.Contains(data, "CASE.CREATED") {
		t.Fatalf("first streamed event: %s", data)
	}
	second := e.create()
	id2, data := next()
	if !strings.Contains(data, *second.CaseId) {
		t.Fatalf("second streamed event: %s", data)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(data), &env); err != nil {
		t.Fatalf("streamed data is not one JSON envelope: %v", err)
	}
	// Resuming with Last-Event-ID starts after that event.
	resumed := evStream(t, ctx, e.srv, "?domainId="+*e.domain, id1)
	if id, data := resumed(); id != id2 || !strings.Contains(data, *second.CaseId) {
		t.Errorf("resumed after %s: got %s %s, want %s", id1, id, data, id2)
	}
	// The cursors are the poll endpoint's: polling after id1 gives the second.
	if evs, _ := evPoll(t, e.srv, *e.domain, id1); len(evs) != 1 || evAt(evs[0], "detail", "case", "caseId") != *second.CaseId {
		t.Errorf("poll after the stream's id: %v", evs)
	}
}

// TestEventsStreamKeepalive: a quiet stream sends comments, so proxies and
// clients can tell it from a dead one.
func TestEventsStreamKeepalive(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.StreamKeepalive = events.Duration(10 * time.Millisecond)
	}))
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+events.Path, nil)
	req.Header.Set("Accept", "text/event-stream")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == ": keepalive" {
			return
		}
	}
	t.Fatalf("no keepalive comment: %v", sc.Err())
}

// TestEventsRetention: the outbox keeps the newest RetainCount events, and
// an empty cursor starts at the oldest kept.
func TestEventsRetention(t *testing.T) {
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.RetainCount = 3
		c.Events.TrimInterval = events.Duration(20 * time.Millisecond)
	}))
	evConfigure(t, e, false)
	var cases []string
	for range 6 {
		cases = append(cases, *e.create().CaseId)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, _ := evPoll(t, e.srv, *e.domain, "")
		if len(evs) == 3 {
			for i, ev := range evs {
				if got := evAt(ev, "detail", "case", "caseId"); got != cases[3+i] {
					t.Errorf("kept event %d is for %v, want %s", i, got, cases[3+i])
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox still holds %d events, want 3", len(evs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEventsEndWhenTheServerStops: a waiting poll and an open stream do not
// hold a shutdown to its deadline.
func TestEventsEndWhenTheServerStops(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.Memory = "127.0.0.1:0", true
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	polled := make(chan error, 1)
	go func() {
		_, err := admin.NewClient(srv.URL()).Events(context.Background(), admin.EventQuery{Wait: 20 * time.Second})
		polled <- err
	}()
	next := make(chan struct{})
	go func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+events.Path, nil)
		req.Header.Set("Accept", "text/event-stream")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			close(next)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-next
	// Give the poll time to reach its wait; if it has not, Close refuses
	// its connection instead, which the end of the test allows.
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Error("Close waited until its deadline for a poll and a stream")
	}
	if err := <-polled; err != nil && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "refused") {
		t.Errorf("the waiting poll ended with %v, want an empty answer", err)
	}
}

// TestEventsAcrossPostgreSQLServers: two servers on one database share one
// outbox; a poll waiting on one answers with a change committed through
// the other, whose notifier it never hears.
func TestEventsAcrossPostgreSQLServers(t *testing.T) {
	u := storetest.PostgresURL(t)
	storeURL := storetest.WithSchema(u, storetest.PostgresSchema(t, u))
	shared := servertest.WithConfig(func(c *server.Config) { c.Memory, c.StoreURL = false, storeURL })
	srvA := servertest.MustOpen(t, shared)
	e := sdkcSetup(t, shared) // the changes go through a second server
	evConfigure(t, e, false)
	_, cursor := evPoll(t, srvA, *e.domain, "")
	got := make(chan events.Page, 1)
	go func() {
		page, err := admin.NewClient(srvA.URL()).Events(e.ctx, admin.EventQuery{After: cursor, DomainID: *e.domain, Wait: 20 * time.Second})
		if err != nil {
			t.Error(err)
		}
		got <- page
	}()
	time.Sleep(100 * time.Millisecond) // let the poll wait first; the test holds either way
	c := e.create()
	page := <-got
	if len(page.Events) != 1 || !strings.Contains(string(page.Events[0]), *c.CaseId) {
		t.Fatalf("the poll on the other server answered %s", page.Events)
	}
}

// TestEventsSLAMet: with related-item changes on, an update that meets an
// SLA publishes the SLA item's change, after the case's.
func TestEventsSLAMet(t *testing.T) {
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) { c.Events.RelatedItemChanges = true }))
	evConfigure(t, e, true)
	c := e.create()
	sla := e.mustRelate(*c.CaseId, types.RelatedItemTypeSla, &types.RelatedItemInputContentMemberSla{Value: &types.SlaInputContentMemberSlaInputConfiguration{Value: types.SlaInputConfiguration{
		Name: aws.String("close in an hour"), Type: types.SlaTypeCaseField, FieldId: aws.String("status"),
		TargetFieldValues: []types.FieldValueUnion{&types.FieldValueUnionMemberStringValue{Value: "closed"}}, TargetSlaMinutes: aws.Int64(60),
	}}})
	e.mustUpdate(*c.CaseId, sdkcS("status", "closed"))
	evs, _ := evPoll(t, e.srv, *e.domain, "")
	want := []string{"CASE.CREATED", "RELATED_ITEM.CREATED", "CASE.UPDATED", "RELATED_ITEM.UPDATED"}
	if got := evTypes(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("event types = %v, want %v", got, want)
	}
	if got := evAt(evs[1], "detail", "relatedItem", "sla", "slaConfiguration", "status"); got != "Active" {
		t.Errorf("the new SLA's status = %v", got)
	}
	met := evAt(evs[3], "detail", "relatedItem")
	if evAt(met, "relatedItemId") != *sla.RelatedItemId || evAt(met, "sla", "slaConfiguration", "status") != "Met" || evAt(met, "sla", "slaConfiguration", "completionTime") == nil {
		t.Errorf("the met SLA's event: %s", evJSON(met))
	}
}
