package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeCeiling: the ceiling served for an outside load generator
// answers the operation with the given body, refuses an operation or body
// it cannot serve, and stops when its context ends.
func TestServeCeiling(t *testing.T) {
	ctx := t.Context()
	if err := ServeCeiling(ctx, "127.0.0.1:0", "NoSuchOp", []byte(`{}`)); err == nil {
		t.Error("unknown operation: no error")
	}
	if err := ServeCeiling(ctx, "127.0.0.1:0", "GetCase", []byte(`[1]`)); err == nil {
		t.Error("answer that is not a GetCase output: no error")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ServeCeiling(sctx, addr, "GetCase", []byte(`{"templateId":"tpl-1","fields":[]}`))
	}()
	var body string
	for range 100 {
		resp, err := http.Post("http://"+addr+"/domains/d/cases/c", "application/json", strings.NewReader(`{"fields":[{"id":"title"}]}`))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(body, `"templateId":"tpl-1"`) {
		t.Errorf("ceiling answered %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeCeiling after its context ended: %v", err)
	}
}
