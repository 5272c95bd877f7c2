package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The planner picks its plans from each table's statistics, and a table
// that was never analysed has none: PostgreSQL then estimates every
// equality as a handful of rows and reads a record by its id through
// records_list (coll, scope, seq), filtering on id, which reads every
// record of the scope, and replaces a case's index entries with a
// sequential scan of idx. Each write then costs in proportion to the
// store's size. Autovacuum fixes the statistics, but only once a minute
// at best (autovacuum_naptime) and only after 10% of a table changed, so a
// fresh schema writes at a few hundred cases a second for its first
// minutes (measured in docs/BENCHMARKS.md). The analyser does the same job
// on the store's own tables on a shorter clock.
const (
	// analyzeEvery is how often the counters are read: one catalogue
	// query.
	analyzeEvery = time.Second
	// A table is analysed once analyzeRows + analyzeShare × its rows were
	// written since the last time: the first time after 500 rows (some
	// 125 cases), then every 10% of its growth, as autovacuum would with
	// a lower threshold.
	analyzeRows  = 500
	analyzeShare = 0.1
)

// analyzedTables are the tables whose plans follow their size.
var analyzedTables = []string{"records", "idx", "idx_log", "text_docs", "events"}

const staleSQL = `SELECT relname FROM pg_stat_user_tables
	WHERE schemaname = $1 AND relname = ANY($2)
	AND n_mod_since_analyze >= $3 + $4 * greatest(n_live_tup, 0)`

// analyzeLoop analyses the stale tables every analyzeEvery until ctx ends.
func (s *Store) analyzeLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(analyzeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.analyzeStale(ctx); err != nil && ctx.Err() == nil {
			s.log.Debug("analyze the store's tables", "err", err)
		}
	}
}

// analyzeStale analyses the tables with enough writes since their last
// analysis.
func (s *Store) analyzeStale(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, staleSQL, s.schema, analyzedTables, analyzeRows, analyzeShare)
	if err != nil {
		return err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, table := range stale {
		start := time.Now()
		if _, err := s.pool.Exec(ctx, "ANALYZE "+pgx.Identifier{s.schema, table}.Sanitize()); err != nil {
			return err
		}
		s.log.Debug("analyzed", "table", table, "took", time.Since(start))
	}
	return nil
}
