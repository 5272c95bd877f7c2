package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
)

// urlFlag adds --url (env LOCALCASES_URL) naming the running server,
// --admin-token (env LOCALCASES_ADMIN_TOKEN) for a server started with one,
// and --config (env LOCALCASES_CONFIG): the server's own config file, from
// which the token and the address are read when not given otherwise.
func (m *Main) urlFlag(cmd *cobra.Command) *string {
	u := cmd.PersistentFlags().String("url", "http://127.0.0.1:4599", "endpoint of the running localcases server")
	cmd.PersistentFlags().String("admin-token", "", "the server's --admin-token, if it was started with one")
	cmd.PersistentFlags().String("config", "", "the server's config file (serve --config): its adminToken and addr are used unless given otherwise")
	return u
}

// clientConfig is what the admin commands read from a server config file.
type clientConfig struct {
	Addr       string `yaml:"addr" json:"addr"`
	AdminToken string `yaml:"adminToken" json:"adminToken"`
}

func (m *Main) client(cmd *cobra.Command, url string) (*admin.Client, error) {
	fs := cmd.Flags()
	if err := applyEnv(fs, m.Getenv); err != nil {
		return nil, err
	}
	if f := fs.Lookup("url"); f != nil {
		url = f.Value.String()
	}
	var token string
	if f := fs.Lookup("admin-token"); f != nil {
		token = f.Value.String()
	}
	if f := fs.Lookup("config"); f != nil && f.Value.String() != "" {
		var cc clientConfig
		if err := loadConfigFileLoose(f.Value.String(), &cc); err != nil {
			return nil, fmt.Errorf("config %s: %w", f.Value.String(), err)
		}
		if !fs.Changed("url") && cc.Addr != "" {
			url = urlFromAddr(cc.Addr)
		}
		if !fs.Changed("admin-token") {
			token = cc.AdminToken
		}
	}
	c := admin.NewClient(url)
	c.Token = token
	return c, nil
}

// urlFromAddr turns a listen address into a URL a client on this machine
// can reach: a wildcard or empty host becomes loopback.
func urlFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) faultsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faults",
		Short: "Inject failures into a running server: list, add, clear, load, scenario, report",
		Long: `Inject failures into a running localcases server.

Rules are checked in order on every API request; the first that matches
decides. Per-request faults need no rule: send the header
x-localcases-fault: InternalServerException;retryAfter=3 (or ThrottlingException,
http=503, drop, latency=200ms, hang=10s, commit-then-fail) on one call.`,
	}
	url := m.urlFlag(cmd)
	jsonFlag(cmd)
	cmd.AddCommand(
		m.faultsList(url), m.faultsAdd(url), m.faultsClear(url), m.faultsLoad(url),
		m.faultsScenario(url), m.faultsStop(url), m.faultsReport(url), m.faultsRequests(url),
	)
	return cmd
}

func (m *Main) faultsList(url *string) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the fault rules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			rules, err := c.Rules(cmd.Context())
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), rules)
			}
			return writeRules(cmd.OutOrStdout(), rules)
		},
	}
}

func (m *Main) faultsAdd(url *string) *cobra.Command {
	var (
		ops, errCode, message, action, attempts, ruleJSON, latency, id, domain string
		retryAfter, count, httpStatus                                          int
		probability                                                            float64
		announced                                                              bool
		after, duration                                                        time.Duration
		sink                                                                   string
		copies                                                                 int
	)
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Append a fault rule",
		Example: `  localcases faults add --op CreateCase --error InternalServerException --retry-after 2 --attempts 1-2
  localcases faults add --op '*' --probability 0.2 --error ThrottlingException
  localcases faults add --op GetCase --action latency --latency 300ms
  localcases faults add --op CreateCase --action commit-then-fail --count 1
  localcases faults add --rule '{"operation":"SearchCases","action":"http","httpStatus":503}'
  localcases faults add --sink consumer --action duplicate --probability 0.3
  localcases faults add --sink '*' --domain "$domain" --action delay --latency 2s
  localcases faults add --sink consumer --action reorder --count 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rule map[string]any
			if ruleJSON != "" {
				if err := json.Unmarshal([]byte(ruleJSON), &rule); err != nil {
					return fmt.Errorf("--rule: %w", err)
				}
			} else {
				rule = map[string]any{}
			}
			fs := cmd.Flags()
			setIf := func(flag, key string, v any) {
				if fs.Changed(flag) {
					rule[key] = v
				}
			}
			setIf("id", "id", id)
			if fs.Changed("op") {
				rule["operation"] = strings.Split(ops, ",")
			}
			setIf("domain", "domain", domain)
			setIf("probability", "probability", probability)
			setIf("attempts", "attempts", attempts)
			setIf("count", "count", count)
			setIf("after", "after", after.String())
			setIf("duration", "duration", duration.String())
			setIf("action", "action", action)
			setIf("latency", "latency", latency)
			setIf("http-status", "httpStatus", httpStatus)
			setIf("announced", "announced", announced)
			setIf("sink", "sink", sink)
			setIf("copies", "copies", copies)
			if fs.Changed("error") || fs.Changed("retry-after") || fs.Changed("message") {
				e := map[string]any{}
				if fs.Changed("error") {
					e["code"] = errCode
				}
				if fs.Changed("retry-after") {
					e["retryAfterSeconds"] = retryAfter
				}
				if fs.Changed("message") {
					e["message"] = message
				}
				rule["error"] = e
			}
			data, _ := json.Marshal([]any{rule})
			rules, err := fault.ParseRules(data)
			if err != nil {
				return err
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			all, err := c.AddRules(cmd.Context(), rules)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), all)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added rule %s; the rules now:\n", all[len(all)-1].ID)
			return writeRules(cmd.OutOrStdout(), all)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&id, "id", "", "rule ID (default: generated)")
	fs.StringVar(&ops, "op", "*", "operations, comma-separated, or *")
	fs.StringVar(&domain, "domain", "", "only requests to this domain ID")
	fs.Float64Var(&probability, "probability", 1, "chance of injecting on a matching request (seeded)")
	fs.StringVar(&attempts, "attempts", "", "SDK attempt numbers, e.g. 1-2 (fail twice, then pass)")
	fs.IntVar(&count, "count", 0, "inject at most this many times in total")
	fs.DurationVar(&after, "after", 0, "become active this long after being added")
	fs.DurationVar(&duration, "duration", 0, "stay active this long")
	fs.StringVar(&action, "action", "", "error, http, latency, drop, hang or commit-then-fail (default error); with --sink: drop, duplicate, delay or reorder")
	fs.StringVar(&errCode, "error", "", "error code, e.g. InternalServerException")
	fs.IntVar(&retryAfter, "retry-after", 0, "Retry-After seconds on InternalServerException (0: no header)")
	fs.StringVar(&message, "message", "", "error message")
	fs.StringVar(&latency, "latency", "", "added latency, e.g. 200ms")
	fs.IntVar(&httpStatus, "http-status", 0, "raw status for --action http (500, 502, 503, 504)")
	// --rule, not --json: --json prints the answer for scripts, as on every
	// other admin command.
	fs.StringVar(&ruleJSON, "rule", "", "the rule as JSON; flags override its members")
	fs.BoolVar(&announced, "announced", false, "post an AWS Health operational issue while the rule is active")
	fs.StringVar(&sink, "sink", "", "act on case events to this event sink (* for every sink) instead of API requests")
	fs.IntVar(&copies, "copies", 0, "extra copies --action duplicate delivers (default 1)")
	return cmd
}

func (m *Main) faultsClear(url *string) *cobra.Command {
	return &cobra.Command{
		Use: "clear", Short: "Remove every fault rule and stop any scenario", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			if err := c.ClearRules(cmd.Context()); err != nil {
				return err
			}
			if err := c.StopScenario(cmd.Context()); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"rules": []fault.Rule{}, "scenario": nil})
			}
			fmt.Fprintln(cmd.OutOrStdout(), "cleared: no fault rules, no scenario")
			return nil
		},
	}
}

func (m *Main) faultsLoad(url *string) *cobra.Command {
	return &cobra.Command{
		Use: "load FILE", Short: "Replace the rules with a YAML or JSON file (rules or a scenario)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			file, err := c.Load(cmd.Context(), data, strings.TrimPrefix(filepath.Ext(args[0]), "."))
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), file)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "loaded %d rules", len(file.Rules))
			if file.Scenario != nil {
				fmt.Fprintf(cmd.OutOrStdout(), " and scenario %q", file.Scenario.Name)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
}

func (m *Main) faultsScenario(url *string) *cobra.Command {
	var p fault.ScenarioParams
	var duration, period time.Duration
	var ops string
	cmd := &cobra.Command{
		Use:   "scenario PRESET",
		Short: "Start a preset scenario: " + strings.Join(fault.Presets(), ", "),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.Duration = fault.Duration(duration)
			p.Period = fault.Duration(period)
			if ops != "" {
				p.Operations = strings.Split(ops, ",")
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			st, err := c.StartScenario(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), st)
			}
			return writeScenario(cmd.OutOrStdout(), st, time.Now())
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&duration, "duration", 0, "how long the scenario lasts (default: the preset's)")
	fs.DurationVar(&period, "period", 0, "phase length for flapping and throttle-storm")
	fs.Float64Var(&p.Percent, "percent", 0, "percent of calls affected (brownout)")
	fs.StringVar(&ops, "op", "", "operations, comma-separated (default all)")
	fs.StringVar(&p.Code, "error", "", "error code to inject instead of the preset's")
	return cmd
}

func (m *Main) faultsStop(url *string) *cobra.Command {
	return &cobra.Command{
		Use: "stop", Short: "Stop the active scenario", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			if err := c.StopScenario(cmd.Context()); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"scenario": nil})
			}
			fmt.Fprintln(cmd.OutOrStdout(), "stopped: no scenario running")
			return nil
		},
	}
}

func (m *Main) faultsReport(url *string) *cobra.Command {
	var also []string
	cmd := &cobra.Command{
		Use: "report", Short: "Show attempts per call and Retry-After compliance, per operation and client", Args: cobra.NoArgs,
		Long: `Show attempts per call and Retry-After compliance, per operation and client.

Each server keeps the records of the calls it answered. Behind a load
balancer a client's retries of one call may reach different servers: name
the others with --also to report over the records of all of them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			var rep fault.TrafficReport
			if len(also) == 0 {
				rep, err = c.Report(cmd.Context())
			} else {
				rep, err = mergedReport(cmd.Context(), c, also)
			}
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return writeReport(cmd.OutOrStdout(), rep)
		},
	}
	cmd.Flags().StringSliceVar(&also, "also", nil, "URLs of the other servers behind the same load balancer: one report over the records of all")
	return cmd
}

// mergedReport reports over the records of c's server and the others,
// with c's admin token; the event faults of each are added up.
func mergedReport(ctx context.Context, c *admin.Client, also []string) (fault.TrafficReport, error) {
	clients := []*admin.Client{c}
	for _, u := range also {
		o := admin.NewClient(u)
		o.Token = c.Token
		clients = append(clients, o)
	}
	var recs []fault.Record
	var events []fault.EventRecord
	eventFaults := map[[2]string]int{}
	for _, cl := range clients {
		r, err := cl.Requests(ctx, 0)
		if err != nil {
			return fault.TrafficReport{}, fmt.Errorf("%s: %w", cl.URL, err)
		}
		recs = append(recs, r...)
		one, err := cl.Report(ctx)
		if err != nil {
			return fault.TrafficReport{}, fmt.Errorf("%s: %w", cl.URL, err)
		}
		events = append(events, one.Events...)
		for _, ef := range one.EventFaults {
			eventFaults[[2]string{ef.Sink, string(ef.Action)}] += ef.Events
		}
	}
	rep := fault.ReportOf(recs)
	slices.SortStableFunc(events, func(a, b fault.EventRecord) int { return a.Time.Compare(b.Time) })
	rep.Events = events
	for k, n := range eventFaults {
		rep.EventFaults = append(rep.EventFaults, fault.EventFaultCount{Sink: k[0], Action: fault.Action(k[1]), Events: n})
	}
	slices.SortFunc(rep.EventFaults, func(a, b fault.EventFaultCount) int {
		return cmp.Or(cmp.Compare(a.Sink, b.Sink), cmp.Compare(a.Action, b.Action))
	})
	return rep, nil
}

func (m *Main) faultsRequests(url *string) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use: "requests", Short: "Show the most recent requests, injected faults marked", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			recs, err := c.Requests(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), recs)
			}
			return writeRequests(cmd.OutOrStdout(), m.painter(cmd.OutOrStdout()), recs)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many (0: all kept)")
	return cmd
}

func (m *Main) healthCommand() *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show a running server's service-health page",
		Long: `Show a running server's service-health page: the overall status, and the
operations that are not operational or have seen requests.

--wait waits until the server answers (up to the duration given, 30s by
default), for scripts that start one in the background:

  localcases serve --memory &
  localcases health --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, cmd.Flags().Lookup("url").Value.String())
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("wait") {
				if err := c.WaitReady(cmd.Context(), wait); err != nil {
					return err
				}
			}
			h, err := c.Health(cmd.Context())
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), h)
			}
			return writeHealth(cmd.OutOrStdout(), m.painter(cmd.OutOrStdout()), h)
		},
	}
	url := m.urlFlag(cmd)
	jsonFlag(cmd)
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "wait up to this long for the server to answer before showing its health")
	cmd.Flags().Lookup("wait").NoOptDefVal = "30s"
	cmd.AddCommand(m.healthEventCommands(url)...)
	return cmd
}
