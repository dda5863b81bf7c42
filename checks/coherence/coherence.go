// Package coherence checks that the answers of one hand-in agree with each
// other and could have been captured at all, without a cluster and
// without trusting anything the student could edit alone.
//
// Each file passes or fails its own step first (checks); these rules then
// read the facts of every file that passed and look for what no single
// file shows: one lab's nonce in step-5 and another's in step-7, a pod IP
// in step-6 that step-5's capture never saw, two nginx versions, and
// outputs that were written rather than captured (stock nginx files of
// sizes no release ships, PID 1 accepting connections, an nginx master
// that accepts). Each Disagreement names the steps involved and both
// sides, and the grader fails those steps.
//
// What it proves: a hand-in put together from two labs, or a file edited
// to look like another's, no longer passes offline. What it cannot: a
// consistent set of files copied whole from one other student agrees with
// itself (lab grade's copy fingerprints and the lab record deal with that),
// and a skilled forger who keeps every value consistent is not caught.
package coherence

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/facts"
)

// Answer is one answers file that passed its step, with what its parser
// read.
type Answer struct {
	// Step is the step's id ("step-5").
	Step string
	// Parser is the extractor that read it ("tcpdump", "pod-table", …).
	Parser string
	// Facts are what it read.
	Facts *facts.Set
}

// Options say what the assignment's workload is.
type Options struct {
	// Pod is the workload's pod name (spec.Workload.Pod); empty means the
	// pod-table's only pod.
	Pod string
}

// Disagreement is one thing the answers contradict each other (or reality)
// about.
type Disagreement struct {
	// Rule names the rule that found it (see the Rule constants).
	Rule string `json:"rule"`
	// Steps are the steps involved, each of which fails.
	Steps []string `json:"steps"`
	// Message names both sides.
	Message string `json:"message"`
	// Hint says what to save again.
	Hint string `json:"hint,omitempty"`
}

// The rules, as Disagreement.Rule names them.
const (
	RuleNonce        = "nonce"
	RulePodIP        = "pod-ip"
	RulePodName      = "pod-name"
	RuleNginxVersion = "nginx-version"
	RuleStockSizes   = "stock-sizes"
	RulePID1Accepts  = "pid1-accepts"
	RuleMasterAccept = "master-accepts"
	// RuleRecord is a claim that disagrees with a value the caller holds
	// (the lab record, the live cluster): see Against.
	RuleRecord = "record"
)

// resetHint is what a student who ran lab reset (or lab down and up)
// between two steps must do: the live cross-checks say the same of one
// file, "save … again".
const resetHint = "save every step from the same lab: if you ran lab reset (or lab down and up) between them, the pod got a new IP and UID; save the older ones again"

// Check runs every rule over the answers and returns what disagrees, in a
// stable order.
func Check(answers []Answer, opts Options) []Disagreement {
	var out []Disagreement
	out = append(out, sameValue(answers, "nonce", RuleNonce, nonceText)...)
	out = append(out, podIPSeen(answers, opts)...)
	out = append(out, podNameRead(answers, opts)...)
	out = append(out, sameValue(answers, "nginx.version", RuleNginxVersion, versionText)...)
	for _, a := range answers {
		out = append(out, stockSizes(a)...)
		out = append(out, straceAccepts(a)...)
	}
	return out
}

func nonceText(steps []string, vs []string) string {
	return fmt.Sprintf("%s %s lab=%s", joinSteps(steps), verb(steps, "carries", "carry"), strings.Join(vs, ", lab="))
}

func versionText(steps []string, vs []string) string {
	return fmt.Sprintf("%s %s nginx/%s", joinSteps(steps), verb(steps, "shows", "show"), strings.Join(vs, ", nginx/"))
}

func verb(steps []string, one, more string) string {
	if len(steps) == 1 {
		return one
	}
	return more
}

// sameValue finds answers whose values of fact share nothing: the value
// most answers share wins, and every answer without it disagrees. A file
// may hold several values (a student's own curl ?lab=test besides lab
// traffic); sharing one is enough.
func sameValue(answers []Answer, fact, rule string, text func(steps, vs []string) string) []Disagreement {
	type holder struct {
		step string
		vs   []string
	}
	var hs []holder
	count := map[string]int{}
	for _, a := range answers {
		f := a.Facts.Get(fact)
		if len(f.Values) == 0 {
			continue
		}
		hs = append(hs, holder{a.Step, f.Values})
		for _, v := range f.Values {
			count[v]++
		}
	}
	if len(hs) < 2 {
		return nil
	}
	best := ""
	for _, h := range hs { // first-seen order breaks ties: stable
		for _, v := range h.vs {
			if count[v] > count[best] {
				best = v
			}
		}
	}
	if count[best] == len(hs) {
		return nil
	}
	var agree, disagree []string
	var parts []string
	for _, h := range hs {
		if slices.Contains(h.vs, best) {
			agree = append(agree, h.step)
		} else {
			disagree = append(disagree, h.step)
			parts = append(parts, text([]string{h.step}, firstN(h.vs, 3)))
		}
	}
	msg := text(agree, []string{best}) + "; " + strings.Join(parts, "; ")
	steps := make([]string, 0, len(hs))
	for _, h := range hs {
		steps = append(steps, h.step)
	}
	d := Disagreement{Rule: rule, Steps: steps, Hint: resetHint}
	switch rule {
	case RuleNonce:
		d.Message = msg + ": these files come from different labs (each lab's traffic carries its own nonce)"
		d.Hint = "save every step from one lab while lab traffic runs; a file from another student's or another cluster's lab carries that lab's nonce"
	default:
		d.Message = msg + ": these files come from different nginx servers"
	}
	return []Disagreement{d}
}

// podIPSeen: the pod's IP in the pod table appears in the capture. A
// capture of port-forward traffic alone sees only loopback addresses and
// proves nothing either way; a capture whose addresses were not all kept,
// or are names (no -n), cannot tell.
func podIPSeen(answers []Answer, opts Options) []Disagreement {
	var out []Disagreement
	for _, t := range answers {
		ip, pod := podValue(t.Facts, "pod.ip", opts)
		if ip == "" {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			continue // <none>, <pending>
		}
		for _, c := range answers {
			addr := c.Facts.Get("address")
			if c.Step == t.Step || len(addr.Values) == 0 || addr.More || !allIPs(addr.Values) {
				continue
			}
			if slices.Contains(addr.Values, ip) || !slices.ContainsFunc(addr.Values, notLoopback) {
				continue
			}
			out = append(out, Disagreement{
				Rule:    RulePodIP,
				Steps:   []string{t.Step, c.Step},
				Message: fmt.Sprintf("%s shows %s at %s; %s's capture never mentions it (it shows %s)", t.Step, pod, ip, c.Step, strings.Join(firstN(addr.Values, 4), ", ")),
				Hint:    resetHint,
			})
		}
	}
	return out
}

// podNameRead: the log step-7 read lies in the directory of the pod that
// step-6 shows (/var/log/pods/<ns>_<pod>_<uid>).
func podNameRead(answers []Answer, opts Options) []Disagreement {
	var out []Disagreement
	for _, t := range answers {
		pods := t.Facts.Get("pod.running").Values
		if t.Facts.Get("pod.ip").Count == 0 || len(pods) == 0 {
			continue // not a pod table, or no pod runs in it
		}
		want := opts.Pod
		if want == "" || !slices.Contains(pods, want) {
			if len(pods) != 1 {
				continue
			}
			want = pods[0]
		}
		for _, l := range answers {
			names := l.Facts.Get("pod.name")
			if l.Step == t.Step || len(names.Values) == 0 || names.More || slices.Contains(names.Values, want) {
				continue
			}
			out = append(out, Disagreement{
				Rule:    RulePodName,
				Steps:   []string{t.Step, l.Step},
				Message: fmt.Sprintf("%s shows the pod %s; %s reads the log of %s (/var/log/pods/<namespace>_<pod>_<uid>)", t.Step, want, l.Step, strings.Join(firstN(names.Values, 3), ", ")),
				Hint:    "read /var/log/pods/<namespace>_" + want + "_<uid>/ on the pod's node, the same pod step-6 shows",
			})
		}
	}
	return out
}

// podValue returns a pod table's "<pod>=<value>" value for the workload's
// pod (or the table's only pod) and that pod's name.
func podValue(s *facts.Set, fact string, opts Options) (value, pod string) {
	var found []string
	for _, v := range s.Get(fact).Values {
		name, val, ok := strings.Cut(v, "=")
		if !ok {
			continue
		}
		if opts.Pod != "" && name == opts.Pod {
			return val, name
		}
		found = append(found, v)
	}
	if opts.Pod == "" && len(found) == 1 {
		name, val, _ := strings.Cut(found[0], "=")
		return val, name
	}
	return "", ""
}

func allIPs(vs []string) bool {
	for _, v := range vs {
		if _, err := netip.ParseAddr(v); err != nil {
			return false
		}
	}
	return true
}

func notLoopback(v string) bool {
	a, err := netip.ParseAddr(v)
	return err == nil && !a.IsLoopback()
}

func firstN(vs []string, n int) []string {
	if len(vs) > n {
		return append(slices.Clone(vs[:n]), "…")
	}
	return vs
}

// joinSteps writes "step-5", "step-5 and step-7", "step-5, step-7 and star".
func joinSteps(steps []string) string {
	switch len(steps) {
	case 0:
		return ""
	case 1:
		return steps[0]
	}
	return strings.Join(steps[:len(steps)-1], ", ") + " and " + steps[len(steps)-1]
}
