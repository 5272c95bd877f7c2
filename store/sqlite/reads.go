package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// reader is one read-only connection with every statement prepared on it.
// A View holds one from BEGIN to ROLLBACK.
//
// Why not database/sql's transactions: a sql.Tx starts a goroutine that
// watches its context, parses BEGIN and ROLLBACK each time, and binds each
// pool statement to its connection on first use, all per View; on GetCase,
// two point reads, that was a third of the View's CPU (docs/BENCHMARKS.md).
type reader struct {
	conn *sql.Conn
	st   stmts
}

// readPool keeps up to size readers, opened on first need and reused
// until Close.
type readPool struct {
	db    *sql.DB
	idle  chan *reader
	slots chan struct{} // one token per reader open or being opened

	mu     sync.Mutex
	closed bool
}

func newReadPool(db *sql.DB, size int) *readPool {
	return &readPool{db: db, idle: make(chan *reader, size), slots: make(chan struct{}, size)}
}

// get returns an idle reader, opens one while fewer than size are open,
// or waits for one to come back.
func (p *readPool) get(ctx context.Context) (*reader, error) {
	select {
	case r := <-p.idle:
		return r, nil
	default:
	}
	select {
	case r := <-p.idle:
		return r, nil
	case p.slots <- struct{}{}:
		r, err := p.open(ctx)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *readPool) open(ctx context.Context) (*reader, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	st, err := prepare(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &reader{conn: conn, st: *st}, nil
}

// put returns r for reuse, or closes it if the pool is closed.
func (p *readPool) put(r *reader) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		r.close()
		return
	}
	p.idle <- r // never blocks: at most size readers exist
}

// discard closes r, whose connection may be in an unknown state, and
// frees its slot.
func (p *readPool) discard(r *reader) {
	r.close()
	<-p.slots
}

// close closes the idle readers now and the others as they come back.
func (p *readPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for {
		select {
		case r := <-p.idle:
			r.close()
		default:
			return
		}
	}
}

func (r *reader) close() {
	r.st.close()
	r.conn.Close()
}
