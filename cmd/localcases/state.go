package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases"
)

func (m *Main) resetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Wipe a running server's state: every domain and what it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd, "")
			if err != nil {
				return err
			}
			return c.ResetState(cmd.Context())
		},
	}
	m.urlFlag(cmd)
	return cmd
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
			return os.WriteFile(out, data, 0o644)
		},
	}
	m.urlFlag(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default standard output)")
	return cmd
}

func (m *Main) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Replace a running server's state with a snapshot from localcases export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var snap localcases.Snapshot
			if err := json.Unmarshal(data, &snap); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			c, err := m.client(cmd, "")
			if err != nil {
				return err
			}
			if err := c.Import(cmd.Context(), &snap); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d records\n", len(snap.Records))
			return nil
		},
	}
	m.urlFlag(cmd)
	return cmd
}
