package ls

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks/parse/internal/parsetest"
	"github.com/k8s-debug-lab/lab/internal/golden"
)

// testLines decodes a sample the way lab check decodes an answers file.

func parseString(s string) []string {
	var got []string
	for r := range Parse(parsetest.Lines([]byte(s))) {
		got = append(got, r.String())
	}
	return got
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(parseString(string(in)), "\n") + "\n"
			goldenPath := strings.TrimSuffix(f, ".txt") + ".golden"
			golden.Check(t, goldenPath, got)
		})
	}
}

// summary is what a test asserts about one file: names listed (no dot
// entries), directories, kinds seen.
type summary struct {
	Names    []string
	Dirs     []string
	Symlinks []string
	Errors   []string
	Bare     []string
	Unknown  []string
}

func summarise(t *testing.T, in []byte) summary {
	t.Helper()
	var s summary
	seen := map[string]bool{}
	for r := range Parse(parsetest.Lines(in)) {
		switch r.Kind {
		case Entry:
			if !r.IsDotEntry() {
				s.Names = append(s.Names, string(r.Name))
			}
			if r.Type == 'l' {
				s.Symlinks = append(s.Symlinks, string(r.Name)+"->"+string(r.Target))
			}
			if d := string(r.Dir); d != "" && !seen[d] {
				seen[d] = true
				s.Dirs = append(s.Dirs, d)
			}
		case Error:
			s.Errors = append(s.Errors, string(r.Message))
		case Bare:
			for _, n := range r.Names {
				s.Bare = append(s.Bare, string(n))
			}
		case Unknown:
			s.Unknown = append(s.Unknown, string(r.Line))
		}
	}
	return s
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var nginxEtc = []string{"conf.d", "fastcgi.conf", "fastcgi_params", "koi-utf", "koi-win", "mime.types",
	"modules-available", "modules-enabled", "nginx.conf", "proxy_params", "scgi_params", "sites-available",
	"sites-enabled", "snippets", "uwsgi_params", "win-utf"}

func TestVariants(t *testing.T) {
	pauseEtc := summary{
		Names:    []string{"hostname", "hosts", "mtab", "resolv.conf"},
		Dirs:     []string{"/proc/1/root/etc"},
		Symlinks: []string{"mtab->/proc/mounts"},
	}
	noDir := summary{Names: nginxEtc}
	tests := []struct {
		file string
		want summary
	}{
		{"busybox_pause_etc.txt", summary{Names: pauseEtc.Names, Symlinks: pauseEtc.Symlinks}},
		{"seed_pause_etc.txt", pauseEtc},
		{"gnu_l.txt", noDir},
		{"gnu_la.txt", noDir},
		{"gnu_lah.txt", noDir},
		{"gnu_Al.txt", noDir},
		{"gnu_lahF.txt", noDir},
		{"gnu_full_time.txt", noDir},
		{"gnu_lai.txt", noDir},
		{"gnu_las.txt", noDir},
		{"gnu_color.txt", noDir},
		{"busybox_l.txt", noDir},
		{"busybox_la.txt", noDir},
		{"busybox_lah.txt", noDir},
		{"busybox_lahF.txt", noDir},
		{"busybox_Al.txt", noDir},
		{"busybox_lai.txt", noDir},
		{"busybox_las.txt", noDir},
		{"gnu_bash_session.txt", summary{Names: nginxEtc, Dirs: []string{"/proc/11/root/etc/nginx"}, Bare: []string{
			// columns of a terminal run down, then across
			"conf.d", "koi-win", "nginx.conf", "sites-enabled", "fastcgi.conf", "mime.types", "proxy_params",
			"snippets", "fastcgi_params", "modules-available", "scgi_params", "uwsgi_params", "koi-utf",
			"modules-enabled", "sites-available", "win-utf",
		}}},
		{"gnu_files_abs.txt", summary{Names: []string{"mime.types", "nginx.conf"}, Dirs: []string{"/proc/11/root/etc/nginx"}}},
		{"busybox_file_abs.txt", summary{Names: []string{"nginx.conf"}, Dirs: []string{"/proc/11/root/etc/nginx"}}},
		{"gnu_files_rel.txt", summary{Names: []string{"mime.types", "nginx.conf"}, Dirs: []string{"etc/nginx"}}},
		{"gnu_error.txt", summary{Errors: []string{"cannot access '/proc/1/root/etc/nginx': No such file or directory"}}},
		{"busybox_error.txt", summary{Errors: []string{"/proc/1/root/etc/nginx: No such file or directory"}}},
		{"seed_error.txt", summary{Errors: []string{"/proc/1/root/etc/nginx: No such file or directory"}}},
		{"gnu_permission.txt", summary{Errors: []string{"cannot open directory '/root': Permission denied"}}},
		{"gnu_proc_root_link.txt", summary{Names: []string{"root"}, Dirs: []string{"/proc/1"}, Symlinks: []string{"root->/tmp/pod/pauseroot"}}},
		{"gnu_dev.txt", summary{Names: []string{"null", "random", "tty", "zero"}, Dirs: []string{"/dev"}}},
		{"gnu_bare.txt", summary{Bare: nginxEtc}},
		{"busybox_bare.txt", summary{Bare: nginxEtc}},
		{"gnu_tty_quoted.txt", summary{
			Names:    []string{"dangling", "link", "my file.txt", "pipe", "plain", "sock", "sub dir"},
			Symlinks: []string{"dangling->/nonexistent", "link->plain"},
		}},
		{"gnu_demo_lahF.txt", summary{
			Names:    []string{"dangling", "link", "my file.txt", "old", "pipe", "plain", "sock", "sub dir"},
			Symlinks: []string{"dangling->/nonexistent", "link->plain*"},
		}},
		{"busybox_demo_laF.txt", summary{
			Names:    []string{"dangling", "link", "my file.txt", "old", "pipe", "plain", "sock", "sub dir"},
			Symlinks: []string{"dangling->/nonexistent", "link->plain*"},
		}},
		{"busybox_session.txt", summary{
			Names:    append([]string{"hostname", "hosts", "mtab", "resolv.conf"}, nginxEtc...),
			Dirs:     []string{"/proc/1/root/etc", "/proc/11/root/etc/nginx"},
			Symlinks: []string{"mtab->/proc/mounts"},
			// the session also shows ps output, which is not ls's
			Unknown: []string{
				"PID   USER     COMMAND",
				"    1 root     /pause",
				"   11 root     nginx: master process /usr/sbin/nginx -g daemon off;",
				"   12 www-data nginx: worker process",
				"   13 www-data nginx: worker process",
				"   74 root     busybox sh -i",
				"   75 root     {ps} busybox sh -i",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".txt"), func(t *testing.T) {
			got := summarise(t, read(t, tt.file))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"busybox device", "crw-rw-rw-    1 root     root        1,   3 Nov 20 01:27 /dev/null",
			[]string{`entry type=c mode="crw-rw-rw-" links=1 owner="root" group="root" size="1,   3" time="Nov 20 01:27" name="null" dir="/dev"`}},
		{"selinux dot", "drwxr-xr-x. 2 root root   57 8月  22 03:00 extras",
			[]string{`entry type=d mode="drwxr-xr-x." links=2 owner="root" group="root" size="57" time="8月  22 03:00" name="extras"`}},
		{"acl plus and chinese total", "总用量 8\n-rwxr-xr-x+  1 root root    2 Nov 27 23:56 plain*",
			[]string{`total total="8"`, `entry type=- mode="-rwxr-xr-x+" links=1 owner="root" group="root" size="2" time="Nov 27 23:56" name="plain"`}},
		{"russian date", "итого 4\n-rw-r--r-- 1 root root 17 фев 14 10:59 hostname",
			[]string{`total total="4"`, `entry type=- mode="-rw-r--r--" links=1 owner="root" group="root" size="17" time="фев 14 10:59" name="hostname"`}},
		{"size looks like a year", "-rw-r--r-- 1 root root 2019 Mar  4  2019 old",
			[]string{`entry type=- mode="-rw-r--r--" links=1 owner="root" group="root" size="2019" time="Mar  4  2019" name="old"`}},
		{"long-iso", "-rw-r--r-- 1 root root 305 2026-11-27 23:55 nginx.conf",
			[]string{`entry type=- mode="-rw-r--r--" links=1 owner="root" group="root" size="305" time="2026-11-27 23:55" name="nginx.conf"`}},
		{"no owner", "-rw-r--r-- 1 root 305 Nov 27 23:55 nginx.conf",
			[]string{`entry type=- mode="-rw-r--r--" links=1 owner="root" size="305" time="Nov 27 23:55" name="nginx.conf"`}},
		{"name with arrow-like text is kept for files", "-rw-r--r-- 1 root root 1 Nov 27 23:55 a -> b",
			[]string{`entry type=- mode="-rw-r--r--" links=1 owner="root" group="root" size="1" time="Nov 27 23:55" name="a -> b"`}},
		{"echo learns the directory", "~ # ls -la /proc/7/root/etc/nginx/\ntotal 8\n-rw-r--r-- 1 root root 1 Nov 27 23:55 nginx.conf",
			[]string{`command command="ls -la /proc/7/root/etc/nginx/"`, `total total="8" dir="/proc/7/root/etc/nginx"`,
				`entry type=- mode="-rw-r--r--" links=1 owner="root" group="root" size="1" time="Nov 27 23:55" name="nginx.conf" dir="/proc/7/root/etc/nginx"`}},
		{"kubectl debug echo and banners", "$ kubectl debug -it nginx --image=busybox --target=nginx -- ls -la /proc/1/root/etc\n" +
			"Defaulting debug container name to debugger-abcde.\nIf you don't see a command prompt, try pressing enter.\n" +
			"All commands and output from this session will be recorded in container logs, including credentials and sensitive information passed through the command prompt.\n" +
			"ls: /proc/1/root/etc/nginx: No such file or directory",
			[]string{`command command="kubectl debug -it nginx --image=busybox --target=nginx -- ls -la /proc/1/root/etc"`,
				`noise line="Defaulting debug container name to debugger-abcde."`,
				`noise line="If you don't see a command prompt, try pressing enter."`,
				`noise line="All commands and output from this session will be recorded in container logs, including credentials and sensitive information passed through the command prompt."`,
				`error message="/proc/1/root/etc/nginx: No such file or directory"`}},
		{"cd then relative ls", "root@node:/# cd /proc/9/root\nroot@node:/proc/9/root# ls -l etc/nginx\n-rw-r--r-- 1 root root 1 Nov 27 23:55 nginx.conf",
			[]string{`command command="cd /proc/9/root"`, `command command="ls -l etc/nginx"`,
				`entry type=- mode="-rw-r--r--" links=1 owner="root" group="root" size="1" time="Nov 27 23:55" name="nginx.conf" dir="/proc/9/root/etc/nginx"`}},
		{"chroot sh -c", "kubectl debug node/minikube -it --image=ubuntu -- chroot /host sh -c 'ls -lahF /var/log/pods/'\n" +
			"drwxr-xr-x  7 root root 4.0K Feb 14 15:24 default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/",
			[]string{`command command="kubectl debug node/minikube -it --image=ubuntu -- chroot /host sh -c 'ls -lahF /var/log/pods/'"`,
				`entry type=d mode="drwxr-xr-x" links=7 owner="root" group="root" size="4.0K" time="Feb 14 15:24" name="default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab" dir="/var/log/pods"`}},
		{"distroless has no ls", "OCI runtime exec failed: exec failed: unable to start container process: exec: \"ls\": executable file not found in $PATH: unknown\ncommand terminated with exit code 126",
			[]string{`error message="OCI runtime exec failed: exec failed: unable to start container process: exec: \"ls\": executable file not found in $PATH: unknown"`,
				`error message="command terminated with exit code 126"`}},
		{"prose is unknown", "Hello, world: this is (not) a listing.",
			[]string{`unknown line="Hello, world: this is (not) a listing."`}},
		{"blank lines are skipped", "\n   \n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseString(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	parsetest.Corpus[[]byte](f, 0, "testdata/*.txt")
	f.Add([]byte("drwxr-xr-x 1 a b 1 Jan 1 00:00 $'\\"))
	f.Add([]byte("lrwxrwxrwx 1 a b 1 Jan 1 00:00 'x' -> '"))
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Count(in, []byte("\n")) + 1
		n := 0
		for r := range Parse(parsetest.Lines(in)) {
			n++
			if len(r.Name) > len(in)+4*maxPath || len(r.Dir) > maxPath+len(in) || len(r.Names) > 64 {
				t.Fatalf("unbounded record %v", r)
			}
		}
		if n > lines {
			t.Fatalf("%d records from %d lines", n, lines)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	lines := parsetest.BenchLines(b, 1<<20, "testdata/gnu_la.txt", "testdata/busybox_lahF.txt")
	for b.Loop() {
		n := 0
		for r := range Parse(parsetest.Seq(lines)) {
			if r.Kind == Entry {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no entries")
		}
	}
}
