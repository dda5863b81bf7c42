// Package state keeps what lab must remember about one lab between
// commands: the nonce that marks this lab's traffic, and when traffic was
// sent. The live checks compare a student's captures against it, so a
// capture copied from another student's cluster carries the wrong nonce.
//
// The file lives in the user's state directory ($XDG_STATE_HOME/lab, by
// default ~/.local/state/lab; on Windows %LOCALAPPDATA%\lab), one per
// cluster context and namespace, and
// is written atomically so that Ctrl-C never leaves half a file.
package state

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Lab is one lab's remembered state.
type Lab struct {
	// Context and Namespace say which lab this is.
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	// Nonce marks every request lab traffic sends (/?lab=<nonce>).
	Nonce string `json:"nonce"`
	// Created is when the nonce was made.
	Created time.Time `json:"created"`
	// Traffic lists the runs of lab traffic, oldest first (at most MaxRuns).
	Traffic []Run `json:"traffic,omitempty"`
}

// Run is one run of lab traffic, one way.
type Run struct {
	Via   string    `json:"via"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Sent  int       `json:"sent"`
	OK    int       `json:"ok"`
	// Source is where the requests came from as the lab's pod saw them:
	// 127.0.0.1 through a port-forward, the client pod's IP from a pod.
	Source string `json:"source,omitempty"`
	// Server is the Server header the answers carried ("nginx/1.22.1");
	// empty when the lab's server sends none (BusyBox httpd) or a state
	// file older than this field.
	Server string `json:"server,omitempty"`
}

// MaxRuns bounds the remembered runs so the file stays small.
const MaxRuns = 50

// Dir is the folder that holds lab's state files.
func Dir() (string, error) {
	return dirFor(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// dirFor is Dir on goos. Windows has no ~/.local: its per-user,
// per-machine data lives in %LOCALAPPDATA% (not the roaming profile, since
// a lab's state names this machine's clusters).
func dirFor(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && isAbs(goos, d) {
		return join(goos, d, "lab"), nil
	}
	if goos == "windows" {
		if d := getenv("LOCALAPPDATA"); d != "" && isAbs(goos, d) {
			return join(goos, d, "lab"), nil
		}
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w (set XDG_STATE_HOME)", err)
	}
	if goos == "windows" {
		return join(goos, h, "AppData", "Local", "lab"), nil
	}
	return join(goos, h, ".local", "state", "lab"), nil
}

// isAbs and join are filepath's for goos, so that Windows' rules are
// tested on any machine.
func isAbs(goos, p string) bool {
	if goos != "windows" {
		return strings.HasPrefix(p, "/")
	}
	// C:\x or C:/x, or a UNC path \\server\share.
	return (len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')) || strings.HasPrefix(p, `\\`)
}

func join(goos string, elem ...string) string {
	if goos != "windows" {
		return path.Join(elem...)
	}
	j := strings.ReplaceAll(path.Join(strings.ReplaceAll(strings.Join(elem, "/"), `\`, "/")), "/", `\`)
	if strings.HasPrefix(elem[0], `\\`) { // path.Join keeps one of UNC's two
		j = `\` + j
	}
	return j
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName is the state file's name for a context and namespace.
func FileName(context, namespace string) string {
	name := unsafeChars.ReplaceAllString(context, "_") + "__" + unsafeChars.ReplaceAllString(namespace, "_")
	return strings.Trim(name, "_.") + ".json"
}

// Path is the state file for a context and namespace.
func Path(context, namespace string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, FileName(context, namespace)), nil
}

// Load reads the lab's state from path; a missing file gives a fresh state
// with a new nonce (not yet saved).
func Load(path, context, namespace string) (*Lab, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(context, namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading lab state %s: %w; %s", path, err, unwritableHint)
	}
	var l Lab
	if err := json.Unmarshal(data, &l); err != nil || l.Nonce == "" {
		return nil, fmt.Errorf("lab state %s is damaged (remove it to start a new nonce): %v", path, err)
	}
	return &l, nil
}

// New returns a fresh state with a random nonce.
func New(context, namespace string) (*Lab, error) {
	n, err := NewNonce()
	if err != nil {
		return nil, err
	}
	return &Lab{Context: context, Namespace: namespace, Nonce: n, Created: time.Now().UTC()}, nil
}

// nonceAlphabet avoids characters that need escaping in a URL or look
// alike in a terminal.
const nonceAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// NonceLen is long enough that two labs never share one by chance.
const NonceLen = 10

// NewNonce returns a random nonce.
func NewNonce() (string, error) {
	b := make([]byte, NonceLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a nonce: %w", err)
	}
	for i := range b {
		b[i] = nonceAlphabet[int(b[i])%len(nonceAlphabet)]
	}
	return string(b), nil
}

// AddRun remembers a run of traffic, dropping the oldest past MaxRuns.
func (l *Lab) AddRun(r Run) {
	l.Traffic = append(l.Traffic, r)
	if len(l.Traffic) > MaxRuns {
		l.Traffic = l.Traffic[len(l.Traffic)-MaxRuns:]
	}
}

// Sources are the addresses the remembered runs came from, in the order
// first seen: what an strace of this lab's nginx may show as peers.
func (l *Lab) Sources() []string {
	var out []string
	for _, r := range l.Traffic {
		if r.Source != "" && r.Sent > 0 && !slices.Contains(out, r.Source) {
			out = append(out, r.Source)
		}
	}
	return out
}

// Server is the Server header the lab's server answered lab traffic with
// most recently: the version a capture of this lab's traffic shows. Empty
// when no remembered run saw one.
func (l *Lab) Server() string {
	for i := len(l.Traffic) - 1; i >= 0; i-- {
		if r := l.Traffic[i]; r.Server != "" && r.OK > 0 {
			return r.Server
		}
	}
	return ""
}

// unwritableHint says what to do about a state folder lab cannot use:
// without it, lab traffic and the live checks have no nonce to share, but
// offline grading (lab check --offline, lab grade) needs none.
const unwritableHint = "lab keeps this lab's nonce there: make the folder writable or set XDG_STATE_HOME to one that is (lab check --offline and lab grade work without it)"

// Save writes the state to path atomically (a temporary file renamed over
// the old one), creating the folder.
func (l *Lab) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving lab state: %w; %s", err, unwritableHint)
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return fmt.Errorf("saving lab state: %w; %s", err, unwritableHint)
	}
	defer os.Remove(tmp.Name()) // only ours; gone after the rename anyway
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving lab state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving lab state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving lab state: %w", err)
	}
	return nil
}
