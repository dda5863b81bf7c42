//go:build e2e

package e2e

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// No test sends a packet off this machine, and no DNS lookup leaves it.
// lab asks a registry for an image's platforms before it deploys (and
// doctor asks whether images can be pulled); on a student's laptop that is
// what it should do, here the machine's resolver is not on this machine.
// So every lab the tests start goes through a proxy on a closed loopback
// port, as a machine behind an unreachable proxy would: the question fails
// at once, with no lookup, and the cluster's own addresses bypass it.

// unreachableProxy is a loopback port nothing listens on (discard).
const unreachableProxy = "http://127.0.0.1:9"

// onMachine are the only addresses a lab process may connect to: loopback,
// the harness's node IP, its Service and pod ranges.
var onMachine = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.254.254.1/32"),
	netip.MustParsePrefix("10.96.0.0/24"),
	netip.MustParsePrefix("10.244.0.0/24"),
}

// keepOnMachine sets the proxy variables for this test process and so for
// every lab and kubectl it starts from here on.
func keepOnMachine() {
	noProxy := make([]string, 0, len(onMachine)+1)
	for _, p := range onMachine {
		noProxy = append(noProxy, p.String())
	}
	noProxy = append(noProxy, "localhost")
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		os.Setenv(k, unreachableProxy)
	}
	for _, k := range []string{"NO_PROXY", "no_proxy"} {
		os.Setenv(k, strings.Join(noProxy, ","))
	}
}

// straceAddr finds the addresses in strace's decoding of connect, sendto
// and sendmsg: inet_addr("10.0.0.1") and inet_pton(AF_INET6, "::1", …).
var straceAddr = regexp.MustCompile(`inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"`)

// offMachine returns the addresses in an strace log outside onMachine.
func offMachine(log string) []string {
	seen := map[string]bool{}
	for _, m := range straceAddr.FindAllStringSubmatch(log, -1) {
		s := m[1] + m[2]
		a, err := netip.ParseAddr(s)
		if err != nil {
			seen[s] = true
			continue
		}
		ok := a.IsUnspecified() // connect(AF_UNSPEC) dissolves a UDP association
		for _, p := range onMachine {
			ok = ok || p.Contains(a.Unmap())
		}
		if !ok {
			seen[s] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// offMachineParses holds offMachine to strace's real lines, so that a
// change in strace's format cannot make the check below pass by finding
// nothing.
func offMachineParses(t *testing.T) {
	log := `connect(3, {sa_family=AF_INET, sin_port=htons(6443), sin_addr=inet_addr("10.254.254.1")}, 16) = -1 EINPROGRESS
connect(7, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0
connect(8, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1
connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2a03:2880::1", &sin6_addr), sin6_scope_id=0}, 28) = -1
connect(10, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.244.0.7")}, 16) = 0`
	got := offMachine(log)
	if strings.Join(got, " ") != "10.255.255.53 2a03:2880::1" {
		t.Errorf("offMachine = %v, want the resolver and the IPv6 address", got)
	}
}

// labStaysOnMachine runs the commands that talk to something beyond the
// cluster under strace and fails on any address that is not this
// machine's: a DNS query to the machine's resolver included. The pod's
// image is named, so lab up asks the registry question on a ready lab too.
func labStaysOnMachine(t *testing.T, e *env) {
	if _, err := run(t, 10*time.Second, "strace", "-V"); err != nil {
		t.Skipf("strace is not installed: %v", err)
	}
	t.Run("parser", offMachineParses)
	image := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.spec.containers[?(@.name==\"nginx\")].image}")
	for _, args := range [][]string{
		{"up", "--provider", "existing", "--nginx-image", image},
		{"doctor"},
		{"status"},
		{"traffic", "--via", "port-forward", "--count", "1"},
	} {
		log := filepath.Join(t.TempDir(), "strace")
		sargs := append([]string{"-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", log, e.lab}, args...)
		sargs = append(sargs, "--kubeconfig", e.kubeconfig)
		out, err := run(t, 3*time.Minute, "strace", sargs...)
		if err != nil && args[0] != "doctor" { // doctor's exit says what it found
			t.Errorf("lab %s under strace: %v\n%s", strings.Join(args, " "), err, tail(out, 20))
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		if bad := offMachine(string(b)); len(bad) > 0 {
			t.Errorf("lab %s connected to addresses off this machine: %v", strings.Join(args, " "), bad)
		} else {
			t.Logf("lab %s: every connection stayed on this machine", strings.Join(args, " "))
		}
	}
}
