package htmlreport

import (
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
	"github.com/k8s-debug-lab/lab/lab/grade"
)

var verb = regexp.MustCompile(`%[dsv%]`)

// Every language has every word, with the same fmt verbs in the same
// order, and every word the template asks for exists.
func TestWords(t *testing.T) {
	en := catalog[English]
	for _, lang := range Langs {
		t.Run(string(lang), func(t *testing.T) {
			w, ok := catalog[lang]
			if !ok {
				t.Fatal("no words")
			}
			for k, v := range en {
				got, ok := w[k]
				if !ok {
					t.Errorf("no %q", k)
					continue
				}
				if diff := cmp.Diff(verb.FindAllString(v, -1), verb.FindAllString(got, -1)); diff != "" {
					t.Errorf("%q: verbs (-en +%s):\n%s", k, lang, diff)
				}
			}
			for k := range w {
				if _, ok := en[k]; !ok {
					t.Errorf("%q is not an English word", k)
				}
			}
		})
	}
	used := regexp.MustCompile(`\{\{(?:t|tf) "([^"]+)"`).FindAllStringSubmatch(pageTemplate, -1)
	if len(used) < 20 {
		t.Fatalf("found %d words in the template: is the pattern stale?", len(used))
	}
	keys := []string{"histBar", "rateBar", "liveOnly"}
	for _, u := range used {
		keys = append(keys, u[1])
	}
	for _, s := range []checks.Status{checks.Pass, checks.Fail, checks.Error, checks.Skip} {
		keys = append(keys, "status."+string(s))
	}
	for _, s := range []grade.VerificationStatus{grade.Verified, grade.Unverified, grade.Incoherent} {
		keys = append(keys, "ver."+string(s))
	}
	for _, s := range []fingerprint.Strength{fingerprint.None, fingerprint.Weak, fingerprint.Strong} {
		keys = append(keys, "strength."+s.String())
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if _, ok := en[k]; !ok {
			t.Errorf("the page asks for %q, which has no words", k)
		}
	}
}
