package facts

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCoherenceFacts covers the facts that checks/coherence compares across
// answers files and uses to tell a written output from a captured one, on
// real captures.
func TestCoherenceFacts(t *testing.T) {
	tests := []struct {
		parser, file string
		want         map[string]Fact
	}{
		// strace -p WORKER: lines carry no PID, the one attached process did it
		{"strace", "../parse/strace/testdata/new-f-accept4-read-write.txt", map[string]Fact{
			"accept.pid": {Count: 1, Values: []string{"6011"}},
		}},
		// -s 200 shows the Server header whole
		{"strace", "../parse/strace/testdata/new-yy-s200.txt", map[string]Fact{
			"accept.pid":    {Count: 1, Values: []string{"6011"}},
			"nginx.version": {Count: 5, Values: []string{"1.22.1"}},
		}},
		// master and two workers during a reload: only workers accept
		{"strace", "../parse/strace/testdata/multi-unfinished-resumed.txt", map[string]Fact{
			"accept.pid":        {Count: 2, Values: []string{"8111", "8670"}},
			"rt_sigsuspend.pid": {Count: 1, Values: []string{"6010"}},
		}},
		{"strace", "../parse/strace/testdata/master-rt_sigsuspend.txt", map[string]Fact{
			"rt_sigsuspend.pid": {Count: 1, Values: []string{"6010"}},
		}},
		// the default -s 32 cuts "Server: nginx/1": no version
		{"strace", "../parse/strace/testdata/old-format-websrv.txt", map[string]Fact{
			"accept.pid": {Count: 1, Values: []string{"7"}},
		}},
		// the seed's excerpt lost its "Process N attached" line: whose
		// accept it was cannot be told
		{"strace", "../parse/strace/testdata/seed-new-format.txt", map[string]Fact{}},
		{"tcpdump", "../parse/tcpdump/testdata/4.99-any-A.txt", map[string]Fact{
			"nginx.version": {Count: 1, Values: []string{"1.22.1"}},
		}},
		{"ls", "../testdata/answers/good/step-3.txt", map[string]Fact{
			"entry.size": {Count: 9, Values: []string{"fastcgi.conf=1125", "fastcgi_params=2460", "koi-utf=2837", "koi-win=2223", "mime.types=4338", "nginx.conf=359", "scgi_params=2038", "uwsgi_params=2067", "win-utf=3071"}},
		}},
		// -h sizes stay as ls printed them
		{"ls", "../parse/ls/testdata/gnu_lah.txt", map[string]Fact{
			"entry.size": {Count: 10, Values: []string{"fastcgi.conf=1.1K", "fastcgi_params=2.5K", "koi-utf=2.8K", "koi-win=2.2K", "mime.types=4.3K", "nginx.conf=305", "proxy_params=1.6K", "scgi_params=2.0K", "uwsgi_params=2.1K", "win-utf=3.0K"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := straceExtractFile(t, tt.parser, tt.file)
			got := stracePick(s, "accept.pid", "rt_sigsuspend.pid", "nginx.version", "entry.size")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
