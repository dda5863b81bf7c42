package choice

import "testing"

type color string

func TestParse(t *testing.T) {
	colors := []color{"red", "green", "blue"}
	tests := []struct {
		in      string
		want    color
		wantErr string
	}{
		{"green", "green", ""},
		{"Blue", "", "unknown color: Blue (want red, green or blue)"},
		{"", "", "unknown color:  (want red, green or blue)"},
		{"mauve", "", "unknown color: mauve (want red, green or blue)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse("color", tt.in, colors)
			if got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != tt.wantErr {
				t.Errorf("Parse(%q) error %q, want %q", tt.in, msg, tt.wantErr)
			}
		})
	}
}

func TestList(t *testing.T) {
	for _, tt := range []struct {
		in   []color
		want string
	}{{nil, ""}, {[]color{"a"}, "a"}, {[]color{"a", "b"}, "a or b"}, {[]color{"a", "b", "c"}, "a, b or c"}} {
		if got := List(tt.in); got != tt.want {
			t.Errorf("List(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
