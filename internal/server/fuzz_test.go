package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/localcases/localcases/console"
	"github.com/localcases/localcases/internal/servertest"
)

// FuzzServer sends arbitrary requests, as a browser or a hostile client
// might shape them (any method, path, query, Host, Origin, Sec-Fetch-Site,
// Content-Type and body), to the whole HTTP surface: the guard, the admin
// namespace and the API. Whatever arrives, nothing panics, nothing answers
// 5xx, and every answer but /metrics is JSON; a request the guard refuses
// is a 403.
func FuzzServer(f *testing.F) {
	seeds := []struct{ method, target, host, origin, site, ctype, body string }{
		{"POST", "/domains", "localhost:4599", "", "", "application/json", `{"name":"d"}`},
		{"POST", "/domains", "localhost:4599", "http://evil.example", "cross-site", "text/plain", `{"name":"d"}`},
		{"POST", "/domains/abc%00def", "127.0.0.1", "", "", "", ""},
		{"POST", "/domains/%FF%FE", "127.0.0.1", "", "", "", ""},
		{"POST", "/domains-list?maxResults=%zz", "127.0.0.1", "", "", "", ""},
		{"POST", "/domains-list?maxResults=1&maxResults=2", "127.0.0.1", "", "", "", ""},
		{"GET", "/_localcases/export", "rebind.evil.example:4599", "", "", "", ""},
		{"GET", "/_localcases/health", "localhost", "", "", "", ""},
		{"GET", "/_localcases/requests?limit=%zz", "localhost", "", "", "", ""},
		{"GET", "/_localcases/faults/status", "[::1]:4599", "", "", "", ""},
		{"POST", "/_localcases/reset", "localhost", "http://localhost:4599", "same-origin", "", ""},
		{"POST", "/_localcases/import", "localhost", "", "", "application/json", `{"records":[{"kind":"domain"}]}`},
		{"POST", "/_localcases/import", "localhost", "", "", "application/json", "{\"records\":\"\xff\"}"},
		{"GET", "/metrics", "localhost", "", "", "", ""},
		{"OPTIONS", "/domains", "localhost", "http://evil.example", "cross-site", "", ""},
		{"POST", "/", "localhost", "", "", "application/x-amz-json-1.1", "{}"},
		{"GET", "/_localcases/ui/app.js", "localhost", "", "", "", ""},
		{"POST", "/_localcases/ui/login", "localhost", "", "same-origin", "application/json", `{"token":"x"}`},
		{"GET", "/_localcases/ui/session", "localhost", "http://evil.example", "cross-site", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.host, s.origin, s.site, s.ctype, []byte(s.body))
	}
	srv := servertest.MustOpen(f)
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, method, target, host, origin, site, ctype string, body []byte) {
		if !validToken(method) {
			t.Skip()
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			t.Skip()
		}
		// Profiles take seconds by design, and fault rules, scenarios and
		// throttles could make later inputs hang or throttle on purpose.
		// The live stream ends only with its request.
		if p := u.Path; strings.HasPrefix(p, "/_localcases/debug/") || p == "/_localcases/live" ||
			(method != "GET" && (strings.Contains(p, "fault") || strings.Contains(p, "scenario") || strings.Contains(p, "throttle"))) {
			t.Skip()
		}
		req := httptest.NewRequest("GET", "/", bytes.NewReader(body))
		req.Method, req.URL, req.RequestURI, req.Host = method, u, target, host
		req.RemoteAddr = "127.0.0.1:50000"
		for k, v := range map[string]string{"Origin": origin, "Sec-Fetch-Site": site, "Content-Type": ctype} {
			if v != "" && validHeaderValue(v) {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode >= 500 && res.StatusCode != http.StatusNotImplemented {
			t.Fatalf("%s %s: %d %s", method, target, res.StatusCode, rec.Body.Bytes())
		}
		if u.Path == "/metrics" && res.StatusCode == http.StatusOK {
			// The one answer that is not JSON: Prometheus's text format.
			p := expfmt.NewTextParser(model.UTF8Validation)
			if _, err := p.TextToMetricFamilies(rec.Body); err != nil {
				t.Fatalf("%s %s: not the Prometheus text format: %v", method, target, err)
			}
			return
		}
		if strings.HasPrefix(u.Path, console.Prefix) && res.StatusCode == http.StatusOK && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			// The console's page, script and styles, under its policy.
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Fatalf("%s %s: console file without its Content-Security-Policy", method, target)
			}
			return
		}
		if method != "HEAD" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d answer is not JSON: %q", method, target, res.StatusCode, rec.Body.Bytes())
		}
	})
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for _, c := range []byte(s) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
