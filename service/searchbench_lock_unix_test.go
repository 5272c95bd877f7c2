//go:build unix

package service

import (
	"os"
	"syscall"
	"testing"
)

// benchLock takes the lock file LOCALCASES_BENCH_LOCK names, if any, the
// way flock(1) does, and returns its release.
func benchLock(b *testing.B) func() {
	path := os.Getenv("LOCALCASES_BENCH_LOCK")
	if path == "" {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		b.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		b.Fatal(err)
	}
	return func() { f.Close() }
}
