package memory_test

import (
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.RunStoreTests(t, func(t *testing.T) localcases.Store { return memory.New() })
}

func TestResetClearsIndexes(t *testing.T) {
	s := memory.New()
	err := s.Update(t.Context(), func(tx localcases.Tx) error {
		return tx.(localcases.IndexTx).SetIndex("i", "o", [][]byte{[]byte("k")})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Reset()
	var n int
	if err := s.View(t.Context(), func(tx localcases.Tx) (err error) {
		n, err = tx.(localcases.IndexTx).CountIndex("i", nil)
		return err
	}); err != nil || n != 0 {
		t.Errorf("entries after Reset = %d %v", n, err)
	}
}
