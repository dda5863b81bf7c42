//go:build race

package htmlreport_test

// raceEnabled: the race detector makes grading a class of 1,000 several
// times slower and finds nothing in a browser; make test runs the browser
// test once more without it.
const raceEnabled = true
