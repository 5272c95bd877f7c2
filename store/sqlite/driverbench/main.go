// Command driverbench measures the two SQLite drivers localcases could use,
// doing what store/sqlite does: durable single-record transactions, group
// commits of savepoint-wrapped writes, and point reads from a pool. It is a
// module of its own so that the driver not chosen never enters the build of
// localcases. Run it from this directory:
//
//	go run . -n 3000 -reads 3s -order modernc,mattn
//	go run . -n 3000 -reads 3s -order mattn,modernc
//
// The figures and the choice are in docs/STORAGE.md.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"modernc.org/sqlite"
)

var (
	n     = flag.Int("n", 2000, "transactions per write test")
	batch = flag.Int("batch", 16, "writes per transaction in the group-commit test")
	reads = flag.Duration("reads", 3*time.Second, "duration of the read test")
	dir   = flag.String("dir", "", "directory for the database files (default: a temporary directory)")
	order = flag.String("order", "modernc,mattn", "drivers to run, in this order")
	fdata = flag.Bool("fdatasync", false, "make modernc.org/sqlite commit with fdatasync(2) instead of fsync(2)")
)

type driver struct{ name, sqlName string }

var drivers = map[string]driver{
	"modernc": {"modernc.org/sqlite", "sqlite"},
	"mattn":   {"github.com/mattn/go-sqlite3", "sqlite3"},
}

const schema = `CREATE TABLE IF NOT EXISTS records (
	seq   INTEGER PRIMARY KEY AUTOINCREMENT,
	coll  TEXT NOT NULL,
	scope TEXT NOT NULL,
	id    TEXT NOT NULL,
	data  BLOB NOT NULL,
	UNIQUE (coll, scope, id)
);
CREATE INDEX IF NOT EXISTS records_list ON records (coll, scope, seq);`

const upsert = `INSERT INTO records (coll, scope, id, data) VALUES (?, ?, ?, ?)
	ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`

func main() {
	flag.Parse()
	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "driverbench"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
	}
	fmt.Printf("%s %s/%s, %d CPU, files in %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), d)
	fmt.Printf("%-28s %12s %12s %14s %12s\n", "driver", "FULL tx/s", "NORMAL tx/s", "batch rec/s", "get/s")
	if *fdata {
		if _, err := sqlite.Fdatasync(true); err != nil {
			log.Fatal(err)
		}
	}
	for _, name := range strings.Split(*order, ",") {
		drv, ok := drivers[name]
		if !ok {
			log.Fatalf("unknown driver %q: want modernc or mattn", name)
		}
		full := writes(drv, filepath.Join(d, drv.sqlName+"-full.db"), "FULL", 1)
		normal := writes(drv, filepath.Join(d, drv.sqlName+"-normal.db"), "NORMAL", 1)
		batched := writes(drv, filepath.Join(d, drv.sqlName+"-batch.db"), "FULL", *batch)
		gets := getRate(drv, filepath.Join(d, drv.sqlName+"-full.db"))
		fmt.Printf("%-28s %12.0f %12.0f %14.0f %12.0f\n", drv.name, full, normal, batched, gets)
	}
}

func open(drv driver, path, sync string, conns int) *sql.DB {
	db, err := sql.Open(drv.sqlName, "file:"+path)
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	for _, p := range []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=" + sync, "PRAGMA busy_timeout=5000"} {
		// Pragmas are per connection: pin each connection once.
		var conns []*sql.Conn
		for range db.Stats().MaxOpenConnections {
			c, err := db.Conn(context.Background())
			if err != nil {
				log.Fatal(err)
			}
			if _, err := c.ExecContext(context.Background(), p); err != nil {
				log.Fatalf("%s: %s: %v", drv.name, p, err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
	}
	if _, err := db.Exec(schema); err != nil {
		log.Fatal(err)
	}
	return db
}

// writes runs *n transactions of size records each, every record inside its
// own savepoint as the group committer does, and returns records per second.
func writes(drv driver, path, sync string, size int) float64 {
	db := open(drv, path, sync, 1)
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	data := []byte(`{"id":"x","name":"a field name","type":"Text","description":"some description text"}`)
	start := time.Now()
	for i := range *n {
		must(conn.ExecContext(ctx, "BEGIN IMMEDIATE"))
		for j := range size {
			must(conn.ExecContext(ctx, "SAVEPOINT w"))
			must(conn.ExecContext(ctx, upsert, "field", fmt.Sprintf("scope%d", i%10), fmt.Sprintf("id%d-%d", i, j), data))
			must(conn.ExecContext(ctx, "RELEASE w"))
		}
		must(conn.ExecContext(ctx, "COMMIT"))
	}
	return float64(*n*size) / time.Since(start).Seconds()
}

// getRate reads random records by key from a pool of GOMAXPROCS connections.
func getRate(drv driver, path string) float64 {
	procs := runtime.GOMAXPROCS(0)
	db := open(drv, path, "FULL", procs)
	defer db.Close()
	var ops atomic.Int64
	deadline := time.Now().Add(*reads)
	var wg sync.WaitGroup
	for g := range procs {
		wg.Go(func() {
			var data []byte
			for i := g; time.Now().Before(deadline); i += procs {
				k := i % *n
				err := db.QueryRow(`SELECT data FROM records WHERE coll = ? AND scope = ? AND id = ?`,
					"field", fmt.Sprintf("scope%d", k%10), fmt.Sprintf("id%d-0", k)).Scan(&data)
				if err != nil {
					log.Fatal(err)
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(ops.Load()) / reads.Seconds()
}

func must(_ sql.Result, err error) {
	if err != nil {
		log.Fatal(err)
	}
}
