// Package localcasestest starts a localcases server inside a Go test, the
// way net/http/httptest starts an HTTP server: on a free loopback port, with
// its own state, stopped when the test ends.
//
//	func TestCreateCase(t *testing.T) {
//		t.Parallel()
//		srv := localcasestest.New(t)
//		client := srv.Client() // *connectcases.Client pointed at srv
//		...
//	}
//
// Every server is independent (its own store, fault rules, throttling and
// port), so tests that each start one may run with t.Parallel(). The memory
// store is the default; WithSQLite and WithPostgres run the durable
// engines.
//
// A server is driven from Go as well as through the API: Faults adds and
// clears fault rules, Scenario starts a preset, SetThrottling turns the
// real service quotas on, Import and Export load and save a snapshot (the
// format of `localcases export`), and Reset returns the server to how it
// started. These calls go through the admin API (/_localcases/), as the CLI's
// do, so they behave exactly as they would against `localcases serve`;
// Admin returns that client for anything else the admin API offers.
//
// Start and Close do the same as New without a testing.TB, for programs
// (examples, tools) that want a server of their own.
package localcasestest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/server"
)

// The region, account and credentials a server and its clients use unless
// an option says otherwise. Any credentials are accepted: the server runs
// with permissive authentication.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccount   = "000000000000"
	AccessKeyID      = "AKIDLOCALCASESTEST"
	SecretAccessKey  = "localcasestest-secret"
	closeGracePeriod = 5 * time.Second
)

// Server is a running localcases. Its methods are safe for concurrent use.
type Server struct {
	srv   *server.Server
	set   settings
	tr    *http.Transport
	admin *admin.Client

	cleanups  []func() error
	closeOnce sync.Once
	closeErr  error
}

// New starts a server for the test and stops it when the test (or
// benchmark) and its subtests end. It fails the test if the server cannot
// start.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := start(opts, func() (string, func() error, error) { return tb.TempDir(), nil, nil })
	if err != nil {
		tb.Fatalf("localcasestest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("localcasestest: close: %v", err)
		}
	})
	return s
}

// Start starts a server outside a test. The caller must Close it, which
// also removes the SQLite data directory Start made for WithSQLite.
func Start(opts ...Option) (*Server, error) {
	return start(opts, func() (string, func() error, error) {
		dir, err := os.MkdirTemp("", "localcasestest-")
		if err != nil {
			return "", nil, err
		}
		return dir, func() error { return os.RemoveAll(dir) }, nil
	})
}

// tempDir gives a data directory for SQLite and what removes it (nil when
// the test framework does).
type tempDir func() (dir string, remove func() error, err error)

func start(opts []Option, temp tempDir) (_ *Server, err error) {
	set := settings{region: DefaultRegion, account: DefaultAccount, seed: 1, engine: "memory"}
	for _, o := range opts {
		o(&set)
	}
	s := &Server{set: set}
	defer func() {
		if err != nil {
			s.runCleanups()
		}
	}()

	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Region, cfg.Account, cfg.Seed = set.region, set.account, set.seed
	cfg.Throttle.Enabled = set.throttle
	cfg.Logger = set.logger
	cfg.Events.Sinks = set.sinks
	switch set.engine {
	case "memory":
		cfg.Memory = true
	case "sqlite":
		dir, remove, err := temp()
		if err != nil {
			return nil, fmt.Errorf("sqlite data directory: %w", err)
		}
		if remove != nil {
			s.cleanups = append(s.cleanups, remove)
		}
		cfg.DataDir = dir
	case "postgres":
		url, drop, err := postgresURL(set.postgresDSN)
		if err != nil {
			return nil, err
		}
		if drop != nil {
			s.cleanups = append(s.cleanups, drop)
		}
		cfg.StoreURL = url
	}

	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Open(); err != nil {
		srv.Close(context.Background())
		return nil, err
	}
	s.srv = srv
	s.tr = http.DefaultTransport.(*http.Transport).Clone()
	s.admin = admin.NewClient(srv.URL())
	s.admin.HTTP.Transport = s.tr
	return s, nil
}

// Close stops the server: it lets calls in flight finish (up to five
// seconds), closes the store and removes what Start made. It is safe to
// call more than once; New's cleanup calls it.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		// Idle keep-alive connections of our clients would otherwise hold
		// http.Server.Shutdown for its whole grace period.
		s.tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), closeGracePeriod)
		defer cancel()
		s.closeErr = errors.Join(s.srv.Close(ctx), s.runCleanups())
	})
	return s.closeErr
}

func (s *Server) runCleanups() error {
	var errs []error
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		errs = append(errs, s.cleanups[i]())
	}
	s.cleanups = nil
	return errors.Join(errs...)
}

// URL is the server's endpoint, e.g. http://127.0.0.1:41234: the
// --endpoint-url of the AWS CLI, the BaseEndpoint of an SDK.
func (s *Server) URL() string { return s.srv.URL() }

// Config returns an aws.Config for the server: its region, static
// credentials and BaseEndpoint, and an HTTP client whose idle connections
// Close shuts. The retryer is the SDK's default, as in an application; set
// Retryer (or pass connectcases options to Client) to change it.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       s.set.region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.srv.URL()),
		HTTPClient:   bodyWrapper{&http.Client{Transport: s.tr}},
	}
}

// Client returns a Connect Cases client for the server, built from Config;
// optFns change its options, e.g. to turn retries off:
//
//	srv.Client(func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} })
func (s *Server) Client(optFns ...func(*connectcases.Options)) *connectcases.Client {
	return connectcases.NewFromConfig(s.Config(), optFns...)
}

// Admin returns a client of the server's admin API (/_localcases/), the
// one the CLI uses.
func (s *Server) Admin() *admin.Client { return s.admin }

// Region and Account are those the server writes into ARNs.
func (s *Server) Region() string  { return s.set.region }
func (s *Server) Account() string { return s.set.account }

// bodyWrapper hides the request body's WriteTo from net/http. smithy-go
// closes the request body once response headers arrive, and its WriteTo
// then returns io.EOF, which net/http takes for a failed request write and
// closes the connection mid-response. A local server answers fast enough to
// hit that window; AWS almost never does.
type bodyWrapper struct{ c *http.Client }

func (b bodyWrapper) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return b.c.Do(r)
}

// settings are what the options set.
type settings struct {
	engine      string
	postgresDSN string
	region      string
	account     string
	seed        int64
	throttle    bool
	logger      *slog.Logger
	sinks       []server.SinkEntry
}

// Option configures a server before it starts.
type Option func(*settings)

// WithSQLite keeps the state in SQLite, the engine `localcases serve` uses
// by default, in a directory of the test's t.TempDir() (Start: a temporary
// directory Close removes).
func WithSQLite() Option { return func(s *settings) { s.engine = "sqlite" } }

// WithPostgres keeps the state in the PostgreSQL database at dsn, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Without a
// schema= parameter in dsn the server gets a schema of its own, dropped
// when it closes, so parallel tests can share one database.
func WithPostgres(dsn string) Option {
	return func(s *settings) { s.engine, s.postgresDSN = "postgres", dsn }
}

// WithRegion sets the region in ARNs and in Config. Default us-east-1.
func WithRegion(region string) Option { return func(s *settings) { s.region = region } }

// WithAccount sets the 12-digit account ID in ARNs. Default 000000000000.
func WithAccount(account string) Option { return func(s *settings) { s.account = account } }

// WithSeed seeds fault injection: the same seed and the same calls meet the
// same faults. Default 1.
func WithSeed(seed int64) Option { return func(s *settings) { s.seed = seed } }

// WithThrottling starts the server with throttling on: token buckets with
// the documented Connect Cases quotas. SetThrottling changes it later.
func WithThrottling() Option { return func(s *settings) { s.throttle = true } }

// WithLogger sends the server's log to l. Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }
