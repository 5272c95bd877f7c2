package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable that points the tests at a PostgreSQL
// database, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
// Set it to "off" to skip the PostgreSQL tests.
const PostgresEnv = "LOCALCASES_TEST_POSTGRES"

// defaultPostgresURLs are tried when PostgresEnv is unset: a local server
// with trust authentication, as developer machines and CI have.
var defaultPostgresURLs = []string{
	"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
	"postgres://root@127.0.0.1:5432/test?sslmode=disable",
}

var postgresProbe struct {
	once sync.Once
	url  string
	err  error
}

// PostgresURL returns the URL of the PostgreSQL database for tests. When
// PostgresEnv is unset and no local server answers, the test is skipped
// with a message saying how to run it; when PostgresEnv is set and the
// server does not answer, the test fails, because someone asked for it.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	p := &postgresProbe
	p.once.Do(func() {
		if u := os.Getenv(PostgresEnv); u != "" {
			p.url = u
			if u != "off" {
				p.err = ping(u)
			}
			return
		}
		var errs []string
		for _, u := range defaultPostgresURLs {
			if err := ping(u); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			p.url = u
			return
		}
		p.err = fmt.Errorf("no PostgreSQL at %s (%s)", strings.Join(defaultPostgresURLs, " or "), strings.Join(errs, "; "))
	})
	switch {
	case p.url == "off":
		tb.Skipf("PostgreSQL tests are off (%s=off)", PostgresEnv)
	case p.err != nil && os.Getenv(PostgresEnv) == "":
		tb.Skipf("skipping: %v; set %s=postgres://user@host:5432/db?sslmode=disable to run the PostgreSQL tests", p.err, PostgresEnv)
	case p.err != nil:
		tb.Fatalf("%s=%s: %v", PostgresEnv, p.url, p.err)
	}
	return p.url
}

func ping(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// PostgresSchema returns a fresh schema name for one test and drops the
// schema, with everything a store created in it, when the test ends.
func PostgresSchema(tb testing.TB, dbURL string) string {
	tb.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "lctest_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// WithSchema adds localcases' schema parameter to a PostgreSQL URL.
func WithSchema(dbURL, schema string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
