package eventsink

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kind is the kind of a sink.
type Kind string

// The sink kinds.
const (
	KindWebhook     Kind = "webhook"
	KindEventBridge Kind = "eventbridge"
)

// PutEvents size caps, in bytes as AWS counts them.
const (
	// DefaultMaxBytes is PutEvents's documented cap on a request's entries.
	DefaultMaxBytes = 256 * 1024
	// MaxMaxBytes is the largest cap maxBytes= accepts: the 1 MiB entry
	// size some newer sources are reported to have.
	MaxMaxBytes = 1024 * 1024
	// DefaultBus is the event bus Cases publishes to.
	DefaultBus = "default"
)

// Spec is a parsed sink URL.
type Spec struct {
	Kind Kind
	// Endpoint is the webhook URL, or the EventBridge endpoint (http:// or
	// https://; "" for AWS's own).
	Endpoint string
	// The EventBridge parameters (see the package documentation); empty for
	// a webhook.
	Bus      string
	Source   string // "" keeps each envelope's source
	Region   string // "" means Options.Region
	MaxBytes int

	raw string
}

// String is the URL as given, with any password replaced by "xxxxx", so it
// can be logged and listed.
func (s Spec) String() string { return redact(s.raw) }

// redact hides a URL's password, leaving the rest as written.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return userinfo.ReplaceAllString(raw, "//$1:xxxxx@")
	}
	if u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	return u.Redacted()
}

// Raw is the URL as given, password included.
func (s Spec) Raw() string { return s.raw }

// Error is a sink URL that Parse refuses.
type Error struct {
	URL string // redacted
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("sink URL %q: %s", e.URL, e.Msg) }

const wantForms = "want http(s)://… for a webhook, eventbridge+http(s)://host:port?… for an EventBridge-compatible endpoint, or eventbridge://?… for AWS"

var (
	// EventBusNameOrArn's pattern in the events model.
	busPattern    = regexp.MustCompile(`^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus/)?[/.\-_A-Za-z0-9]+$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	// userinfo finds a password in a URL that url.Parse refuses.
	userinfo = regexp.MustCompile(`//([^/@:]*):[^/@]*@`)
)

var eventBridgeParams = []string{"bus", "maxBytes", "region", "source"}

// Parse reads a sink URL (see the package documentation for the forms).
// Its errors are *Error and say what is wrong and what is accepted.
func Parse(raw string) (Spec, error) {
	shown := redact(raw)
	fail := func(format string, args ...any) (Spec, error) {
		return Spec{}, &Error{URL: shown, Msg: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(raw) == "" {
		return fail("empty; %s", wantForms)
	}
	if strings.TrimSpace(raw) != raw || strings.ContainsAny(raw, " \t\r\n") {
		return fail("contains white space")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail("%v", err)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fail("has a fragment (#…), which is never sent")
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "http", "https":
		if u.Opaque != "" || u.Host == "" {
			return fail("has no host; %s", wantForms)
		}
		if err := checkHost(u); err != nil {
			return fail("%v", err)
		}
		return Spec{Kind: KindWebhook, Endpoint: raw, raw: raw}, nil
	case "eventbridge+http", "eventbridge+https", "eventbridge":
		spec := Spec{Kind: KindEventBridge, Bus: DefaultBus, MaxBytes: DefaultMaxBytes, raw: raw}
		if u.Opaque != "" {
			return fail("want %s://…", scheme)
		}
		if scheme == "eventbridge" {
			if u.Host != "" || (u.Path != "" && u.Path != "/") || u.User != nil {
				return fail("eventbridge:// names AWS's own endpoint and takes only ?… parameters; for another endpoint use eventbridge+http(s)://host:port")
			}
		} else {
			if u.Host == "" {
				return fail("has no host; %s", wantForms)
			}
			if u.User != nil {
				return fail("has user information; PutEvents credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
			}
			if err := checkHost(u); err != nil {
				return fail("%v", err)
			}
			e := *u
			e.Scheme = strings.TrimPrefix(scheme, "eventbridge+")
			e.RawQuery = ""
			spec.Endpoint = e.String()
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return fail("query: %v", err)
		}
		var unknown []string
		for k, vs := range q {
			if i := sort.SearchStrings(eventBridgeParams, k); i == len(eventBridgeParams) || eventBridgeParams[i] != k {
				unknown = append(unknown, k)
				continue
			}
			if len(vs) != 1 {
				return fail("%s= is given %d times", k, len(vs))
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fail("unknown parameter %s; accepted: %s", strings.Join(unknown, ", "), strings.Join(eventBridgeParams, ", "))
		}
		if q.Has("bus") {
			spec.Bus = q.Get("bus")
			if len(spec.Bus) > 1600 || !busPattern.MatchString(spec.Bus) {
				return fail("bus=%q is not an event bus name or ARN", spec.Bus)
			}
		}
		if q.Has("source") {
			spec.Source = q.Get("source")
			if spec.Source == "" || len(spec.Source) > 256 || strings.TrimSpace(spec.Source) != spec.Source {
				return fail("source=%q: want 1 to 256 characters without surrounding white space", spec.Source)
			}
		}
		if q.Has("region") {
			spec.Region = q.Get("region")
			if !regionPattern.MatchString(spec.Region) {
				return fail("region=%q is not a region name such as us-east-1", spec.Region)
			}
		}
		if q.Has("maxBytes") {
			n, err := strconv.Atoi(q.Get("maxBytes"))
			if err != nil || n < 1024 || n > MaxMaxBytes {
				return fail("maxBytes=%q: want a whole number of bytes from 1024 to %d", q.Get("maxBytes"), MaxMaxBytes)
			}
			spec.MaxBytes = n
		}
		return spec, nil
	case "":
		return fail("has no scheme; %s", wantForms)
	default:
		return fail("scheme %q is not supported; %s", u.Scheme, wantForms)
	}
}

func checkHost(u *url.URL) error {
	if u.Hostname() == "" {
		return errors.New("has no host name")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not a port number", p)
		}
	}
	return nil
}
