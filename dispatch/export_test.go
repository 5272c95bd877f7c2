package dispatch

// Crash stops d as a killed server would: workers stop at once, without
// writing their cursors or releasing their leases.
func (d *Dispatcher) Crash() {
	d.mu.Lock()
	for _, w := range d.workers {
		w.abandoned.Store(true)
	}
	d.mu.Unlock()
	d.Close()
}
