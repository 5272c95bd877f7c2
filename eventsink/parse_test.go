package eventsink

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	valid := []struct {
		name, url string
		want      Spec
		shown     string
	}{
		{"webhook", "http://127.0.0.1:8080/events",
			Spec{Kind: KindWebhook, Endpoint: "http://127.0.0.1:8080/events"}, ""},
		{"webhook https with query", "https://hooks.example.com/in?token=abc",
			Spec{Kind: KindWebhook, Endpoint: "https://hooks.example.com/in?token=abc"}, ""},
		{"webhook password redacted", "https://user:secret@hooks.example.com/in",
			Spec{Kind: KindWebhook, Endpoint: "https://user:secret@hooks.example.com/in"}, "https://user:xxxxx@hooks.example.com/in"},
		{"webhook IPv6", "http://[::1]:9000/",
			Spec{Kind: KindWebhook, Endpoint: "http://[::1]:9000/"}, ""},
		{"scheme case", "HTTP://localhost:1/x",
			Spec{Kind: KindWebhook, Endpoint: "HTTP://localhost:1/x"}, ""},
		{"eventbridge local defaults", "eventbridge+http://localhost:4566",
			Spec{Kind: KindEventBridge, Endpoint: "http://localhost:4566", Bus: "default", MaxBytes: DefaultMaxBytes}, ""},
		{"eventbridge all parameters", "eventbridge+https://events.local:443/base?bus=orders&source=localcases.cases&region=eu-west-1&maxBytes=1048576",
			Spec{Kind: KindEventBridge, Endpoint: "https://events.local:443/base", Bus: "orders", Source: "localcases.cases", Region: "eu-west-1", MaxBytes: MaxMaxBytes}, ""},
		{"eventbridge bus ARN", "eventbridge+http://h:1?bus=arn:aws:events:us-east-1:111122223333:event-bus/orders",
			Spec{Kind: KindEventBridge, Endpoint: "http://h:1", Bus: "arn:aws:events:us-east-1:111122223333:event-bus/orders", MaxBytes: DefaultMaxBytes}, ""},
		{"eventbridge AWS", "eventbridge://?region=us-west-2&source=my.cases",
			Spec{Kind: KindEventBridge, Bus: "default", Source: "my.cases", Region: "us-west-2", MaxBytes: DefaultMaxBytes}, ""},
		{"eventbridge AWS bare", "eventbridge://",
			Spec{Kind: KindEventBridge, Bus: "default", MaxBytes: DefaultMaxBytes}, ""},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.url)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.url, err)
			}
			tt.want.raw = tt.url
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.url, got, tt.want)
			}
			shown := tt.shown
			if shown == "" {
				shown = tt.url
			}
			if got.String() != shown {
				t.Errorf("String() = %q, want %q", got.String(), shown)
			}
			if got.Raw() != tt.url {
				t.Errorf("Raw() = %q, want %q", got.Raw(), tt.url)
			}
		})
	}

	invalid := []struct {
		name, url, msg string
	}{
		{"empty", "", "empty; want http(s)://"},
		{"no scheme", "localhost:8080/x", `scheme "localhost" is not supported`},
		{"path only", "/events", "has no scheme"},
		{"ftp", "ftp://example.com/x", `scheme "ftp" is not supported; want http(s)://`},
		{"no host", "http:///path", "has no host"},
		{"opaque", "http:example.com", "has no host"},
		{"bad port", "http://example.com:99999/", `port "99999" is not a port number`},
		{"fragment", "http://example.com/#frag", "has a fragment"},
		{"space", "http://example.com/a b", "contains white space"},
		{"control", "http://example.com/\x7f", "invalid control character"},
		{"eventbridge no host", "eventbridge+http:///x", "has no host"},
		{"eventbridge user", "eventbridge+http://k:s@h:1", "credentials come from AWS_ACCESS_KEY_ID"},
		{"eventbridge AWS with host", "eventbridge://events.amazonaws.com", "takes only ?… parameters"},
		{"eventbridge unknown parameter", "eventbridge+http://h:1?buss=x&zone=y", "unknown parameter buss, zone; accepted: bus, maxBytes, region, source"},
		{"eventbridge repeated", "eventbridge+http://h:1?bus=a&bus=b", "bus= is given 2 times"},
		{"eventbridge bad bus", "eventbridge+http://h:1?bus=a%20b", `bus="a b" is not an event bus name`},
		{"eventbridge empty source", "eventbridge+http://h:1?source=", `source="": want 1 to 256 characters`},
		{"eventbridge bad region", "eventbridge+http://h:1?region=Mars", `region="Mars" is not a region name`},
		{"eventbridge maxBytes too big", "eventbridge+http://h:1?maxBytes=2000000", "want a whole number of bytes from 1024 to 1048576"},
		{"eventbridge maxBytes word", "eventbridge+http://h:1?maxBytes=lots", `maxBytes="lots"`},
		{"eventbridge bad query", "eventbridge+http://h:1?bus=%zz", "query:"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.url)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tt.url, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse(%q) = %q, want it to say %q", tt.url, err, tt.msg)
			}
		})
	}
}

func TestParseErrorRedactsPassword(t *testing.T) {
	_, err := Parse("ftp://user:hunter2@example.com/")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Parse = %v, want an error without the password", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:8080/events", "https://u:p@h/x?y=1", "eventbridge+http://h:1?bus=b&source=s&region=us-east-1&maxBytes=2048",
		"eventbridge://?region=eu-west-1", "ftp://x", "", "http://[::1]:0/", "eventbridge+https://h?bus=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		spec, err := Parse(raw)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %v is not an *Error", raw, err)
			}
			return
		}
		if spec.Raw() != raw {
			t.Fatalf("Raw() = %q, want %q", spec.Raw(), raw)
		}
		switch spec.Kind {
		case KindWebhook:
			if spec.Endpoint != raw {
				t.Fatalf("webhook endpoint %q, want %q", spec.Endpoint, raw)
			}
		case KindEventBridge:
			if spec.Bus == "" || spec.MaxBytes < 1024 || spec.MaxBytes > MaxMaxBytes {
				t.Fatalf("Parse(%q) = %+v: bus or maxBytes out of range", raw, spec)
			}
			if spec.Endpoint != "" {
				if again, err := Parse("eventbridge+" + spec.Endpoint); err != nil || again.Endpoint != spec.Endpoint {
					t.Fatalf("endpoint %q of %q does not parse back: %v", spec.Endpoint, raw, err)
				}
			}
		default:
			t.Fatalf("Parse(%q) kind %q", raw, spec.Kind)
		}
	})
}

func TestParseErrorRedactsPasswordOfUnparsableURL(t *testing.T) {
	_, err := Parse("http://user:hunter2@example.com/\x7f")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "user:xxxxx@") {
		t.Fatalf("Parse = %v, want an error with the password hidden", err)
	}
}
