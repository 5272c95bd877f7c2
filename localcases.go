// Package localcases holds the domain vocabulary of the localcases emulator
// of Amazon Connect Cases: the records the service keeps, the Store that
// keeps them, the sentinel errors stores return, and the clock and ID
// helpers every layer shares. It imports nothing else of the project.
//
// Layout (imports point inward: cmd, then the adapters, then service, then
// this package and api):
//
//	cmd/localcases     wires everything; one file per subcommand
//	internal/server    assembles a running server: store, service, wire, admin, listener
//	internal/servertest  starts a real server for the project's tests that reach its internals
//	localcasestest     public: starts a server inside a user's Go test, typed control of it
//	internal/apigen    the generator of api (go generate ./api)
//	api                generated from the service model: shapes, validation, errors, operation table
//	service            the business rules; implements api.Service on a Store
//	store/memory       the in-memory Store engine
//	store/sqlite       the default Store engine, one SQLite file
//	store/postgres     the Store engine for a shared PostgreSQL database
//	store/storetest    the contract suite every engine passes
//	restjson           the wire protocol: routing, binding, encoding, errors
//	auth               SigV4 verification and access policies
//	admin              the /_localcases/ control plane and its client
//	fault              fault-injection decisions (pure logic)
//	events             serves the case-event outbox: long poll, SSE, retention
//	eventsink          delivers case events: webhooks, EventBridge PutEvents
//	dispatch           reads the outbox for each sink: cursors, leases, retries, dead letters
//	bench              the load generator behind `localcases bench`
//	resilience         the public client kit for aws-sdk-go-v2
package localcases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Sentinel errors returned by stores, wrapped with context.
var (
	// ErrNotFound: no record at that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a write lost a race or would break a uniqueness rule.
	ErrConflict = errors.New("conflict")
)

// Collection names a kind of record in a Store.
type Collection string

// The collections the service keeps. The scope of each is documented where
// it is written; the store treats scopes as opaque strings.
const (
	Domains       Collection = "domain"       // scope: account
	Fields        Collection = "field"        // scope: domain ID
	FieldOptions  Collection = "fieldoption"  // scope: domain ID + "/" + field ID; id: option value
	Layouts       Collection = "layout"       // scope: domain ID
	Templates     Collection = "template"     // scope: domain ID
	CaseRules     Collection = "caserule"     // scope: domain ID
	Cases         Collection = "case"         // scope: domain ID
	RelatedItems  Collection = "relateditem"  // scope: domain ID + "/" + case ID
	AuditEvents   Collection = "audit"        // scope: domain ID + "/" + case ID
	EventConfigs  Collection = "eventconfig"  // scope: domain ID; id: "default"
	ClientTokens  Collection = "clienttoken"  // scope: domain ID; id: clientToken
	ContactLinks  Collection = "contactlink"  // scope: domain ID + "/" + contact ARN; id: case ID
	Meta          Collection = "meta"         // scope: ""; server-wide settings
	ReferenceNums Collection = "referencenum" // scope: domain ID; id: upper-cased reference number
)

// Store keeps records durably (or in memory) and runs transactions.
//
// View and Update run fn in a transaction: all of fn's writes are applied
// together if fn returns nil and none are if it returns an error, and fn sees
// a consistent state. Update transactions are serialisable.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	// Kind names the engine ("memory", "sqlite", "postgres") for health output.
	Kind() string
	Close() error
}

// Tx is the view of a Store inside one transaction: its records, which are
// JSON documents the store does not interpret, and its indexes (IndexTx).
type Tx interface {
	// Get decodes the record (c, scope, id) into dst. Returns ErrNotFound.
	Get(c Collection, scope, id string, dst any) error
	// Put creates or replaces a record. A new record takes the next
	// sequence number, which fixes its place in List order; a replaced
	// record keeps its place.
	Put(c Collection, scope, id string, v any) error
	// Delete removes a record. Returns ErrNotFound.
	Delete(c Collection, scope, id string) error
	// List calls fn with the records of (c, scope) whose sequence number is
	// greater than after, in sequence order, until fn returns false or an
	// error (which List returns).
	List(c Collection, scope string, after int64, fn func(r Raw) (bool, error)) error
	// Count returns the number of records in (c, scope).
	Count(c Collection, scope string) (int, error)
	// DeleteScope removes every record of (c, scope).
	DeleteScope(c Collection, scope string) error

	IndexTx
	IndexLogTx
	TextIndexTx
	OutboxTx
}

// Raw is one stored record as List yields it.
type Raw struct {
	Seq  int64
	ID   string
	Data []byte
}

// Clock tells the time. Tests inject a fixed or stepping clock.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

// NewID returns a new resource ID in the form the service uses: a UUIDv4.
func NewID() string { return uuid.NewString() }

// ARN builds an Amazon Connect Cases ARN:
// arn:aws:cases:{region}:{account}:{resource}.
func ARN(region, account, resource string) string {
	return fmt.Sprintf("arn:aws:cases:%s:%s:%s", region, account, resource)
}

// BulkTx is implemented by a write transaction that loads many records,
// index entries and text documents faster at once than with a call each
// (an import: PostgreSQL's COPY, SQLite's multi-row statements). Each
// method does what the calls one at a time would do, in order; an engine
// is faster still when the index or text index it writes holds nothing
// yet, which is the case after an import's reset.
type BulkTx interface {
	// PutMany puts each record as Put would, in order: a later record of
	// the same address replaces an earlier one.
	PutMany(records []SnapshotRecord) error
	// SetIndexMany does SetIndex(index, o.Owner, o.Keys) for each o, in
	// order.
	SetIndexMany(index string, owners []IndexKeys) error
	// SetTextMany does SetText(index, d.Owner, d.Doc) for each d, in order.
	SetTextMany(index string, docs []TextDoc) error
}

// IndexKeys are the keys of one owner in an index, for SetIndexMany.
type IndexKeys struct {
	Owner string
	Keys  [][]byte
}

// TextDoc is one owner's document in a text index, for SetTextMany.
type TextDoc struct {
	Owner, Doc string
}

// IndexTx is the part of Tx that keeps ordered secondary indexes, which the
// service uses to answer searches without reading every case; every engine
// keeps them. Keys are byte strings compared bytewise; an entry is (index,
// key, owner) and is unique as such. Index writes belong to the transaction
// like any other write: they commit or roll back with it.
type IndexTx interface {
	// SetIndex replaces every key under which owner appears in index with
	// keys; no keys removes owner from index. It fails in a View.
	SetIndex(index, owner string, keys [][]byte) error
	// ScanIndex calls fn with the entries of index whose key starts with
	// prefix, in ascending key order (descending if desc; entries with
	// equal keys in owner order, reversed if desc), starting strictly after
	// the key after (nil: from the first), until fn returns false or an
	// error, which ScanIndex returns. fn may read the transaction.
	ScanIndex(index string, prefix, after []byte, desc bool, fn func(key []byte, owner string) (bool, error)) error
	// ScanIndexAlso is ScanIndex over only the entries whose owner O also
	// has the key alsoPrefix+O in index also (an index whose keys end with
	// their owner): an intersection the engine runs itself, without a call
	// per entry.
	ScanIndexAlso(index string, prefix, after []byte, desc bool, also string, alsoPrefix []byte, fn func(key []byte, owner string) (bool, error)) error
	// CountIndex returns how many entries of index have a key starting
	// with prefix.
	CountIndex(index string, prefix []byte) (int, error)
}

// IndexLogTx is the part of Tx that tells which owners' index keys
// changed. A reader can then keep what it derived from an index (the
// service's match columns) between transactions, and bring it up to date
// from the owners changed since, instead of reading the index again.
type IndexLogTx interface {
	// IndexMark returns a mark of the state of the indexes this
	// transaction sees, for a later IndexChangedSince.
	IndexMark() (string, error)
	// IndexChangedSince returns the owners whose keys, in any index, may
	// differ between the state mark names and the state this transaction
	// sees: a superset (an owner may come twice, or with no change). ok is
	// false when there are more than limit, or the store no longer knows
	// what changed since mark; the caller then reads the index again.
	IndexChangedSince(mark string, limit int) (owners []string, ok bool, err error)
}

// TextIndexTx is the part of Tx that keeps full-text indexes, which the
// service uses to answer a search term without reading every case: each
// owner of an index has one document, and a search finds the owners whose
// document contains a string. Matching is bytewise, on the documents as
// given: folding case, and keeping values apart, is the caller's to do, so
// every engine gives the same answer. Text writes belong to the
// transaction like any other write.
type TextIndexTx interface {
	// SetText makes doc owner's document in index; "" removes owner from
	// index. doc is valid UTF-8 without U+0000 (PostgreSQL's text cannot
	// hold it). It fails in a View.
	SetText(index, owner, doc string) error
	// SearchText returns, in no particular order, the owners of index
	// whose document contains sub, a non-empty valid UTF-8 string without
	// U+0000.
	SearchText(index, sub string) ([]string, error)
}

// OutboxEvent is one event kept in a store's outbox.
type OutboxEvent struct {
	// Seq orders the outbox: it grows with every append, is never reused
	// (not even after a trim), and its order is commit order, so a reader
	// that has seen every event up to Seq has missed none before it.
	Seq      int64
	DomainID string
	// Time is when the event was appended, for age-based retention.
	Time time.Time
	// Data is the event as published (an EventBridge envelope, JSON).
	Data []byte
}

// TrimPolicy says which outbox events TrimEvents may drop: those beyond
// the newest KeepLast or appended before Before, but never one with a
// sequence number above UpTo (the oldest position a reader still needs).
type TrimPolicy struct {
	KeepLast int       // 0: no count bound
	Before   time.Time // zero: no age bound
	UpTo     int64     // only events with Seq <= UpTo may go
}

// OutboxTx is the part of Tx that keeps the transactional outbox: events
// written in the transaction of the change that causes them, so they
// commit or roll back with it, and a committed change always has its
// event.
type OutboxTx interface {
	// AppendEvent adds an event and returns its sequence number. It fails
	// in a View.
	AppendEvent(domainID string, at time.Time, data []byte) (int64, error)
	// ListEvents returns at most limit events with a sequence number above
	// after, in sequence order; only domainID's if it is not "".
	ListEvents(after int64, domainID string, limit int) ([]OutboxEvent, error)
	// TrimEvents drops the events p allows and returns how many. It fails
	// in a View.
	TrimEvents(p TrimPolicy) (int, error)
	// LastEventSeq is the highest sequence number ever appended (0 for
	// none), whether or not that event has been trimmed since.
	LastEventSeq() (int64, error)
}
