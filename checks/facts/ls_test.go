package facts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/k8s-debug-lab/lab/checks/decode"
)

// extractFile runs the extractor called name over a testdata file of a
// parser package, decoded as lab check decodes answers.
func extractFile(t *testing.T, name, path string) *Set {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, ok := Lookup(name)
	if !ok {
		t.Fatalf("no extractor %q", name)
	}
	s := NewSet()
	d := decode.New(f)
	e.Extract(d.Lines(), s)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	return s
}

// pick returns the named facts of s, for comparing a few at a time.
func pick(s *Set, names ...string) map[string]Fact {
	out := map[string]Fact{}
	for _, n := range names {
		if f := s.Get(n); f.Count > 0 {
			out[n] = f
		}
	}
	return out
}

func TestLsFacts(t *testing.T) {
	dir := "../parse/ls/testdata"
	pause := []string{"hostname", "hosts", "mtab", "resolv.conf"}
	nginx := []string{"conf.d", "fastcgi.conf", "fastcgi_params", "koi-utf", "koi-win", "mime.types",
		"modules-available", "modules-enabled", "nginx.conf", "proxy_params", "scgi_params", "sites-available",
		"sites-enabled", "snippets", "uwsgi_params", "win-utf"}
	names := []string{"entry", "entry.dir", "entry.symlink", "path", "root.pid", "root.path", "total", "bare", "error", "line", "unknown"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{"seed_pause_etc.txt", "ls -l listing", map[string]Fact{
			"entry":         {Count: 4, Values: pause},
			"entry.symlink": {Count: 1, Values: []string{"mtab"}},
			"path":          {Count: 1, Values: []string{"/proc/1/root/etc"}},
			"root.pid":      {Count: 1, Values: []string{"1"}},
			"root.path":     {Count: 1, Values: []string{"/etc"}},
			"total":         {Count: 1},
			"line":          {Count: 8},
		}},
		{"busybox_pause_root.txt", "ls -l listing", map[string]Fact{
			"entry":     {Count: 5, Values: []string{"dev", "etc", "pause", "proc", "sys"}},
			"entry.dir": {Count: 4, Values: []string{"dev", "etc", "proc", "sys"}},
			"total":     {Count: 1},
			"line":      {Count: 8},
		}},
		{"gnu_lR.txt", "ls -l listing", map[string]Fact{
			"entry":         {Count: 21, Values: append(append([]string{}, nginx...), "50-mod-http-echo.conf", "default", "fastcgi-php.conf", "snakeoil.conf")},
			"entry.symlink": {Count: 2, Values: []string{"50-mod-http-echo.conf", "default"}},
			"entry.dir":     {Count: 6, Values: []string{"conf.d", "modules-available", "modules-enabled", "sites-available", "sites-enabled", "snippets"}},
			"path": {Count: 7, Values: []string{"/proc/11/root/etc/nginx", "/proc/11/root/etc/nginx/conf.d",
				"/proc/11/root/etc/nginx/modules-available", "/proc/11/root/etc/nginx/modules-enabled",
				"/proc/11/root/etc/nginx/sites-available", "/proc/11/root/etc/nginx/sites-enabled", "/proc/11/root/etc/nginx/snippets"}},
			"root.pid": {Count: 7, Values: []string{"11"}},
			"root.path": {Count: 7, Values: []string{"/etc/nginx", "/etc/nginx/conf.d", "/etc/nginx/modules-available",
				"/etc/nginx/modules-enabled", "/etc/nginx/sites-available", "/etc/nginx/sites-enabled", "/etc/nginx/snippets"}},
			"total": {Count: 7},
			"line":  {Count: 35},
		}},
		{"busybox_session.txt", "ls -l listing", map[string]Fact{
			"entry":         {Count: 20, Values: append(append([]string{}, pause...), nginx...)},
			"entry.dir":     {Count: 6, Values: []string{"conf.d", "modules-available", "modules-enabled", "sites-available", "sites-enabled", "snippets"}},
			"entry.symlink": {Count: 1, Values: []string{"mtab"}},
			"path":          {Count: 2, Values: []string{"/proc/1/root/etc", "/proc/11/root/etc/nginx"}},
			"root.pid":      {Count: 2, Values: []string{"1", "11"}},
			"root.path":     {Count: 2, Values: []string{"/etc", "/etc/nginx"}},
			"total":         {Count: 2},
			"line":          {Count: 39},
			"unknown": {Count: 7, Values: []string{"PID   USER     COMMAND", "1 root     /pause",
				"11 root     nginx: master process /usr/sbin/nginx -g daemon off;", "12 www-data nginx: worker process",
				"13 www-data nginx: worker process", "74 root     busybox sh -i", "75 root     {ps} busybox sh -i"}},
		}},
		{"gnu_error.txt", "ls error", map[string]Fact{
			"error": {Count: 1, Values: []string{"cannot access '/proc/1/root/etc/nginx': No such file or directory"}},
			"line":  {Count: 1},
		}},
		{"busybox_bare_a.txt", "ls names (no -l)", map[string]Fact{
			"bare": {Count: 18, Values: append([]string{".", ".."}, nginx...)},
			"line": {Count: 18},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := extractFile(t, "ls", filepath.Join(dir, tt.file))
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, pick(s, names...)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}
