package grade

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
	"github.com/k8s-debug-lab/lab/checks/spec"
)

// Evidence is one value found in more than one place.
type Evidence struct {
	// Step is the step whose answers file holds the value.
	Step string `json:"step"`
	// Kind is what the value is (see the Kind* constants); What says it
	// in words.
	Kind     string               `json:"kind"`
	What     string               `json:"what"`
	Value    string               `json:"value"`
	Strength fingerprint.Strength `json:"strength"`
	// Students are the members of the group that hold it.
	Students []string `json:"students,omitempty"`
}

// StepMatch sums up what one step's answers have in common.
type StepMatch struct {
	Step string `json:"step"`
	// Identical is set when the whole answers file is the same.
	Identical bool `json:"identical"`
	// Values counts the random values in common.
	Values   int                  `json:"values"`
	Strength fingerprint.Strength `json:"strength"`
}

// Match is what some answers have in common: a summary per step, and the
// values themselves (the first few of each step).
type Match struct {
	Steps    []StepMatch `json:"steps"`
	Evidence []Evidence  `json:"evidence"`
	// MoreEvidence counts the values in common not listed.
	MoreEvidence int `json:"moreEvidence,omitempty"`
}

// Group is a set of submissions linked by shared values: each is linked
// to another by one strong value, or by weak values in two steps.
type Group struct {
	// ID numbers the group in the table (#1, #2, …).
	ID       int      `json:"id"`
	Students []string `json:"students"`
	Match
}

// CopyRef points a student at their group.
type CopyRef struct {
	Group int      `json:"group"`
	With  []string `json:"with"`
}

// maxEvidence bounds the values listed per step of a group or a seed
// match: the first few prove the point, and a class where everyone shares
// a capture must not print thousands of lines.
const maxEvidence = 6

// SeedSource says what the seed fingerprints come from, in reports.
const SeedSource = "the assignment's sample write-up"

var seedOnce = sync.OnceValues(func() (map[fingerprint.Token]fingerprint.Strength, error) {
	data, err := fs.ReadFile(assets.Seed(), assets.SeedFingerprintsFile)
	if err != nil {
		return nil, err
	}
	var f fingerprint.SeedFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	m := make(map[fingerprint.Token]fingerprint.Strength, len(f.Fingerprints))
	for _, fp := range f.Fingerprints {
		m[fp.Token] = fp.Strength
	}
	return m, nil
})

// SeedFingerprints are the embedded fingerprints of the sample write-up.
func SeedFingerprints() (map[fingerprint.Token]fingerprint.Strength, error) { return seedOnce() }

type holder struct {
	student int
	step    string
}

type indexed struct {
	strength fingerprint.Strength
	holders  []holder
}

// detectCopies fills c.Copies and each student's Copy and Seed.
func detectCopies(c *Class, a *spec.Assignment) {
	order := map[string]int{}
	for i, s := range a.Steps {
		order[s.ID] = i
	}
	seed, _ := SeedFingerprints() // embedded at build time; a test loads it

	// Values the sample write-up holds do not link students: two who
	// both copied the write-up are flagged as such, not as copying from
	// each other.
	index := map[fingerprint.Token]*indexed{}
	for i := range c.Students {
		for _, sf := range c.Students[i].fingerprints {
			for _, fp := range sf.fps {
				if _, inSeed := seed[fp.Token]; fp.Strength == fingerprint.None || inSeed {
					continue
				}
				e := index[fp.Token]
				if e == nil {
					e = &indexed{strength: fp.Strength}
					index[fp.Token] = e
				}
				if n := len(e.holders); n == 0 || e.holders[n-1].student != i {
					e.holders = append(e.holders, holder{i, sf.step})
				}
			}
		}
	}

	n := len(c.Students)
	// A weak value that many students share is not random after all (a
	// default, a port every client picks): it says nothing about copying.
	weakLimit := max(4, n/20)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(i, j int) {
		if ri, rj := find(i), find(j); ri != rj {
			parent[max(ri, rj)] = min(ri, rj)
		}
	}
	type pair struct{ i, j int }
	weakSteps := map[pair]map[string]bool{}
	for _, e := range index {
		if len(e.holders) < 2 {
			continue
		}
		switch e.strength {
		case fingerprint.Strong:
			for _, h := range e.holders[1:] {
				union(e.holders[0].student, h.student)
			}
		case fingerprint.Weak:
			if len(e.holders) > weakLimit {
				continue
			}
			for x, hi := range e.holders {
				for _, hj := range e.holders[x+1:] {
					p := pair{hi.student, hj.student}
					if weakSteps[p] == nil {
						weakSteps[p] = map[string]bool{}
					}
					weakSteps[p][hi.step] = true
				}
			}
		}
	}
	for p, steps := range weakSteps {
		if len(steps) >= 2 {
			union(p.i, p.j)
		}
	}

	members := map[int][]int{}
	for i := range c.Students {
		r := find(i)
		members[r] = append(members[r], i)
	}
	var roots []int
	for r, m := range members {
		if len(m) > 1 {
			roots = append(roots, r)
		}
	}
	slices.Sort(roots) // a root is its group's first student by name
	groupOf := map[int]int{}
	for gi, r := range roots {
		g := Group{ID: gi + 1}
		for _, i := range members[r] {
			g.Students = append(g.Students, c.Students[i].Name)
			groupOf[i] = g.ID
		}
		c.Copies = append(c.Copies, g)
	}
	for tok, e := range index {
		if len(e.holders) < 2 || (e.strength == fingerprint.Weak && len(e.holders) > weakLimit) {
			continue
		}
		byGroup := map[int][]holder{}
		for _, h := range e.holders {
			if g, ok := groupOf[h.student]; ok {
				byGroup[g] = append(byGroup[g], h)
			}
		}
		for g, hs := range byGroup {
			if len(hs) < 2 {
				continue
			}
			ev := evidence(tok, e.strength, hs[0].step)
			for _, h := range hs {
				ev.Students = append(ev.Students, c.Students[h.student].Name)
			}
			c.Copies[g-1].Evidence = append(c.Copies[g-1].Evidence, ev)
		}
	}
	for gi := range c.Copies {
		c.Copies[gi].Match = newMatch(c.Copies[gi].Evidence, order)
	}
	for i := range c.Students {
		st := &c.Students[i]
		if g, ok := groupOf[i]; ok {
			ref := &CopyRef{Group: g}
			for _, name := range c.Copies[g-1].Students {
				if name != st.Name {
					ref.With = append(ref.With, name)
				}
			}
			st.Copy = ref
		}
		st.Seed = seedEvidence(st, seed, order)
		st.fingerprints = nil // found what they could; the class keeps only the evidence
	}
}

// seedEvidence is what a student's answers share with the sample
// write-up, when it is enough to call them copied from it.
func seedEvidence(st *Student, seed map[fingerprint.Token]fingerprint.Strength, order map[string]int) *Match {
	var out []Evidence
	strong := false
	weakSteps := map[string]bool{}
	for _, sf := range st.fingerprints {
		// The whole file counts even when it holds no random value: a
		// listing copied from the write-up is still the write-up's.
		toks := make([]fingerprint.Fingerprint, 0, len(sf.fps)+1)
		toks = append(toks, sf.fps...)
		if sf.lines > 0 {
			toks = append(toks, fingerprint.Fingerprint{Token: fingerprint.Token{Parser: sf.parser, Kind: fingerprint.KindFile, Value: sf.hash}})
		}
		seen := map[fingerprint.Token]bool{}
		for _, fp := range toks {
			s, ok := seed[fp.Token]
			if !ok || s == fingerprint.None || seen[fp.Token] {
				continue
			}
			seen[fp.Token] = true
			out = append(out, evidence(fp.Token, s, sf.step))
			if s == fingerprint.Strong {
				strong = true
			} else {
				weakSteps[sf.step] = true
			}
		}
	}
	if !strong && len(weakSteps) < 2 {
		return nil
	}
	m := newMatch(out, order)
	return &m
}

// newMatch sums up evidence per step and keeps its first values.
func newMatch(evs []Evidence, order map[string]int) Match {
	sortEvidence(evs, order)
	var m Match
	at := map[string]int{}
	for _, e := range evs {
		i, ok := at[e.Step]
		if !ok {
			i = len(m.Steps)
			at[e.Step] = i
			m.Steps = append(m.Steps, StepMatch{Step: e.Step})
		}
		sm := &m.Steps[i]
		sm.Strength = max(sm.Strength, e.Strength)
		if e.Kind == fingerprint.KindFile {
			sm.Identical = true
		} else {
			sm.Values++
		}
	}
	slices.SortStableFunc(m.Steps, func(a, b StepMatch) int { return cmp.Compare(order[a.Step], order[b.Step]) })
	m.Evidence, m.MoreEvidence = capPerStep(evs)
	return m
}

// capPerStep keeps the first maxEvidence values of each step (and its
// whole-file match), so that a step with many shared values does not hide
// another, and counts what it dropped.
func capPerStep(evs []Evidence) ([]Evidence, int) {
	n := map[string]int{}
	out := evs[:0]
	dropped := 0
	for _, e := range evs {
		if e.Kind != fingerprint.KindFile {
			if n[e.Step] >= maxEvidence {
				dropped++
				continue
			}
			n[e.Step]++
		}
		out = append(out, e)
	}
	return out, dropped
}

func evidence(t fingerprint.Token, s fingerprint.Strength, step string) Evidence {
	ev := Evidence{Step: step, Kind: t.Kind, What: fingerprint.KindName(t.Kind), Value: t.Value, Strength: s}
	if t.Kind == fingerprint.KindFile {
		ev.Value = "sha256:" + t.Value
	}
	return ev
}

// sortEvidence puts the strongest first, then follows the assignment.
func sortEvidence(evs []Evidence, order map[string]int) {
	slices.SortFunc(evs, func(a, b Evidence) int {
		return cmp.Or(
			cmp.Compare(b.Strength, a.Strength),
			cmp.Compare(order[a.Step], order[b.Step]),
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
			cmp.Compare(a.Value, b.Value),
		)
	})
}

// kindOrder lists the plainest evidence first: a whole file, then the
// values a reader recognises at once as random.
var kindOrder = []string{fingerprint.KindFile, fingerprint.KindISN, fingerprint.KindNonce, fingerprint.KindPodUID, fingerprint.KindDebugPod, fingerprint.KindLogTime, fingerprint.KindCallTime, fingerprint.KindPacket, fingerprint.KindAccept, fingerprint.KindClient, fingerprint.KindLogWrite, fingerprint.KindAccess, fingerprint.KindPodRow}

func kindRank(kind string) int {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return len(kindOrder)
}

// Describe says in one line what a piece of evidence is.
func (e Evidence) Describe() string {
	if e.Kind == fingerprint.KindFile {
		return e.Step + ": the whole file is identical"
	}
	return fmt.Sprintf("%s: %s %s", e.Step, e.What, e.Value)
}

// Lines renders a match for people: one line per step, with the first
// value as an example.
func (m Match) Lines() []string {
	var out []string
	for _, sm := range m.Steps {
		var parts []string
		if sm.Identical {
			parts = append(parts, "the whole file is identical")
		}
		var ex *Evidence
		for i := range m.Evidence {
			if e := &m.Evidence[i]; e.Step == sm.Step && e.Kind != fingerprint.KindFile {
				ex = e
				break
			}
		}
		switch {
		case ex != nil && sm.Values == 1:
			parts = append(parts, fmt.Sprintf("%s %s", ex.What, Printable(ex.Value)))
		case ex != nil:
			parts = append(parts, fmt.Sprintf("%d random values in common, e.g. %s %s", sm.Values, ex.What, Printable(ex.Value)))
		}
		line := sm.Step + ": " + strings.Join(parts, "; ")
		if sm.Strength == fingerprint.Weak {
			line += " (weak)"
		}
		if holders := m.holders(sm.Step); len(holders) > 0 {
			line += " [" + strings.Join(printableAll(holders), ", ") + "]"
		}
		out = append(out, line)
	}
	return out
}

// holders names who holds a step's values when that is not everyone in
// the evidence (a group where two of three share one step); nil otherwise.
func (m Match) holders(step string) []string {
	var all, in []string
	for _, e := range m.Evidence {
		for _, s := range e.Students {
			if !slices.Contains(all, s) {
				all = append(all, s)
			}
			if e.Step == step && !slices.Contains(in, s) {
				in = append(in, s)
			}
		}
	}
	if len(in) == len(all) {
		return nil
	}
	slices.Sort(in)
	return in
}
