package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName("kind-lab", "default"))
	l, err := Load(path, "kind-lab", "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Nonce) != NonceLen || strings.Trim(l.Nonce, nonceAlphabet) != "" {
		t.Fatalf("nonce %q", l.Nonce)
	}
	for i := 0; i < MaxRuns+5; i++ {
		l.AddRun(Run{Via: "port-forward", Sent: i, OK: i, Start: time.Unix(int64(i), 0).UTC(), End: time.Unix(int64(i), 0).UTC()})
	}
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "ignored", "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if len(back.Traffic) != MaxRuns || back.Traffic[0].Sent != 5 {
		t.Errorf("kept %d runs starting at %d, want %d starting at 5", len(back.Traffic), back.Traffic[0].Sent, MaxRuns)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the state folder holds %d files, want only the state file", len(entries))
	}
}

func TestDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := Load(path, "c", "n"); err == nil || !strings.Contains(err.Error(), "damaged (remove it") {
		t.Errorf("damaged state: %v", err)
	}
}

func TestNoncesDiffer(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

func TestDirAndFileName(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/tmp/xdg")
	d, err := Dir()
	if err != nil || d != "/tmp/xdg/lab" {
		t.Errorf("Dir() = %q, %v", d, err)
	}
	t.Setenv("XDG_STATE_HOME", "relative") // ignored, as the spec says
	t.Setenv("HOME", "/home/s")
	if d, _ := Dir(); d != "/home/s/.local/state/lab" {
		t.Errorf("Dir() = %q", d)
	}
	if got := FileName("arn:aws:eks:eu/x", "default"); got != "arn_aws_eks_eu_x__default.json" {
		t.Errorf("FileName = %q", got)
	}
}

func TestSources(t *testing.T) {
	l := &Lab{Nonce: "n"}
	for _, r := range []Run{
		{Via: "port-forward", Sent: 5, Source: "127.0.0.1"},
		{Via: "pod", Sent: 5, Source: "10.244.0.9"},
		{Via: "pod", Sent: 0, Source: "10.244.0.10"}, // sent nothing: nginx never saw it
		{Via: "port-forward", Sent: 3, Source: "127.0.0.1"},
		{Via: "pod", Sent: 2, Source: "10.244.0.11"},
		{Via: "pod", Sent: 2}, // an old state file without sources
	} {
		l.AddRun(r)
	}
	if diff := cmp.Diff([]string{"127.0.0.1", "10.244.0.9", "10.244.0.11"}, l.Sources()); diff != "" {
		t.Errorf("Sources (-want +got):\n%s", diff)
	}
	if got := (&Lab{}).Sources(); got != nil {
		t.Errorf("no runs: %v", got)
	}
}

// Where a student's state lives on each system, Windows' rules included.
func TestDirFor(t *testing.T) {
	for _, tc := range []struct {
		name, goos string
		env        map[string]string
		home       string
		want       string
	}{
		{"linux default", "linux", nil, "/home/s", "/home/s/.local/state/lab"},
		{"macOS default", "darwin", nil, "/Users/s", "/Users/s/.local/state/lab"},
		{"XDG_STATE_HOME", "linux", map[string]string{"XDG_STATE_HOME": "/tmp/xdg/"}, "/home/s", "/tmp/xdg/lab"},
		{"a relative XDG_STATE_HOME is ignored", "linux", map[string]string{"XDG_STATE_HOME": "rel"}, "/home/s", "/home/s/.local/state/lab"},
		{"Windows LOCALAPPDATA", "windows", map[string]string{"LOCALAPPDATA": `C:\Users\Ана\AppData\Local`}, `C:\Users\Ана`, `C:\Users\Ана\AppData\Local\lab`},
		{"Windows without LOCALAPPDATA", "windows", nil, `C:\Users\s`, `C:\Users\s\AppData\Local\lab`},
		{"Windows, forward slashes", "windows", map[string]string{"LOCALAPPDATA": `C:/Users/s/AppData/Local`}, `C:\Users\s`, `C:\Users\s\AppData\Local\lab`},
		{"Windows UNC profile", "windows", map[string]string{"LOCALAPPDATA": `\\srv\home\s`}, `C:\Users\s`, `\\srv\home\s\lab`},
		{"Windows XDG_STATE_HOME", "windows", map[string]string{"XDG_STATE_HOME": `D:\state`, "LOCALAPPDATA": `C:\x`}, `C:\Users\s`, `D:\state\lab`},
		{"Windows ignores a Unix XDG path", "windows", map[string]string{"XDG_STATE_HOME": "/tmp/xdg", "LOCALAPPDATA": `C:\x`}, `C:\Users\s`, `C:\x\lab`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dirFor(tc.goos, func(k string) string { return tc.env[k] }, func() (string, error) { return tc.home, nil })
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := dirFor("linux", func(string) string { return "" }, func() (string, error) { return "", errors.New("$HOME is not defined") }); err == nil || !strings.Contains(err.Error(), "XDG_STATE_HOME") {
		t.Errorf("no home: %v", err)
	}
}

// TestServer reads a state file lab wrote before runs kept the Server
// header (from an e2e run), adds runs as lab traffic does, and reads back
// the header a capture of this lab's traffic shows.
func TestServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab-e2e__default.json")
	old, err := os.ReadFile(filepath.Join("testdata", "before-server.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path, "lab-e2e", "default")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Server(); got != "" {
		t.Errorf("an old state file: Server() = %q, want none", got)
	}
	at := time.Date(2026, 12, 5, 8, 7, 42, 0, time.UTC)
	for _, r := range []Run{
		{Via: "port-forward", Start: at, End: at, Sent: 10, OK: 10, Source: "127.0.0.1", Server: "nginx/1.22.1"},
		{Via: "pod", Start: at, End: at, Sent: 10, OK: 10, Source: "10.244.0.7", Server: "nginx/1.22.1"},
		{Via: "pod", Start: at, End: at, Sent: 3, OK: 0, Source: "10.244.0.8"}, // nothing answered
	} {
		l.AddRun(r)
	}
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "lab-e2e", "default")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := back.Server(); got != "nginx/1.22.1" {
		t.Errorf("Server() = %q, want nginx/1.22.1", got)
	}
	// A lab whose server sends no Server header (BusyBox httpd) has none.
	httpd := &Lab{Nonce: "n", Traffic: []Run{{Via: "port-forward", Sent: 10, OK: 10, Source: "127.0.0.1"}}}
	if got := httpd.Server(); got != "" {
		t.Errorf("BusyBox httpd: Server() = %q, want none", got)
	}
}
