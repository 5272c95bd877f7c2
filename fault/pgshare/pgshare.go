package pgshare

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/localcases/localcases/fault"
)

// Channel is the NOTIFY channel; the payload names the schema whose state
// changed, since the servers of several schemas may share one database.
const Channel = "localcases_faults"

// DefaultPoll is how often a server reads the state's version in case it
// missed a notification.
const DefaultPoll = time.Second

// DefaultTimeout bounds each database call: a change, a claim, a reload.
const DefaultTimeout = 5 * time.Second

var _ fault.Control = (*Share)(nil)
var _ fault.Claimer = (*Share)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Share. The zero value is the documented default.
type Options struct {
	// Seed seeds a schema that holds no fault state yet; once it does, the
	// stored seed wins and PUT /_localcases/faults/seed changes it for
	// every server. Default 0.
	Seed int64
	// Poll is how often the version is read besides notifications.
	// Default DefaultPoll.
	Poll time.Duration
	// Timeout bounds each database call. Default DefaultTimeout.
	Timeout time.Duration
	// Logger reports changes made elsewhere, and trouble. Default: discard.
	Logger *slog.Logger
	// OnChange, if set, runs after a state made by another server was
	// restored (the health events follow the faults with it).
	OnChange func()
	// Throttle, if set, are the throttling settings this server was
	// configured with: Open installs them for every server unless they
	// are stored already. Nil adopts the stored settings, if any.
	Throttle *fault.ThrottleSettings
}

// Share keeps one engine in step with the fault state of a schema, and
// changes that state for every server on it.
type Share struct {
	pool    *pgxpool.Pool
	schema  string
	engine  *fault.Engine
	opts    Options
	log     *slog.Logger
	lockKey int64

	mu      sync.Mutex // orders restores, so an older version never overwrites a newer
	version int64

	claimErrors atomic.Int64
	cancel      context.CancelFunc
	done        chan struct{}
}

// Open creates the tables if needed, seeds an empty state, restores the
// stored state into e, makes e claim count-limited firings through the
// database, and starts following changes. pool must reach the schema's
// tables by unqualified names (search_path); the postgres store's pool does.
func Open(ctx context.Context, pool *pgxpool.Pool, schema string, e *fault.Engine, opts Options) (*Share, error) {
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := fnv.New64a()
	h.Write([]byte("localcases/faults/" + schema))
	s := &Share{pool: pool, schema: schema, engine: e, opts: opts, log: opts.Logger, lockKey: int64(h.Sum64())}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("fault state: %w", err)
	}
	empty, err := json.Marshal(fault.State{Seed: opts.Seed, Rules: []fault.InstalledRule{}})
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `INSERT INTO fault_state (singleton, version, state) VALUES (true, 1, $1) ON CONFLICT DO NOTHING`, empty); err != nil {
		return nil, fmt.Errorf("fault state: %w", err)
	}
	if _, err := s.reload(ctx, pool); err != nil {
		return nil, fmt.Errorf("fault state: %w", err)
	}
	if want := opts.Throttle; want != nil {
		if err := s.installThrottle(ctx, *want); err != nil {
			return nil, fmt.Errorf("fault state: %w", err)
		}
	}
	e.SetClaimer(s)
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan struct{})
	ready := make(chan struct{})
	go s.follow(lctx, ready)
	// Wait for LISTEN, so a change made right after Open is not missed by
	// this server for a whole poll; a database that refuses a second
	// connection leaves the poll to catch up.
	select {
	case <-ready:
	case <-time.After(opts.Timeout):
	case <-ctx.Done():
	}
	return s, nil
}

// installThrottle stores this server's configured throttling settings
// unless they are stored already, so servers started alike do not refill
// each other's buckets.
func (s *Share) installThrottle(ctx context.Context, want fault.ThrottleSettings) error {
	var raw []byte
	if err := s.pool.QueryRow(ctx, `SELECT throttle FROM fault_state`).Scan(&raw); err != nil {
		return err
	}
	if raw != nil {
		var have fault.ThrottleSettings
		if json.Unmarshal(raw, &have) == nil && sameSettings(have, want) {
			return nil
		}
	}
	return s.update(nil, func(th *fault.ThrottleSettings) { *th = want })
}

func sameSettings(a, b fault.ThrottleSettings) bool {
	return a.Enabled == b.Enabled && maps.Equal(a.Operations, b.Operations)
}

// Close stops following changes. The engine keeps the last state restored,
// and claims no more through the database.
func (s *Share) Close() error {
	s.engine.SetClaimer(nil)
	s.cancel()
	<-s.done
	return nil
}

// Version is the version of the state last restored.
func (s *Share) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// ClaimErrors counts claims refused because the database could not be
// reached.
func (s *Share) ClaimErrors() int64 { return s.claimErrors.Load() }

// migrate applies the embedded migrations this schema lacks, each in a
// transaction holding an advisory lock, so servers starting together
// apply each once. The versions are recorded in a table of this package's
// own, apart from the store's.
func (s *Share) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: the name must start with a number", base)
		}
		sql, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS fault_migrations (
				version    integer PRIMARY KEY,
				name       text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM fault_migrations WHERE version = $1)`, v).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO fault_migrations (version, name) VALUES ($1, $2)`, v, base)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reload restores the stored state if it is newer than the one restored,
// and reports whether it was.
func (s *Share) reload(ctx context.Context, q querier) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	var version int64
	if err := q.QueryRow(ctx, `SELECT version FROM fault_state`).Scan(&version); err != nil {
		return false, err
	}
	if version <= s.Version() {
		return false, nil
	}
	var raw, rawThrottle []byte
	if err := q.QueryRow(ctx, `SELECT version, state, throttle FROM fault_state`).Scan(&version, &raw, &rawThrottle); err != nil {
		return false, err
	}
	st, th, err := decode(version, raw, rawThrottle)
	if err != nil {
		return false, err
	}
	return s.restore(version, st, th)
}

// decode reads a stored state and throttling settings (nil when unset).
func decode(version int64, raw, rawThrottle []byte) (fault.State, *fault.ThrottleSettings, error) {
	var st fault.State
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, nil, fmt.Errorf("stored state version %d: %w", version, err)
	}
	if rawThrottle == nil {
		return st, nil, nil
	}
	var th fault.ThrottleSettings
	if err := json.Unmarshal(rawThrottle, &th); err != nil {
		return st, nil, fmt.Errorf("stored throttling version %d: %w", version, err)
	}
	return st, &th, nil
}

// restore makes the engine hold st, and the throttler th when set, unless
// a version as new is restored.
func (s *Share) restore(version int64, st fault.State, th *fault.ThrottleSettings) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if version <= s.version {
		return false, nil
	}
	if err := s.engine.Restore(st); err != nil {
		return false, fmt.Errorf("stored state version %d: %w", version, err)
	}
	if t := s.engine.Throttler(); t != nil && th != nil {
		t.Apply(*th)
	}
	s.version = version
	return true, nil
}

// follow keeps the engine in step until ctx ends: it LISTENs on a
// connection of its own, and reads the version after every notification
// for this schema and at every poll. A lost connection is logged and
// redialled after a poll interval.
func (s *Share) follow(ctx context.Context, ready chan struct{}) {
	defer close(s.done)
	for {
		err := s.listen(ctx, ready)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("fault state: lost the notification connection to PostgreSQL; redialling", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.Poll):
		}
	}
}

func (s *Share) listen(ctx context.Context, ready chan struct{}) error {
	dctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	conn, err := pgx.ConnectConfig(dctx, s.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+Channel); err != nil {
		return err
	}
	select {
	case <-ready:
	default:
		close(ready)
	}
	for {
		// Whatever changed while nobody listened, or since the last poll.
		if changed, err := s.reload(ctx, conn); err != nil {
			return err
		} else if changed {
			s.changed()
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, s.opts.Poll)
			n, err := conn.WaitForNotification(wctx)
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			if err != nil || n.Payload == s.schema {
				break
			}
		}
	}
}

// changed logs a state another server made, and runs OnChange.
func (s *Share) changed() {
	st := s.engine.State()
	sums := make([]string, len(st.Rules))
	for i, r := range st.Rules {
		sums[i] = r.Rule.Summary()
	}
	args := []any{"version", s.Version(), "count", len(st.Rules), "rules", strings.Join(sums, "; "), "seed", st.Seed}
	if st.Scenario != nil {
		args = append(args, "scenario", st.Scenario.Scenario.Name, "scenario_start", st.Scenario.Start.UTC().Format(time.RFC3339Nano))
	}
	s.log.Info("fault state changed on the database", args...)
	if s.opts.OnChange != nil {
		s.opts.OnChange()
	}
}

// Claim implements fault.Claimer with one upsert that counts a firing only
// while fewer than limit were counted.
func (s *Share) Claim(stream string, added time.Time, limit int) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	var fired int
	err := s.pool.QueryRow(ctx, `INSERT INTO fault_claims AS c (stream, added, fired) VALUES ($1, $2, 1)
		ON CONFLICT (stream, added) DO UPDATE SET fired = c.fired + 1 WHERE c.fired < $3
		RETURNING fired`, stream, added.UnixNano(), limit).Scan(&fired)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		s.claimErrors.Add(1)
		s.log.Warn("fault state: could not claim a firing of a count-limited rule; not injecting it",
			"stream", stream, "err", err)
		return false, err
	}
	return true, nil
}

// Claimed returns how often each count-limited rule instance fired over
// every server, by fault.ClaimKey.
func (s *Share) Claimed(ctx context.Context) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT stream, added, fired FROM fault_claims`)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", fault.ErrUnavailable, err)
	}
	out := map[string]int{}
	var (
		stream string
		added  int64
		fired  int
	)
	_, err = pgx.ForEachRow(rows, []any{&stream, &added, &fired}, func() error {
		out[fault.ClaimKey(stream, time.Unix(0, added))] = fired
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", fault.ErrUnavailable, err)
	}
	return out, nil
}

// change applies fn to the stored state, for every server: it locks the
// row, restores the state into a scratch engine (on this engine's clock, so
// added times and scenario starts are this server's now), runs fn, and
// writes the result back with the next version. Claims of rules that are
// gone are dropped in the same transaction. An error from fn (a bad rule)
// is returned as is; a database error wraps fault.ErrUnavailable.
func (s *Share) change(fn func(*fault.Engine) error) error { return s.update(fn, nil) }

// update is change, and also edits the stored throttling settings when
// throttle is set (starting from this server's when none are stored).
func (s *Share) update(fn func(*fault.Engine) error, throttle func(*fault.ThrottleSettings)) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	var (
		next    fault.State
		th      *fault.ThrottleSettings
		version int64
		fnErr   error
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var raw, rawThrottle []byte
		if err := tx.QueryRow(ctx, `SELECT version, state, throttle FROM fault_state FOR UPDATE`).Scan(&version, &raw, &rawThrottle); err != nil {
			return err
		}
		st, stored, err := decode(version, raw, rawThrottle)
		if err != nil {
			return err
		}
		scratch := fault.NewEngine(fault.WithClock(s.engine), fault.WithSeed(st.Seed))
		if err := scratch.Restore(st); err != nil {
			return fmt.Errorf("stored state version %d: %w", version, err)
		}
		if fn != nil {
			if fnErr = fn(scratch); fnErr != nil {
				return fnErr
			}
		}
		next, th = scratch.State(), stored
		if throttle != nil {
			if th == nil {
				th = &fault.ThrottleSettings{}
				if t := s.engine.Throttler(); t != nil {
					*th = t.Settings()
				}
			}
			throttle(th)
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		var thData []byte
		if th != nil {
			if thData, err = json.Marshal(th); err != nil {
				return fmt.Errorf("throttling settings: %w", err)
			}
		}
		version++
		if _, err := tx.Exec(ctx, `UPDATE fault_state SET version = $1, state = $2, throttle = $3, updated_at = now()`, version, data, thData); err != nil {
			return err
		}
		keep := make([]string, len(next.Rules))
		for i, r := range next.Rules {
			keep[i] = fault.ClaimKey("rule/"+r.Rule.ID, r.Added)
		}
		var since *int64
		if next.Scenario != nil {
			n := next.Scenario.Start.UnixNano()
			since = &n
		}
		if _, err := tx.Exec(ctx, `DELETE FROM fault_claims WHERE
			(stream LIKE 'rule/%' AND NOT (stream || '@' || added = ANY($1)))
			OR (stream LIKE 'scenario/%' AND ($2::bigint IS NULL OR added < $2))`, keep, since); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, s.schema)
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("%w: %w", fault.ErrUnavailable, err)
	}
	// Restored here before the caller hears back, so it reads its own write.
	if _, err := s.restore(version, next, th); err != nil {
		return fmt.Errorf("%w: %w", fault.ErrUnavailable, err)
	}
	return nil
}

// SetThrottle implements fault.Control: the settings are stored for every
// server. The buckets stay where each server keeps them: in Redis they are
// shared (package redislimit), in process they are not.
func (s *Share) SetThrottle(enabled bool, ops map[string]fault.Limit) error {
	return s.update(nil, func(th *fault.ThrottleSettings) {
		if len(ops) > 0 && th.Operations == nil {
			th.Operations = map[string]fault.Limit{}
		}
		maps.Copy(th.Operations, ops)
		th.Enabled = enabled
	})
}

// SetRules implements fault.Control.
func (s *Share) SetRules(rules []fault.Rule) error {
	return s.change(func(e *fault.Engine) error { return e.SetRules(rules) })
}

// AddRules implements fault.Control.
func (s *Share) AddRules(rules []fault.Rule) error {
	return s.change(func(e *fault.Engine) error { return e.AddRules(rules) })
}

// RemoveRules implements fault.Control.
func (s *Share) RemoveRules(match func(fault.Rule) bool) (int, error) {
	var n int
	err := s.change(func(e *fault.Engine) error { n = e.RemoveRules(match); return nil })
	if err != nil {
		return 0, err
	}
	return n, nil
}

// ClearRules implements fault.Control.
func (s *Share) ClearRules() error {
	return s.change(func(e *fault.Engine) error { e.Clear(); return nil })
}

// Reseed implements fault.Control.
func (s *Share) Reseed(seed int64) error {
	return s.change(func(e *fault.Engine) error { e.Reseed(seed); return nil })
}

// Reset implements fault.Control: rules and scenario go for every server;
// observed outcomes are forgotten on this one, whose records they are.
func (s *Share) Reset() error {
	if err := s.change(func(e *fault.Engine) error { e.Reset(); return nil }); err != nil {
		return err
	}
	s.engine.ForgetObservations()
	return nil
}

// StartScenario implements fault.Control.
func (s *Share) StartScenario(sc fault.Scenario) error {
	return s.change(func(e *fault.Engine) error { return e.StartScenario(sc) })
}

// StopScenario implements fault.Control.
func (s *Share) StopScenario() error {
	return s.change(func(e *fault.Engine) error { e.StopScenario(); return nil })
}
