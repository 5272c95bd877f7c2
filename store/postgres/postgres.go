package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"regexp"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

var _ localcases.Store = (*Store)(nil)

// DefaultSchema holds the tables unless the URL or Options name another.
const DefaultSchema = "localcases"

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Options tune a Store. The zero value is the documented default.
type Options struct {
	// Schema holds the store's tables. Default: the URL's schema
	// parameter, else DefaultSchema.
	Schema string
	// MaxConns bounds the connection pool. Default: pgxpool's default
	// (the larger of 4 and the number of CPUs), or the URL's pool_max_conns.
	MaxConns int32
	// Logger is for operational messages. Default: discard.
	Logger *slog.Logger

	// migrations replaces the embedded migrations in tests.
	migrations fs.FS
}

// Store is a PostgreSQL-backed localcases.Store.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	lockKey int64
	log     *slog.Logger
	// The writer goroutine takes Updates from queue, a batch at a time
	// (see writeLoop); one process's batches would only wait for each
	// other's advisory lock.
	writer  *sqlstore.Writer
	commits atomic.Int64
	// The analyser (analyze.go): stopAnalyze ends it, analyzed closes
	// when it has.
	stopAnalyze context.CancelFunc
	analyzed    chan struct{}
}

// Open connects to the database at rawURL (postgres:// or postgresql://),
// refuses a schema written by a newer localcases (ErrSchemaTooNew), and
// creates or upgrades the schema.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	connURL, urlSchema, err := splitSchema(rawURL)
	if err != nil {
		return nil, err
	}
	schema := opts.Schema
	if schema == "" {
		schema = urlSchema
	}
	if schema == "" {
		schema = DefaultSchema
	}
	if !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("postgres: schema %q: want lower-case letters, digits and _, at most 63", schema)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	migFS, migDir := opts.migrations, "."
	if migFS == nil {
		migFS, migDir = migrationFiles, "migrations"
	}
	ms, err := sqlstore.LoadMigrations(migFS, migDir)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(connURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// Only the store's schema: an unqualified name can never reach a table
	// of the same name in public.
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	// The store's queries are short index walks whose estimated costs can
	// be far off (see scanIndex): a cost above jit_above_cost compiled
	// each one (about 6 ms, more than the query), and parallel workers
	// only add start-up time to a walk that stops at LIMIT.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	// pgx prepares each statement once per connection, and after five
	// runs PostgreSQL may keep a generic plan, made without the values.
	// For a record read by (coll, scope, id) that plan estimates one row
	// for (coll, scope) alone and so ties records_list (coll, scope, seq)
	// with the unique index; it takes records_list and filters on id,
	// reading every record of the scope: all of a domain's cases for each
	// case read. Planned with the values, the read takes the unique index.
	// Planning each statement again costs far less than that walk:
	// with the analyser running, CreateCase on 32 clients went from about
	// 350 to 660 a second (docs/BENCHMARKS.md). A plan_cache_mode in the
	// URL still wins.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "localcases"
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("localcases/" + schema))
	s := &Store{pool: pool, schema: schema, lockKey: int64(h.Sum64()), log: opts.Logger}
	where := fmt.Sprintf("%s@%s:%d/%s schema %s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, schema)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", where, err)
	}
	if err := s.migrate(ctx, ms); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	s.writer = sqlstore.NewWriter(maxBatch, ErrClosed, s.commit)
	actx, stop := context.WithCancel(context.Background())
	s.stopAnalyze, s.analyzed = stop, make(chan struct{})
	go s.analyzeLoop(actx, s.analyzed)
	return s, nil
}

// splitSchema takes localcases' own schema parameter out of the URL; left
// in, pgx would send it to the server as a setting, which would refuse it.
func splitSchema(rawURL string) (connURL, schema string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("postgres: URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", "", fmt.Errorf("postgres: URL scheme %q: want postgres:// or postgresql://", u.Scheme)
	}
	q := u.Query()
	schema = q.Get("schema")
	q.Del("schema")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

func (s *Store) Kind() string { return "postgres" }

// Schema is the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// Close stops the writer once the batch in hand is committed and closes
// the pool. Updates still waiting get ErrClosed.
func (s *Store) Close() error {
	s.stopAnalyze()
	<-s.analyzed
	s.writer.Close()
	s.pool.Close()
	return nil
}

// View runs fn in a read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(localcases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.writer.Closed():
		return ErrClosed
	default:
	}
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	t := newTx(ctx, ptx, true)
	defer t.End()
	return fn(t)
}

// Pool is the store's connection pool, for packages that keep tables of
// their own beside the store's (fault/pgshare). Its connections resolve
// unqualified names in the store's schema.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
