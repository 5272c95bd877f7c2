// Package storetest is the contract every localcases.Store engine keeps.
// Each engine's tests call RunStoreTests with a function that opens a fresh,
// empty store, so memory, SQLite and PostgreSQL are held to one behaviour
// and the service runs unchanged on all of them.
package storetest
