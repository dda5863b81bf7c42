package cli

import (
	"errors"
	"testing"
)

func TestColorAllowed(t *testing.T) {
	noVT := func() error { return errors.New("SetConsoleMode: the parameter is incorrect") }
	vt := func() error { return nil }
	for _, tc := range []struct {
		name string
		tty  bool
		env  map[string]string
		vt   func() error
		want bool
	}{
		{"a terminal", true, nil, vt, true},
		{"not a terminal", false, nil, vt, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, vt, false},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, vt, false},
		{"a Windows console without escape sequences", true, nil, noVT, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := colorAllowed(tc.tty, func(k string) string { return tc.env[k] }, tc.vt); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAnswersName(t *testing.T) {
	for in, want := range map[string]string{"answers/": "answers", "answers": "answers", "/": "/", "a/b//": "a/b"} {
		if got := answersName(in); got != want {
			t.Errorf("answersName(%q) = %q, want %q", in, got, want)
		}
	}
}
