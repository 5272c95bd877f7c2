package restjson_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/restjson"
	"github.com/localcases/localcases/service"
	"github.com/localcases/localcases/store/memory"
)

var update = flag.Bool("update", false, "rewrite the golden response files under testdata")

// goldenRequestID replaces the random request ID so it can be pinned in the
// golden responses: its presence on every response is part of the contract.
const goldenRequestID = "golden-request-id"

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var goldenTime = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

// goldenHeaders are the response headers clients act on. Date and
// Content-Length vary or say nothing about the protocol.
var goldenHeaders = []string{"Content-Type", "X-Amzn-ErrorType", "Retry-After", "Allow", "x-amzn-RequestId"}

// TestGolden replays each testdata/<Operation>/<case>/request against the
// real service on an empty in-memory store and compares the answer with
// the case's response file. A case may have a setup file: requests run first,
// whose top-level string outputs become {{name}} (and {{name:path}}, escaped
// as one path segment) in later requests. Run `go test ./restjson -update`
// after an intended change and review the diff.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "*", "request"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases under testdata")
	}
	for _, reqFile := range dirs {
		dir := filepath.Dir(reqFile)
		name := strings.TrimPrefix(filepath.ToSlash(dir), "testdata/")
		if strings.HasPrefix(name, "fuzz/") {
			continue
		}
		t.Run(name, func(t *testing.T) { runGolden(t, dir) })
	}
}

func runGolden(t *testing.T, dir string) {
	svc, err := service.New(context.Background(), memory.New(), service.Config{Clock: fixedClock{goldenTime}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, svc, restjson.Options{RequestID: func() string { return goldenRequestID }})
	vars := map[string]string{}

	if setup, err := os.ReadFile(filepath.Join(dir, "setup")); err == nil {
		for i, raw := range strings.Split(string(setup), "\n###\n") {
			resp, body := sendGolden(t, srv, expand(t, raw, vars))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("setup request %d: status %d: %s", i+1, resp.StatusCode, body)
			}
			var out map[string]any
			if json.Unmarshal(body, &out) == nil {
				for k, v := range out {
					if s, ok := v.(string); ok {
						vars[k] = s
					}
				}
			}
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "request"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := sendGolden(t, srv, expand(t, string(raw), vars))
	if resp.Header.Get("X-Amzn-ErrorType") == string(api.CodeNotImplementedException) {
		t.Fatalf("the operation is not implemented yet; do not golden it: %s", body)
	}
	got := formatResponse(resp, body)

	respFile := filepath.Join(dir, "response")
	if *update {
		if err := os.WriteFile(respFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(respFile)
	if os.IsNotExist(err) {
		t.Fatalf("no %s; run `go test ./restjson -run TestGolden -update`, then review it", respFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("response differs from %s (rerun with -update if intended)\n--- got\n%s\n--- want\n%s", respFile, got, want)
	}
}

var varRef = regexp.MustCompile(`\{\{(\w+)(:path)?\}\}`)

func expand(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		v, ok := vars[sub[1]]
		if !ok {
			t.Fatalf("%s: no setup output named %s", m, sub[1])
		}
		if sub[2] != "" {
			return url.PathEscape(v)
		}
		return v
	})
}

// sendGolden parses "METHOD target", header lines, a blank line and the body,
// and sends exactly that.
func sendGolden(t *testing.T, srv *httptest.Server, raw string) (*http.Response, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	if !sc.Scan() {
		t.Fatal("empty request file")
	}
	method, target, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
	if !ok {
		t.Fatalf("bad request line %q", sc.Text())
	}
	body = strings.TrimSuffix(body, "\n")
	var r io.Reader = http.NoBody
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+target, r)
	if err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("bad header line %q", sc.Text())
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

var (
	uuidRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	tokenRE = regexp.MustCompile(`("nextToken":\s*)"[^"]*"`)
)

// formatResponse renders the status, the headers clients act on, and the body
// with generated IDs and page tokens (signed with a per-store key) replaced,
// indented so a diff points at the member that changed.
func formatResponse(resp *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %s\n", resp.Status)
	for _, h := range goldenHeaders {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, uuidRE.ReplaceAllString(v, "<uuid>"))
		}
	}
	b.WriteString("\n")
	norm := uuidRE.ReplaceAll(body, []byte("<uuid>"))
	norm = tokenRE.ReplaceAll(norm, []byte(`$1"<token>"`))
	var ind bytes.Buffer
	if json.Indent(&ind, norm, "", "  ") == nil {
		norm = ind.Bytes()
	}
	b.Write(norm)
	b.WriteString("\n")
	return b.String()
}
