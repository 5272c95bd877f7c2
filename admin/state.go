package admin

import (
	"context"
	"encoding/json"
	"net/http"

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
		var snap localcases.Snapshot
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSnapshotBody)).Decode(&snap); err != nil {
			badRequest(w, err)
			return
		}
		if err := st.Import(r.Context(), &snap); err != nil {
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
