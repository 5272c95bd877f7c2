package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/eventpattern"
	"github.com/localcases/localcases/eventsink"
)

func (m *Main) eventsSinks(url *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sinks",
		Short: "List the event sinks (webhooks, EventBridge forwarders) and their progress; add or delete one",
		Long: `List the event sinks of a running server: where each is (its cursor in the
outbox and how far behind it is), what this server delivered, and the dead
letters it left. Sinks come from serve --event-sink, the config file, or
'events sinks add'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			sinks, err := c.Sinks(cmd.Context())
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				if sinks == nil {
					sinks = []dispatch.SinkStatus{}
				}
				return printJSON(cmd.OutOrStdout(), sinks)
			}
			return writeSinks(cmd.OutOrStdout(), sinks)
		},
	}
	cmd.AddCommand(m.eventsSinksAdd(url), m.eventsSinksDelete(url))
	return cmd
}

func (m *Main) eventsSinksAdd(url *string) *cobra.Command {
	var name, pattern string
	var replace bool
	cmd := &cobra.Command{
		Use:   "add URL",
		Short: "Deliver case events to a webhook or an EventBridge-compatible endpoint",
		Long: `Deliver case events to a sink, from the next event on. URL is http(s)://… for
a webhook (each event POSTed as its JSON envelope) or
eventbridge+http(s)://host:port?source=…&bus=… for PutEvents (docs/EVENTS.md).
--pattern filters with an EventBridge event pattern.`,
		Example: `  localcases events sinks add http://127.0.0.1:9000/events --name consumer
  localcases events sinks add http://127.0.0.1:9000/closed --pattern '{"detail":{"eventType":["CASE.UPDATED"],"changedFieldIds":["status"]}}'
  localcases events sinks add 'eventbridge+http://127.0.0.1:4566?source=localcases.cases' --name localstack`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Checked here too, so a mistake is told before any request.
			if _, err := eventsink.Parse(args[0]); err != nil {
				return err
			}
			if pattern != "" {
				if _, err := eventpattern.Compile([]byte(pattern)); err != nil {
					return fmt.Errorf("--pattern: %w", err)
				}
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			st, err := c.AddSink(cmd.Context(), name, args[0], pattern, replace)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), st)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sink %s: it gets the events after sequence number %d\n", st.Name, st.Cursor)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the sink's name (default: derived from the URL and pattern)")
	cmd.Flags().StringVar(&pattern, "pattern", "", "only events matching this EventBridge event pattern (JSON)")
	cmd.Flags().BoolVar(&replace, "replace", false, "change the URL or pattern of the sink --name names, keeping its cursor and dead letters")
	return cmd
}

func (m *Main) eventsSinksDelete(url *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Stop delivering to a sink and forget it, with its cursor and dead letters",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			if err := c.DeleteSink(cmd.Context(), args[0]); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted sink %s\n", args[0])
			return nil
		},
	}
}

func (m *Main) eventsDeadLetters(url *string) *cobra.Command {
	var sink string
	cmd := &cobra.Command{
		Use:   "dead-letters",
		Short: "List the events sinks did not take within their retry policy; replay or delete them",
		Long: `List dead letters: events a sink refused for good, or that still failed after
the retry policy (attempts, and age since the change). Each keeps the event
as it was published, so 'replay' can send it again once the sink is mended.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			dls, err := c.DeadLetters(cmd.Context(), sink)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				if dls == nil {
					dls = []dispatch.DeadLetter{}
				}
				return printJSON(cmd.OutOrStdout(), dls)
			}
			return writeDeadLetters(cmd.OutOrStdout(), dls)
		},
	}
	cmd.PersistentFlags().StringVar(&sink, "sink", "", "only this sink's dead letters (default: every sink's)")
	cmd.AddCommand(m.eventsReplay(url, &sink), m.eventsDeleteDeadLetters(url, &sink))
	return cmd
}

func (m *Main) eventsReplay(url, sink *string) *cobra.Command {
	return &cobra.Command{
		Use:   "replay [EVENT_ID...]",
		Short: "Send dead letters again now, once each: those named, or all (of --sink)",
		Long: `Send dead letters again, now, once each, in sequence order: the events named,
or every dead letter (of --sink). Those delivered are deleted; the others
stay, with the new error. The command fails if any replay failed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			res, err := c.Replay(cmd.Context(), *sink, args)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else if err := writeReplay(cmd.OutOrStdout(), res); err != nil {
				return err
			}
			if res.Failed > 0 {
				return fmt.Errorf("%d of %d dead letters failed again", res.Failed, res.Failed+res.Delivered)
			}
			return nil
		},
	}
}

func (m *Main) eventsDeleteDeadLetters(url, sink *string) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "delete [EVENT_ID...] | --all",
		Short: "Delete dead letters: those named, or with --all every one (of --sink)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return errors.New("name the events to delete, or --all for every dead letter (of --sink)")
			}
			if len(args) > 0 && all {
				return errors.New("--all deletes every dead letter; do not name events with it")
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			n, err := c.DeleteDeadLetters(cmd.Context(), *sink, args)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]int{"deleted": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %d dead letters\n", n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "delete every dead letter (of --sink)")
	return cmd
}

func writeSinks(w io.Writer, sinks []dispatch.SinkStatus) error {
	if len(sinks) == 0 {
		_, err := fmt.Fprintln(w, "no event sinks (add one with serve --event-sink or localcases events sinks add)")
		return err
	}
	t := &table{w: w}
	t.row("NAME", "KIND", "URL", "PATTERN", "CURSOR", "LAG", "DELIVERED", "FAILED", "DEAD LETTERS", "LAST ERROR")
	for _, s := range sinks {
		t.row(s.Name, s.Kind, s.URL, dash(s.Pattern), strconv.FormatInt(s.Cursor, 10), strconv.FormatInt(s.Lag, 10),
			strconv.FormatInt(s.Stats.Delivered, 10), strconv.FormatInt(s.Stats.Failed, 10), strconv.Itoa(s.DeadLetters),
			dash(shorten(s.Stats.LastError, 60)))
	}
	return t.flush()
}

// shorten cuts s to n runes with an ellipsis, for a table cell.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// eventType reads detail.eventType from an envelope.
func eventType(env json.RawMessage) string {
	var e struct {
		Detail struct {
			EventType string `json:"eventType"`
		} `json:"detail"`
	}
	json.Unmarshal(env, &e)
	return e.Detail.EventType
}

func writeDeadLetters(w io.Writer, dls []dispatch.DeadLetter) error {
	if len(dls) == 0 {
		_, err := fmt.Fprintln(w, "no dead letters")
		return err
	}
	t := &table{w: w}
	t.row("SINK", "SEQ", "EVENT", "TYPE", "ATTEMPTS", "LAST ATTEMPT", "ERROR")
	for _, d := range dls {
		t.row(d.Sink, strconv.FormatInt(d.Seq, 10), d.EventID, dash(eventType(d.Event)), strconv.Itoa(d.Attempts),
			d.Last.UTC().Format(time.DateTime), shorten(strings.ReplaceAll(d.Error, "\n", " "), 80))
	}
	return t.flush()
}

func writeReplay(w io.Writer, res admin.ReplayResponse) error {
	if len(res.Results) == 0 {
		_, err := fmt.Fprintln(w, "no dead letters to replay")
		return err
	}
	t := &table{w: w}
	t.row("SINK", "EVENT", "RESULT")
	for _, r := range res.Results {
		result := "delivered"
		if !r.Delivered {
			result = "failed: " + shorten(r.Error, 80)
		}
		t.row(r.Sink, r.EventID, result)
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d delivered, %d failed\n", res.Delivered, res.Failed)
	return err
}
