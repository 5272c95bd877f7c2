package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/eventpattern"
	"github.com/localcases/localcases/events"
)

func (m *Main) eventsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Read the case events a running server publishes; manage their sinks and dead letters",
		Long: `Read the case events a running server publishes: the EventBridge events
Amazon Connect Cases sends when a domain's event configuration is enabled
(aws connectcases put-case-event-configuration). See docs/EVENTS.md.`,
	}
	url := m.urlFlag(cmd)
	jsonFlag(cmd)
	cmd.AddCommand(m.eventsTail(url), m.eventsSinks(url), m.eventsDeadLetters(url))
	return cmd
}

type tailFlags struct {
	domainID, pattern, after string
	noFollow                 bool
	max                      int
}

func (m *Main) eventsTail(url *string) *cobra.Command {
	var f tailFlags
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print case events as they are published, oldest kept first",
		Long: `Print case events as they are published: first those the server still keeps
(or those after --after), then each new one as it commits, until interrupted.

--pattern filters with an EventBridge event pattern, exactly as a rule on
the default event bus would. --json prints each event's envelope on one line
(JSON Lines), as EventBridge would deliver it.`,
		Example: `  localcases events tail
  localcases events tail --domain-id 2f0c... --json | jq .detail.eventType
  localcases events tail --pattern '{"detail":{"eventType":["CASE.UPDATED"],"changedFieldIds":["status"]}}'
  localcases events tail --no-follow --after 120`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.tail(cmd, *url, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.domainID, "domain-id", "", "only this domain's events")
	fs.StringVar(&f.pattern, "pattern", "", "only events matching this EventBridge event pattern (JSON)")
	fs.StringVar(&f.after, "after", "", "start after this cursor (the cursor of GET /_localcases/events, or an SSE id); default: the oldest event kept")
	fs.BoolVar(&f.noFollow, "no-follow", false, "print the events there are now and exit")
	fs.IntVar(&f.max, "max", 0, "exit after printing this many events (0: no limit)")
	return cmd
}

func (m *Main) tail(cmd *cobra.Command, url string, f tailFlags) error {
	var pat *eventpattern.Pattern
	if f.pattern != "" {
		var err error
		if pat, err = eventpattern.Compile([]byte(f.pattern)); err != nil {
			return fmt.Errorf("--pattern: %w", err)
		}
	}
	if _, err := events.ParseCursor(f.after); err != nil {
		return fmt.Errorf("--after: %w", err)
	}
	if f.max < 0 {
		return fmt.Errorf("--max %d: want 0 (no limit) or more", f.max)
	}
	c, err := m.client(cmd, url)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	asJSON := wantJSON(cmd)
	ctx := cmd.Context()
	q := admin.EventQuery{After: f.after, DomainID: f.domainID}
	printed, header := 0, false
	for {
		page, err := c.Events(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: the normal end of a tail
			}
			return err
		}
		for _, raw := range page.Events {
			if !pat.Match(raw) {
				continue
			}
			if asJSON {
				fmt.Fprintf(out, "%s\n", raw)
			} else {
				if !header {
					writeEventHeader(out)
					header = true
				}
				writeEventLine(out, raw)
			}
			printed++
			if f.max > 0 && printed >= f.max {
				return nil
			}
		}
		q.After = page.Cursor
		if len(page.Events) == events.MaxLimit {
			q.Wait = 0 // more are waiting
			continue
		}
		if f.noFollow {
			if printed == 0 && !asJSON {
				fmt.Fprintln(out, "no events")
			}
			return nil
		}
		if q.Wait == 0 && printed == 0 && isTerminal(out) {
			fmt.Fprintln(cmd.ErrOrStderr(), "waiting for case events (Ctrl-C to stop)")
		}
		q.Wait = events.MaxWait
	}
}

// tailEvent is what a line of `events tail` shows of an envelope.
type tailEvent struct {
	Resources []string `json:"resources"`
	Detail    struct {
		EventType             string   `json:"eventType"`
		ApproximateChangeTime string   `json:"approximateChangeTime"`
		ChangedFieldIDs       []string `json:"changedFieldIds"`
		ChangedAttributes     []string `json:"changedAttributes"`
		Case                  *struct {
			CaseID string `json:"caseId"`
		} `json:"case"`
		RelatedItem *struct {
			RelatedItemType string `json:"relatedItemType"`
			RelatedItemID   string `json:"relatedItemId"`
			CaseID          string `json:"caseId"`
		} `json:"relatedItem"`
	} `json:"detail"`
}

const eventLineFormat = "%-24s  %-20s  %-36s  %s\n"

func writeEventHeader(w io.Writer) {
	fmt.Fprintf(w, eventLineFormat, "TIME", "TYPE", "CASE", "CHANGE")
}

// writeEventLine prints one event for people: when, what, which case, and
// what changed. An envelope it cannot read is printed as it came.
func writeEventLine(w io.Writer, raw []byte) {
	var ev tailEvent
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Detail.EventType == "" {
		fmt.Fprintf(w, "%s\n", raw)
		return
	}
	d := ev.Detail
	var caseID, change string
	switch {
	case d.RelatedItem != nil:
		caseID = d.RelatedItem.CaseID
		change = d.RelatedItem.RelatedItemType + " " + d.RelatedItem.RelatedItemID
		if len(d.ChangedAttributes) > 0 {
			change += ": " + strings.Join(d.ChangedAttributes, ", ")
		}
	case d.Case != nil:
		caseID = d.Case.CaseID
		change = strings.Join(d.ChangedFieldIDs, ", ")
	}
	at := d.ApproximateChangeTime
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		at = t.UTC().Format("2006-01-02 15:04:05.000")
	}
	fmt.Fprintf(w, eventLineFormat, at, d.EventType, dash(caseID), dash(change))
}
