package cli

import (
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
			if err := validateOutput(output); err != nil {
				return err
			}
			if output == outputJSON {
				return writeJSON(streams.Out, v)
			}
			_, err := fmt.Fprintf(streams.Out, "lab %s (%s, %s; reads %s specs)\n", v.Version, v.GoVersion, v.Platform, v.APIVersion)
			return err
		},
	}
	addOutputFlag(cmd, &output, "version")
	return cmd
}
