package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/health"
)

// Human output is the default: tables, durations with units, the status
// coloured when standard output is a terminal. --json prints the answer as
// the admin API gives it, which is what scripts should read.

// jsonFlag adds --json to an admin command.
func jsonFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().Bool("json", false, "print the answer as JSON, for scripts")
}

func wantJSON(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}

// isTerminal reports whether w is a terminal (a *os.File on one).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// painter colours status words on a terminal, unless NO_COLOR is set
// (https://no-color.org).
type painter struct{ on bool }

func (m *Main) painter(w io.Writer) painter {
	return painter{on: isTerminal(w) && m.Getenv("NO_COLOR") == ""}
}

const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	green  = "\x1b[32m"
	reset  = "\x1b[0m"
)

func (p painter) paint(s, colour string) string {
	if !p.on || colour == "" {
		return s
	}
	return colour + s + reset
}

// health colours a health status: operational green, degraded yellow,
// anything worse red.
func (p painter) health(s fault.HealthStatus) string {
	switch s {
	case fault.StatusOperational:
		return p.paint(string(s), green)
	case fault.StatusDegraded:
		return p.paint(string(s), yellow)
	}
	return p.paint(string(s), red)
}

// status colours an HTTP status: 2xx green, 4xx yellow, 5xx and drops red.
func (p painter) status(code int, dropped bool) string {
	switch {
	case dropped:
		return p.paint("dropped", red)
	case code >= 500:
		return p.paint(strconv.Itoa(code), red)
	case code >= 400:
		return p.paint(strconv.Itoa(code), yellow)
	}
	return p.paint(strconv.Itoa(code), green)
}

// table writes aligned columns. Colour codes are zero-width on a terminal,
// so cells are padded before they are painted: tabwriter counts bytes.
type table struct {
	w    io.Writer
	rows [][]string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) flush() error {
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// dur renders a duration for people: whole units, three significant digits.
func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + "s"
	}
	return d.Round(time.Second).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ruleOps(r fault.Rule) string {
	if r.Sink != "" {
		return "events to sink " + r.Sink
	}
	if len(r.Operation) == 0 {
		return "*"
	}
	return strings.Join(r.Operation, ",")
}

// ruleEffect says what a rule does, in one cell.
func ruleEffect(r fault.Rule) string {
	var parts []string
	switch r.Action {
	case fault.ActionError, "":
		if r.Error != nil {
			e := r.Error.Code
			if r.Error.StatusCode != 0 {
				e += " (" + strconv.Itoa(r.Error.StatusCode) + ")"
			}
			if r.Error.RetryAfterSeconds != nil && *r.Error.RetryAfterSeconds > 0 {
				e += fmt.Sprintf(", Retry-After %ds", *r.Error.RetryAfterSeconds)
			}
			parts = append(parts, e)
		} else {
			parts = append(parts, "error")
		}
	case fault.ActionHTTP:
		parts = append(parts, "HTTP "+strconv.Itoa(r.HTTPStatus))
	case fault.ActionHang:
		parts = append(parts, "hang "+dur(r.Hang.D()))
	case fault.ActionLatency:
	case fault.ActionDuplicate:
		parts = append(parts, fmt.Sprintf("duplicate, %d extra", r.Copies))
	case fault.ActionDelay:
		l := "delay " + dur(r.Latency.Min)
		if r.Latency.Max != r.Latency.Min {
			l += "-" + dur(r.Latency.Max)
		}
		return l
	default:
		parts = append(parts, string(r.Action))
	}
	if r.Latency != nil {
		l := "latency " + dur(r.Latency.Min)
		if r.Latency.Max != r.Latency.Min {
			l += "-" + dur(r.Latency.Max)
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, ", ")
}

// ruleWhen says when a rule applies, beyond its operations.
func ruleWhen(r fault.Rule) string {
	var parts []string
	if r.Probability != nil {
		parts = append(parts, strconv.FormatFloat(*r.Probability*100, 'f', -1, 64)+"%")
	}
	if s := r.Attempts.String(); s != "" {
		parts = append(parts, "attempts "+s)
	}
	if r.Count != nil {
		parts = append(parts, fmt.Sprintf("%d times", *r.Count))
	}
	if r.After != 0 {
		parts = append(parts, "after "+dur(r.After.D()))
	}
	if r.Duration != 0 {
		parts = append(parts, "for "+dur(r.Duration.D()))
	}
	if r.Domain != "" {
		parts = append(parts, "domain "+r.Domain)
	}
	if r.Service != "" || r.Region != "" {
		parts = append(parts, strings.Trim(r.Service+" "+r.Region, " "))
	}
	if r.Announced {
		parts = append(parts, "announced")
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, ", ")
}

func writeRules(w io.Writer, rules []fault.Rule) error {
	if len(rules) == 0 {
		_, err := fmt.Fprintln(w, "no fault rules")
		return err
	}
	t := &table{w: w}
	t.row("ID", "OPERATION", "FAULT", "WHEN")
	for _, r := range rules {
		t.row(r.ID, ruleOps(r), ruleEffect(r), ruleWhen(r))
	}
	return t.flush()
}

func writeScenario(w io.Writer, st *fault.ScenarioStatus, now time.Time) error {
	if st == nil {
		_, err := fmt.Fprintln(w, "no scenario running")
		return err
	}
	state := "ended"
	if st.Active {
		state = "running"
	}
	fmt.Fprintf(w, "scenario %s: %s", st.Name, state)
	if st.Phase != "" {
		fmt.Fprintf(w, ", phase %s", st.Phase)
	}
	if !st.EndsAt.IsZero() {
		if st.EndsAt.After(now) {
			fmt.Fprintf(w, ", ends in %s", dur(st.EndsAt.Sub(now).Round(time.Second)))
		} else {
			fmt.Fprintf(w, ", ended %s ago", dur(now.Sub(st.EndsAt).Round(time.Second)))
		}
	}
	fmt.Fprintln(w)
	if st.Description != "" {
		fmt.Fprintln(w, st.Description)
	}
	return nil
}

func writeReport(w io.Writer, rep fault.TrafficReport) error {
	if rep.Records == 0 {
		if _, err := fmt.Fprintln(w, "no requests recorded yet"); err != nil || len(rep.EventFaults) == 0 {
			return err
		}
		return writeEventFaults(w, rep)
	}
	if err := writeRequestReport(w, rep); err != nil {
		return err
	}
	if len(rep.EventFaults) > 0 {
		return writeEventFaults(w, rep)
	}
	return nil
}

// writeEventFaults shows what event rules did, and to which events.
func writeEventFaults(w io.Writer, rep fault.TrafficReport) error {
	fmt.Fprintf(w, "\nevent faults:\n")
	t := &table{w: w}
	t.row("SINK", "ACTION", "EVENTS")
	for _, c := range rep.EventFaults {
		t.row(c.Sink, string(c.Action), strconv.Itoa(c.Events))
	}
	t.flush()
	fmt.Fprintf(w, "\nmost recent:\n")
	t = &table{w: w}
	t.row("TIME", "SINK", "SEQ", "EVENT", "ACTION", "RULE")
	for _, e := range rep.Events {
		action := string(e.Action)
		switch {
		case e.Action == fault.ActionDelay:
			action += " " + dur(e.Delay)
		case e.Action == fault.ActionDuplicate:
			action += fmt.Sprintf(" +%d", e.Copies)
		}
		t.row(e.Time.UTC().Format("15:04:05.000"), e.Sink, strconv.FormatInt(e.Seq, 10), e.EventID, action, e.RuleID)
	}
	return t.flush()
}

func writeRequestReport(w io.Writer, rep fault.TrafficReport) error {
	fmt.Fprintf(w, "%d requests recorded\n\n", rep.Records)
	usage := func(title string, us []fault.Usage) {
		t := &table{w: w}
		t.row(title, "CALLS", "ATTEMPTS", "INJECTED", "ATTEMPTS/CALL", "FAULTED CALLS", "AMPLIFICATION", "RETRY-AFTER HONOURED")
		for _, u := range us {
			ra := "-"
			if u.RetryAfter.Retries > 0 {
				ra = fmt.Sprintf("%d of %d", u.RetryAfter.Honored, u.RetryAfter.Retries)
				if u.RetryAfter.Violated > 0 {
					ra += fmt.Sprintf(" (shortest early wait %s)", dur(u.RetryAfter.ShortestWait))
				}
			}
			t.row(dash(u.Key), strconv.Itoa(u.Invocations), strconv.Itoa(u.Attempts), strconv.Itoa(u.Injected),
				strconv.FormatFloat(u.AttemptsPerInvocation, 'f', 2, 64), strconv.Itoa(u.FaultedInvocations),
				amp(u), ra)
		}
		t.flush()
	}
	usage("OPERATION", rep.ByOperation)
	fmt.Fprintln(w)
	usage("CLIENT", rep.ByClient)
	if len(rep.Violations) > 0 {
		fmt.Fprintf(w, "\nretries sooner than Retry-After allowed:\n")
		t := &table{w: w}
		t.row("OPERATION", "CLIENT", "INVOCATION", "ATTEMPT", "RETRY-AFTER", "WAITED")
		for _, v := range rep.Violations {
			t.row(v.Operation, dash(v.ClientID), v.InvocationID, strconv.Itoa(v.Attempt), dur(v.RetryAfter), dur(v.Waited))
		}
		return t.flush()
	}
	return nil
}

func writeRequests(w io.Writer, p painter, recs []fault.Record) error {
	if len(recs) == 0 {
		_, err := fmt.Fprintln(w, "no requests recorded yet")
		return err
	}
	t := &table{w: w}
	t.row("TIME", "OPERATION", "STATUS", "ERROR", "LATENCY", "ATTEMPT", "FAULT", "REQUEST ID")
	for _, r := range recs {
		attempt := "-"
		if r.Attempt > 0 {
			attempt = strconv.Itoa(r.Attempt)
		}
		fault := "-"
		if r.Injected {
			fault = "injected"
			if r.RuleID != "" {
				fault += " by " + r.RuleID
			}
		}
		t.row(r.Time.UTC().Format("15:04:05.000"), r.Operation, p.status(r.Status, r.Dropped), dash(r.ErrorCode),
			dur(r.Latency), attempt, fault, dash(r.RequestID))
	}
	return t.flush()
}

func writeHealth(w io.Writer, p painter, h admin.Health) error {
	ready := "ready"
	if !h.Ready {
		ready = "not ready"
	}
	fmt.Fprintf(w, "%s: %s (%s)\n", "status", p.health(h.Status), ready)
	fmt.Fprintf(w, "localcases %s, store %s, region %s, account %s, up %s\n",
		h.Version, h.Store, h.Region, h.Account, dur(time.Duration(h.UptimeSeconds*float64(time.Second)).Round(time.Second)))
	if h.Scenario != nil {
		writeScenario(w, h.Scenario, h.Time)
	}
	var shown []fault.OperationHealth
	quiet := 0
	for _, o := range h.Operations {
		if o.Status == fault.StatusOperational && o.Requests == 0 {
			quiet++
			continue
		}
		shown = append(shown, o)
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].Operation < shown[j].Operation })
	if len(shown) > 0 {
		fmt.Fprintln(w)
		t := &table{w: w}
		t.row("OPERATION", "STATUS", "REQUESTS", "FAILURES", "ERROR RATE", "WHY")
		for _, o := range shown {
			t.row(o.Operation, p.health(o.Status), strconv.Itoa(o.Requests), strconv.Itoa(o.Failures),
				strconv.FormatFloat(o.ErrorRate*100, 'f', 1, 64)+"%", dash(strings.Join(o.Reasons, "; ")))
		}
		t.flush()
	}
	if quiet > 0 {
		noun := "operations"
		if quiet == 1 {
			noun = "operation"
		}
		fmt.Fprintf(w, "\n%d other %s operational, no requests yet (--json lists every one)\n", quiet, noun)
	}
	return nil
}

// amp is the load a fault window multiplied, or "-" with no faulted call.
func amp(u fault.Usage) string {
	if u.FaultedInvocations == 0 {
		return "-"
	}
	return strconv.FormatFloat(u.Amplification, 'f', 2, 64) + "x"
}

// writeHealthEvents lists AWS Health events, one a row: the ARN last, as
// `health close` wants it, and of the description only its title line.
func writeHealthEvents(w io.Writer, evs []health.Event) error {
	if len(evs) == 0 {
		_, err := fmt.Fprintln(w, "no AWS Health events")
		return err
	}
	const when = "2006-01-02 15:04 UTC"
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(when)
	}
	t := &table{w: w}
	t.row("STATUS", "CATEGORY", "START", "END", "SOURCE", "DESCRIPTION", "ARN")
	for _, e := range evs {
		title, _, _ := strings.Cut(e.Description, "\n")
		if r := []rune(title); len(r) > 48 {
			title = string(r[:47]) + "…"
		}
		t.row(e.Status, e.Category, at(e.StartTime), at(e.EndTime), dash(e.Source), dash(title), e.ARN)
	}
	return t.flush()
}
