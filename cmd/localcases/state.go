package main

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"encoding/json"
	"fmt"
	"github.com/schollz/progressbar/v3"
	"os"

	"github.com/spf13/cobra"
)

func (m *Main) resetCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Wipe a running server's state: every domain and what it holds",
		Long: `Wipe a running server's state: every domain and what it holds.

On a terminal it asks first; --yes skips the question. Scripts (standard
input not a terminal) are not asked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, "")
			if err != nil {
				return err
			}
			if !yes && m.interactive(cmd) {
				fmt.Fprintf(cmd.OutOrStdout(), "Delete every domain, case and record on %s? [y/N] ", c.URL)
				answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return errors.New("reset cancelled; nothing was deleted")
				}
			}
			if err := c.ResetState(cmd.Context()); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"url": c.URL, "domains": 0})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reset: %s holds no domains now\n", c.URL)
			return nil
		},
	}
	m.urlFlag(cmd)
	jsonFlag(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation on a terminal")
	return cmd
}

// interactive reports whether a person is at the command: its input and
// output are both a terminal.
func (m *Main) interactive(cmd *cobra.Command) bool {
	if m.Interactive != nil {
		return m.Interactive()
	}
	return isTerminal(cmd.InOrStdin()) && isTerminal(cmd.OutOrStdout())
}

func (m *Main) exportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a running server's whole state as JSON (a fixture for serve --import)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, "")
			if err != nil {
				return err
			}
			snap, err := c.Export(cmd.Context())
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(snap, "", "  ")
			if err != nil {
				return err
			}
			data = append(data, '\n')
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"records": len(snap.Records), "file": out})
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d records to %s\n", len(snap.Records), out)
			return nil
		},
	}
	m.urlFlag(cmd)
	jsonFlag(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default standard output); --json then prints a summary")
	return cmd
}

func (m *Main) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Replace a running server's state with a snapshot from localcases export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The file is sent as it is, not decoded here: the server
			// decodes it, and says what is wrong with it.
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			info, err := f.Stat()
			if err != nil {
				return err
			}
			c, err := m.client(cmd, "")
			if err != nil {
				return err
			}
			var body io.Reader = f
			if isTerminal(cmd.ErrOrStderr()) {
				bar := progressbar.NewOptions64(info.Size(),
					progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription("importing "+args[0]),
					progressbar.OptionShowBytes(true), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
				r := progressbar.NewReader(body, bar)
				body = &r
			}
			n, err := c.ImportFrom(cmd.Context(), body)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{"records": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d records\n", n)
			return nil
		},
	}
	m.urlFlag(cmd)
	jsonFlag(cmd)
	return cmd
}
