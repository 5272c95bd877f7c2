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
