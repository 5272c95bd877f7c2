package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases/internal/server"
)

// Main is the program, separate from main() so tests can run it in-process
// with their own arguments, output and context.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
	// Interactive, if set, says whether a person is at the terminal (tests
	// set it); nil asks the operating system.
	Interactive func() bool
	// started, if set, receives the server once it listens (tests use it to
	// learn the address when serving on :0).
	started func(*server.Server)
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Run executes one command line.
func (m *Main) Run(ctx context.Context, args []string) error {
	root := m.rootCommand()
	root.SetArgs(args)
	if m.Stdin != nil {
		root.SetIn(m.Stdin)
	}
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	return root.ExecuteContext(ctx)
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "localcases",
		Short: "A local Amazon Connect Cases service with failure on demand",
		Long: `localcases runs a wire-compatible Amazon Connect Cases service on your machine,
so the AWS SDKs and the AWS CLI work against it unchanged (only the endpoint
URL differs), and lets you make it fail on demand to test your error handling.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(m.serveCommand(), m.versionCommand(), m.explainCommand(), m.faultsCommand(), m.healthCommand(),
		m.resetCommand(), m.exportCommand(), m.importCommand())
	root.AddCommand(m.benchCommand(), m.eventsCommand())
	return root
}
