package grade

import (
	"bytes"
	"testing"
)

// A rune split between two writes is escaped all the same.
func TestJSONSafeSplitRunes(t *testing.T) {
	in := []byte(`{"name":"bidi` + "\u202e" + `x Дима` + "\u0085" + `"}`)
	for cut := range len(in) + 1 {
		var out bytes.Buffer
		j := &jsonSafe{w: &out}
		j.Write(in[:cut])
		j.Write(in[cut:])
		j.Close()
		if want := `{"name":"bidi\u202ex Дима\u0085"}`; out.String() != want {
			t.Fatalf("cut at %d: %s, want %s", cut, out.String(), want)
		}
	}
}
