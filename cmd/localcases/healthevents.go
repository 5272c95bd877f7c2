package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases/health"
)

// healthEventCommands drive the emulated AWS Health API of a running
// server: what `aws health describe-events` lists.
func (m *Main) healthEventCommands(url *string) []*cobra.Command {
	return []*cobra.Command{m.healthEvents(url), m.healthPost(url), m.healthClose(url), m.healthSubscription(url)}
}

func (m *Main) healthEvents(url *string) *cobra.Command {
	return &cobra.Command{
		Use: "events", Short: "List the AWS Health events, most recently updated first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			evs, err := c.HealthEvents(cmd.Context())
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), evs)
			}
			return writeHealthEvents(cmd.OutOrStdout(), evs)
		},
	}
}

func (m *Main) healthPost(url *string) *cobra.Command {
	var (
		n           health.Notice
		start, end  string
		in, lasting time.Duration
	)
	cmd := &cobra.Command{
		Use:   "post DESCRIPTION",
		Short: "Post a scheduled change or account notification to AWS Health",
		Example: `  localcases health post "Amazon Connect Cases maintenance" --in 1h --lasting 30m
  localcases health post "Your domains move to new storage" --category accountNotification
  localcases health post "Elevated latencies" --category issue --type AWS_CONNECT_API_ISSUE`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n.Description = args[0]
			now := time.Now().UTC()
			var err error
			switch {
			case start != "":
				if n.StartTime, err = time.Parse(time.RFC3339, start); err != nil {
					return fmt.Errorf("--start: want RFC 3339, e.g. 2026-03-02T10:00:00Z: %w", err)
				}
			case in != 0:
				n.StartTime = now.Add(in)
			}
			switch {
			case end != "":
				if n.EndTime, err = time.Parse(time.RFC3339, end); err != nil {
					return fmt.Errorf("--end: want RFC 3339: %w", err)
				}
			case lasting != 0:
				from := n.StartTime
				if from.IsZero() {
					from = now
				}
				n.EndTime = from.Add(lasting)
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			ev, err := c.PostHealthEvent(cmd.Context(), n)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), ev)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "posted:")
			return writeHealthEvents(cmd.OutOrStdout(), []health.Event{ev})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&n.Category, "category", "scheduledChange", "scheduledChange, accountNotification or issue")
	fs.StringVar(&n.TypeCode, "type", "", "event type code (default by category, e.g. AWS_CONNECT_MAINTENANCE_SCHEDULED)")
	fs.StringVar(&n.Service, "service", "", "service (default CONNECT)")
	fs.StringVar(&n.Region, "region", "", "region (default the server's)")
	fs.StringSliceVar(&n.Entities, "entity", nil, "affected resource, e.g. a domain ARN (repeatable)")
	fs.StringVar(&start, "start", "", "start time, RFC 3339 (default now)")
	fs.StringVar(&end, "end", "", "end time, RFC 3339 (default none: open until closed)")
	fs.DurationVar(&in, "in", 0, "start this long from now (instead of --start)")
	fs.DurationVar(&lasting, "lasting", 0, "end this long after the start (instead of --end)")
	return cmd
}

func (m *Main) healthClose(url *string) *cobra.Command {
	return &cobra.Command{
		Use: "close EVENT-ARN", Short: "Close an AWS Health event now", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			if err := c.CloseHealthEvent(cmd.Context(), args[0]); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"closed": args[0]})
			}
			fmt.Fprintln(cmd.OutOrStdout(), "closed", args[0])
			return nil
		},
	}
}

func (m *Main) healthSubscription(url *string) *cobra.Command {
	return &cobra.Command{
		Use:   "subscription required|available",
		Short: "Answer AWS Health as an account without (required) or with (available) a Business support plan",
		Args:  cobra.ExactArgs(1), ValidArgs: []string{"required", "available"},
		RunE: func(cmd *cobra.Command, args []string) error {
			var required bool
			switch args[0] {
			case "required":
				required = true
			case "available":
			default:
				return fmt.Errorf("subscription %q: want required (SubscriptionRequiredException) or available", args[0])
			}
			c, err := m.client(cmd, *url)
			if err != nil {
				return err
			}
			if err := c.SetHealthSubscriptionRequired(cmd.Context(), required); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"subscriptionRequired": required})
			}
			fmt.Fprintln(cmd.OutOrStdout(), "AWS Health subscription:", args[0])
			return nil
		},
	}
}
