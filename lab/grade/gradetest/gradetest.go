// Package gradetest makes classes of submissions for tests and benchmarks
// of lab grade, from the real outputs the parsers are tested on (the
// samples under checks/parse/*/testdata and the seed write-up's under
// checks/testdata/answers/seed), instead of thousands of committed files.
//
// Real students who run the same commands on their own clusters print the
// same shapes with different random values (sequence numbers, ports, log
// times, UIDs, the lab's nonce). Personalize gives each generated student
// their own such values, so that honest students share none, and copies
// planted on purpose are the only ones copy detection may find.
package gradetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/k8s-debug-lab/lab/checks/spec"
)

// Sample is one real output a parser is tested on.
type Sample struct {
	// Parser reads it ("tcpdump", "pod-table", …).
	Parser string
	// Path is the file, relative to the repository root.
	Path string
	Data []byte
	// Capture marks a pcap file.
	Capture bool
}

// parserDirs maps the parser test folders to the parser names specs use.
var parserDirs = map[string]string{
	"ls": "ls", "ps": "ps", "tcpdump": "tcpdump", "kubectl": "pod-table", "podlog": "podlog", "strace": "strace",
}

// ParserDir is the folder under checks/parse holding a parser's samples.
func ParserDir(parser string) string {
	for d, p := range parserDirs {
		if p == parser {
			return d
		}
	}
	return parser
}

// LoadSamples reads the parsers' samples from the repository at root, by
// parser, with the seed write-up's answers: real outputs of every shape,
// to be personalized before a generated student hands them in. pcapng
// files are left out: Personalize cannot rewrite their time stamps.
func LoadSamples(root string) (map[string][]Sample, error) {
	out := map[string][]Sample{}
	for dir, parser := range parserDirs {
		files, err := filepath.Glob(filepath.Join(root, "checks", "parse", dir, "testdata", "*"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			base := filepath.Base(f)
			capture := strings.HasSuffix(base, ".pcap")
			if !(strings.HasSuffix(base, ".txt") || capture) || (strings.HasPrefix(base, "seed") && (parser == "ls" || parser == "ps")) {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(root, f)
			out[parser] = append(out[parser], Sample{Parser: parser, Path: filepath.ToSlash(rel), Data: data, Capture: capture})
		}
	}
	// The seed's listing has no value Personalize can change: handed in,
	// it would be the write-up's, so only the good folder's is taken.
	seedParsers := map[string]string{"step-3.txt": "ls", "step-5.txt": "tcpdump", "step-6.txt": "pod-table", "step-7.txt": "podlog", "star.txt": "strace"}
	for _, dir := range []string{SeedDir(root), filepath.Join(root, "checks", "testdata", "answers", "good")} {
		for name, parser := range seedParsers {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue // the good folder is optional
			}
			if parser == "ls" && dir == SeedDir(root) {
				continue
			}
			rel, _ := filepath.Rel(root, filepath.Join(dir, name))
			out[parser] = append(out[parser], Sample{Parser: parser, Path: filepath.ToSlash(rel), Data: data})
		}
	}
	for parser := range out {
		slices.SortFunc(out[parser], func(a, b Sample) int { return strings.Compare(a.Path, b.Path) })
	}
	if len(out["tcpdump"]) == 0 {
		return nil, fmt.Errorf("no samples under %s/checks/parse/*/testdata: give the repository's root", root)
	}
	return out, nil
}

// SeedDir is the folder of the seed write-up's sample answers.
func SeedDir(root string) string { return filepath.Join(root, "checks", "testdata", "answers", "seed") }

// Personalizer rewrites the random values of outputs the way another
// cluster would have printed them; one per student, so that the same
// port or UID is rewritten the same way in all of that student's files.
type Personalizer struct {
	rnd   *rand.Rand
	k     int
	isn   uint32
	uids  map[string]string
	names map[string]string
}

// NewPersonalizer returns a personalizer drawing from seed.
func NewPersonalizer(seed uint64) *Personalizer {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &Personalizer{rnd: r, k: r.IntN(28000), isn: r.Uint32(), uids: map[string]string{}, names: map[string]string{}}
}

var (
	reTime      = regexp.MustCompile(`\b\d\d:\d\d:\d\d\.\d{6,9}\b`)
	reEpoch     = regexp.MustCompile(`\b1\d{9}\.\d{6}\b`)
	reISOFrac   = regexp.MustCompile(`(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)`)
	reSeqAck    = regexp.MustCompile(`\b(seq|ack|val|ecr) (\d{5,})\b`)
	reEndpoint  = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+|[0-9a-fA-F]*:[0-9a-fA-F:]+)\.(\d{4,5})\b`)
	reHtons     = regexp.MustCompile(`htons\((\d+)\)`)
	reNonce     = regexp.MustCompile(`([?&]lab=)([A-Za-z0-9_-]+)`)
	reUID       = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reDebugPod  = regexp.MustCompile(`(node-debugger-[A-Za-z0-9.-]+-)([a-z0-9]{5})\b`)
	reLogSecond = regexp.MustCompile(`\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d)`)
	reLogCut    = regexp.MustCompile(`\[(\d\d)/(\w{3})/(\d{4}):([\d:]*)"`)
	rePodIP     = regexp.MustCompile(`\b(\d+)\.(\d+)\.(\d+)\.(\d+)\b`)
	// Pods of a deployment or daemon set end in a random suffix.
	reDebugSuffix = regexp.MustCompile(`(?m)^(\S+-)([a-z0-9]{5})\b`)
	reAge         = regexp.MustCompile(`\b\d+[dhms](\d+[hms])?\b`)
)

func (p *Personalizer) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + p.rnd.IntN(10))
	}
	return string(b)
}

func (p *Personalizer) port(old string) string {
	n, _ := strconv.Atoi(old)
	if n < 1024 || n == 8080 || n == 8088 || n == 8081 {
		return old
	}
	return strconv.Itoa(32768 + (n*7919+p.k)%28000)
}

// Personalize returns data as another cluster would have printed it.
func (p *Personalizer) Personalize(parser string, data []byte, capture bool) []byte {
	if capture {
		// The nonce sits in the payload: rewrite it in place, same length,
		// so the capture stays valid.
		data = reNonce.ReplaceAllFunc(data, func(m []byte) []byte {
			sub := reNonce.FindSubmatch(m)
			return append(bytes.Clone(sub[1]), p.word(string(sub[2]))...)
		})
		return p.pcap(data)
	}
	if parser == "ls" || parser == "ps" {
		return data // listings and process tables hold nothing random
	}
	s := string(data)
	// Each rewrite runs only where its values occur: generating a class
	// of a thousand is mostly this function.
	replace := func(re *regexp.Regexp, when bool, f func(string) string) {
		if when {
			s = re.ReplaceAllStringFunc(s, f)
		}
	}
	log := parser == "podlog"
	trace := parser == "strace" || parser == "tcpdump"
	replace(reNonce, strings.Contains(s, "lab="), func(m string) string {
		sub := reNonce.FindStringSubmatch(m)
		return sub[1] + p.word(sub[2])
	})
	replace(reUID, log || parser == "pod-table", func(m string) string {
		if u, ok := p.uids[m]; ok {
			return u
		}
		u := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", p.rnd.Uint32(), p.rnd.IntN(1<<16), p.rnd.IntN(1<<12), 0x8000|p.rnd.IntN(1<<14), p.rnd.Uint64()&(1<<48-1))
		p.uids[m] = u
		return u
	})
	replace(reDebugPod, strings.Contains(s, "node-debugger-"), func(m string) string {
		sub := reDebugPod.FindStringSubmatch(m)
		return sub[1] + p.word(sub[2])
	})
	replace(reTime, trace, func(m string) string {
		return fmt.Sprintf("%02d:%02d:%02d.%s", p.rnd.IntN(24), p.rnd.IntN(60), p.rnd.IntN(60), p.digits(len(m)-9))
	})
	replace(reEpoch, trace, func(string) string {
		return "17" + p.digits(8) + "." + p.digits(6)
	})
	replace(reISOFrac, log, func(m string) string {
		sub := reISOFrac.FindStringSubmatch(m)
		return sub[1] + "." + p.digits(len(sub[2]))
	})
	replace(reLogSecond, log || parser == "strace", func(m string) string {
		sub := reLogSecond.FindStringSubmatch(m)
		return fmt.Sprintf("[%s/%s/%s:%02d:%02d:%02d", sub[1], sub[2], sub[3], p.rnd.IntN(24), p.rnd.IntN(60), p.rnd.IntN(60))
	})
	replace(reLogCut, parser == "strace", func(m string) string {
		sub := reLogCut.FindStringSubmatch(m)
		return fmt.Sprintf("[%s/%s/%s:%s\"", sub[1], sub[2], sub[3], p.digits(len(sub[4])))
	})
	switch parser {
	case "tcpdump":
		s = reSeqAck.ReplaceAllStringFunc(s, func(m string) string {
			sub := reSeqAck.FindStringSubmatch(m)
			n, _ := strconv.ParseUint(sub[2], 10, 64)
			return sub[1] + " " + strconv.FormatUint(uint64(uint32(n)+p.isn), 10)
		})
		s = reEndpoint.ReplaceAllStringFunc(s, func(m string) string {
			sub := reEndpoint.FindStringSubmatch(m)
			return sub[1] + "." + p.port(sub[2])
		})
	case "strace":
		s = reHtons.ReplaceAllStringFunc(s, func(m string) string {
			sub := reHtons.FindStringSubmatch(m)
			return "htons(" + p.port(sub[1]) + ")"
		})
	case "pod-table":
		// The pod IP stays: the student's capture shows it too, and
		// checks/coherence fails a table whose IP the capture never saw.
		s = reDebugSuffix.ReplaceAllStringFunc(s, func(m string) string {
			sub := reDebugSuffix.FindStringSubmatch(m)
			return sub[1] + p.word(sub[2])
		})
		s = reAge.ReplaceAllStringFunc(s, func(string) string {
			return fmt.Sprintf("%dm%ds", 1+p.rnd.IntN(59), p.rnd.IntN(60))
		})
	}
	return []byte(s)
}

// word returns a random word as long as old, for nonces and pod suffixes.
func (p *Personalizer) word(old string) string {
	if w, ok := p.names[old]; ok {
		return w
	}
	const abc = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, len(old))
	for i := range b {
		b[i] = abc[p.rnd.IntN(len(abc))]
	}
	p.names[old] = string(b)
	return string(b)
}

// pcap moves every record of a classic pcap file by the same random
// offset, so its packets carry this student's times.
func (p *Personalizer) pcap(data []byte) []byte {
	out := bytes.Clone(data)
	if len(out) < 24 {
		return out
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(out) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return out
	}
	shift := uint32(1 + p.rnd.IntN(1<<24))
	frac := uint32(p.rnd.IntN(1000))
	for off := 24; off+16 <= len(out); {
		sec := bo.Uint32(out[off:])
		bo.PutUint32(out[off:], sec+shift)
		bo.PutUint32(out[off+4:], (bo.Uint32(out[off+4:])+frac)%1000000)
		n := int(bo.Uint32(out[off+8:]))
		off += 16 + n
	}
	return out
}

// UTF16 is data as PowerShell's > saves it: UTF-16LE with a byte-order mark.
func UTF16(data []byte) []byte {
	u := utf16.Encode([]rune(string(data)))
	out := make([]byte, 2, 2+2*len(u))
	out[0], out[1] = 0xff, 0xfe
	for _, c := range u {
		out = binary.LittleEndian.AppendUint16(out, c)
	}
	return out
}

// CRLF is data with Windows line ends.
func CRLF(data []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// Layout is how a submission folder holds its answers.
type Layout string

// The layouts lab grade recognises, and the broken ones it must survive.
const (
	// Repo: a repository made with lab init, answers in answers/.
	Repo Layout = "repo"
	// Flat: the answers files directly in the submission folder.
	Flat Layout = "flat"
	// Wrapped: an unpacked archive, name/lab-main/answers/.
	Wrapped Layout = "wrapped"
	// NoAnswers: a repository without an answers folder.
	NoAnswers Layout = "no-answers"
)

// Student is what Generate made for one student, so that a test knows
// what lab grade should find.
type Student struct {
	Name   string
	Layout Layout
	// Files maps each answers file written to the sample it came from
	// (or a description of what was written instead).
	Files map[string]string
	// CopyOf names the student whose files in CopiedSteps were copied.
	CopyOf      string
	CopiedSteps []string
	// SeedSteps were copied from the seed write-up.
	SeedSteps []string
	// Broken lists the files that were damaged on purpose, and how.
	Broken []string
}

// Config shapes a generated class.
type Config struct {
	// Students is the class size.
	Students int
	// Seed makes the class reproducible.
	Seed uint64
	// Copies is how many students copy steps from a classmate.
	Copies int
	// SeedCopies is how many students copy from the seed write-up.
	SeedCopies int
	// Broken is how many students hand in damaged files or folders.
	Broken int
}

// Generate writes a class of cfg.Students submissions into dir, for the
// assignment a, from the samples of the repository at root. Most students
// are honest (each with their own random values); cfg.Copies copy two
// steps from a classmate, cfg.SeedCopies hand in the seed write-up's
// outputs, and cfg.Broken hand in damaged files.
func Generate(dir, root string, a *spec.Assignment, cfg Config) ([]Student, error) {
	samples, err := LoadSamples(root)
	if err != nil {
		return nil, err
	}
	rnd := rand.New(rand.NewPCG(cfg.Seed, 1))
	students := make([]Student, cfg.Students)
	contents := make([]map[string][]byte, cfg.Students)
	for i := range students {
		st := Student{Name: fmt.Sprintf("student-%04d", i+1), Layout: Repo, Files: map[string]string{}}
		switch rnd.IntN(10) {
		case 0:
			st.Layout = Flat
		case 1:
			st.Layout = Wrapped
		}
		p := NewPersonalizer(cfg.Seed*1000003 + uint64(i))
		files := map[string][]byte{}
		for _, step := range a.Steps {
			if !step.Graded() || rnd.IntN(12) == 0 { // now and then a step not done
				continue
			}
			pool := samples[step.Parser]
			if len(pool) == 0 {
				continue
			}
			s := pool[rnd.IntN(len(pool))]
			name := step.Files[0]
			if s.Capture {
				name = ""
				for _, f := range step.Files {
					if strings.HasSuffix(f, ".pcap") {
						name = f
					}
				}
				if name == "" {
					continue
				}
			}
			data := p.Personalize(step.Parser, s.Data, s.Capture)
			if !s.Capture {
				switch rnd.IntN(20) {
				case 0:
					data = UTF16(data)
				case 1:
					data = CRLF(data)
				}
			}
			files[name] = data
			st.Files[name] = s.Path
		}
		students[i] = st
		contents[i] = files
	}
	// Planted copies: a student hands in a classmate's step-5 and star.
	copied := map[int]bool{}
	for c := 0; c < cfg.Copies && cfg.Students >= 2; c++ {
		from, to := rnd.IntN(cfg.Students), rnd.IntN(cfg.Students)
		if from == to || copied[to] || copied[from] || students[to].Layout == NoAnswers {
			continue
		}
		n := 0
		for _, step := range a.Steps {
			if step.ID != "step-5" && step.ID != "star" {
				continue
			}
			for _, f := range step.Files {
				if data, ok := contents[from][f]; ok && hasRandom(step.Parser, students[from].Files[f]) {
					for _, g := range step.Files {
						delete(contents[to], g)
						delete(students[to].Files, g)
					}
					contents[to][f] = bytes.Clone(data)
					students[to].Files[f] = "copy of " + students[from].Name + "/" + f
					students[to].CopiedSteps = append(students[to].CopiedSteps, step.ID)
					n++
					break
				}
			}
		}
		if n > 0 {
			students[to].CopyOf = students[from].Name
			copied[to], copied[from] = true, true
		}
	}
	// Seed copies: the write-up's tcpdump and log outputs, verbatim.
	seed := SeedDir(root)
	for c, i := 0, 0; c < cfg.SeedCopies && i < cfg.Students; i++ {
		if copied[i] {
			continue
		}
		for _, f := range []string{"step-5.txt", "step-7.txt"} {
			data, err := os.ReadFile(filepath.Join(seed, f))
			if err != nil {
				return nil, err
			}
			for _, step := range a.Steps {
				if slices.Contains(step.Files, f) {
					for _, g := range step.Files {
						delete(contents[i], g)
						delete(students[i].Files, g)
					}
					contents[i][f] = data
					students[i].Files[f] = "seed/" + f
					students[i].SeedSteps = append(students[i].SeedSteps, step.ID)
				}
			}
		}
		copied[i] = true
		c++
	}
	// Broken submissions: damaged files, folders where files should be.
	for c, i := 0, cfg.Students-1; c < cfg.Broken && i >= 0; i-- {
		if copied[i] {
			continue
		}
		st := &students[i]
		switch c % 5 {
		case 0:
			st.Layout = NoAnswers
			st.Broken = append(st.Broken, "no answers folder")
		case 1:
			contents[i]["step-3.txt"] = []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
			st.Files["step-3.txt"] = "binary"
			st.Broken = append(st.Broken, "step-3.txt is binary")
		case 2:
			contents[i]["step-6.txt"] = nil
			st.Files["step-6.txt"] = "folder"
			st.Broken = append(st.Broken, "step-6.txt is a folder")
		case 3:
			for f, data := range contents[i] {
				if !strings.HasSuffix(f, ".pcap") {
					contents[i][f] = data[:len(data)/2]
				}
			}
			st.Broken = append(st.Broken, "every file cut in half")
		case 4:
			contents[i]["star.txt"] = []byte{}
			st.Files["star.txt"] = "empty"
			st.Broken = append(st.Broken, "star.txt is empty")
		}
		c++
	}
	for i, st := range students {
		if err := write(dir, st, contents[i]); err != nil {
			return nil, err
		}
	}
	return students, nil
}

// hasRandom reports whether a sample carries values copy detection reads:
// a copy of a file without any is indistinguishable from honest work.
func hasRandom(parser, path string) bool {
	switch parser {
	case "tcpdump":
		return !strings.Contains(path, "error-") && !strings.Contains(path, "port80")
	case "strace":
		return !strings.Contains(path, "denied-") && !strings.Contains(path, "no-such") && !strings.Contains(path, "summary") && !strings.Contains(path, "master-rt")
	}
	return true
}

// AnswersDir is where a student's answers files go for a layout.
func AnswersDir(dir string, st Student) string {
	switch st.Layout {
	case Flat:
		return filepath.Join(dir, st.Name)
	case Wrapped:
		return filepath.Join(dir, st.Name, "lab-main", "answers")
	}
	return filepath.Join(dir, st.Name, "answers")
}

func write(dir string, st Student, files map[string][]byte) error {
	base := filepath.Join(dir, st.Name)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	if st.Layout == NoAnswers {
		return os.WriteFile(filepath.Join(base, "README.md"), []byte("# my lab\n"), 0o644)
	}
	ans := AnswersDir(dir, st)
	if err := os.MkdirAll(ans, 0o755); err != nil {
		return err
	}
	if st.Layout == Repo {
		if err := os.WriteFile(filepath.Join(base, "README.md"), []byte("# lab\n"), 0o644); err != nil {
			return err
		}
	}
	for name, data := range files {
		p := filepath.Join(ans, name)
		if data == nil {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
