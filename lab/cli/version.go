package cli

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/version"
)

func newVersionCmd(streams Streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print lab's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := struct {
				Version    string `json:"version"`
				GoVersion  string `json:"goVersion"`
				Platform   string `json:"platform"`
				APIVersion string `json:"specAPIVersion"`
			}{version.String(), runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, spec.APIVersion}
			switch output {
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			case "":
				_, err := fmt.Fprintf(streams.Out, "lab %s (%s, %s; reads %s specs)\n", v.Version, v.GoVersion, v.Platform, v.APIVersion)
				return err
			}
			return usageErrorf("unknown output %q (want json, or nothing)", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json for a machine-readable version")
	return cmd
}
