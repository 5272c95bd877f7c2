// Package doctest runs the snippets of README.md and docs/*.md, so that every
// command and program a reader pastes does what the text says. Its test,
// TestDocs, is part of `go test ./...`; `go test ./internal/doctest -run
// 'TestDocs/FAULTS.md'` runs one file, and -v shows each snippet's output.
//
// # What runs
//
// Every fenced block tagged ```sh or ```go runs, unless a directive skips it.
// Other blocks (yaml, python, plain text) are read, not run.
//
// Shell blocks run in the order of their file, with bash -euo pipefail: a
// command that fails fails the doc. Files run side by side (up to -parallel
// at once), so a file must not depend on another. Each file gets:
//
//   - a temporary directory of its own as the working directory (a block
//     marked checkout runs at the repository root instead);
//   - a localcases binary built from this checkout, first on PATH;
//   - a fresh environment: no LOCALCASES_ or AWS_ variables and no AWS
//     config or credentials files, as on a new machine;
//   - a free port for each 127.0.0.1:PORT (or localhost:PORT) its shell
//     blocks name, the same within the file, written into the blocks before
//     they run; LOCALCASES_CONFIG names a file holding `addr:` with the port
//     that 127.0.0.1:4599 became, so that `localcases serve` and the admin
//     commands, whose default is 127.0.0.1:4599, use it too. Nothing else of
//     the file's text is changed.
//
// Shell variables and exports carry from one block to the next in a file, as
// in one terminal; the directory does not (each block starts in the file's
// directory). Processes a block leaves running (`localcases serve &`) are
// stopped when the file ends. A block waits for what it starts: write
// `localcases health --wait --url …` after `serve &`, as a reader's script
// must.
//
// A block whose first line starts with "$ " is a transcript: the "$ " lines
// (with "\" continuations) are commands, the lines after each are what it
// prints on standard output, and the test compares them. In an expected line
// "…" matches any text; a line that is only "…" matches any number of lines.
//
// A block that uses aws, curl, jq or openssl is skipped, with the rest of its
// file, when the tool is not installed.
//
// Go blocks are compiled together with `go vet`, as one package inside this
// module:
//
//   - a block that starts with `package` is a file as it stands;
//   - a block of declarations (func, type, var, const) goes in a file with
//     the imports it uses;
//   - any other block is a fragment: the body of a function. Its imports are
//     found by package name (aws, connectcases, resilience, fault, … see
//     knownPackages), names it uses without declaring are parameters (ctx, cfg,
//     client, url, logger, … see knownVars), and it returns error if it has
//     `return err`. A variable the fragment declares may be left unused, as a
//     reader goes on to use it, except err: a fragment that gets an error
//     handles it.
//
// # Directives
//
// An HTML comment on a line of its own before a block, invisible on GitHub:
//
//	<!-- doctest: skip: REASON -->    do not run the next block; the reason is required
//	<!-- doctest: background -->      run the next sh block in the background, and wait
//	                                  until the first 127.0.0.1 URL it names (else the
//	                                  file's 4599 port) answers HTTP
//	<!-- doctest: checkout -->        run the next sh block at the repository root
//	                                  (go run ./examples/…); it must not write there
//	<!-- doctest: replace OLD => NEW -->  run the next block with OLD replaced by NEW,
//	                                  for figures commands that take minutes
//	                                  (--duration 10s => --duration 1s); OLD must occur
//	<!-- doctest: server -->          start `localcases serve --memory` on the file's
//	                                  4599 port here, for a doc that assumes one runs
//	<!-- doctest: var NAME TYPE -->   a name the next go fragment uses, of TYPE
//
// A directive that names no block, or that the runner does not know, fails
// the test, so that a typo does not silently skip a check.
package doctest
