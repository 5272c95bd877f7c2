// Package server assembles a running localcases: a store, the service on it,
// the wire protocol, the admin namespace, and the listener. The serve command
// and the end-to-end tests start the same Server.
package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/console"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/events"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/fault/pgshare"
	"github.com/localcases/localcases/fault/redislimit"
	"github.com/localcases/localcases/metrics"
	"github.com/localcases/localcases/restjson"
	"github.com/localcases/localcases/service"
	"github.com/localcases/localcases/store/postgres"
)

// Config is everything a Server needs. DefaultConfig gives the documented
// defaults.
type Config struct {
	// Addr is the listen address; ":0" or "127.0.0.1:0" picks a free port.
	// Default 127.0.0.1:4599.
	Addr string `yaml:"addr" json:"addr"`
	// Region and Account appear in ARNs. Defaults us-east-1, 000000000000.
	Region  string `yaml:"region" json:"region"`
	Account string `yaml:"account" json:"account"`
	// Memory keeps nothing on disk.
	Memory bool `yaml:"memory" json:"memory"`
	// DataDir holds the SQLite database of the default engine. Default
	// "localcases-data", relative to the working directory.
	DataDir string `yaml:"data" json:"data"`
	// StoreURL, if set, names another engine: a postgres:// or
	// postgresql:// URL (its schema= parameter picks the schema, default
	// "localcases"). Empty: SQLite under DataDir.
	StoreURL string `yaml:"store" json:"store"`
	// Quotas override the service quotas; zero values keep the defaults.
	Quotas service.Quotas `yaml:"quotas" json:"quotas"`
	// MaxBodyBytes bounds request bodies. Default restjson.DefaultMaxBodyBytes.
	MaxBodyBytes int64 `yaml:"maxBodyBytes" json:"maxBodyBytes"`
	// Seed makes fault injection reproducible: the same seed and the same
	// requests meet the same faults. Default 1.
	Seed int64 `yaml:"seed" json:"seed"`
	// FaultsFile is a YAML or JSON file of fault rules or a scenario to
	// load at start.
	FaultsFile string `yaml:"faults" json:"faults"`
	// Throttle turns on token buckets with the documented Connect Cases
	// quotas, optionally overridden per operation.
	Throttle fault.ThrottleConfig `yaml:"throttle" json:"throttle"`
	// ThrottleRedis, a redis:// URL, keeps the token buckets in Redis so
	// that every server on it enforces each quota in sum (per account and
	// Region, as AWS does), and turns throttling on. When Redis cannot be
	// reached calls are allowed, counted and logged (package redislimit).
	// Default "": buckets in this process.
	ThrottleRedis string `yaml:"throttleRedis" json:"throttleRedis"`
	// Auth selects permissive (any request) or strict (SigV4 with the listed
	// credentials, and their policies) authentication.
	Auth auth.Config `yaml:"auth" json:"auth"`
	// AdminToken, when set, is required (Authorization: Bearer TOKEN) on
	// every /_localcases/ request, from anywhere. Without it the admin
	// namespace answers only loopback clients.
	AdminToken string `yaml:"adminToken" json:"adminToken"`
	// ImportFile is a snapshot (localcases export) loaded at start,
	// replacing the state: a team's fixture.
	ImportFile string `yaml:"import" json:"import"`
	// AllowedHosts are host names, besides this machine's, that clients may
	// reach the server by when only the network protects it (permissive
	// auth, or the admin namespace without a token): a browser page served
	// from any other name is refused (DNS rebinding). "*.example.com"
	// allows subdomains; "*" turns the check off. Default none.
	AllowedHosts []string `yaml:"allowedHosts" json:"allowedHosts"`
	// MaxInFlight bounds concurrent API calls; past it calls are shed with
	// ThrottlingException. Default DefaultMaxInFlight.
	MaxInFlight int `yaml:"maxInFlight" json:"maxInFlight"`
	// HealthSubscriptionRequired makes the AWS Health API answer
	// SubscriptionRequiredException, as for an account without a
	// Business or Enterprise support plan. Default false.
	HealthSubscriptionRequired bool `yaml:"healthSubscriptionRequired" json:"healthSubscriptionRequired"`
	// DisableMetrics turns the Prometheus metrics off: nothing is counted
	// and /metrics answers 404. Default false: metrics are on, at a cost
	// measured in docs/BENCHMARKS.md.
	DisableMetrics bool `yaml:"disableMetrics" json:"disableMetrics"`
	// Events configures case events: the outbox's retention and the
	// choices EVENTS.md leaves open.
	Events EventsConfig `yaml:"events" json:"events"`

	Version string           `yaml:"-" json:"-"`
	Logger  *slog.Logger     `yaml:"-" json:"-"`
	Clock   localcases.Clock `yaml:"-" json:"-"`
}

// EventsConfig is the events section of the configuration.
type EventsConfig struct {
	// RetainCount keeps at most this many events in the outbox. Default
	// events.DefaultRetainCount (10000); 0 keeps the default; negative: no
	// count bound.
	RetainCount int `yaml:"retainCount" json:"retainCount"`
	// RetainAge drops events older than this. Default
	// events.DefaultRetainAge (24h); 0 keeps the default; negative: no age
	// bound.
	RetainAge events.Duration `yaml:"retainAge" json:"retainAge"`
	// TrimInterval is the time between background trims. Default
	// events.DefaultTrimInterval.
	TrimInterval events.Duration `yaml:"trimInterval" json:"trimInterval"`
	// StreamKeepalive is the interval of the event stream's keepalive
	// comments. Default events.DefaultKeepalive.
	StreamKeepalive      events.Duration `yaml:"streamKeepalive" json:"streamKeepalive"`
	service.EventOptions `yaml:",inline"`
	// Sinks are delivered every event they match: webhooks and EventBridge
	// forwarders (serve --event-sink). More can be added at run time
	// through /_localcases/sinks.
	Sinks []SinkEntry `yaml:"sinks" json:"sinks,omitempty"`
	// Delivery tunes the delivery to sinks.
	Delivery DeliveryConfig `yaml:"delivery" json:"delivery,omitzero"`
}

// DefaultConfig returns the configuration `localcases serve` starts from.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:4599", Region: "us-east-1", Account: "000000000000", Version: "dev", Seed: 1,
		Events: EventsConfig{RetainCount: events.DefaultRetainCount, RetainAge: events.Duration(events.DefaultRetainAge)}}
}

// Validate reports a configuration that cannot start.
func (c *Config) Validate() error {
	if len(c.Account) != 12 || strings.Trim(c.Account, "0123456789") != "" {
		return fmt.Errorf("account %q must be 12 digits", c.Account)
	}
	if c.Region == "" || strings.ContainsAny(c.Region, " :/") {
		return fmt.Errorf("region %q is not a region name", c.Region)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q: %w", c.Addr, err)
	}
	return c.Events.checkSinks()
}

// Server is a localcases instance.
type Server struct {
	cfg      Config
	store    localcases.Store
	svc      *service.Service
	api      *restjson.Handler
	faults   *fault.Engine
	control  fault.Control
	share    *pgshare.Share      // nil unless the store is PostgreSQL
	buckets  *redislimit.Buckets // nil unless ThrottleRedis is set
	verifier verifierBox
	records  *fault.Recorder
	admin    *admin.Handler
	console  *console.Handler
	guard    *guard
	shed     *shedder
	health   healthAPI
	metrics  *metrics.Metrics
	// notifier wakes event readers on commit; retainer trims the outbox;
	// eventsDone ends event waits and streams (and the console's live
	// stream) when the server stops.
	notifier   *events.Notifier
	retainer   *events.Retainer
	dispatcher *dispatch.Dispatcher
	eventsDone chan struct{}
	ln         net.Listener
	http       *http.Server
	serveCh    chan error

	// requests counts the HTTP requests being served, and handlers lets
	// Close wait for them to return before the store closes.
	requests atomic.Int64
	handlers sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// New builds a Server from cfg without listening yet.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = localcases.SystemClock{}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Taken before the store is wrapped: the fault state shares its pool.
	pg, _ := store.(*postgres.Store)
	var m *metrics.Metrics // nil counts nothing
	if !cfg.DisableMetrics {
		m = metrics.New()
	}
	store = m.Store(store)
	notifier := &events.Notifier{}
	svc, err := service.New(ctx, store, service.Config{
		Region: cfg.Region, Account: cfg.Account, Quotas: cfg.Quotas,
		Clock: cfg.Clock, Logger: cfg.Logger.With("subsystem", "service"),
		Events: cfg.Events.EventOptions, EventsCommitted: notifier.Notify,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, svc: svc, metrics: m, guard: newGuard(cfg.AllowedHosts, cfg.Addr),
		notifier: notifier, eventsDone: make(chan struct{})}
	if err := s.SetAuth(cfg.Auth); err != nil {
		store.Close()
		return nil, err
	}
	if err := s.openFaults(ctx); err != nil {
		store.Close()
		return nil, err
	}
	s.shed = newShedder(cfg.MaxInFlight, m)
	s.api = restjson.NewHandler(svc, restjson.Options{
		Logger:       cfg.Logger.With("subsystem", "api"),
		MaxBodyBytes: cfg.MaxBodyBytes,
		// The checks that need no body come first, so an unsigned request
		// costs no upload; then the body is received before the call takes
		// a slot, so slow uploaders cannot starve fast calls; shedding
		// before the signature check, so an overloaded server spends
		// nothing on a call it refuses; authentication before faults, as
		// at AWS's front door. In-flight counting wraps them all.
		Middleware: []restjson.Middleware{s.inFlight, s.precheck, s.shed.readFirst, s.shed.middleware, s.authenticate, injectFaults(s.faults, m)},
		Observe:    s.observe,
	})
	s.admin = admin.NewHandler(admin.Options{
		Version: cfg.Version, StoreKind: store.Kind(), Region: cfg.Region, Account: cfg.Account,
		ServiceHealth: s.faults.Health,
	})
	s.openHealth()
	if err := s.shareFaults(ctx, pg); err != nil {
		s.closeShare()
		store.Close()
		return nil, err
	}
	if err := s.loadFaultsFile(); err != nil {
		s.closeShare()
		store.Close()
		return nil, err
	}
	(&admin.Faults{Engine: s.faults, Control: s.control, Recorder: s.records, Logger: s.cfg.Logger}).Register(s.admin)
	(&admin.Live{Engine: s.faults, Recorder: s.records, Done: s.eventsDone, Now: cfg.Clock.Now}).Register(s.admin)
	s.console = console.New(console.Options{
		AdminToken: cfg.AdminToken,
		AuthMode:   func() string { return s.verifier.p.Load().Mode() },
	})
	admin.RegisterProfiling(s.admin)
	admin.RegisterState(s.admin, checkedState{svc})
	if cfg.ImportFile != "" {
		if err := s.importFile(ctx, cfg.ImportFile); err != nil {
			s.closeShare()
			store.Close()
			return nil, err
		}
	}
	s.openEvents()
	if err := s.openSinks(ctx); err != nil {
		s.retainer.Close()
		store.Close()
		return nil, err
	}
	return s, nil
}

// Handler is the whole HTTP surface: the admin namespace and the API.
//
// It splits on the prefix by hand rather than with a ServeMux: a mux would
// clean API paths (redirecting a caseId of "..") before restjson sees them.
func (s *Server) Handler() http.Handler {
	return s.guarded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if console.Handles(r) {
			// With a token the page itself is public (it holds no data
			// and carries the login); without one, the console answers
			// whom the admin API answers.
			if s.cfg.AdminToken == "" || !console.Public(r) {
				if err := admin.Allow(r, s.cfg.AdminToken); err != nil {
					admin.WriteError(w, http.StatusForbidden, err.Error())
					return
				}
			}
			s.console.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, admin.Prefix) {
			if err := admin.Allow(r, s.cfg.AdminToken); err != nil {
				admin.WriteError(w, http.StatusForbidden, err.Error())
				return
			}
			s.admin.ServeHTTP(w, r)
			s.adminChanged(r)
			return
		}
		if r.URL.Path == "/metrics" {
			if err := admin.Allow(r, s.cfg.AdminToken); err != nil {
				admin.WriteError(w, http.StatusForbidden, err.Error())
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				admin.WriteError(w, http.StatusMethodNotAllowed, "/metrics answers GET")
				return
			}
			s.metrics.Handler().ServeHTTP(w, r)
			return
		}
		if s.serveHealth(w, r) {
			return
		}
		s.api.ServeHTTP(w, r)
	}))
}

// Open starts listening and serving.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = restjson.Listener(ln, nil)
	s.http = &http.Server{
		Handler: s.tracked(s.Handler()),
		// Slow clients cannot hold connections: headers must arrive within
		// 10 s and a whole request within 2 min; idle keep-alives close
		// after 2 min. No write timeout, so an injected hang can outlast
		// the client as intended.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	s.serveCh = make(chan error, 1)
	go func() { s.serveCh <- s.http.Serve(s.ln) }()
	s.admin.SetReady(true)
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is the endpoint clients use, e.g. http://127.0.0.1:4599. A server
// listening on every interface (":0", "0.0.0.0:4599") is named by its
// loopback address, which a client on this machine can always reach.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return "http://" + addr.String()
}

// Service returns the service, for tests that seed state directly.
func (s *Server) Service() *service.Service { return s.svc }

func (s *Server) importFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	snap, err := admin.DecodeSnapshot(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	if err := (checkedState{s.svc}).Import(ctx, snap); err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	return nil
}

// Faults returns the fault engine.
func (s *Server) Faults() *fault.Engine { return s.faults }

// Records returns the traffic recorder.
func (s *Server) Records() *fault.Recorder { return s.records }

// Admin returns the admin handler, for subsystems that add endpoints.
func (s *Server) Admin() *admin.Handler { return s.admin }

// Metrics returns the server's metrics, served at /metrics, for subsystems
// that record their own (event delivery).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Store returns the store.
func (s *Server) Store() localcases.Store { return s.store }

// Config returns the configuration the server runs with.
func (s *Server) Config() Config { return s.cfg }

// tracked counts the requests being served, for Close.
func (s *Server) tracked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handlers.Add(1)
		s.requests.Add(1)
		defer func() {
			s.requests.Add(-1)
			s.handlers.Done()
		}()
		next.ServeHTTP(w, r)
	})
}

// handlerGrace is how long Close waits, once it has closed the connections
// left after the drain deadline, for their handlers to notice and return
// before it closes the store under them.
const handlerGrace = 5 * time.Second

// Close stops accepting connections, lets in-flight requests finish (up to
// ctx's deadline), then closes the store. Requests still running at the
// deadline (a stalled upload, an injected hang) are cut off: their
// connections are closed and the count is logged. That is a stop that did
// what it could, not a failure: Close returns an error only when the store
// or the listener fails.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Server) close(ctx context.Context) error {
	var errs []error
	// Event polls and streams would hold the drain until its deadline.
	close(s.eventsDone)
	if s.http != nil {
		s.admin.SetReady(false)
		if err := s.http.Shutdown(ctx); err != nil {
			s.cfg.Logger.Warn("shutdown: the drain deadline passed; closing the connections still open",
				"requests_cut_off", s.requests.Load(), "err", err)
			s.http.Close()
		}
		if err := <-s.serveCh; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		done := make(chan struct{})
		go func() { s.handlers.Wait(); close(done) }()
		t := time.NewTimer(handlerGrace)
		select {
		case <-done:
		case <-t.C:
			s.cfg.Logger.Warn("shutdown: requests still running after their connections closed; closing the store anyway",
				"requests", s.requests.Load())
		}
		t.Stop()
	}
	// Delivery stops before the store closes, writing its cursors and
	// releasing its leases to the other servers.
	s.dispatcher.Close()
	s.retainer.Close()
	s.closeShare()
	if err := s.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// closeShare stops following the shared fault state, before the store's
// pool closes under it, and closes the connections to Redis.
func (s *Server) closeShare() {
	if s.share != nil {
		s.share.Close()
	}
	if s.buckets != nil {
		s.buckets.Close()
	}
}
