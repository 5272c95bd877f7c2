// Package service holds the business rules of Amazon Connect Cases. It
// implements api.Service on a localcases.Store and knows nothing of HTTP or
// of the storage engine, so the same rules run under every transport and
// every engine, and are tested without either.
//
// Where the AWS documentation is silent the rules follow the project's
// spec/BEHAVIOR digest; comments cite its section numbers (§n).
package service

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

var _ api.Service = (*Service)(nil)

// Quotas are the service quotas the emulator enforces (§13.1). Zero fields
// take the defaults of DefaultQuotas.
type Quotas struct {
	DomainsPerAccount   int `json:"domainsPerAccount" yaml:"domainsPerAccount"`
	FieldsPerDomain     int `json:"fieldsPerDomain" yaml:"fieldsPerDomain"`
	OptionsPerField     int `json:"optionsPerField" yaml:"optionsPerField"`
	LayoutsPerDomain    int `json:"layoutsPerDomain" yaml:"layoutsPerDomain"`
	TemplatesPerDomain  int `json:"templatesPerDomain" yaml:"templatesPerDomain"`
	FieldsPerLayout     int `json:"fieldsPerLayout" yaml:"fieldsPerLayout"`
	RelatedItemsPerCase int `json:"relatedItemsPerCase" yaml:"relatedItemsPerCase"`
	FilesPerCase        int `json:"filesPerCase" yaml:"filesPerCase"`
	SLAsPerCase         int `json:"slasPerCase" yaml:"slasPerCase"`
	FieldsPerCustomItem int `json:"fieldsPerCustomItem" yaml:"fieldsPerCustomItem"`
}

// DefaultQuotas are the current documented defaults of Amazon Connect Cases.
func DefaultQuotas() Quotas {
	return Quotas{
		DomainsPerAccount:   5,
		FieldsPerDomain:     500,
		OptionsPerField:     500,
		LayoutsPerDomain:    100,
		TemplatesPerDomain:  100,
		FieldsPerLayout:     100,
		RelatedItemsPerCase: 200,
		FilesPerCase:        50,
		SLAsPerCase:         10,
		FieldsPerCustomItem: 5,
	}
}

// withDefaults fills zero quotas from DefaultQuotas.
func (q Quotas) withDefaults() Quotas {
	d := DefaultQuotas()
	fill := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&q.DomainsPerAccount, d.DomainsPerAccount)
	fill(&q.FieldsPerDomain, d.FieldsPerDomain)
	fill(&q.OptionsPerField, d.OptionsPerField)
	fill(&q.LayoutsPerDomain, d.LayoutsPerDomain)
	fill(&q.TemplatesPerDomain, d.TemplatesPerDomain)
	fill(&q.FieldsPerLayout, d.FieldsPerLayout)
	fill(&q.RelatedItemsPerCase, d.RelatedItemsPerCase)
	fill(&q.FilesPerCase, d.FilesPerCase)
	fill(&q.SLAsPerCase, d.SLAsPerCase)
	fill(&q.FieldsPerCustomItem, d.FieldsPerCustomItem)
	return q
}

// Config configures a Service.
type Config struct {
	// Region and Account appear in every ARN. Defaults: us-east-1 and
	// 000000000000.
	Region  string
	Account string
	Quotas  Quotas
	Clock   localcases.Clock // default: the system clock
	Logger  *slog.Logger     // default: discard
	// Events chooses case-event details the spec leaves open.
	Events EventOptions
	// EventsCommitted, if set, is called after a transaction that appended
	// case events commits, so readers waiting for events wake at once.
	EventsCommitted func()
}

// Service implements every operation of api.Service.
type Service struct {
	store  localcases.Store
	cfg    Config
	quotas Quotas
	clock  localcases.Clock
	log    *slog.Logger
	events EventOptions
	// evcfg holds each domain's decoded event configuration (eventConfig).
	evcfg sync.Map
	// fieldSets holds each domain's decoded field definitions (loadFieldSet).
	fieldSets sync.Map
	// cols holds each domain's match columns (columns.go).
	cols sync.Map
	// templates holds decoded templates by domain and ID (loadTemplate).
	templates sync.Map
	// createReplans counts the CreateCase transactions that could not
	// write the plan made before them (casecreate.go).
	createReplans atomic.Int64
	tokenKey      []byte
	// searchSlots bounds concurrent SearchCases scans to the CPUs.
	searchSlots chan struct{}
	// noIndex answers every search by scanning, so that tests can hold the
	// case index to the scan's answers.
	noIndex bool
}

// New returns a Service on store. It creates the server-wide secret that
// signs pagination tokens on first use of a store, so tokens stay valid
// across restarts and across servers sharing one database.
func New(ctx context.Context, store localcases.Store, cfg Config) (*Service, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if cfg.Clock == nil {
		cfg.Clock = localcases.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, cfg: cfg, quotas: cfg.Quotas.withDefaults(), clock: cfg.Clock, log: cfg.Logger,
		events:      cfg.Events.withDefaults(),
		searchSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	key, err := s.loadTokenKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	s.tokenKey = key
	if err := s.ensureCaseIndex(ctx); err != nil {
		return nil, fmt.Errorf("case index: %w", err)
	}
	if err := s.ensureTextIndex(ctx); err != nil {
		return nil, fmt.Errorf("case text index: %w", err)
	}
	return s, nil
}

type meta struct {
	TokenKey []byte `json:"tokenKey"`
}

func (s *Service) loadTokenKey(ctx context.Context) ([]byte, error) {
	var m meta
	err := s.store.Update(ctx, func(tx localcases.Tx) error {
		err := tx.Get(localcases.Meta, "", "server", &m)
		if err == nil {
			return nil
		}
		if !errors.Is(err, localcases.ErrNotFound) {
			return err
		}
		m.TokenKey = make([]byte, 32)
		rand.Read(m.TokenKey)
		return tx.Put(localcases.Meta, "", "server", &m)
	})
	return m.TokenKey, err
}

// Store returns the store the service runs on.
func (s *Service) Store() localcases.Store { return s.store }

// Region and Account are the service's ARN parts.
func (s *Service) Region() string  { return s.cfg.Region }
func (s *Service) Account() string { return s.cfg.Account }

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) arn(resource string, args ...any) string {
	return localcases.ARN(s.cfg.Region, s.cfg.Account, fmt.Sprintf(resource, args...))
}

func (s *Service) view(ctx context.Context, fn func(localcases.Tx) error) error {
	return s.store.View(ctx, fn)
}

// update runs fn in a write transaction and, when fn appended case events
// and the transaction committed, tells EventsCommitted.
func (s *Service) update(ctx context.Context, fn func(localcases.Tx) error) error {
	if s.cfg.EventsCommitted == nil {
		return s.store.Update(ctx, fn)
	}
	appended := false
	err := s.store.Update(ctx, func(tx localcases.Tx) error {
		appended = false
		return fn(noteTx{Tx: tx, appended: &appended})
	})
	if err == nil && appended {
		s.cfg.EventsCommitted()
	}
	return err
}

// Resource types as ResourceNotFoundException names them (§12.4).
const (
	rtDomain      = "Domain"
	rtField       = "Field"
	rtLayout      = "Layout"
	rtTemplate    = "Template"
	rtCaseRule    = "CaseRule"
	rtCase        = "Case"
	rtRelatedItem = "RelatedItem"
)

// get reads a record and turns ErrNotFound into the ResourceNotFoundException
// naming it.
func get(tx localcases.Tx, c localcases.Collection, scope, id, resourceType string, dst any) error {
	err := tx.Get(c, scope, id, dst)
	if errors.Is(err, localcases.ErrNotFound) {
		return api.NotFound(resourceType, id)
	}
	return err
}

func (s *Service) getDomain(tx localcases.Tx, id string) (*localcases.Domain, error) {
	var d localcases.Domain
	if err := get(tx, localcases.Domains, s.cfg.Account, id, rtDomain, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// domainExists is getDomain for the many calls that only need to know the
// domain is there: the record is read but not decoded, which on GetCase
// was a fifth of the store's time (docs/BENCHMARKS.md).
func (s *Service) domainExists(tx localcases.Tx, id string) error {
	return get(tx, localcases.Domains, s.cfg.Account, id, rtDomain, &present{})
}

// present is a record decoded for its existence only; the store still
// checks that its bytes are JSON.
type present struct{}

func (*present) UnmarshalJSON([]byte) error { return nil }

// loadCase reads a case; audit events, related items and the case
// operations all start from one.
func (s *Service) loadCase(tx localcases.Tx, domainID, caseID string) (*localcases.Case, error) {
	var c localcases.Case
	if err := get(tx, localcases.Cases, domainID, caseID, rtCase, &c); err != nil {
		return nil, err
	}
	if c.Fields == nil {
		c.Fields = map[string]localcases.Value{}
	}
	return &c, nil
}

func str(p *string) string { return api.ToString(p) }

func ptr[T any](v T) *T { return &v }

func tagsOut(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = ptr(v)
	}
	return out
}

func scope2(a, b string) string { return a + "/" + b }
