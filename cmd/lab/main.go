// Command lab is the self-grading Kubernetes debugging lab. This is the only
// place that exits the process: every command returns its error and exit
// code to here.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/k8s-debug-lab/lab/lab/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], cli.StdStreams())
	stop()
	if err != nil {
		if !cli.Silent(err) {
			fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		}
		os.Exit(cli.ExitCode(err))
	}
}
