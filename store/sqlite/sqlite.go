package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

var _ localcases.Store = (*Store)(nil)

// FileName is the database file inside the data directory.
const FileName = "localcases.db"

// ErrClosed is returned by View and Update after Close.
var ErrClosed = errors.New("sqlite: store is closed")

// Options tune a Store. The zero value is the documented default.
type Options struct {
	// MaxBatch bounds how many Update calls share one commit. Default 128:
	// enough to amortise an fsync, small enough that one batch's latency
	// stays short.
	MaxBatch int
	// Readers is the size of the read-only connection pool. Default
	// 2×GOMAXPROCS, at least 4.
	Readers int
	// Logger receives the stacks of update functions that panic (the
	// panic itself is re-raised in the caller). Default: discard.
	Logger *slog.Logger

	// migrations replaces the embedded migrations in tests.
	migrations fs.FS
}

// Store is a SQLite-backed localcases.Store.
type Store struct {
	path   string
	opts   Options
	log    *slog.Logger
	wdb    *sql.DB   // one connection, owned by the writer goroutine
	wconn  *sql.Conn // pinned so per-connection state and prepared statements stay
	wstmts *stmts
	rdb    *sql.DB
	reads  *readPool

	writer    *sqlstore.Writer
	closeOnce sync.Once
	closeErr  error

	// Counters for tests and for judging how well commits are shared.
	updates atomic.Int64 // functions run
	commits atomic.Int64 // transactions committed
}

type stats struct{ updates, commits int64 }

func (s *Store) stats() stats {
	return stats{updates: s.updates.Load(), commits: s.commits.Load()}
}

// Commits reports how many update functions have run and how many
// transactions committed them since Open: their ratio is the mean batch
// size of group commit.
func (s *Store) Commits() (updates, commits int64) {
	st := s.stats()
	return st.updates, st.commits
}

func (s *Store) queueLen() int { return s.writer.Waiting() }

// Open opens (creating if needed) the database in dir, refuses it if a
// newer localcases wrote it (ErrSchemaTooNew), applies the migrations it
// lacks, and starts the writer.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, 2*runtime.GOMAXPROCS(0))
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
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: data directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{path: path, opts: opts, log: opts.Logger}
	if err := s.open(ctx, ms); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.writer = sqlstore.NewWriter(s.opts.MaxBatch, ErrClosed, s.commit)
	return s, nil
}

// dsn builds the driver's connection string. synchronous is a connection
// setting, not stored in the file, so it goes in the DSN: every connection
// the pool ever makes gets it. The busy timeout covers another process
// holding the write lock, and the moment a reader must wait out WAL
// recovery.
//
// The writer's savepoints need a statement journal; temp_store keeps it in
// memory instead of a temporary file written with a syscall per page. The
// writer checkpoints every 8192 WAL pages (32 MiB) rather than SQLite's
// 1000: a case write dirties some twenty index pages scattered over the
// file, and a page rewritten several times between checkpoints is then
// copied back once. Measured with localcases bench --op CreateCase
// (docs/BENCHMARKS.md): 341 req/s before, 418-431 after.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "wal_autocheckpoint(8192)")
		q.Add("_pragma", "cache_size(-131072)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func (s *Store) open(ctx context.Context, ms []sqlstore.Migration) error {
	var err error
	if s.wdb, err = sql.Open("sqlite", dsn(s.path, false)); err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return err
	}
	// Refuse a newer schema before anything below can change the file.
	mig := migrator{s.wconn}
	v, err := sqlstore.CheckVersion(ctx, mig, ms, "it", "point --data at another directory")
	if err != nil {
		return err
	}
	// WAL lets readers run beside the writer, and its commit is one
	// sequential append plus one fsync. The mode is stored in the file.
	var mode string
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal (is the directory on a file system without shared memory?)", mode)
	}
	if err := sqlstore.Migrate(ctx, mig, ms, v); err != nil {
		return err
	}
	if s.wstmts, err = prepare(ctx, s.wconn); err != nil {
		return err
	}
	if s.rdb, err = sql.Open("sqlite", dsn(s.path, true)); err != nil {
		return err
	}
	// The pool below holds each connection it opens (as a sql.Conn) for
	// the store's life, so database/sql's own pool is only its source.
	s.rdb.SetMaxOpenConns(s.opts.Readers)
	s.rdb.SetMaxIdleConns(s.opts.Readers)
	s.reads = newReadPool(s.rdb, s.opts.Readers)
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

func (s *Store) Kind() string { return "sqlite" }

// View runs fn in a read transaction on a pooled read-only connection.
func (s *Store) View(ctx context.Context, fn func(localcases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.writer.Closed():
		return ErrClosed
	default:
	}
	r, err := s.reads.get(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: read connection: %w", err)
	}
	// A deferred BEGIN: the snapshot is taken at the first read and held
	// until the ROLLBACK, which is what makes the View consistent. Both
	// run without the caller's context: neither waits for a lock, and a
	// cancelled context must not leave the connection inside the
	// transaction.
	if _, err := r.st[stBegin].ExecContext(context.Background()); err != nil {
		s.reads.discard(r)
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	t := newTx(ctx, &r.st, true)
	err = fn(t)
	t.End()
	if _, rerr := r.st[stRollback].ExecContext(context.Background()); rerr != nil {
		// The connection may still hold its snapshot; it is not reused.
		s.reads.discard(r)
		return errors.Join(err, fmt.Errorf("sqlite: end read: %w", rerr))
	}
	s.reads.put(r)
	return err
}

// Update queues fn for the writer (see sqlstore.Writer) and waits for the
// outcome of the transaction that ran it.
func (s *Store) Update(ctx context.Context, fn func(localcases.Tx) error) error {
	return s.writer.Update(ctx, fn)
}

// Close stops the writer once the batch in hand is committed and closes
// the database. Updates still waiting get ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.writer.Close()
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.wstmts != nil {
		s.wstmts.close()
	}
	if s.reads != nil {
		s.reads.close()
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	if s.wdb != nil {
		// Closing the last connection checkpoints the WAL into the database
		// file and removes it.
		errs = append(errs, s.wdb.Close())
	}
	return errors.Join(errs...)
}

// commit runs a batch in one transaction; the writer answers every caller
// after it, when the outcome is durable.
func (s *Store) commit(live []*sqlstore.Request) {
	// The writer's statements never use a caller's context: cancelling one
	// would interrupt SQLite mid-transaction and could roll back the others.
	ctx := context.Background()
	fail := func(err error) {
		s.wconn.ExecContext(ctx, "ROLLBACK")
		sqlstore.FailAll(live, err)
	}
	if _, err := s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		fail(fmt.Errorf("sqlite: begin: %w", err))
		return
	}
	var texts, mine deferredText
	for _, r := range live {
		if _, err := s.wconn.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			fail(fmt.Errorf("sqlite: savepoint: %w", err))
			return
		}
		s.updates.Add(1)
		r.Run(newWriteTx(ctx, s.wstmts, s.wconn, &mine, &texts), s.log)
		undo := "RELEASE w"
		if !r.OK() {
			undo = "ROLLBACK TO w; RELEASE w"
			mine.docs, mine.name = mine.docs[:0], mine.name[:0]
		} else {
			texts.take(&mine)
		}
		// If SQLite already rolled back the whole transaction (it does on
		// some I/O errors), the savepoint is gone and this fails: then no
		// caller of the batch may be told its write is in.
		if _, err := s.wconn.ExecContext(ctx, undo); err != nil {
			fail(fmt.Errorf("sqlite: transaction lost after an error: %w", err))
			return
		}
	}
	// The documents' write fails only with the database, which would fail
	// the COMMIT of every caller as well.
	q := &queries{ctx: ctx, st: s.wstmts, conn: s.wconn}
	if err := q.writeTexts(&texts, false); err != nil {
		fail(fmt.Errorf("sqlite: text index: %w", err))
		return
	}
	if _, err := s.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		fail(fmt.Errorf("sqlite: commit: %w", err))
		return
	}
	s.commits.Add(1)
}
