// Command genclass writes a class of generated submissions for bench/grade:
// real outputs from the parsers' test samples, personalized per student so
// that honest students share no random value, with a few planted copies and
// broken submissions, as lab grade meets them. Run it from the repository's
// root: go run ./bench/genclass -n 1000 -out /tmp/class
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
)

func main() {
	n := flag.Int("n", 1000, "students")
	out := flag.String("out", "", "the folder to write the class into (must not exist)")
	seed := flag.Uint64("seed", 1, "makes the class reproducible")
	root := flag.String("root", ".", "the repository's root, where checks/ holds the samples")
	flag.Parse()
	if err := run(*n, *out, *seed, *root); err != nil {
		fmt.Fprintf(os.Stderr, "genclass: %v\n", err)
		os.Exit(2)
	}
}

func run(n int, out string, seed uint64, root string) error {
	if out == "" {
		return fmt.Errorf("give -out DIR")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists: genclass writes a new folder only", out)
	}
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		return err
	}
	students, err := gradetest.Generate(out, root, a, gradetest.Config{
		Students: n, Seed: seed, Copies: max(1, n/50), SeedCopies: max(1, n/200), Broken: max(1, n/40),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genclass: %d submissions in %s\n", len(students), out)
	return nil
}
