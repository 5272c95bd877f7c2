package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// consoleReq sends one request as a browser would, with the headers given
// as name, value pairs.
func consoleReq(t *testing.T, base, method, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := servertest.RawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestConsoleServedWithSecurityHeaders: a browser asking for / gets the
// console, with headers that allow only its own scripts and forbid
// framing; anything else at / is still the API's.
func TestConsoleServedWithSecurityHeaders(t *testing.T) {
	srv := servertest.MustOpen(t)
	for _, path := range []string{"/", "/_localcases/ui/", "/_localcases/ui/app.js", "/_localcases/ui/app.css"} {
		resp, body := consoleReq(t, srv.URL(), "GET", path, "", "Accept", html, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")
		if resp.StatusCode != 200 || body == "" {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		want := map[string]string{
			"Content-Security-Policy":      "frame-ancestors 'none'",
			"X-Frame-Options":              "DENY",
			"X-Content-Type-Options":       "nosniff",
			"Referrer-Policy":              "no-referrer",
			"Cross-Origin-Resource-Policy": "same-origin",
		}
		for k, v := range want {
			if !strings.Contains(resp.Header.Get(k), v) {
				t.Errorf("GET %s: %s = %q, want it to contain %q", path, k, resp.Header.Get(k), v)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
			if strings.Contains(csp, bad) {
				t.Errorf("GET %s: CSP allows %s: %s", path, bad, csp)
			}
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET %s: CORS header", path)
		}
	}
	resp, body := consoleReq(t, srv.URL(), "GET", "/", "", "Accept", "application/json")
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") == "" {
		t.Errorf("GET / for JSON: %d %s; want the API's 404", resp.StatusCode, body)
	}
	resp, _ = consoleReq(t, srv.URL(), "GET", "/_localcases/ui/../faults", "", "Accept", html)
	if resp.StatusCode != 404 {
		t.Errorf("dot segment: %d", resp.StatusCode)
	}
	resp, _ = consoleReq(t, srv.URL(), "GET", "/_localcases/ui/nope.js", "")
	if resp.StatusCode != 404 {
		t.Errorf("unknown file: %d", resp.StatusCode)
	}
}

// TestConsoleRefusesOtherSites: what another site's page can make a
// browser send to the console or the control plane it reads (a script
// include, a fetch, a rebound name) is refused; following a link is not.
func TestConsoleRefusesOtherSites(t *testing.T) {
	srv := servertest.MustOpen(t)
	port := srv.Addr().String()[strings.LastIndexByte(srv.Addr().String(), ':'):]
	tests := []struct {
		name, method, path string
		hdr                []string
		want               int
	}{
		{"cross-site fetch of the session", "GET", "/_localcases/ui/session", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, 403},
		{"cross-site script include of the live stream", "GET", "/_localcases/live", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, 403},
		{"same-site (another port) read of the rules", "GET", "/_localcases/faults", []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors"}, 403},
		{"cross-site iframe of the console", "GET", "/", []string{"Accept", html, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "iframe"}, 403},
		{"older browser: Origin of another host", "GET", "/_localcases/requests", []string{"Origin", "http://evil.example"}, 403},
		{"rebound console", "GET", "/", []string{"Accept", html, "Host", "rebind.evil.example" + port}, 403},
		{"rebound console file", "GET", "/_localcases/ui/app.js", []string{"Host", "rebind.evil.example" + port}, 403},
		{"rebound live stream", "GET", "/_localcases/live", []string{"Host", "rebind.evil.example" + port}, 403},
		{"cross-site login", "POST", "/_localcases/ui/login", []string{"Origin", "http://evil.example", "Content-Type", "application/json"}, 403},
		{"login as a form", "POST", "/_localcases/ui/login", []string{"Content-Type", "application/x-www-form-urlencoded"}, 403},

		{"a link from another site to the console", "GET", "/", []string{"Accept", html, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, 200},
		{"typed into the address bar", "GET", "/_localcases/ui/", []string{"Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"}, 200},
		{"the console's own fetch", "GET", "/_localcases/faults", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, 200},
		{"same-origin Origin", "GET", "/_localcases/health", []string{"Origin", srv.URL()}, 200},
		{"the CLI", "GET", "/_localcases/health", nil, 200},
	}
	for _, tt := range tests {
		resp, body := consoleReq(t, srv.URL(), tt.method, tt.path, "", tt.hdr...)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: Access-Control-Allow-Origin", tt.name)
		}
	}
}

// TestConsoleAnswersWhomAdminAnswers: without a token the console, like the
// admin API, serves loopback clients only.
func TestConsoleAnswersWhomAdminAnswers(t *testing.T) {
	srv := servertest.MustOpen(t)
	for _, path := range []string{"/", "/_localcases/ui/", "/_localcases/ui/session", "/_localcases/live"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Accept", html)
		r.RemoteAddr = "192.0.2.7:4242"
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if w.Code != 403 {
			t.Errorf("remote GET %s without a token: %d", path, w.Code)
		}
	}
}

// TestConsoleLogin: with an admin token the page is public, its data is
// not; the login trades the token (in a JSON body) for an HttpOnly,
// SameSite=Strict cookie that is not the token, and logout ends it.
func TestConsoleLogin(t *testing.T) {
	const token = "s3cret-console-token"
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.AdminToken = token }))
	u := srv.URL()
	if resp, _ := consoleReq(t, u, "GET", "/", "", "Accept", html); resp.StatusCode != 200 {
		t.Fatalf("the page with a token configured: %d", resp.StatusCode)
	}
	if resp, body := consoleReq(t, u, "GET", "/_localcases/ui/session", ""); resp.StatusCode != 200 || !strings.Contains(body, `"authenticated":false`) {
		t.Errorf("session before login: %d %s", resp.StatusCode, body)
	}
	if resp, _ := consoleReq(t, u, "GET", "/_localcases/health", ""); resp.StatusCode != 403 {
		t.Errorf("data before login: %d", resp.StatusCode)
	}
	if resp, _ := consoleReq(t, u, "GET", "/_localcases/health?token="+token, ""); resp.StatusCode != 403 {
		t.Errorf("a token in the URL let the request in: %d", resp.StatusCode)
	}
	if resp, _ := consoleReq(t, u, "POST", "/_localcases/ui/login", `{"token":"guess"}`, "Content-Type", "application/json"); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if resp, _ := consoleReq(t, u, "POST", "/_localcases/ui/login", `{"token":"`+token+`"}`, "Content-Type", "text/plain"); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("login as text/plain (a simple request): %d", resp.StatusCode)
	}
	if resp, _ := consoleReq(t, u, "POST", "/_localcases/ui/login", `{"token":"`+token+`"}`, "Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login: %d", resp.StatusCode)
	}
	resp, _ := consoleReq(t, u, "POST", "/_localcases/ui/login", `{"token":"`+token+`"}`, "Content-Type", "application/json", "Sec-Fetch-Site", "same-origin", "Origin", u)
	if resp.StatusCode != 200 || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	c := resp.Cookies()[0]
	if c.Name != admin.SessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if strings.Contains(c.Value, token) || c.Value == "" {
		t.Errorf("the cookie carries the token: %q", c.Value)
	}
	cookie := c.Name + "=" + c.Value
	if resp, body := consoleReq(t, u, "GET", "/_localcases/health", "", "Cookie", cookie); resp.StatusCode != 200 {
		t.Errorf("data with the session: %d %s", resp.StatusCode, body)
	}
	if resp, body := consoleReq(t, u, "GET", "/_localcases/ui/session", "", "Cookie", cookie); !strings.Contains(body, `"authenticated":true`) || !strings.Contains(body, `"authMode":"permissive"`) {
		t.Errorf("session after login: %d %s", resp.StatusCode, body)
	}
	if resp, _ := consoleReq(t, u, "POST", "/_localcases/faults/reset", "", "Cookie", cookie, "Origin", "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-site change with the session: %d", resp.StatusCode)
	}
	if resp, _ := consoleReq(t, u, "GET", "/_localcases/health", "", "Cookie", admin.SessionCookie+"="+admin.SessionValue("another-token")); resp.StatusCode != 403 {
		t.Errorf("a session of another token: %d", resp.StatusCode)
	}
	resp, _ = consoleReq(t, u, "POST", "/_localcases/ui/logout", "", "Cookie", cookie)
	if resp.StatusCode != 200 || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d %v", resp.StatusCode, resp.Cookies())
	}
}

// TestLiveStream: /_localcases/live sends the state at once, then samples
// that count the API's requests and failures, and ends when the server
// closes rather than holding up its shutdown.
func TestLiveStream(t *testing.T) {
	srv := servertest.MustOpen(t)
	req, _ := http.NewRequest("GET", srv.URL()+"/_localcases/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan [2]string, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				ev = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				events <- [2]string{ev, v}
			}
		}
	}()
	next := func(kind string) string {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("stream ended waiting for %s", kind)
				}
				if e[0] == kind {
					return e[1]
				}
			case <-timeout:
				t.Fatalf("no %s event", kind)
			}
		}
	}
	if st := next("state"); !strings.Contains(st, `"status":"operational"`) {
		t.Errorf("first state: %.200s", st)
	}
	cc := servertest.Client(srv.URL())
	servertest.HealthCall(t, srv.URL(), "DescribeEvents", "{}") // the Health API is not the Cases API: not counted
	if _, err := cc.ListDomains(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for {
		s := next("sample")
		if strings.Contains(s, `"ListDomains":{"requests":1,"failed":0}`) {
			break
		}
		if strings.Contains(s, `"operations"`) {
			t.Fatalf("sample counts something else: %s", s)
		}
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- srv.Close(ctx)
	}()
	for range events {
	}
	if err := <-done; err != nil {
		t.Errorf("close with a stream open: %v", err)
	}
}
