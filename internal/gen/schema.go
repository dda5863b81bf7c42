package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/facts"
	"github.com/k8s-debug-lab/lab/checks/match"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// The JSON Schema of the spec format is generated here, from the same
// registries the spec loader checks against (parsers and their facts,
// matchers, live checks), so that the file editors read can never drift
// from what lab accepts.

// obj is a JSON object that keeps its keys in the order written, so that
// the schema reads top-down like documentation.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func ref(name string) obj { return obj{{"$ref", "#/$defs/" + name}} }

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

// factsDef names the $defs entry listing one parser's facts.
func factsDef(parser string) string { return "facts-" + parser }

const schemaID = "https://raw.githubusercontent.com/k8s-debug-lab/lab/main/assets/schema/assignment.schema.json"

// liveText is a pattern for text whose ${…} references must be live
// values (and ${got} where a message may name the student's value).
func liveText(got bool) string {
	names := make([]string, 0, len(spec.LiveVars)+1)
	for _, v := range spec.LiveVars {
		names = append(names, strings.ReplaceAll(v, ".", `\.`))
	}
	if got {
		names = append(names, "got")
	}
	return `^([^$]|\$[^{]|\$$|\$\{(` + strings.Join(names, "|") + `)\})*$`
}

// textOf is words shown to people: one string, in the spec's first
// language, or one string per language.
func textOf(desc, pattern string) obj {
	str := obj{{"type", "string"}}
	if pattern != "" {
		str = append(str, kv{"pattern", pattern})
	}
	byLang := obj{}
	for _, l := range i18n.Langs {
		byLang = append(byLang, kv{string(l), str})
	}
	return obj{
		{"description", desc + " (a string, or one per language: {en: …, ru: …})"},
		{"oneOf", []any{str, obj{{"type", "object"}, {"minProperties", 1}, {"additionalProperties", false}, {"properties", byLang}}}},
	}
}

// k8sName is the pattern of a pod or container name.
const k8sName = `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`

// solveText is a pattern for a command whose {{.Name}} placeholders are
// the lab's facts.
func solveText() string {
	return `^([^{]|\{[^{]|\{$|\{\{\s*\.(` + strings.Join(spec.SolveVars, "|") + `)\s*\}\})*$`
}

// buildSchema returns the schema document, indented, with a final newline.
func buildSchema() []byte {
	valueMatchers := []string{}
	otherMatchers := []string{}
	for _, k := range match.Kinds {
		if k.NeedsValues() {
			valueMatchers = append(valueMatchers, string(k))
		} else if k != match.Present {
			otherMatchers = append(otherMatchers, string(k))
		}
	}
	matcherHelp := map[match.Kind]string{
		match.Present:  "the fact was observed at least `min` times (default 1); the default matcher",
		match.Absent:   "the fact was never observed",
		match.AnyOf:    "one of the fact's values is in `values`",
		match.NoneOf:   "none of the fact's values is in `values` (also when the fact was never observed)",
		match.SubsetOf: "the fact was observed and all its values are in `values`; a fact with more than 64 distinct values never is",
		match.Contains: "one of the fact's values contains one of `values` as a substring",
	}
	var matcherDocs []string
	for _, k := range match.Kinds {
		matcherDocs = append(matcherDocs, matcherHelp[k])
	}
	liveHelp := map[string]string{
		"pod-shares-pid":     "the pod has shareProcessNamespace, a container nginx, and runs",
		"ephemeral-debugger": "an ephemeral container targets nginx with SYS_PTRACE and has run",
		"node-debugger":      "a node debugger pod ran on the pod's node with / mounted at /host",
	}
	var liveDocs []string
	for _, n := range spec.LiveChecks {
		liveDocs = append(liveDocs, liveHelp[n])
	}
	var parserDocs []string
	for _, n := range facts.Names() {
		e, _ := facts.Lookup(n)
		parserDocs = append(parserDocs, e.Help())
	}

	matcherProps := func(extra ...kv) obj {
		props := obj{
			{"fact", obj{{"type", "string"}, {"description", "a fact the step's parser reports (see docs/facts.md)"}}},
			{"match", ref("match")},
			{"min", obj{{"type", "integer"}, {"minimum", 0}, {"description", "with the present matcher: how many times the fact must be observed"}}},
			{"values", obj{{"description", "the values anyOf, noneOf, subsetOf and contains compare with"}, {"$ref", "#/$defs/strings"}}},
		}
		return append(props, extra...)
	}
	// The loader's rules on a matcher's fields, in schema form.
	matcherRules := []any{
		obj{
			{"if", obj{{"required", []string{"match"}}, {"properties", obj{{"match", obj{{"enum", valueMatchers}}}}}}},
			{"then", obj{{"required", []string{"values"}}}},
			{"else", obj{{"not", obj{{"required", []string{"values"}}}}}},
		},
		obj{
			{"if", obj{{"required", []string{"match"}}, {"properties", obj{{"match", obj{{"enum", append(append([]string{}, otherMatchers...), valueMatchers...)}}}}}}},
			{"then", obj{{"not", obj{{"required", []string{"min"}}}}}},
		},
	}

	step := obj{
		{"type", "object"},
		{"description", "One graded step: an answers file read by a parser and judged by rules, or checks against the lab's cluster, or both."},
		{"required", []string{"id"}},
		{"additionalProperties", false},
		{"properties", obj{
			{"id", obj{{"type", "string"}, {"pattern", "^(step-[1-9][0-9]*|star)$"}, {"description", "step-N or star; `lab check step-N` selects it"}}},
			{"title", textOf("what the step proves, shown in every report", "")},
			{"points", obj{{"type", "integer"}, {"minimum", 0}, {"description", "awarded when the step passes"}}},
			{"files", obj{{"description", "answers files that may prove the step, inside the answers folder, in order of preference: the first present is graded"}, {"$ref", "#/$defs/fileNames"}}},
			{"produce", textOf("the command that writes the answers file, shown when it is missing or empty", "")},
			{"parser", ref("parser")},
			{"expect", obj{{"description", "skeleton lines of a good answer, compared with the closest lines of a failed one (a block string or a list)"}, {"$ref", "#/$defs/strings"}}},
			{"diagnose", obj{{"type", "array"}, {"description", "known mistakes, tried in order: the first whose matchers all hold fails the step with its message and hint"}, {"items", ref("diagnoseRule")}}},
			{"require", obj{{"type", "array"}, {"description", "conditions that must all hold for the step to pass; the first that does not fails it with its message and hint"}, {"items", ref("requireRule")}}},
			{"live", obj{{"description", "checks against the lab's cluster (skipped offline)"}, {"oneOf", []any{ref("liveCheck"), obj{{"type", "array"}, {"items", ref("liveCheck")}}}}}},
			{"cross", obj{{"type", "array"}, {"description", "once the file passes, comparisons with the live cluster (skipped offline): the first whose matchers all hold fails the step; values and texts may name live values as ${name}: " + strings.Join(spec.LiveVars, ", ") + " (a message or hint also ${got})"}, {"items", ref("crossRule")}}},
			{"solve", obj{{"type", "array"}, {"minItems", 1}, {"description", "what lab solve does for this step, in order, the way a student would"}, {"items", ref("action")}}},
		}},
		{"anyOf", []any{obj{{"required", []string{"files"}}}, obj{{"required", []string{"live"}}}}},
	}
	allOf := []any{
		obj{
			{"if", obj{{"required", []string{"files"}}}},
			{"then", obj{{"required", []string{"parser", "require"}}, {"properties", obj{{"require", obj{{"minItems", 1}}}}}}},
			{"else", obj{{"not", obj{{"anyOf", []any{
				obj{{"required", []string{"parser"}}}, obj{{"required", []string{"require"}}}, obj{{"required", []string{"diagnose"}}}, obj{{"required", []string{"cross"}}},
			}}}}}},
		},
	}
	defs := obj{{"step", nil}, {"parser", obj{
		{"type", "string"},
		{"description", "the facts extractor that reads the answers file"},
		{"enum", facts.Names()},
		{"enumDescriptions", parserDocs},
	}}}
	for _, n := range facts.Names() {
		e, _ := facts.Lookup(n)
		fact := obj{{"fact", ref(factsDef(n))}}
		allOf = append(allOf, obj{
			{"if", obj{{"required", []string{"parser"}}, {"properties", obj{{"parser", obj{{"const", n}}}}}}},
			{"then", obj{{"properties", obj{
				{"require", obj{{"items", obj{{"properties", fact}}}}},
				{"diagnose", obj{{"items", obj{{"properties", obj{{"when", obj{{"items", obj{{"properties", fact}}}}}}}}}}},
				{"cross", obj{{"items", obj{{"properties", obj{{"when", obj{{"items", obj{{"properties", fact}}}}}}}}}}},
			}}}},
		})
		var names, helps []string
		for _, d := range e.Facts() {
			names = append(names, d.Name)
			helps = append(helps, d.Help)
		}
		defs = append(defs, kv{factsDef(n), obj{
			{"description", fmt.Sprintf("the facts parser %s reports", n)},
			{"enum", names},
			{"enumDescriptions", helps},
		}})
	}
	step = append(step, kv{"allOf", allOf})
	defs[0].v = step
	defs = append(defs,
		kv{"match", obj{
			{"type", "string"},
			{"description", "how the fact is tested (default present)"},
			{"enum", strs(match.Kinds)},
			{"enumDescriptions", matcherDocs},
		}},
		kv{"matcher", obj{
			{"type", "object"},
			{"description", "one condition on one fact"},
			{"required", []string{"fact"}},
			{"additionalProperties", false},
			{"properties", matcherProps()},
			{"allOf", matcherRules},
		}},
		kv{"requireRule", obj{
			{"type", "object"},
			{"description", "a matcher that must hold, with what to tell the student when it does not"},
			{"required", []string{"fact", "message"}},
			{"additionalProperties", false},
			{"properties", matcherProps(
				kv{"message", textOf("what is wrong, shown when the matcher does not hold", "")},
				kv{"hint", textOf("what to do next", "")},
			)},
			{"allOf", matcherRules},
		}},
		kv{"diagnoseRule", obj{
			{"type", "object"},
			{"description", "a known mistake: when all its matchers hold, the step fails with this message and hint"},
			{"required", []string{"when", "message"}},
			{"additionalProperties", false},
			{"properties", obj{
				{"when", obj{{"type", "array"}, {"minItems", 1}, {"items", ref("matcher")}}},
				{"message", textOf("what is wrong", "")},
				{"hint", textOf("what to do next", "")},
			}},
		}},
		kv{"crossRule", obj{
			{"type", "object"},
			{"description", "a difference from the live cluster: when all its matchers hold, the step fails with this message and hint"},
			{"required", []string{"when", "message"}},
			{"additionalProperties", false},
			{"properties", obj{
				{"when", obj{{"type", "array"}, {"minItems", 1}, {"items", ref("crossMatcher")}}},
				{"message", textOf("what differs; may name ${got} and live values", liveText(true))},
				{"hint", textOf("what to do next", liveText(true))},
			}},
		}},
		kv{"crossMatcher", obj{
			{"type", "object"},
			{"description", "one condition on one fact; values may name live values as ${name}"},
			{"required", []string{"fact"}},
			{"additionalProperties", false},
			{"properties", append(matcherProps()[:3], kv{"values", obj{
				{"description", "the values anyOf, noneOf, subsetOf and contains compare with; ${name} is a live value"},
				{"oneOf", []any{
					obj{{"type", "string"}, {"pattern", liveText(false)}},
					obj{{"type", "array"}, {"minItems", 1}, {"items", obj{{"type", "string"}, {"pattern", liveText(false)}}}},
				}},
			}})},
			{"allOf", matcherRules},
		}},
		kv{"liveCheck", obj{
			{"type", "string"},
			{"description", "a check against the lab's cluster that no answers file can prove"},
			{"enum", spec.LiveChecks},
			{"enumDescriptions", liveDocs},
		}},
		kv{"action", obj{
			{"type", "object"},
			{"description", "one thing lab solve does: exactly one of start, run, kubectl, traffic"},
			{"additionalProperties", false},
			{"properties", obj{
				{"start", obj{{"enum", []string{spec.StartDebugger}}, {"description", "add the ephemeral debug container (kubectl debug -it POD --image=<images.debugger> --target=<workload.container> --profile=general), or reuse a running one that fits"}}},
				{"run", obj{{"type", "string"}, {"minLength", 1}, {"description", "a shell command; {{.Name}} placeholders are filled from the lab first: " + strings.Join(spec.SolveVars, ", ")}, {"pattern", solveText()}}},
				{"in", obj{{"enum", []string{spec.InDebugger, spec.InNode}}, {"description", "where run runs: debugger (the ephemeral container, the default) or node (a node debug pod, the node's / at /host)"}}},
				{"while", obj{{"enum", []string{spec.WhileTraffic}}, {"description", "traffic: once run prints ready, lab traffic sends requests both ways, then run is interrupted (SIGINT) as a student presses Ctrl-C"}}},
				{"ready", obj{{"type", "string"}, {"minLength", 1}, {"description", "what run prints once it listens (tcpdump: listening on; strace: attached)"}}},
				{"output", obj{{"enum", []string{spec.OutputStdout, spec.OutputStderr}}, {"description", "which of run's streams is saved (default stdout; strace writes to stderr)"}}},
				{"kubectl", obj{{"enum", []string{spec.KubectlPodWide}}, {"description", "what kubectl prints for the workload's pod, rendered by lab with kubectl's columns"}}},
				{"traffic", obj{{"enum", spec.TrafficWays}, {"description", "send lab traffic this way"}}},
				{"save", obj{{"description", "the answers file the output is written to: one of the step's files"}, {"$ref", "#/$defs/fileName"}}},
			}},
			{"oneOf", []any{
				obj{{"required", []string{"start"}}}, obj{{"required", []string{"run"}}},
				obj{{"required", []string{"kubectl"}}}, obj{{"required", []string{"traffic"}}},
			}},
			{"dependentRequired", obj{{"while", []string{"run", "ready"}}, {"ready", []string{"run", "while"}}, {"in", []string{"run"}}, {"output", []string{"run"}}}},
		}},
		kv{"strings", obj{{"oneOf", []any{
			obj{{"type", "string"}},
			obj{{"type", "array"}, {"minItems", 1}, {"items", obj{{"type", "string"}}}},
		}}}},
		kv{"fileNames", obj{{"oneOf", []any{
			ref("fileName"),
			obj{{"type", "array"}, {"minItems", 1}, {"items", ref("fileName")}},
		}}}},
		kv{"fileName", obj{
			{"type", "string"},
			{"description", "a plain name inside the answers folder"},
			{"minLength", 1},
			{"not", obj{{"pattern", `^/|\.\.|\\`}}},
		}},
	)

	doc := obj{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", schemaID},
		{"title", "lab assignment (" + spec.APIVersion + ")"},
		{"description", strings.Join([]string{
			"An assignment for lab: the steps, which answers file proves each one, the parser that reads it, the rules that judge it and the hints a student sees.",
			"Check a spec with `lab assignment validate DIR`; this schema is for editors (completion, hover, early errors) and is generated from lab's code.",
		}, " ")},
		{"type", "object"},
		{"required", []string{"apiVersion", "kind", "metadata", "steps"}},
		{"additionalProperties", false},
		{"properties", obj{
			{"apiVersion", obj{{"const", spec.APIVersion}, {"description", "the spec format's version; this lab reads " + spec.APIVersion}}},
			{"kind", obj{{"const", spec.Kind}}},
			{"metadata", obj{
				{"type", "object"},
				{"required", []string{"name"}},
				{"additionalProperties", false},
				{"properties", obj{
					{"name", obj{{"type", "string"}, {"minLength", 1}, {"description", "a short identifier, used in reports"}}},
					{"title", textOf("shown to people", "")},
				}},
			}},
			{"languages", obj{
				{"type", "array"},
				{"description", "the languages the titles, messages and hints are written in, the first being that of a plain string (default [en]); lab check --lang or the locale picks one, and lab assignment validate reports a text lacking one"},
				{"minItems", 1}, {"uniqueItems", true},
				{"items", obj{{"enum", strs(i18n.Langs)}}},
			}},
			{"workload", obj{
				{"type", "object"},
				{"description", "the pod of manifests/ the lab is about (default: " + spec.DefaultWorkload.Pod + ", container " + spec.DefaultWorkload.Container + ", port 80)"},
				{"required", []string{"pod", "container"}},
				{"additionalProperties", false},
				{"properties", obj{
					{"pod", obj{{"type", "string"}, {"pattern", k8sName}, {"description", "the pod lab up waits for and students debug; its Service, if any, has the same name"}}},
					{"container", obj{{"type", "string"}, {"pattern", k8sName}, {"description", "the container kubectl debug --target names, whose log files step by step are read on the node"}}},
					{"port", obj{{"type", "integer"}, {"minimum", 1}, {"maximum", 65535}, {"description", "the port lab traffic requests (default 80)"}}},
				}},
			}},
			{"images", obj{
				{"type", "object"},
				{"description", "the tools' images, carried by lab up --preload and lab bundle with the manifests' images"},
				{"additionalProperties", false},
				{"properties", obj{
					{"debugger", obj{{"type", "string"}, {"minLength", 1}, {"description", "the ephemeral debug container's image (default " + spec.DefaultImages.Debugger + ")"}}},
					{"nodeDebugger", obj{{"type", "string"}, {"minLength", 1}, {"description", "the node debug pod's image (default " + spec.DefaultImages.NodeDebugger + ")"}}},
					{"trafficClient", obj{{"type", "string"}, {"minLength", 1}, {"description", "the image lab traffic --via pod sends requests from, with curl (default " + spec.DefaultImages.TrafficClient + ")"}}},
				}},
			}},
			{"record", obj{{"enum", spec.RecordSettings}, {"description", "graded without the lab's cluster (lab check --offline, the Classroom workflow, lab grade), is the lab record answers/lab-record.json optional (default) or required? required fails a hand-in without one, as lab check --require-record does"}}},
			{"steps", obj{{"type", "array"}, {"minItems", 1}, {"items", ref("step")}}},
		}},
		{"$defs", defs},
	}
	raw, err := marshal(doc)
	if err != nil {
		panic(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		panic(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}
