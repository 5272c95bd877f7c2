package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/store/sqlite"
	"github.com/localcases/localcases/store/storetest"
)

func TestOpenStorePicksTheEngine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  func(*server.Config)
		want string
	}{
		{"memory", func(c *server.Config) { c.Memory = true; c.DataDir = dir }, "memory"},
		{"sqlite under the data directory", func(c *server.Config) { c.Memory, c.StoreURL, c.DataDir = false, "", dir }, "sqlite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := servertest.MustOpen(t, servertest.WithConfig(tt.cfg))
			if got := srv.Store().Kind(); got != tt.want {
				t.Errorf("engine = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Errorf("the SQLite engine left no database in the data directory: %v", err)
	}

	cfg := server.DefaultConfig()
	cfg.StoreURL = "mysql://root@localhost/test?password=secret"
	if _, err := server.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("an unknown store URL gave %v, want an error naming what is accepted", err)
	}
}

// TestSQLiteStateSurvivesRestart restarts an in-process server on one data
// directory: what the first wrote, the second serves.
func TestSQLiteStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	// The first server is closed by hand (MustOpen would close it again).
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	first, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Open(); err != nil {
		t.Fatal(err)
	}
	d, err := servertest.Client(first.URL()).CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("kept")})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	second := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.Memory, c.StoreURL, c.DataDir = false, "", dir }))
	got, err := servertest.Client(second.URL()).GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId})
	if err != nil || *got.Name != "kept" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
}

// twoServersOnePostgres starts two servers on one fresh schema of the test
// database, as two processes would, and returns a client of each.
func twoServersOnePostgres(t *testing.T, domainsQuota int) (a, b *connectcases.Client) {
	u := storetest.PostgresURL(t)
	storeURL := storetest.WithSchema(u, storetest.PostgresSchema(t, u))
	shared := servertest.WithConfig(func(c *server.Config) {
		c.Memory = false
		c.StoreURL = storeURL
		c.Quotas.DomainsPerAccount = domainsQuota
	})
	// Racing requests make the transport dial connections it may never
	// use; a server waits up to 5s for such a connection when it shuts
	// down, so close them first (cleanups run last-in, first-out).
	tr := &http.Transport{}
	withTransport := func(o *connectcases.Options) { o.HTTPClient = &http.Client{Transport: tr} }
	srvA, srvB := servertest.MustOpen(t, shared), servertest.MustOpen(t, shared)
	t.Cleanup(tr.CloseIdleConnections)
	return servertest.Client(srvA.URL(), withTransport), servertest.Client(srvB.URL(), withTransport)
}

// TestTwoServersShareOnePostgreSQLDatabase runs two servers on one
// database and schema, as two processes would: each sees the other's
// writes, and a page token from one is good on the other.
func TestTwoServersShareOnePostgreSQLDatabase(t *testing.T) {
	a, b := twoServersOnePostgres(t, 50)
	ctx := t.Context()

	var ids []string
	for i := range 3 {
		d, err := a.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("shared-" + string(rune('a'+i)))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *d.DomainId)
	}
	got, err := b.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: aws.String(ids[0])})
	if err != nil || *got.Name != "shared-a" {
		t.Fatalf("B reads A's domain: %+v %v", got, err)
	}
	page1, err := b.ListDomains(ctx, &connectcases.ListDomainsInput{MaxResults: aws.Int32(2)})
	if err != nil || len(page1.Domains) != 2 || page1.NextToken == nil {
		t.Fatalf("B lists A's domains: %+v %v", page1, err)
	}
	page2, err := a.ListDomains(ctx, &connectcases.ListDomainsInput{MaxResults: aws.Int32(2), NextToken: page1.NextToken})
	if err != nil || len(page2.Domains) != 1 || *page2.Domains[0].DomainId != ids[2] {
		t.Fatalf("A continues B's listing: %+v %v", page2, err)
	}

	f, err := b.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: aws.String(ids[1]), Name: aws.String("tier"), Type: types.FieldTypeSingleSelect})
	if err != nil {
		t.Fatal(err)
	}
	opts := []types.FieldOption{
		{Name: aws.String("Gold"), Value: aws.String("gold"), Active: aws.Bool(true)},
		{Name: aws.String("Silver"), Value: aws.String("silver"), Active: aws.Bool(true)},
	}
	if _, err := a.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{DomainId: aws.String(ids[1]), FieldId: f.FieldId, Options: opts}); err != nil {
		t.Fatalf("A puts options on B's field: %v", err)
	}
	lo, err := b.ListFieldOptions(ctx, &connectcases.ListFieldOptionsInput{DomainId: aws.String(ids[1]), FieldId: f.FieldId})
	if err != nil || len(lo.Options) != 2 || *lo.Options[0].Value != "gold" {
		t.Fatalf("B lists A's options: %+v %v", lo, err)
	}

	// The quota holds across servers: concurrent creates through both never
	// exceed it, because writers are serialised in the database.
	errs := make(chan error, 60)
	for i := range 60 {
		c := a
		if i%2 == 1 {
			c = b
		}
		go func() {
			_, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("race-" + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + string(rune('a'+i/26)))})
			errs <- err
		}()
	}
	created := 0
	for range 60 {
		if <-errs == nil {
			created++
		}
	}
	n := 0
	pd := connectcases.NewListDomainsPaginator(b, &connectcases.ListDomainsInput{})
	for pd.HasMorePages() {
		p, err := pd.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Domains)
	}
	if n != 50 || created != 47 {
		t.Errorf("after racing creates: %d domains (%d created by the race), want the quota of 50 (47)", n, created)
	}
}

// TestIdempotentCreateCaseAcrossReplicas: the same clientToken sent to two
// servers on one database, concurrently, makes one case.
func TestIdempotentCreateCaseAcrossReplicas(t *testing.T) {
	u := storetest.PostgresURL(t)
	storeURL := storetest.WithSchema(u, storetest.PostgresSchema(t, u))
	shared := servertest.WithConfig(func(c *server.Config) { c.Memory, c.StoreURL = false, storeURL })
	srvA, srvB := servertest.MustOpen(t, shared), servertest.MustOpen(t, shared)
	a, b := servertest.Client(srvA.URL()), servertest.Client(srvB.URL())
	ctx := t.Context()
	d, err := a.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("replicas")})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := b.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	in := &connectcases.CreateCaseInput{
		DomainId: d.DomainId, TemplateId: tpl.TemplateId, ClientToken: aws.String("retry-me"),
		Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "once"}}},
	}
	ids := make(chan string, 20)
	for i := range 20 {
		c := a
		if i%2 == 1 {
			c = b
		}
		go func() {
			out, err := c.CreateCase(ctx, in)
			if err != nil {
				t.Error(err)
				ids <- ""
				return
			}
			ids <- *out.CaseId
		}()
	}
	first := <-ids
	for range 19 {
		if id := <-ids; id != first {
			t.Errorf("case IDs differ: %s and %s", first, id)
		}
	}
	s, err := b.SearchCases(ctx, &connectcases.SearchCasesInput{DomainId: d.DomainId})
	if err != nil || s.TotalCount != 1 {
		t.Fatalf("cases after 20 creates with one token: %+v %v", s, err)
	}
}

// TestTwoServersCreatingWhileAReaderPages: while two servers on one
// PostgreSQL database create domains at once, a reader paging ListDomains
// (alternating servers, one per page) sees each domain at most once per
// pass, and every domain acknowledged before the pass's last request is in
// that pass: a page token never skips a record that commits later with a
// smaller sequence number.
func TestTwoServersCreatingWhileAReaderPages(t *testing.T) {
	a, b := twoServersOnePostgres(t, 1000)
	clients := []*connectcases.Client{a, b}
	ctx := t.Context()

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	const writers, each = 8, 20
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				d, err := clients[w%2].CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String(fmt.Sprintf("w%d-%d", w, i))})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, *d.DomainId)
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	pass := func() (seen map[string]bool) {
		seen = map[string]bool{}
		var token *string
		var before []string
		for page := 0; ; page++ {
			// Every domain acknowledged before the pass's last request
			// committed before it, so with sequence numbers in commit
			// order it comes after everything the pass had read by then.
			mu.Lock()
			before = slices.Clone(acked)
			mu.Unlock()
			out, err := clients[page%2].ListDomains(ctx, &connectcases.ListDomainsInput{MaxResults: aws.Int32(1), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range out.Domains {
				if seen[*d.DomainId] {
					t.Fatalf("domain %s listed twice in one pass", *d.DomainId)
				}
				seen[*d.DomainId] = true
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		for _, id := range before {
			if !seen[id] {
				t.Fatalf("domain %s, acknowledged before the pass's last page was asked for, not listed", id)
			}
		}
		return seen
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		pass()
	}
	if seen := pass(); len(seen) != writers*each {
		t.Errorf("last pass listed %d domains, want %d", len(seen), writers*each)
	}
}
