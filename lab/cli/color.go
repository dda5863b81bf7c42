package cli

import (
	"io"
	"os"
	"sync"

	"github.com/muesli/termenv"
)

// colorTerminal reports whether w takes colours and cursor codes: it is a
// terminal, NO_COLOR is unset, TERM is not dumb, and the terminal
// interprets escape sequences. The last is a question only on Windows: its
// console does once virtual terminal processing is switched on (Windows 10
// and later); where that fails (an older console), lab writes plain text
// rather than "←[32m✓←[0m".
func colorTerminal(w io.Writer) bool {
	return colorAllowed(isTerminal(w), os.Getenv, func() error { return enableVT(w) })
}

// cursorTerminal reports whether w takes the cursor codes of the progress
// line ("\r\x1b[K"): a terminal that interprets escape sequences, whatever
// NO_COLOR says (the line has no colour).
func cursorTerminal(w io.Writer) bool {
	return colorAllowed(isTerminal(w), func(string) string { return "" }, func() error { return enableVT(w) })
}

// colorAllowed is colorTerminal's decision, apart from the machine.
func colorAllowed(tty bool, getenv func(string) string, enableVT func() error) bool {
	if !tty || getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return enableVT() == nil
}

// vt remembers, per console, whether virtual terminal processing could be
// switched on: it is asked once. The mode is left on at exit, as other
// console programs leave it: it only lets the console read what lab wrote.
var vt sync.Map // *os.File -> error

// enableVT switches on escape sequence processing for w's console on
// Windows; elsewhere it does nothing and succeeds.
func enableVT(w io.Writer) error {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if err, done := vt.Load(f); done {
		if err == nil {
			return nil
		}
		return err.(error)
	}
	_, err := termenv.EnableVirtualTerminalProcessing(termenv.NewOutput(f))
	if err != nil {
		vt.Store(f, err)
	} else {
		vt.Store(f, nil)
	}
	return err
}
