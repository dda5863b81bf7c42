//go:build !race

package htmlreport_test

const raceEnabled = false
