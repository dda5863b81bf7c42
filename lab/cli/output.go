package cli

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
)

// outputJSON is the one value of -o: the commands that report something a
// script may want (status, doctor, traffic, solve, version) print it as
// JSON on stdout, with nothing else mixed in; progress stays on stderr.
const outputJSON = "json"

// addOutputFlag adds -o/--output to a command that has a JSON report.
func addOutputFlag(cmd *cobra.Command, p *string, what string) {
	cmd.Flags().StringVarP(p, "output", "o", "", "json for a machine-readable "+what)
	_ = cmd.RegisterFlagCompletionFunc("output", completeChoices([]string{outputJSON}))
}

// validateOutput refuses an -o value other than json or nothing.
func validateOutput(output string) error {
	switch output {
	case "", outputJSON:
		return nil
	}
	return usageErrorf("unknown output: %s (want json, or nothing)", output)
}

// writeJSON prints a report the way every -o json does: indented, and
// with <, > and & left as they are (hints and commands hold them).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
