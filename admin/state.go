package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/localcases/localcases"
)

// State is what the state tools need of the service.
type State interface {
	Reset(ctx context.Context) error
	Export(ctx context.Context) (*localcases.Snapshot, error)
	Import(ctx context.Context, snap *localcases.Snapshot) error
}

// maxSnapshotBody bounds an imported snapshot.
const maxSnapshotBody = 1 << 30

// RegisterState adds the state tools:
//
//	POST /_localcases/reset    wipe every domain and what it holds
//	GET  /_localcases/export   the whole state as a snapshot
//	POST /_localcases/import   replace the state with a snapshot, atomically
func RegisterState(h *Handler, st State) {
	h.Handle("POST "+Prefix+"reset", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := st.Reset(r.Context()); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	}))
	h.Handle("GET "+Prefix+"export", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := st.Export(r.Context())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, snap)
	}))
	h.Handle("POST "+Prefix+"import", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := DecodeSnapshot(&utf8Reader{r: http.MaxBytesReader(w, r.Body, maxSnapshotBody)})
		if err != nil {
			badRequest(w, err)
			return
		}
		if err := st.Import(r.Context(), snap); err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"records": len(snap.Records)})
	}))
}

// ResetState wipes the server's state.
func (c *Client) ResetState(ctx context.Context) error {
	return c.doWith(ctx, c.untimed(), http.MethodPost, "reset", nil, nil)
}

// Export reads the server's whole state.
func (c *Client) Export(ctx context.Context) (*localcases.Snapshot, error) {
	var out localcases.Snapshot
	return &out, c.doWith(ctx, c.untimed(), http.MethodGet, "export", nil, &out)
}

// Import replaces the server's state with a snapshot.
func (c *Client) Import(ctx context.Context, snap *localcases.Snapshot) error {
	return c.doWith(ctx, c.untimed(), http.MethodPost, "import", snap, nil)
}

// ImportFrom is Import with the snapshot's JSON read from r as it is sent,
// so a caller can send a file without decoding it and show the upload's
// progress; it returns how many records the server loaded.
func (c *Client) ImportFrom(ctx context.Context, r io.Reader) (int, error) {
	var out struct {
		Records int `json:"records"`
	}
	err := c.doWith(ctx, c.untimed(), http.MethodPost, "import", r, &out)
	return out.Records, err
}

// utf8Reader fails a read that would pass bytes that are not UTF-8, which
// encoding/json would otherwise turn into U+FFFD without a word: a snapshot
// is stored as sent or not at all.
type utf8Reader struct {
	r     io.Reader
	carry []byte // an incomplete sequence at the end of the last read
	off   int64
}

var errNotUTF8 = errors.New("the snapshot is not UTF-8")

func (u *utf8Reader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	buf := append(u.carry, p[:n]...)
	i := 0
	for i < len(buf) {
		if buf[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(buf[i:]) && err == nil {
				break // the rest of the sequence is in the next read
			}
			return 0, fmt.Errorf("%w (offset %d)", errNotUTF8, u.off+int64(i))
		}
		i += size
	}
	u.off += int64(i)
	u.carry = append(u.carry[:0:0], buf[i:]...)
	return n, err
}
