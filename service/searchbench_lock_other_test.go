//go:build !unix

package service

import "testing"

// benchLock: no flock here; measurements run unlocked.
func benchLock(*testing.B) func() { return func() {} }
