package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/postgres"
	"github.com/localcases/localcases/store/sqlite"
)

// DefaultDataDir is where the SQLite engine keeps its database unless
// Config.DataDir says otherwise: beside the project that runs localcases,
// so each project has its own state and finds it without looking.
const DefaultDataDir = "localcases-data"

// openStore opens the engine the configuration names: memory if asked,
// PostgreSQL for a postgres:// URL, and SQLite under the data directory
// otherwise.
func openStore(ctx context.Context, cfg Config) (localcases.Store, error) {
	switch u := cfg.StoreURL; {
	case cfg.Memory:
		return memory.New(), nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return postgres.Open(ctx, u, postgres.Options{Logger: cfg.Logger.With("subsystem", "store")})
	case u != "":
		return nil, fmt.Errorf("store %q: want a postgres:// or postgresql:// URL, or none for SQLite under the data directory", redact(u))
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = DefaultDataDir
	}
	return sqlite.Open(ctx, dir, sqlite.Options{Logger: cfg.Logger.With("subsystem", "store")})
}

// redact hides a password in a URL that is about to be printed.
func redact(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return u[:scheme+3] + user + ":xxxxx" + u[at:]
	}
	return u
}
