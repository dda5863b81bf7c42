package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks/decode"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{
			"15:24:52.090586 lo    In  ifindex 1 00:00:00:00:00:00 ethertype IPv4 (0x0800), length 149: 127.0.0.1.34586 > 127.0.0.1.80: Flags [P.]",
			"<time> lo In ifindex <n> <mac> ethertype IPv<n> (<n>x<n>), length <n>: <ip>.<n> > <ip>.<n>: Flags [P.]",
		},
		{"drwxr-xr-x    2 root     root          4096 Feb 14 10:59 .", "drwxr-xr-x <n> root root <n> Feb <n> <time> ."},
		{"10:59", "<time>"},
		{"seq 1:78, seq 1:239", "seq <n>:<n>, seq <n>:<n>"},
		{"at 25:00 or 10:5", "at <n>:<n> or <n>:<n>"},
		{"12:34:", "<time>:"},
		{"5e:43:11:56:d5:e5 ethertype", "<mac> ethertype"},
		{"1.2.3", "<n>.<n>.<n>"},
		{"  trailing   space  ", "trailing space"},
		{"", ""},
		{"привет 42", "привет <n>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Normalize(tt.in)); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
			if again := Normalize(Normalize(tt.in)); again != Normalize(tt.in) {
				t.Errorf("Normalize is not idempotent: %q", again)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	n := newNearest([]string{
		"15:24:52.090586 lo In 127.0.0.1.34586 > 127.0.0.1.80: Flags [P.], length 77: HTTP: GET / HTTP/1.1",
		"",
	})
	input := "tcpdump: listening on any\n" +
		"15:25:03.028337 eth0 In 10.244.0.14.47584 > 10.244.0.12.80: Flags [S], length 0\n" +
		"15:25:03.028389 eth0 In 10.244.0.14.47584 > 10.244.0.12.80: Flags [P.], length 106\n" +
		"3 packets captured\n"
	lines := 0
	for range n.watch(decode.String(input)) {
		lines++
	}
	if lines != 4 {
		t.Fatalf("watch passed %d lines on, want 4", lines)
	}
	want := []Closest{{
		Want: "<time> lo In <ip>.<n> > <ip>.<n>: Flags [P.], length <n>: HTTP: GET / HTTP/<n>.<n>",
		Got:  "<time> eth<n> In <ip>.<n> > <ip>.<n>: Flags [P.], length <n>",
		Line: 3,
		Diff: "<time> [-lo-]{+eth<n>+} In <ip>.<n> > <ip>.<n>: Flags [P.], length <n>[-: HTTP: GET / HTTP/<n>.<n>-]",
	}}
	if diff := cmp.Diff(want, n.result()); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestNearestNothingClose(t *testing.T) {
	n := newNearest([]string{"accept4(6, ...) = 3"})
	for range n.watch(decode.String("zzz\nyyy\n")) {
	}
	got := n.result()
	if len(got) != 1 || got[0].Got != "" {
		t.Fatalf("result = %+v, want the skeleton with no line", got)
	}
}
