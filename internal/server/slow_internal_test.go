package server

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases/auth"
)

func mustOpenInternal(t *testing.T, fn func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr, cfg.Memory = "127.0.0.1:0", true
	if fn != nil {
		fn(&cfg)
	}
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv
}

// stall opens a connection that sends a request's headers and the first
// bytes of a larger body, then nothing more.
func stall(t *testing.T, srv *Server, extra string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "POST /domains HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n" + extra + "\r\n{\"name\":"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitFor polls cond; the test's own timeout bounds it.
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// TestIssue14SlowUploadersDoNotStarveFastCalls: with every slot's worth of
// clients (and more) stalled mid-upload, fast calls still get slots.
func TestIssue14SlowUploadersDoNotStarveFastCalls(t *testing.T) {
	const slots, stalled = 2, 8
	srv := mustOpenInternal(t, func(c *Config) { c.MaxInFlight = slots })
	for range stalled {
		stall(t, srv, "")
	}
	waitFor(func() bool { return srv.shed.reading.Load() == stalled })
	if held := len(srv.shed.slots); held != 0 {
		t.Fatalf("%d slots held by clients still uploading", held)
	}
	for i := range 20 {
		resp, err := http.Post(srv.URL()+"/domains-list", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("fast call %d: %d while %d uploads stall", i, resp.StatusCode, stalled)
		}
	}
}

// TestIssue14StrictRefusesBeforeTheBody: an unsigned request to a strict
// server is refused from its headers; the server does not wait for the
// body.
func TestIssue14StrictRefusesBeforeTheBody(t *testing.T) {
	srv := mustOpenInternal(t, func(c *Config) {
		c.Auth = auth.Config{Mode: auth.Strict, Credentials: []auth.Credential{{AccessKeyID: "AKID", SecretAccessKey: "s"}}}
	})
	conn := stall(t, srv, "")
	// Far short of the server's 2-minute read timeout, which is the only
	// other way this answer could come.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != string(auth.CodeMissingToken) {
		t.Errorf("unsigned, body pending: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestIssue14StopWithAStuckClient: a stop whose drain deadline passes with
// a client stalled mid-upload and another held by an injected hang closes
// their connections, logs what it cut off, closes the store and reports no
// error.
func TestIssue14StopWithAStuckClient(t *testing.T) {
	// slog serialises writes, and every handler has returned once Close
	// does, so the buffer needs no lock of its own.
	var log bytes.Buffer
	cfg := DefaultConfig()
	cfg.Addr, cfg.Memory = "127.0.0.1:0", true
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	stall(t, srv, "")
	waitFor(func() bool { return srv.shed.reading.Load() == 1 })
	hung := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL()+"/domains-list", nil)
		req.Header.Set("x-localcases-fault", "hang=1h")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		hung <- err
	}()
	waitFor(func() bool { return srv.requests.Load() == 2 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the drain deadline has already passed
	if err := srv.Close(ctx); err != nil {
		t.Errorf("Close = %v, want nil after cutting off what could not drain", err)
	}
	if err := <-hung; err == nil {
		t.Error("the hung call got a response")
	}
	if got := log.String(); !strings.Contains(got, "requests_cut_off=2") {
		t.Errorf("the log does not say what was cut off:\n%s", got)
	}
	if n := srv.requests.Load(); n != 0 {
		t.Errorf("%d requests still running after Close", n)
	}
}
