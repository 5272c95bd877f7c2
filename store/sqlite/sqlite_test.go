package sqlite

import (
	"context"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/storetest"
)

// MustOpen opens a store in a new temporary directory and closes it when
// the test ends.
func MustOpen(tb testing.TB, opts Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.RunStoreTests(t, func(t *testing.T) localcases.Store { return MustOpen(t, Options{}) })
}
