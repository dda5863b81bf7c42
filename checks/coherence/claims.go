package coherence

import (
	"fmt"
	"slices"
	"strings"
)

// What a Claim is about. The names are the live values' names (spec
// LiveVars, the lab record's facts) where one exists.
const (
	ClaimNonce        = "nonce"
	ClaimPodIP        = "pod.ip"
	ClaimPodNode      = "pod.node"
	ClaimPodUID       = "pod.uid"
	ClaimPodName      = "pod.name"
	ClaimNamespace    = "namespace"
	ClaimNginxVersion = "nginx.version"
)

// Claim is what one answers file states about the lab it was taken from:
// the values it shows, any of which may be the lab's (a log directory
// listing names every pod's UID, a capture may hold a student's own
// ?lab=test besides lab traffic's nonce).
type Claim struct {
	Step   string   `json:"step"`
	What   string   `json:"what"`
	Values []string `json:"values"`
}

// Claims lists what the answers state about their lab, for comparing with
// a value held elsewhere (the lab record, the live cluster): see Against.
func Claims(answers []Answer, opts Options) []Claim {
	var out []Claim
	add := func(step, what string, vs []string) {
		if len(vs) > 0 {
			out = append(out, Claim{Step: step, What: what, Values: slices.Clone(vs)})
		}
	}
	for _, a := range answers {
		s := a.Facts
		add(a.Step, ClaimNonce, s.Get("nonce").Values)
		if ip, _ := podValue(s, "pod.ip", opts); ip != "" {
			add(a.Step, ClaimPodIP, []string{ip})
		}
		if node, _ := podValue(s, "pod.node", opts); node != "" {
			add(a.Step, ClaimPodNode, []string{node})
		}
		add(a.Step, ClaimPodUID, s.Get("pod.uid").Values)
		add(a.Step, ClaimPodName, s.Get("pod.name").Values)
		add(a.Step, ClaimNamespace, s.Get("pod.namespace").Values)
		add(a.Step, ClaimNginxVersion, s.Get("nginx.version").Values)
	}
	return out
}

// claimNouns say what a value is in a message.
var claimNouns = map[string]string{
	ClaimNonce:        "nonce",
	ClaimPodIP:        "pod IP",
	ClaimPodNode:      "node",
	ClaimPodUID:       "pod UID",
	ClaimPodName:      "pod",
	ClaimNamespace:    "namespace",
	ClaimNginxVersion: "nginx version",
}

// Against compares the claims about what with the value want that source
// holds: every step whose values do not include want disagrees, naming
// both sides. source says who holds want, with its verb ("the lab record
// says", "the lab's nginx answered"): "step-6 shows pod IP 10.244.0.2;
// the lab record says 10.244.0.9", "step-7 shows nginx/1.25.3; the lab's
// nginx answered nginx/1.22.1". An empty want compares nothing.
func Against(claims []Claim, what, want, source string) []Disagreement {
	if want == "" {
		return nil
	}
	var out []Disagreement
	for _, c := range claims {
		if c.What != what || slices.Contains(c.Values, want) {
			continue
		}
		out = append(out, Disagreement{
			Rule:    RuleRecord,
			Steps:   []string{c.Step},
			Message: fmt.Sprintf("%s shows %s; %s %s", c.Step, showClaim(what, firstN(c.Values, 3), true), source, showClaim(what, []string{want}, false)),
			Hint:    resetHint,
		})
	}
	return out
}

// showClaim writes values as a message names them: a version as nginx
// writes it (nginx/1.22.1), anything else after its noun when noun is
// asked for.
func showClaim(what string, vs []string, noun bool) string {
	if what == ClaimNginxVersion {
		return "nginx/" + strings.Join(vs, ", nginx/")
	}
	list := strings.Join(vs, ", ")
	if !noun {
		return list
	}
	n := claimNouns[what]
	if n == "" {
		n = what
	}
	return n + " " + list
}
