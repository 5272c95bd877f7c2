package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/api"
)

// capture sends one request of each operation and keeps the decoded 2xx
// answer, which the ceiling then replays: the ceiling encodes a response as
// large and as nested as localcases' own, not an empty object. An operation
// that errors is left out (the ceiling answers it with an empty output).
func capture(ctx context.Context, c *client, w []OpWeight, gens []generator, runID string) map[string]any {
	out := map[string]any{}
	wg := &workerGen{id: 1 << 20, rnd: rand.New(rand.NewPCG(1, 2)), runID: runID}
	for i, o := range w {
		t := outputType(o.Op)
		if t == nil {
			continue
		}
		r := gens[i].next(wg)
		wg.seq++
		res := c.do(ctx, r, true)
		if res.errType != "" {
			continue
		}
		v := reflect.New(t).Interface()
		if err := json.Unmarshal(res.body, v); err != nil {
			continue
		}
		out[o.Op] = v
	}
	return out
}

// ceilingServer is the bare net/http server: routing, body read, JSON
// decode into the operation's input type, JSON encode of a fixed output.
// Everything localcases does beyond that (binding, validation, the service,
// the store, request IDs, logging hooks) is what the ratio measures.
type ceilingServer struct {
	url string
	srv *http.Server
	ln  net.Listener
}

func startCeiling(w []OpWeight, captured map[string]any) (*ceilingServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := newCeilingServer(w, captured)
	go s.Serve(ln)
	return &ceilingServer{url: "http://" + ln.Addr().String(), srv: s, ln: ln}, nil
}

// ServeCeiling serves the ceiling on addr until ctx ends, for a load
// generator outside this process (wrk): every request of op is answered
// with answer, a 2xx body localcases gave for op, decoded and encoded
// again per request as the in-process ceiling does.
func ServeCeiling(ctx context.Context, addr, op string, answer []byte) error {
	t := outputType(op)
	if api.OperationByName(op) == nil || t == nil {
		return fmt.Errorf("no operation %q with an output", op)
	}
	v := reflect.New(t).Interface()
	if err := json.Unmarshal(answer, v); err != nil {
		return fmt.Errorf("the answer is not a %s output: %w", op, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := newCeilingServer([]OpWeight{{Op: op, Weight: 1}}, map[string]any{op: v})
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newCeilingServer(w []OpWeight, captured map[string]any) *http.Server {
	mux := http.NewServeMux()
	for _, o := range w {
		op := api.OperationByName(o.Op)
		resp := captured[o.Op]
		if resp == nil {
			if t := outputType(o.Op); t != nil {
				resp = reflect.New(t).Interface()
			} else {
				resp = struct{}{}
			}
		}
		pattern := op.URI
		if strings.HasSuffix(pattern, "/") {
			pattern += "{$}"
		}
		mux.HandleFunc(op.Method+" "+pattern, func(rw http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusBadRequest)
				return
			}
			if len(body) > 0 {
				in := op.NewInput()
				if err := json.Unmarshal(body, in); err != nil {
					http.Error(rw, err.Error(), http.StatusBadRequest)
					return
				}
			}
			out, err := json.Marshal(resp)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusInternalServerError)
				return
			}
			h := rw.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(out)))
			// Same header and size as localcases' UUID request IDs, so
			// both servers write the same number of bytes, but fixed:
			// generating IDs is part of what localcases is measured on.
			h.Set("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
			rw.WriteHeader(http.StatusOK)
			rw.Write(out)
		})
	}
	// The sampler reads this process's RSS the way it reads localcases'.
	mux.HandleFunc("GET "+admin.Prefix+"stats", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(admin.Stats{RSSBytes: admin.RSS()})
	})
	// The same timeouts as localcases' server, so connection handling is
	// configured alike.
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
}

func (c *ceilingServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.srv.Shutdown(ctx)
}
