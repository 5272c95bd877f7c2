package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/events"
	"github.com/localcases/localcases/internal/server"
)

type serveFlags struct {
	config, addr, region, account string
	data, store                   string
	memory                        bool
	logLevel, logFormat           string
	maxBodyBytes                  int64
	faults                        string
	seed                          int64
	throttle                      bool
	throttleRedis                 string
	authMode, adminToken          string
	maxInFlight                   int
	importFile                    string
	allowHosts                    []string
	healthSubscriptionRequired    bool
	events                        eventFlags
}

// eventFlags are the --events.* settings.
type eventFlags struct {
	retainCount                                  int
	retainAge                                    time.Duration
	relatedItemChanges, noopUpdates, bareDeletes bool
	caseARN, filterChangedFields                 bool
	sinks                                        []string
	deliveryTimeout, retryMaxAge                 time.Duration
	queueSize, retryMaxAttempts                  int
}

func (m *Main) serveCommand() *cobra.Command {
	var f serveFlags
	def := server.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Amazon Connect Cases API on a local endpoint",
		Long: `Run the Amazon Connect Cases API on a local endpoint.

Every flag can also be set through an environment variable: LOCALCASES_ and
the flag name in upper case with dashes as underscores (LOCALCASES_ADDR,
LOCALCASES_LOG_LEVEL, ...). Precedence: flag, environment, --config file,
default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd.Flags(), m.Getenv); err != nil {
				return err
			}
			cfg, err := f.resolve(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return m.serve(cmd.Context(), cfg, f.config, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "YAML or JSON config file (quotas, defaults for every flag)")
	fs.StringVar(&f.addr, "addr", def.Addr, "listen address (host:port; port 0 picks a free one; no host, as in :0, listens on every interface)")
	fs.StringVar(&f.region, "region", def.Region, "AWS Region used in ARNs")
	fs.StringVar(&f.account, "account", def.Account, "12-digit AWS account ID used in ARNs")
	fs.BoolVar(&f.memory, "memory", false, "keep nothing on disk")
	fs.StringVar(&f.data, "data", server.DefaultDataDir, "directory of the SQLite database (the default engine)")
	fs.StringVar(&f.store, "store", "", "a postgres:// URL to keep state in PostgreSQL instead (schema=NAME picks the schema; default localcases)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", 0, "largest request body accepted (default 6 MiB)")
	fs.StringVar(&f.faults, "faults", "", "YAML or JSON file of fault rules or a scenario to load at start")
	fs.Int64Var(&f.seed, "seed", def.Seed, "seed for fault probabilities: the same seed and requests meet the same faults")
	fs.BoolVar(&f.throttle, "throttle", false, "throttle with the documented Connect Cases rate quotas (ThrottlingException, 429)")
	fs.StringVar(&f.throttleRedis, "throttle-redis", "", "a redis:// URL: keep the throttling buckets in Redis, so every server on it enforces each quota in sum (implies --throttle; calls are allowed, counted and logged while Redis is unreachable)")
	fs.StringVar(&f.authMode, "auth", "permissive", "permissive (any request) or strict (SigV4 with the credentials of the --config file); SIGHUP reloads them")
	fs.StringVar(&f.adminToken, "admin-token", "", "require this bearer token on /_localcases/ (default: loopback clients only)")
	fs.StringVar(&f.importFile, "import", "", "load a snapshot from localcases export at start, replacing the state (a fixture)")
	fs.StringSliceVar(&f.allowHosts, "allow-host", nil, "host names besides this machine's that browsers and clients may use to reach a server protected only by the network (DNS-rebinding guard; *.example.com for subdomains)")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "concurrent API calls before shedding with ThrottlingException (default 1024)")
	fs.BoolVar(&f.healthSubscriptionRequired, "health-subscription-required", false, "answer the AWS Health API with SubscriptionRequiredException, as for an account without a Business or Enterprise support plan")
	fs.IntVar(&f.events.retainCount, "events.retain-count", events.DefaultRetainCount, "case events kept for GET /_localcases/events (negative: no count bound)")
	fs.DurationVar(&f.events.retainAge, "events.retain-age", events.DefaultRetainAge, "how long case events are kept (negative: no age bound)")
	fs.BoolVar(&f.events.relatedItemChanges, "events.related-item-changes", false, "also publish RELATED_ITEM.UPDATED and RELATED_ITEM.DELETED (not in AWS's current event list)")
	fs.BoolVar(&f.events.noopUpdates, "events.noop-updates", false, "publish CASE.UPDATED for an UpdateCase that changes no value")
	fs.BoolVar(&f.events.bareDeletes, "events.bare-deletes", false, "leave the configured fields' last values out of CASE.DELETED")
	fs.BoolVar(&f.events.caseARN, "events.case-arn", false, "add detail.case.caseArn to case events")
	fs.BoolVar(&f.events.filterChangedFields, "events.filter-changed-fields", false, "limit changedFieldIds to the fields of includedData")
	fs.StringArrayVar(&f.events.sinks, "event-sink", nil, "deliver case events to a sink, repeatable: 'URL [name=NAME] [pattern=JSON]', URL http(s)://… for a webhook or eventbridge+http(s)://host:port?source=… for EventBridge PutEvents (docs/EVENTS.md)")
	fs.DurationVar(&f.events.deliveryTimeout, "events.delivery-timeout", 0, "bound on one request to a sink (default 10s)")
	fs.IntVar(&f.events.queueSize, "events.queue-size", 0, "events read ahead per sink; past it they wait in the outbox (default 1000)")
	fs.IntVar(&f.events.retryMaxAttempts, "events.retry-max-attempts", 0, "attempts before a failing event is dead-lettered (default 8)")
	fs.DurationVar(&f.events.retryMaxAge, "events.retry-max-age", 0, "age since the change after which a failing event is dead-lettered (default 10m)")
	return cmd
}

// resolve builds the server config: defaults, then the config file, then
// the flags and variables that were set.
func (f *serveFlags) resolve(cmd *cobra.Command, logOut io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	cfg.Version = Version()
	if f.config != "" {
		if err := loadConfigFile(f.config, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", f.config, err)
		}
	}
	fs := cmd.Flags()
	set := func(name string, apply func()) {
		if fs.Changed(name) || cfgUnset(name, cfg) {
			apply()
		}
	}
	set("addr", func() { cfg.Addr = f.addr })
	set("region", func() { cfg.Region = f.region })
	set("account", func() { cfg.Account = f.account })
	set("memory", func() { cfg.Memory = cfg.Memory || f.memory })
	set("data", func() { cfg.DataDir = f.data })
	set("store", func() { cfg.StoreURL = f.store })
	set("max-body-bytes", func() { cfg.MaxBodyBytes = f.maxBodyBytes })
	set("faults", func() { cfg.FaultsFile = f.faults })
	set("seed", func() { cfg.Seed = f.seed })
	set("throttle", func() { cfg.Throttle.Enabled = cfg.Throttle.Enabled || f.throttle })
	set("throttle-redis", func() { cfg.ThrottleRedis = f.throttleRedis })
	set("auth", func() { cfg.Auth.Mode = f.authMode })
	set("admin-token", func() { cfg.AdminToken = f.adminToken })
	set("max-in-flight", func() { cfg.MaxInFlight = f.maxInFlight })
	set("import", func() { cfg.ImportFile = f.importFile })
	set("allow-host", func() { cfg.AllowedHosts = f.allowHosts })
	set("health-subscription-required", func() {
		cfg.HealthSubscriptionRequired = cfg.HealthSubscriptionRequired || f.healthSubscriptionRequired
	})
	ev := &cfg.Events
	set("events.retain-count", func() { ev.RetainCount = f.events.retainCount })
	set("events.retain-age", func() { ev.RetainAge = events.Duration(f.events.retainAge) })
	set("events.related-item-changes", func() { ev.RelatedItemChanges = ev.RelatedItemChanges || f.events.relatedItemChanges })
	set("events.noop-updates", func() { ev.NoopUpdates = ev.NoopUpdates || f.events.noopUpdates })
	set("events.bare-deletes", func() { ev.BareDeletes = ev.BareDeletes || f.events.bareDeletes })
	set("events.case-arn", func() { ev.CaseARN = ev.CaseARN || f.events.caseARN })
	set("events.filter-changed-fields", func() { ev.FilterChangedFields = ev.FilterChangedFields || f.events.filterChangedFields })
	if err := f.events.applyDelivery(fs, ev); err != nil {
		return cfg, err
	}
	logger, err := newLogger(logOut, f.logFormat, f.logLevel)
	if err != nil {
		return cfg, err
	}
	cfg.Logger = logger
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w (see localcases serve --help)", err)
	}
	return cfg, nil
}

// cfgUnset reports whether the config file left a setting empty, in which
// case the flag's default (or environment value) applies.
func cfgUnset(name string, cfg server.Config) bool {
	switch name {
	case "addr":
		return cfg.Addr == ""
	case "region":
		return cfg.Region == ""
	case "account":
		return cfg.Account == ""
	case "max-body-bytes":
		return cfg.MaxBodyBytes == 0
	case "data":
		return cfg.DataDir == ""
	case "store":
		return cfg.StoreURL == ""
	case "faults":
		return cfg.FaultsFile == ""
	case "seed":
		return cfg.Seed == 0
	case "throttle-redis":
		return cfg.ThrottleRedis == ""
	case "auth":
		return cfg.Auth.Mode == ""
	case "admin-token":
		return cfg.AdminToken == ""
	case "max-in-flight":
		return cfg.MaxInFlight == 0
	case "import":
		return cfg.ImportFile == ""
	case "allow-host":
		return len(cfg.AllowedHosts) == 0
	case "events.retain-count":
		return cfg.Events.RetainCount == 0
	case "events.retain-age":
		return cfg.Events.RetainAge == 0
	}
	return true
}

func (m *Main) serve(ctx context.Context, cfg server.Config, configFile string, out io.Writer) error {
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := srv.Open(); err != nil {
		srv.Close(context.Background())
		return err
	}
	url := srv.URL()
	fmt.Fprintf(out, "localcases %s: Amazon Connect Cases at %s (region %s, account %s, store %s)\n",
		cfg.Version, url, cfg.Region, cfg.Account, srv.Store().Kind())
	fmt.Fprintln(out, storeNote(cfg))
	fmt.Fprintln(out, tryLine(url, cfg))
	fmt.Fprintf(out, "health: %s/_localcases/health (AWS Health: aws health describe-events --endpoint-url %s --region %s)\n", url, url, cfg.Region)
	fmt.Fprintf(out, "events: %s%s (localcases events tail --url %s)\n", url, events.Path, url)
	fmt.Fprintf(out, "console: %s/ (open it in a browser on this machine)\n", url)
	if warning := exposureWarning(srv.Addr(), cfg); warning != "" {
		fmt.Fprintln(out, warning)
		cfg.Logger.Warn(warning)
	}
	cfg.Logger.Info("serving", "url", url, "store", srv.Store().Kind())
	stopReload := reloadOnHangup(srv, configFile, cfg.Logger)
	defer stopReload()
	if m.started != nil {
		m.started(srv)
	}
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.Logger.Info("shutting down")
	if err := srv.Close(shutdown); err != nil {
		cfg.Logger.Error("shutdown", slog.Any("err", err))
		return err
	}
	return nil
}

// storeNote tells where state lives, so nobody is surprised by state that
// outlives a restart, or by state that does not.
func storeNote(cfg server.Config) string {
	switch {
	case cfg.Memory:
		return "store: memory; state is lost when the server stops"
	case cfg.StoreURL != "":
		return "store: PostgreSQL (--store); state is shared by every server on that database and schema"
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = server.DefaultDataDir
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return fmt.Sprintf("store: SQLite in %s; delete the directory to start afresh, or use --memory", dir)
}

// tryLine is a command that works pasted into a new shell: in permissive
// mode any credentials do, so they go on the line, because the AWS CLI
// refuses to send an unsigned request.
func tryLine(url string, cfg server.Config) string {
	line := fmt.Sprintf("aws connectcases list-domains --endpoint-url %s --region %s", url, cfg.Region)
	if cfg.Auth.Mode == "" || cfg.Auth.Mode == auth.Permissive {
		return "try:  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test " + line
	}
	return "try:  " + line + "   (with an access key of the --config file)"
}

// applyDelivery adds the --event-sink sinks to those of the config file,
// and applies the delivery flags that were set.
func (f *eventFlags) applyDelivery(fs *pflag.FlagSet, ev *server.EventsConfig) error {
	for _, v := range f.sinks {
		c, err := dispatch.ParseFlag(v)
		if err != nil {
			return fmt.Errorf("--event-sink %q: %w (see localcases serve --help)", v, err)
		}
		ev.Sinks = append(ev.Sinks, server.SinkEntry{Name: c.Name, URL: c.URL, Pattern: server.Pattern(c.Pattern), Origin: c.Origin})
	}
	d := &ev.Delivery
	if fs.Changed("events.delivery-timeout") {
		d.Timeout = events.Duration(f.deliveryTimeout)
	}
	if fs.Changed("events.queue-size") {
		d.QueueSize = f.queueSize
	}
	if fs.Changed("events.retry-max-attempts") {
		d.Retry.MaxAttempts = f.retryMaxAttempts
	}
	if fs.Changed("events.retry-max-age") {
		d.Retry.MaxAge = events.Duration(f.retryMaxAge)
	}
	return nil
}
