// Package facts turns the typed records of a parser into a small, bounded
// summary of named counters that an assignment spec's matchers can test.
//
// A spec never sees records: a 2 GB capture and a ten-line one both become
// a Set of a few dozen facts, so grading runs in constant memory and the
// spec stays declarative ("http.request is present", "entry is a subset
// of the /pause sandbox's files").
//
// Each parser has one Extractor, registered by name ("ls", "tcpdump", …)
// in the file that adapts it. The extractor documents every fact it may
// set, so a spec naming a fact that its parser never reports fails at
// load time instead of silently never matching.
package facts

import (
	"fmt"
	"io"
	"iter"
	"sort"
	"strings"
)

// MaxValues bounds how many distinct example values one fact keeps. Past it
// the fact only counts and remembers that it saw more (Fact.More), which is
// enough for every matcher: a set with more than MaxValues distinct values
// can never be a subset of a shorter list.
const MaxValues = 64

// MaxValueLen truncates a value so that one pathological line cannot hold
// megabytes of memory.
const MaxValueLen = 256

// Fact is one named counter with its first distinct values.
type Fact struct {
	// Count is how many times the fact was observed.
	Count int `json:"count"`
	// Values holds the first MaxValues distinct values, in order of appearance.
	Values []string `json:"values,omitempty"`
	// More is true when further distinct values were seen but not kept.
	More bool `json:"more,omitempty"`
}

// Set is what one extractor learned from one answers file.
type Set struct {
	// Format names what the input was recognised as, for people
	// ("tcpdump 4.99 text", "pcapng", "CRI log", "kubectl logs"); empty
	// when nothing was recognised.
	Format string
	facts  map[string]*Counter
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{facts: map[string]*Counter{}}
}

// Counter is a handle on one fact of a Set. Hot loops take the handle once
// (s.Counter("address")) instead of looking the fact up by name per record.
type Counter struct {
	f    Fact
	seen map[string]struct{}
	last string // the last value offered: records repeat, and a compare is cheaper than a hash
}

// Counter returns the handle for the fact called name, creating it. A fact
// whose counter was taken but never counted still reads as never observed.
func (s *Set) Counter(name string) *Counter {
	c, ok := s.facts[name]
	if !ok {
		c = &Counter{}
		s.facts[name] = c
	}
	return c
}

// Inc counts one observation of name without a value.
func (s *Set) Inc(name string) { s.Counter(name).f.Count++ }

// Add counts one observation of name and keeps value if it is new and
// there is room. An empty value is counted but not kept.
func (s *Set) Add(name, value string) { s.Counter(name).Add(value) }

// AddBytes is Add for a value held in a reused buffer.
func (s *Set) AddBytes(name string, value []byte) { s.Counter(name).AddBytes(value) }

// Inc counts one observation without a value.
func (c *Counter) Inc() { c.f.Count++ }

// Add counts one observation and keeps value if it is new and there is room.
func (c *Counter) Add(value string) {
	c.f.Count++
	c.keep(value)
}

// AddBytes is Add for a value held in a reused buffer: it copies only a
// value it keeps, so the hot path of a large capture does not allocate.
func (c *Counter) AddBytes(value []byte) {
	c.f.Count++
	if len(value) == 0 || c.f.More {
		return
	}
	if len(value) > MaxValueLen {
		value = value[:MaxValueLen]
	}
	if string(value) == c.last {
		return
	}
	if _, ok := c.seen[string(value)]; ok { // no allocation: map lookup by converted []byte
		return
	}
	c.keep(string(value))
}

func (c *Counter) keep(value string) {
	if value == "" || c.f.More {
		return
	}
	if len(value) > MaxValueLen {
		value = value[:MaxValueLen]
	}
	c.last = value
	if _, dup := c.seen[value]; dup {
		return
	}
	if len(c.f.Values) == MaxValues {
		c.f.More = true
		return
	}
	if c.seen == nil {
		c.seen = map[string]struct{}{}
	}
	c.seen[value] = struct{}{}
	c.f.Values = append(c.f.Values, value)
}

// Get returns the fact called name; a fact never observed has Count 0.
func (s *Set) Get(name string) Fact {
	if c, ok := s.facts[name]; ok {
		return c.f
	}
	return Fact{}
}

// All returns every observed fact by name, for reports and debugging.
func (s *Set) All() map[string]Fact {
	out := make(map[string]Fact, len(s.facts))
	for k, c := range s.facts {
		if c.f.Count > 0 {
			out[k] = c.f
		}
	}
	return out
}

// Doc describes one fact an extractor may set.
type Doc struct {
	Name string `json:"name"`
	Help string `json:"help"`
}

// Extractor reads one kind of output and fills a Set.
type Extractor interface {
	// Name is the parser's name as a spec writes it.
	Name() string
	// Help says in one line what output it reads.
	Help() string
	// Facts documents every fact Extract may set.
	Facts() []Doc
	// Extract consumes decoded text lines (UTF-8, no line ending, no
	// terminal escapes). A line is only valid until the next one is
	// produced: copy what must be kept.
	Extract(lines iter.Seq[[]byte], s *Set)
}

// CaptureExtractor is an Extractor that also reads a binary capture file
// (pcap, pcapng), which is handed over undecoded.
type CaptureExtractor interface {
	Extractor
	// IsCapture reports whether the first bytes of a file start a capture
	// this extractor reads.
	IsCapture(head []byte) bool
	// ExtractCapture reads the whole capture from r.
	ExtractCapture(r io.Reader, s *Set) error
}

var registry = map[string]Extractor{}

// register is called from the init function of each adapter file.
func register(e Extractor) {
	if _, dup := registry[e.Name()]; dup {
		panic(fmt.Sprintf("facts: extractor %q registered twice", e.Name()))
	}
	registry[e.Name()] = e
}

// Lookup returns the extractor called name.
func Lookup(name string) (Extractor, bool) {
	e, ok := registry[name]
	return e, ok
}

// Names lists the registered extractors, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Documents reports whether e documents a fact called name.
func Documents(e Extractor, name string) bool {
	for _, d := range e.Facts() {
		if d.Name == name {
			return true
		}
	}
	return false
}

// FactNames lists the facts e documents, for error messages.
func FactNames(e Extractor) string {
	names := make([]string, 0, len(e.Facts()))
	for _, d := range e.Facts() {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}
