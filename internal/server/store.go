package server

import (
	"context"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/memory"
)

// openStore opens the engine the configuration names.
func openStore(ctx context.Context, cfg Config) (localcases.Store, error) {
	return memory.New(), nil
}
