package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/store/storetest"
)

var eventsKillRounds = flag.Int("events.rounds", 4, "kill -9 rounds in TestEventsSurviveKill9")

// TestEventsSurviveKill9 runs the real binary, drives case creates,
// updates and deletes through the Go SDK with events enabled, kills the
// process with SIGKILL at a random moment, restarts it on the same store,
// and holds the outbox to the state:
//
//   - every acknowledged change has its event (none lost);
//   - every case's events are the changes it went through, in order, and
//     the last one matches what the case holds now (none invented: an event
//     for a change that did not commit would disagree with the state);
//   - every case the store holds has its CASE.CREATED event.
//
// It runs on SQLite and, when one answers, PostgreSQL.
// killEngines are the durable engines a kill -9 test runs on: SQLite, and
// PostgreSQL in a schema of its own (skipped where none answers). Each gives
// the serve flags that open its store.
var killEngines = []struct {
	name  string
	store func(t *testing.T) []string
}{
	{"sqlite", func(t *testing.T) []string { return []string{"--data", filepath.Join(t.TempDir(), "data")} }},
	{"postgres", func(t *testing.T) []string {
		db := storetest.PostgresURL(t)
		return []string{"--store", storetest.WithSchema(db, storetest.PostgresSchema(t, db))}
	}},
}

func TestEventsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server repeatedly; skipped in -short mode")
	}
	bin := buildBinary(t)
	for _, e := range killEngines {
		t.Run(e.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--events.retain-count", "-1"}, e.store(t)...)
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, seed))
			l := &eventLedger{cases: map[string]*caseLedger{}}
			var domain, tpl string
			for round := range *eventsKillRounds + 1 {
				p := startProcess(t, bin, args...)
				c := servertest.Client(p.url)
				if round == 0 {
					domain, tpl = evKillSetup(t, c)
				}
				evKillVerify(t, c, p.url, domain, l, round)
				if t.Failed() {
					p.kill()
					t.Fatalf("round %d: events disagree with the state (server output:\n%s)", round, p.output())
				}
				if round == *eventsKillRounds {
					if err := p.stop(); err != nil {
						t.Errorf("graceful stop: %v", err)
					}
					break
				}
				killAfter := 50*time.Millisecond + time.Duration(rng.Int64N(int64(400*time.Millisecond)))
				n := evKillLoad(t, c, domain, tpl, l, round, p, killAfter)
				t.Logf("round %d: %d changes acknowledged before kill -9 at %v", round, n, killAfter)
			}
			created, updated, deleted := l.counts()
			t.Logf("verified %d creates, %d updates, %d deletes acknowledged over %d rounds", created, updated, deleted, *eventsKillRounds)
		})
	}
}

// caseLedger is what the clients know of one case: the titles they
// acknowledged in order (the create's first) and whether its deletion was
// acknowledged. attempted is every title sent, acknowledged or not.
type caseLedger struct {
	acked     []string
	attempted []string
	deleted   bool
}

type eventLedger struct {
	mu    sync.Mutex
	cases map[string]*caseLedger
}

func (l *eventLedger) counts() (created, updated, deleted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.cases {
		created++
		updated += len(c.acked) - 1
		if c.deleted {
			deleted++
		}
	}
	return
}

func evKillSetup(t *testing.T, c *connectcases.Client) (domain, tpl string) {
	ctx := t.Context()
	d := must[*connectcases.CreateDomainOutput](t)(c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("kill9-events")}))
	must[*connectcases.PutCaseEventConfigurationOutput](t)(c.PutCaseEventConfiguration(ctx, &connectcases.PutCaseEventConfigurationInput{
		DomainId: d.DomainId, EventBridge: &types.EventBridgeConfiguration{Enabled: aws.Bool(true), IncludedData: &types.EventIncludedData{
			CaseData: &types.CaseEventIncludedData{Fields: []types.FieldIdentifier{{Id: aws.String("title")}}}}}}))
	tp := must[*connectcases.CreateTemplateOutput](t)(c.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("t")}))
	return *d.DomainId, *tp.TemplateId
}

// evKillLoad runs workers that each create a case, update its title twice
// and delete every third, over and over, until the process is killed
// killAfter after the first acknowledgement. It returns the acknowledged
// changes.
func evKillLoad(t *testing.T, c *connectcases.Client, domain, tpl string, l *eventLedger, round int, p *process, killAfter time.Duration) int {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	acks := 0
	first := make(chan struct{})
	ack := func() {
		mu.Lock()
		if acks == 0 {
			close(first)
		}
		acks++
		mu.Unlock()
	}
	title := func(v string) []types.FieldValue {
		return []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: v}}}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("r%d-w%d-%d", round, w, i)
				out, err := c.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: &domain, TemplateId: &tpl, Fields: title(name + "-0")})
				if err != nil {
					return // the process is gone; a create that committed shows up unacknowledged
				}
				cl := &caseLedger{acked: []string{name + "-0"}, attempted: []string{name + "-0"}}
				l.mu.Lock()
				l.cases[*out.CaseId] = cl
				l.mu.Unlock()
				ack()
				for u := 1; u <= 2; u++ {
					v := fmt.Sprintf("%s-%d", name, u)
					l.mu.Lock()
					cl.attempted = append(cl.attempted, v)
					l.mu.Unlock()
					if _, err := c.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: &domain, CaseId: out.CaseId, Fields: title(v)}); err != nil {
						return
					}
					l.mu.Lock()
					cl.acked = append(cl.acked, v)
					l.mu.Unlock()
					ack()
				}
				if i%3 == 0 {
					if _, err := c.DeleteCase(ctx, &connectcases.DeleteCaseInput{DomainId: &domain, CaseId: out.CaseId}); err != nil {
						return
					}
					l.mu.Lock()
					cl.deleted = true
					l.mu.Unlock()
					ack()
				}
			}
		})
	}
	select {
	case <-first:
	case <-time.After(2 * time.Minute):
		t.Errorf("no change acknowledged within 2 minutes (output:\n%s)", p.output())
	}
	time.Sleep(killAfter)
	p.kill()
	cancel()
	wg.Wait()
	return acks
}

func evKillVerify(t *testing.T, c *connectcases.Client, url, domain string, l *eventLedger, round int) {
	t.Helper()
	ctx := t.Context()
	type caseEvents struct {
		types  []string
		titles []string
	}
	byCase := map[string]*caseEvents{}
	ids := map[string]bool{}
	ac := admin.NewClient(url)
	for after := ""; ; {
		page, err := ac.Events(ctx, admin.EventQuery{After: after, DomainID: domain})
		if err != nil {
			t.Fatalf("round %d: events: %v", round, err)
		}
		for _, raw := range page.Events {
			ev := mustDecodeEnvelope(t, raw)
			if ids[ev.ID] {
				t.Errorf("round %d: event id %s appears twice", round, ev.ID)
			}
			ids[ev.ID] = true
			ce := byCase[ev.CaseID]
			if ce == nil {
				ce = &caseEvents{}
				byCase[ev.CaseID] = ce
			}
			ce.types = append(ce.types, ev.Type)
			ce.titles = append(ce.titles, ev.Title)
		}
		if len(page.Events) == 0 {
			break
		}
		after = page.Cursor
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Every acknowledged change has its event, in order.
	for id, cl := range l.cases {
		ce := byCase[id]
		if ce == nil {
			t.Errorf("round %d: case %s (%v acknowledged) has no event", round, id, cl.acked)
			continue
		}
		if len(ce.titles) < len(cl.acked) || fmt.Sprint(ce.titles[:len(cl.acked)]) != fmt.Sprint(cl.acked) {
			t.Errorf("round %d: case %s: events %v %v, acknowledged %v", round, id, ce.types, ce.titles, cl.acked)
		}
		if cl.deleted && ce.types[len(ce.types)-1] != "CASE.DELETED" {
			t.Errorf("round %d: case %s: deletion acknowledged, events %v", round, id, ce.types)
		}
	}
	// Every case's events are a life it could have had, and the last
	// agrees with the state.
	for id, ce := range byCase {
		for i, typ := range ce.types {
			want := "CASE.UPDATED"
			switch {
			case i == 0:
				want = "CASE.CREATED"
			case i == len(ce.types)-1 && typ == "CASE.DELETED":
				want = "CASE.DELETED"
			}
			if typ != want {
				t.Errorf("round %d: case %s: events %v out of order", round, id, ce.types)
				break
			}
		}
		if cl := l.cases[id]; cl != nil {
			n := len(ce.titles)
			if ce.types[n-1] == "CASE.DELETED" {
				n-- // the deletion repeats the last title
			}
			if n > len(cl.attempted) || fmt.Sprint(ce.titles[:n]) != fmt.Sprint(cl.attempted[:n]) {
				t.Errorf("round %d: case %s: event titles %v were never all sent (sent %v)", round, id, ce.titles, cl.attempted)
			}
		}
		last := ce.types[len(ce.types)-1]
		got, err := c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: &domain, CaseId: aws.String(id), Fields: []types.FieldIdentifier{{Id: aws.String("title")}}})
		var nf *types.ResourceNotFoundException
		switch {
		case last == "CASE.DELETED":
			if !errors.As(err, &nf) {
				t.Errorf("round %d: case %s: last event CASE.DELETED, GetCase %v", round, id, err)
			}
		case err != nil:
			t.Errorf("round %d: case %s: last event %s, GetCase %v", round, id, last, err)
		default:
			v, _ := got.Fields[0].Value.(*types.FieldValueUnionMemberStringValue)
			if v == nil || v.Value != ce.titles[len(ce.titles)-1] {
				t.Errorf("round %d: case %s holds title %v, its last event says %s", round, id, got.Fields, ce.titles[len(ce.titles)-1])
			}
		}
	}
	// Every case the store holds was announced.
	p := connectcases.NewSearchCasesPaginator(c, &connectcases.SearchCasesInput{DomainId: &domain, MaxResults: aws.Int32(100)})
	held := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("round %d: SearchCases: %v", round, err)
		}
		for _, it := range page.Cases {
			held++
			if byCase[*it.CaseId] == nil {
				t.Errorf("round %d: case %s exists but has no CASE.CREATED event", round, *it.CaseId)
			}
		}
	}
	var cases []string
	for id := range byCase {
		cases = append(cases, id)
	}
	sort.Strings(cases)
	t.Logf("round %d: %d events for %d cases; %d cases held", round, len(ids), len(cases), held)
}

type killEnvelope struct {
	ID, Type, CaseID, Title string
}

func mustDecodeEnvelope(t *testing.T, raw []byte) killEnvelope {
	t.Helper()
	var env struct {
		ID     string `json:"id"`
		Detail struct {
			EventType string `json:"eventType"`
			Case      struct {
				CaseID string `json:"caseId"`
				Fields map[string]struct {
					Value struct {
						StringValue string `json:"stringValue"`
					} `json:"value"`
				} `json:"fields"`
			} `json:"case"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("event %s: %v", raw, err)
	}
	return killEnvelope{ID: env.ID, Type: env.Detail.EventType, CaseID: env.Detail.Case.CaseID, Title: env.Detail.Case.Fields["title"].Value.StringValue}
}
