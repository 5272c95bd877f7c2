package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localcases/localcases/resilience"
)

func (m *Main) explainCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "explain <ErrorCode | error text>",
		Short: "Explain a Connect Cases error: what it means, whether to retry, what to do",
		Long: `Explain a Connect Cases error code, HTTP status or pasted error message:
whether it is retryable, its likely causes, and what an operator should do.

  localcases explain InternalServerException
  localcases explain 429
  localcases explain "operation error ConnectCases: CreateCase, https response error StatusCode: 402"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), resilience.ExplainText(strings.Join(args, " ")).String())
			return nil
		},
	}
}
