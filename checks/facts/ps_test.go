package facts

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPsFacts(t *testing.T) {
	dir := "../parse/ps/testdata"
	names := []string{"nginx.master", "nginx.worker", "pause", "header", "error", "line"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{"procps_aux.txt", "ps", map[string]Fact{
			"nginx.master": {Count: 1, Values: []string{"11"}},
			"nginx.worker": {Count: 2, Values: []string{"12", "13"}},
			"pause":        {Count: 1, Values: []string{"1"}},
			"header":       {Count: 1},
			"line":         {Count: 7},
		}},
		{"seed_rosetta_grep.txt", "ps (no header)", map[string]Fact{
			"nginx.master": {Count: 1, Values: []string{"7"}},
			"nginx.worker": {Count: 1, Values: []string{"13"}},
			"line":         {Count: 2},
		}},
		{"busybox_session.txt", "ps", map[string]Fact{
			"nginx.master": {Count: 1, Values: []string{"11"}},
			"nginx.worker": {Count: 2, Values: []string{"12", "13"}},
			"pause":        {Count: 1, Values: []string{"1"}},
			"header":       {Count: 1},
			"line":         {Count: 39},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := extractFile(t, "ps", filepath.Join(dir, tt.file))
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, pick(s, names...)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
	s := extractFile(t, "ps", filepath.Join(dir, "procps_ef_grep.txt"))
	want := []string{"nginx: master process /usr/sbin/nginx -g daemon off;", "nginx: worker process",
		"sh -c ps -ef | grep nginx", "grep nginx"}
	if diff := cmp.Diff(want, s.Get("process").Values); diff != "" {
		t.Errorf("process values (-want +got):\n%s", diff)
	}
}
