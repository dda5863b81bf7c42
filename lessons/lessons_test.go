package lessons

import (
	"errors"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/golden"
)

// sample is a lab with every fact known, for the golden files.
var sample = Vars{
	Namespace: "default",
	Pod:       "nginx-distroless",
	PodUID:    "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab",
	Node:      "kind-control-plane",
	PodIP:     "10.244.0.7",
	Runtime:   "containerd://1.7.18",
	Debugger:  "debugger",
	MasterPID: 7,
	WorkerPID: 13,
}

func builtin(t *testing.T) *Book {
	t.Helper()
	sub, err := fs.Sub(assets.Lab(), "lessons")
	if err != nil {
		t.Fatal(err)
	}
	return Open(sub, BuiltinSource)
}

func lessonsIn(t *testing.T, lang Lang) []Lesson {
	t.Helper()
	all, err := builtin(t).List(lang)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func builtinSpec(t *testing.T) *spec.Assignment {
	t.Helper()
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGolden renders every lesson in both languages at a fixed width in the
// notty style, once with every fact known and once with none.
func TestGolden(t *testing.T) {
	for _, lang := range Langs {
		for _, l := range lessonsIn(t, lang) {
			for _, c := range []struct {
				suffix string
				vars   Vars
			}{{"", sample}, {".unknown", Vars{}}} {
				name := filepath.Join("testdata", "golden", string(lang), l.ID+c.suffix+".txt")
				t.Run(name, func(t *testing.T) {
					md, err := l.Personalise(c.vars)
					if err != nil {
						t.Fatal(err)
					}
					got, err := Render(md, RenderOptions{Style: StyleNoTTY, Width: 80})
					if err != nil {
						t.Fatal(err)
					}
					golden.Check(t, name, got)
				})
			}
		}
	}
}

// TestGoldenFilesHaveLessons catches a golden file left behind by a
// renamed lesson.
func TestGoldenFilesHaveLessons(t *testing.T) {
	for _, lang := range Langs {
		ids := map[string]bool{}
		for _, l := range lessonsIn(t, lang) {
			ids[l.ID] = true
		}
		files, _ := filepath.Glob(filepath.Join("testdata", "golden", string(lang), "*.txt"))
		for _, f := range files {
			id := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".txt"), ".unknown")
			if !ids[id] {
				t.Errorf("%s has no lesson %s/%s.md", f, lang, id)
			}
		}
	}
}

func TestEveryStepHasALessonInEveryLanguage(t *testing.T) {
	a := builtinSpec(t)
	want := append([]string{"intro"}, a.IDs()...)
	for _, lang := range Langs {
		have := map[string]bool{}
		for _, l := range lessonsIn(t, lang) {
			have[l.ID] = true
		}
		for _, id := range want {
			if !have[id] {
				t.Errorf("no lesson %s/%s.md", lang, id)
			}
		}
	}
	var en, ru []string
	for _, l := range lessonsIn(t, English) {
		en = append(en, l.ID)
	}
	for _, l := range lessonsIn(t, Russian) {
		ru = append(ru, l.ID)
	}
	if diff := cmp.Diff(en, ru); diff != "" {
		t.Errorf("the languages have different lessons (-en +ru):\n%s", diff)
	}
}

// codeBlocks returns the lines of every fenced code block, in order, one
// string per block, without whole-line comments (which are translated).
func codeBlocks(md string) []string {
	_, blocks := maskCodeBlocks(md)
	out := make([]string, 0, len(blocks))
	for _, b := range blocks {
		var keep []string
		for _, l := range b.lines {
			if strings.HasPrefix(strings.TrimSpace(l), "# ") {
				continue
			}
			keep = append(keep, l)
		}
		out = append(out, strings.Join(keep, "\n"))
	}
	return out
}

// codeLines are the personalised lessons' code lines.
func codeLines(t *testing.T, l Lesson, v Vars) []string {
	t.Helper()
	md, err := l.Personalise(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range codeBlocks(md) {
		out = append(out, strings.Split(b, "\n")...)
	}
	return out
}

func TestLanguagesShareTheirCommands(t *testing.T) {
	for _, en := range lessonsIn(t, English) {
		t.Run(en.ID, func(t *testing.T) {
			ru, err := builtin(t).Lesson(Russian, en.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(codeBlocks(en.Markdown), codeBlocks(ru.Markdown)); diff != "" {
				t.Errorf("en/%s.md and ru/%s.md have different code blocks (-en +ru):\n%s", en.ID, en.ID, diff)
			}
		})
	}
}

var answersRef = regexp.MustCompile(`answers/[A-Za-z0-9._-]+[A-Za-z0-9]`)

// TestAnswersFilesMatchTheSpec: a step's lesson saves to the spec's first
// file for that step, names no file the spec does not have, and shows the
// command the spec's `produce` line names.
func TestAnswersFilesMatchTheSpec(t *testing.T) {
	a := builtinSpec(t)
	all := map[string]bool{}
	for _, s := range a.Steps {
		for _, f := range s.Files {
			all["answers/"+f] = true
		}
	}
	for _, lang := range Langs {
		for _, l := range lessonsIn(t, lang) {
			t.Run(string(lang)+"/"+l.ID, func(t *testing.T) {
				step, isStep := a.Step(l.ID)
				allowed := all
				if isStep && step.Graded() {
					allowed = map[string]bool{}
					for _, f := range step.Files {
						allowed["answers/"+f] = true
					}
				}
				for _, ref := range answersRef.FindAllString(l.Markdown, -1) {
					if !allowed[ref] {
						t.Errorf("mentions %s, which is not an answers file of %s in the spec", ref, l.ID)
					}
				}
				if !isStep || !step.Graded() {
					return
				}
				lines := codeLines(t, l, sample)
				save := "> answers/" + step.Files[0]
				if !slices.ContainsFunc(lines, func(s string) bool { return strings.Contains(s, save) }) {
					t.Errorf("no command in a code block saves with %q", save)
				}
				cmd := produceCommand(step.Produce.In(English))
				if !slices.ContainsFunc(lines, func(s string) bool { return matchesCommand(cmd, s) }) {
					t.Errorf("no code line runs the spec's produce command %q:\n%s", cmd, strings.Join(lines, "\n"))
				}
			})
		}
	}
}

// produceCommand is the command in a spec's produce line: all of it when
// it saves to the answers folder itself, else what comes before " in …"
// ("tcpdump -nn -i any -e port 80 in the debug container, …").
func produceCommand(p string) string {
	if strings.Contains(p, "> answers/") {
		return p
	}
	if i := strings.Index(p, " in "); i >= 0 {
		return p[:i]
	}
	return p
}

var specPlaceholder = regexp.MustCompile(`<[^>]*>`)

// matchesCommand: the command's words appear in line in order, a <…> of
// the spec matching any text; the lesson may add words (-n ns, -c 40).
func matchesCommand(cmd, line string) bool {
	var words []*regexp.Regexp
	for _, w := range strings.Fields(specPlaceholder.ReplaceAllString(cmd, "\x00")) {
		parts := strings.Split(w, "\x00")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		words = append(words, regexp.MustCompile("^"+strings.Join(parts, ".+")+"$"))
	}
	i := 0
	for _, f := range strings.Fields(line) {
		if i < len(words) && words[i].MatchString(f) {
			i++
		}
	}
	return i == len(words)
}

func TestMatchesCommand(t *testing.T) {
	cmd := "kubectl exec nginx-distroless -c <debugger> -- ls -la /proc/<nginx master PID>/root/etc/nginx/ > answers/step-3.txt"
	for line, want := range map[string]bool{
		"kubectl exec -n default nginx-distroless -c debugger -- ls -la /proc/7/root/etc/nginx/ > answers/step-3.txt": true,
		"kubectl exec nginx-distroless -c debugger -- ls -la /proc//root/etc/nginx/ > answers/step-3.txt":             false,
		"kubectl exec nginx-distroless -c debugger -- ls -la /proc/7/root/etc/nginx/ > answers/step3.txt":             false,
		"kubectl exec nginx-distroless -c debugger -- ls -a /proc/7/root/etc/nginx/ > answers/step-3.txt":             false,
	} {
		if got := matchesCommand(cmd, line); got != want {
			t.Errorf("matchesCommand(%q) = %v, want %v", line, got, want)
		}
	}
}

// TestLessonsTeachWhatIsTrue pins the facts the seed write-up got wrong.
func TestLessonsTeachWhatIsTrue(t *testing.T) {
	for _, lang := range Langs {
		for _, l := range lessonsIn(t, lang) {
			t.Run(string(lang)+"/"+l.ID, func(t *testing.T) {
				for _, line := range codeLines(t, l, Vars{}) {
					if strings.Contains(line, "/proc/1/root") {
						t.Errorf("a command uses /proc/1/root, the /pause sandbox's filesystem, not nginx's: %s", line)
					}
					fields := strings.Fields(line)
					for i, f := range fields {
						if f == "strace" && i+2 < len(fields) && fields[i+1] == "-p" && !strings.HasPrefix(fields[i+2], "<WORKER_PID") {
							t.Errorf("strace attaches to %s, not the nginx worker: %s", fields[i+2], line)
						}
					}
					if strings.Contains(line, "/proc/") && strings.Contains(line, "/root") && !strings.Contains(line, "/proc/<MASTER_PID") {
						t.Errorf("lists /proc/…/root of something other than the nginx master: %s", line)
					}
					if !strings.HasPrefix(line, "kubectl debug ") {
						continue
					}
					if !strings.Contains(line, "--profile=general") {
						t.Errorf("kubectl debug without --profile=general (legacy is the default before kubectl 1.36): %s", line)
					}
					if !strings.Contains(line, "node/") && !strings.Contains(line, "--target=nginx") {
						t.Errorf("a debug container without --target=nginx: %s", line)
					}
				}
			})
		}
	}
}

func TestPersonalise(t *testing.T) {
	l, err := builtin(t).Lesson(English, "step-7")
	if err != nil {
		t.Fatal(err)
	}
	known, err := l.Personalise(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"cat /host/var/log/pods/default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/nginx/*.log' > answers/step-7.txt",
		"kubectl debug node/kind-control-plane -n default",
		"Your node runs `containerd://1.7.18`.",
	} {
		if !strings.Contains(known, want) {
			t.Errorf("personalised lesson lacks %q", want)
		}
	}
	unknown, err := l.Personalise(Vars{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"/var/log/pods/<NAMESPACE: default, or the one you gave lab up --namespace>_nginx-distroless_<POD_UID: kubectl get pod nginx-distroless -o jsonpath='{.metadata.uid}'>/nginx/*.log",
		"node/<NODE: the NODE column of kubectl get pod nginx-distroless -o wide>",
		"<RUNTIME: the CONTAINER-RUNTIME column of kubectl get nodes -o wide>",
	} {
		if !strings.Contains(unknown, want) {
			t.Errorf("lesson without facts lacks the placeholder %q", want)
		}
	}
	// A known namespace goes into the hints of what is still unknown.
	partial, err := l.Personalise(Vars{Namespace: "course"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<POD_UID: kubectl get pod nginx-distroless -n course -o jsonpath='{.metadata.uid}'>"; !strings.Contains(partial, want) {
		t.Errorf("partly known lesson lacks %q", want)
	}
	ru, err := builtin(t).Lesson(Russian, "step-7")
	if err != nil {
		t.Fatal(err)
	}
	ruText, err := ru.Personalise(Vars{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<NODE: колонка NODE в kubectl get pod nginx-distroless -o wide>"; !strings.Contains(ruText, want) {
		t.Errorf("Russian lesson lacks the Russian placeholder %q", want)
	}
}

func TestEveryLessonPersonalisesWithoutLeftovers(t *testing.T) {
	for _, lang := range Langs {
		for _, l := range lessonsIn(t, lang) {
			for _, v := range []Vars{sample, {}} {
				md, err := l.Personalise(v)
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				for _, bad := range []string{"{{", "}}", "<no value>", "%!"} {
					if strings.Contains(md, bad) {
						t.Errorf("%s/%s.md personalised still holds %q", lang, l.ID, bad)
					}
				}
			}
		}
	}
}

func TestATypoInAPlaceholderFails(t *testing.T) {
	fsys := fstest.MapFS{
		"en/step-3.md": {Data: []byte("# Step 3\n\nkubectl get pod -n {{.Namespace}}\nls /proc/{{.MasterPid}}/root/\n")},
		"en/step-5.md": {Data: []byte("# Step 5\n\n{{.Namespace\n")},
	}
	b := Open(fsys, "course/lessons")
	for id, want := range map[string]string{
		"step-3": `template: en/step-3.md:4:11: executing "en/step-3.md" at <.MasterPid>: map has no entry for key "MasterPid"`,
		"step-5": `template: en/step-5.md:4: unclosed action started at en/step-5.md:3`,
	} {
		l, err := b.Lesson(English, id)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Personalise(sample)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "{{.MasterPID}}") {
			t.Errorf("%s: error %v, want it to contain %q and list the placeholders", id, err, want)
		}
	}
}

func TestRenderKeepsEveryCommandOnOneLine(t *testing.T) {
	for _, lang := range Langs {
		for _, l := range lessonsIn(t, lang) {
			md, err := l.Personalise(sample)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Render(md, RenderOptions{Style: StyleNoTTY, Width: 40})
			if err != nil {
				t.Fatal(err)
			}
			rendered := map[string]bool{}
			for line := range strings.Lines(out) {
				rendered[strings.TrimSpace(line)] = true
			}
			for _, line := range codeLines(t, l, sample) {
				if s := strings.TrimSpace(line); s != "" && !rendered[s] {
					t.Errorf("%s/%s: the code line %q is not a whole line of the rendered lesson", lang, l.ID, s)
				}
			}
			// Angle brackets outside code would be taken for HTML and
			// vanish: every one must survive rendering.
			if a, b := strings.Count(md, "<"), strings.Count(out, "<"); a != b {
				t.Errorf("%s/%s: %d '<' in the markdown, %d rendered: something was taken for HTML", lang, l.ID, a, b)
			}
		}
	}
}

func TestRenderStyles(t *testing.T) {
	md := "# Title\n\nSome `code` and text.\n\n```sh\nkubectl get pods -n default -o wide --show-labels --sort-by=.metadata.name\n```\n"
	plain, err := Render(md, RenderOptions{Width: 30})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "\x1b[") {
		t.Errorf("the notty style wrote escape codes:\n%q", plain)
	}
	if !strings.Contains(plain, "    kubectl get pods -n default -o wide --show-labels --sort-by=.metadata.name\n") {
		t.Errorf("the command was wrapped or lost its indentation:\n%s", plain)
	}
	for line := range strings.Lines(plain) {
		if strings.HasSuffix(strings.TrimRight(line, "\n"), " ") {
			t.Errorf("trailing padding kept: %q", line)
		}
	}
	dark, err := Render(md, RenderOptions{Style: "dark", Width: 30})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dark, "kubectl get pods -n default -o wide --show-labels --sort-by=.metadata.name") {
		t.Errorf("the dark style lost or split the command:\n%q", dark)
	}
	if _, err := Render(md, RenderOptions{Style: "no-such-style"}); err == nil {
		t.Error("an unknown style rendered")
	}
}

func TestHyphenatedLinesWrapOnce(t *testing.T) {
	// reflow does not count the hyphens it keeps: this paragraph used to
	// leave "the" alone on a line.
	md := "The file holds log lines in your runtime's format with nginx's access\nentries (`\"GET /?lab=… HTTP/1.1\" 200`), and `lab check step-7` shows ✓.\nWhere the cluster answers, lab check also proves that the entries hold this\nlab's nonce and come from this pod.\n\n| a | b |\n|---|---|\n| step-1 | x |\n\n- item-one\n- item two\n\n---\n"
	out, err := Render(md, RenderOptions{Width: 80})
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(out) {
		if w := strings.TrimSpace(line); w != "" && !strings.ContainsAny(w, " |-") {
			t.Errorf("a word alone on a line: %q\n%s", w, out)
		}
	}
	for _, want := range []string{"step-1", "item-one", "lab check step-7"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q lost its hyphen:\n%s", want, out)
		}
	}
	if strings.ContainsRune(out, nbHyphen) {
		t.Errorf("a non-breaking hyphen reached the output:\n%s", out)
	}
}

func TestLangFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Lang
	}{
		{map[string]string{}, English},
		{map[string]string{"LANG": "ru_RU.UTF-8"}, Russian},
		{map[string]string{"LANG": "en_US.UTF-8"}, English},
		{map[string]string{"LANG": "C"}, English},
		{map[string]string{"LANG": "ru_RU.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, English},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, Russian},
		{map[string]string{"LC_MESSAGES": "ru_RU.UTF-8", "LC_ALL": "C.UTF-8"}, English},
		{map[string]string{"LC_ALL": "ru_UA.KOI8-U"}, Russian},
		{map[string]string{"LC_ALL": "", "LANG": "ru"}, Russian},
	}
	for _, tt := range tests {
		if got := LangFromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("LangFromEnv(%v) = %s, want %s", tt.env, got, tt.want)
		}
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]Lang{"en": English, "ru": Russian, "RU": Russian} {
		got, err := ParseLang(in)
		if err != nil || got != want {
			t.Errorf("ParseLang(%q) = %q, %v", in, got, err)
		}
	}
	_, err := ParseLang("de")
	if err == nil || err.Error() != "unknown language: de (want en or ru)" {
		t.Errorf("ParseLang(de) error %v", err)
	}
}

func TestBookOrderAndLookup(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, id := range []string{"zeta", "step-10", "star", "step-2", "intro", "step-1"} {
		fsys["en/"+id+".md"] = &fstest.MapFile{Data: []byte("# " + id + " `x`\n")}
	}
	fsys["en/notes.txt"] = &fstest.MapFile{Data: []byte("not a lesson")}
	b := Open(fsys, "course/lessons")
	all, err := b.List(English)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range all {
		ids = append(ids, l.ID)
	}
	if diff := cmp.Diff([]string{"intro", "step-1", "step-2", "step-10", "star", "zeta"}, ids); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if all[0].Title != "intro x" {
		t.Errorf("title %q: backquotes should go", all[0].Title)
	}
	if l, err := b.Lesson(English, "10"); err != nil || l.ID != "step-10" {
		t.Errorf("Lesson(10) = %q, %v", l.ID, err)
	}
	_, err = b.Lesson(English, "9")
	var ue *UnknownLessonError
	if !errors.As(err, &ue) || len(ue.IDs) != 6 || !strings.Contains(err.Error(), `unknown lesson "9" (lessons: intro, step-1,`) {
		t.Errorf("Lesson(9) error %v", err)
	}
	if _, err := b.List(Russian); !errors.Is(err, ErrNoLessons) {
		t.Errorf("List(ru) error %v, want ErrNoLessons", err)
	}
	if diff := cmp.Diff([]Lang{English}, b.Langs()); diff != "" {
		t.Errorf("Langs (-want +got):\n%s", diff)
	}
	fsys["en/untitled.md"] = &fstest.MapFile{Data: []byte("no heading\n")}
	if _, err := b.List(English); err == nil || !strings.Contains(err.Error(), "en/untitled.md: no title") {
		t.Errorf("an untitled lesson listed: %v", err)
	}
}

func TestLogFormat(t *testing.T) {
	for in, want := range map[string]string{
		"containerd://1.7.18": "CRI",
		"cri-o://1.30.2":      "CRI",
		"docker://27.4.0":     "json-file",
		"":                    "",
	} {
		if got := LogFormat(in); got != want {
			t.Errorf("LogFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLanguagesShareTheirRunnableBlocks: the end-to-end lesson runner
// runs the English lessons only; the Russian ones must mark the same
// blocks the same way, for every runtime.
func TestLanguagesShareTheirRunnableBlocks(t *testing.T) {
	for _, runtime := range []string{"containerd://1.7.18", "cri-o://1.30.4", "docker://27.4.0", ""} {
		v := sample
		v.Runtime = runtime
		for _, en := range lessonsIn(t, English) {
			ru, err := builtin(t).Lesson(Russian, en.ID)
			if err != nil {
				t.Fatal(err)
			}
			enMD, err := en.Personalise(v)
			if err != nil {
				t.Fatal(err)
			}
			ruMD, err := ru.Personalise(v)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Runnable(enMD), Runnable(ruMD)); diff != "" {
				t.Errorf("%s on %q: the languages run different blocks (-en +ru):\n%s", en.ID, runtime, diff)
			}
		}
	}
}

// TestCRIOPath: CRI-O gives containers neither SYS_CHROOT nor NET_RAW, and
// no CRI-O node runs in the end-to-end test. So here: the commands a
// student on CRI-O copies never chroot, the spec's produce line does not
// either, and the one debug container the lessons give CRI-O carries every
// capability the course needs.
func TestCRIOPath(t *testing.T) {
	v := sample
	v.Runtime = "cri-o://1.30.4"
	a := builtinSpec(t)
	for _, lang := range Langs {
		for _, l := range lessonsIn(t, lang) {
			md, err := l.Personalise(v)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range Runnable(md) {
				for _, line := range b.Lines {
					if strings.Contains(line, "chroot") {
						t.Errorf("%s/%s: a command run on CRI-O uses chroot: %s", lang, l.ID, line)
					}
				}
			}
			if s, ok := a.Step(l.ID); ok && strings.Contains(s.Produce.In(lang), "chroot") {
				t.Errorf("the spec's produce line of %s uses chroot: %s", l.ID, s.Produce.In(lang))
			}
		}
	}
	md, err := builtin(t).Lesson(English, "step-2")
	if err != nil {
		t.Fatal(err)
	}
	var custom string
	for _, line := range codeLines(t, md, v) {
		if strings.Contains(line, "> debug-caps.json") {
			custom = line
		}
	}
	for _, c := range []string{"SYS_PTRACE", "NET_RAW"} {
		if !strings.Contains(custom, `"`+c+`"`) {
			t.Errorf("the custom profile for CRI-O lacks %s: %q", c, custom)
		}
	}
	// The docker path is the one that needs chroot: the log is a link to
	// an absolute path on the node.
	v.Runtime = "docker://27.4.0"
	l, err := builtin(t).Lesson(English, "step-7")
	if err != nil {
		t.Fatal(err)
	}
	docker, err := l.Personalise(v)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(Runnable(docker), func(b Block) bool {
		return slices.ContainsFunc(b.Lines, func(s string) bool { return strings.Contains(s, "chroot /host") })
	}) {
		t.Error("on docker, step 7 does not read the log inside chroot /host")
	}
}

func TestRunnable(t *testing.T) {
	md := "# T\n\n```sh\nls\n```\n\n```sh {run}\n# a comment\nlab up\n\nlab status\n```\n\n" +
		"- item\n\n  ```sh {run background ready=\"listening on\" exit=\"130\"}\n  tcpdump -c 1 > answers/x.txt\n  ```\n"
	want := []Block{
		{Lines: []string{"lab up", "lab status"}},
		{Lines: []string{"tcpdump -c 1 > answers/x.txt"}, Background: true, Ready: "listening on", Exit: 130},
	}
	if diff := cmp.Diff(want, Runnable(md)); diff != "" {
		t.Errorf("Runnable (-want +got):\n%s", diff)
	}
}
