// Command eventconsumer is a small webhook consumer of Amazon Connect Cases
// events, as localcases delivers them (serve --event-sink, or localcases
// events sinks add). It keeps a projection of cases (status, title,
// deleted, related items) that stays right when events arrive twice or out
// of order: it applies each event id once, and a change only if it is newer
// (by approximateChangeTime) than the one it has. GET /state shows the
// projection and how many duplicates and late events it ignored.
//
//	go run ./examples/eventconsumer -addr 127.0.0.1:9000
//	localcases events sinks add http://127.0.0.1:9000/events --name consumer
//
// Its test runs it under localcases' duplicate and reorder faults and
// checks the projection against the server's own state. docs/EVENTS.md
// walks through it.
package main

import (
	"errors"
	"flag"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: NewConsumer(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("eventconsumer: listening on http://%s (POST events, GET /state)", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
