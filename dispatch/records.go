package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/eventpattern"
	"github.com/localcases/localcases/eventsink"
)

// The collections the dispatcher keeps in the store, beside the service's.
const (
	sinksC       localcases.Collection = "eventsink"  // scope ""; id: sink name
	cursorsC     localcases.Collection = "sinkcursor" // scope ""; id: sink name
	deadLettersC localcases.Collection = "deadletter" // scope: sink name; id: event id
)

// SinkConfig is one configured sink, as kept in the store.
type SinkConfig struct {
	// Name identifies the sink in the admin API, the CLI, dead letters and
	// fault rules. Default: derived from the URL and pattern (DefaultName).
	Name string `json:"name"`
	// URL is the sink URL (eventsink.Parse), password included.
	URL string `json:"url"`
	// Pattern is an EventBridge event pattern (JSON); "" delivers every
	// event.
	Pattern string `json:"pattern,omitempty"`
	// Origin says where the sink was configured: "flag", "config" or "admin".
	Origin  string    `json:"origin,omitempty"`
	Created time.Time `json:"created"`
}

// ConfigError is a sink configuration the dispatcher refuses: a bad name,
// URL or pattern. The admin API answers it with 400.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

var sinkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// DefaultName is the name a sink configured without one gets: its kind and
// a hash of its URL and pattern, so every server started with the same
// flags names it alike.
func DefaultName(spec eventsink.Spec, pattern string) string {
	return fmt.Sprintf("%s-%08x", spec.Kind, fnv32(spec.Raw()+"\x00"+pattern))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Check validates c and fills in its defaults: the name, and the pattern in
// compact form. Its errors are *ConfigError.
func (c SinkConfig) Check() (SinkConfig, eventsink.Spec, *eventpattern.Pattern, error) {
	spec, err := eventsink.Parse(c.URL)
	if err != nil {
		return c, spec, nil, &ConfigError{err}
	}
	var pat *eventpattern.Pattern
	if strings.TrimSpace(c.Pattern) != "" {
		pat, err = eventpattern.Compile([]byte(c.Pattern))
		if err != nil {
			return c, spec, nil, &ConfigError{fmt.Errorf("sink pattern: %w", err)}
		}
		var buf bytes.Buffer
		json.Compact(&buf, []byte(c.Pattern)) // valid: it compiled
		c.Pattern = buf.String()
	} else {
		c.Pattern = ""
	}
	if c.Name == "" {
		c.Name = DefaultName(spec, c.Pattern)
	}
	if !sinkName.MatchString(c.Name) {
		return c, spec, nil, &ConfigError{fmt.Errorf("sink name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", c.Name)}
	}
	return c, spec, pat, nil
}

// ParseFlag reads the value of `serve --event-sink`: a sink URL, then
// optionally name=NAME, then optionally pattern=JSON, which takes the rest
// of the value (a pattern may hold spaces):
//
//	http://127.0.0.1:9000/events
//	http://127.0.0.1:9000/events name=closures pattern={"detail":{"eventType":["CASE.UPDATED"]}}
func ParseFlag(value string) (SinkConfig, error) {
	rest := strings.TrimSpace(value)
	url, rest, _ := strings.Cut(rest, " ")
	c := SinkConfig{URL: url, Origin: "flag"}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		switch {
		case strings.HasPrefix(rest, "pattern="):
			c.Pattern, rest = strings.TrimPrefix(rest, "pattern="), ""
		case strings.HasPrefix(rest, "name="):
			var name string
			name, rest, _ = strings.Cut(strings.TrimPrefix(rest, "name="), " ")
			c.Name = name
		default:
			word, _, _ := strings.Cut(rest, " ")
			return c, &ConfigError{fmt.Errorf("event sink %q: unexpected %q; want URL [name=NAME] [pattern=JSON]", value, word)}
		}
	}
	c, _, _, err := c.Check()
	return c, err
}

// cursor is a sink's place in the outbox and the lease on delivering it.
type cursor struct {
	// Seq: every event up to Seq has been delivered, dead-lettered, or
	// filtered out by the sink's pattern.
	Seq int64 `json:"seq"`
	// Owner is the server delivering the sink until Until; another may
	// take over after Until.
	Owner string    `json:"owner,omitempty"`
	Until time.Time `json:"until"`
}

// DeadLetter is an event that a sink did not take within the retry policy.
type DeadLetter struct {
	Sink     string          `json:"sink"`
	Seq      int64           `json:"seq"`
	EventID  string          `json:"eventId"`
	DomainID string          `json:"domainId"`
	Event    json.RawMessage `json:"event"`
	Attempts int             `json:"attempts"`
	First    time.Time       `json:"firstAttempt"`
	Last     time.Time       `json:"lastAttempt"`
	Error    string          `json:"error"`
}

// TrimBound is the highest sequence number retention may trim: events after
// it are still needed by some sink's cursor. An event a sink dead-letters is
// kept in its dead-letter record, so the cursor passes it. ok is false when
// no sink is configured (nothing holds retention back).
func TrimBound(tx localcases.Tx) (bound int64, ok bool, err error) {
	err = tx.List(cursorsC, "", 0, func(r localcases.Raw) (bool, error) {
		var c cursor
		if err := json.Unmarshal(r.Data, &c); err != nil {
			return false, fmt.Errorf("sink cursor %s: %w", r.ID, err)
		}
		if !ok || c.Seq < bound {
			bound, ok = c.Seq, true
		}
		return true, nil
	})
	return bound, ok, err
}

func listSinks(ctx context.Context, s localcases.Store) ([]SinkConfig, error) {
	var out []SinkConfig
	err := s.View(ctx, func(tx localcases.Tx) error {
		return tx.List(sinksC, "", 0, func(r localcases.Raw) (bool, error) {
			var c SinkConfig
			if err := json.Unmarshal(r.Data, &c); err != nil {
				return false, fmt.Errorf("sink %s: %w", r.ID, err)
			}
			out = append(out, c)
			return true, nil
		})
	})
	return out, err
}

func getCursor(tx localcases.Tx, name string) (cursor, error) {
	var c cursor
	err := tx.Get(cursorsC, "", name, &c)
	return c, err
}

func isNotFound(err error) bool { return errors.Is(err, localcases.ErrNotFound) }
