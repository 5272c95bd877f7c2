package admin

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An export grows with the server's state; the client once read at most
// 64 MiB of it and reported the cut as "unexpected end of JSON input".
func TestExportLargerThanOldLimit(t *testing.T) {
	const records = 70_000
	pad := strings.Repeat("x", 1000)
	var body bytes.Buffer
	body.WriteString(`{"format":"localcases/v1","region":"us-east-1","account":"000000000000","records":[`)
	for i := range records {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"collection":"case","scope":"d","id":"c%d","data":{"p":%q}}`, i, pad)
	}
	body.WriteString(`]}`)
	if body.Len() <= 64<<20 {
		t.Fatalf("body is %d bytes; the test needs more than 64 MiB", body.Len())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body.Bytes())
	}))
	defer srv.Close()

	snap, err := NewClient(srv.URL).Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Records) != records || snap.Records[records-1].ID != fmt.Sprint("c", records-1) {
		t.Fatalf("got %d records", len(snap.Records))
	}
}

func TestTruncatedAnswerIsNamed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"format":"localcases/v1","records":[`))
	}))
	defer srv.Close()
	_, err := NewClient(srv.URL).Export(t.Context())
	if err == nil || !strings.Contains(err.Error(), "GET export: decode answer") {
		t.Fatalf("err = %v; want it to name the call and the decoding", err)
	}
}

// The Go client takes the token from the environment variable the CLI
// reads, and a 403 says how to pass one.
func TestClientToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"admin token required"}`))
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	t.Setenv(TokenEnv, "")
	_, err := NewClient(srv.URL).Rules(t.Context())
	if err == nil || !strings.Contains(err.Error(), "admin.Client.Token") || !strings.Contains(err.Error(), TokenEnv) {
		t.Fatalf("without a token: %v", err)
	}
	t.Setenv(TokenEnv, "s3cret")
	if _, err := NewClient(srv.URL).Rules(t.Context()); err != nil {
		t.Fatalf("with %s: %v", TokenEnv, err)
	}
}
