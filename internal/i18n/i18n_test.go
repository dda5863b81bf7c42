package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/internal/golden"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Lang
	}{
		{"nothing set", nil, English},
		{"LANG ru", map[string]string{"LANG": "ru_RU.UTF-8"}, Russian},
		{"LANG en", map[string]string{"LANG": "en_US.UTF-8"}, English},
		{"LC_ALL wins over LANG", map[string]string{"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, English},
		{"LC_MESSAGES wins over LANG", map[string]string{"LC_MESSAGES": "ru_RU", "LANG": "de_DE.UTF-8"}, Russian},
		{"upper case", map[string]string{"LANG": "RU_ru"}, Russian},
		{"another language", map[string]string{"LANG": "de_DE.UTF-8"}, English},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("FromEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	ru := func(string) string { return "ru_RU.UTF-8" }
	tests := []struct {
		flag    string
		want    Lang
		wantErr string
	}{
		{"", Russian, ""},
		{"en", English, ""},
		{"RU", Russian, ""},
		{"de", "", "unknown language: de (want en or ru)"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			got, err := Resolve(tt.flag, ru)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("Resolve(%q) = %q, %q; want %q, %q", tt.flag, got, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	key := "(%d ephemeral containers, none with --target=%s)"
	tests := []struct {
		lang Lang
		n    int
		want string
	}{
		{English, 1, "(1 ephemeral container, not with --target=nginx)"},
		{English, 2, "(2 ephemeral containers, none with --target=nginx)"},
		{Russian, 1, "(1 эфемерный контейнер, но не с --target=nginx)"},
		{Russian, 2, "(2 эфемерных контейнера, ни одного с --target=nginx)"},
		{Russian, 5, "(5 эфемерных контейнеров, ни одного с --target=nginx)"},
		{Russian, 11, "(11 эфемерных контейнеров, ни одного с --target=nginx)"},
		{Russian, 21, "(21 эфемерный контейнер, но не с --target=nginx)"},
		{Russian, 24, "(24 эфемерных контейнера, ни одного с --target=nginx)"},
		{Russian, 1012, "(1012 эфемерных контейнеров, ни одного с --target=nginx)"},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+"/"+strconv.Itoa(tt.n), func(t *testing.T) {
			if got := For(tt.lang).Sprintf(key, tt.n, "nginx"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// "1 шаг, 2 шага, 5 шагов": one, few and many, as CLDR has them.
	failed := map[int]string{
		1: "1 запрос не прошёл", 2: "2 запроса не прошли", 4: "4 запроса не прошли", 5: "5 запросов не прошли",
		11: "11 запросов не прошли", 12: "12 запросов не прошли", 21: "21 запрос не прошёл", 101: "101 запрос не прошёл", 0: "0 запросов не прошли",
	}
	for n, want := range failed {
		if got := For(Russian).Sprintf("%d requests failed", n); got != want {
			t.Errorf("%d: got %q, want %q", n, got, want)
		}
	}
	if got := For(English).Sprintf("%d requests failed", 1); got != "1 request failed" {
		t.Errorf("English one: %q", got)
	}
}

// Numbers are digits: a port or a PID grouped as "8 080" would be wrong.
func TestDigits(t *testing.T) {
	for _, l := range Langs {
		if got := For(l).Sprintf("closest line %d (-want +got):", 12345); !strings.Contains(got, "12345") {
			t.Errorf("%s: %q groups the number", l, got)
		}
	}
	if got, want := For(Russian).Sprintf("not in the catalog %d", 8080), "not in the catalog 8080"; got != want {
		t.Errorf("a key outside the catalog: got %q, want %q", got, want)
	}
}

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs lists a format's verbs in argument order, whatever the explicit
// indexes a translation reorders them with.
func verbs(format string) []string {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(format, -1) {
		v := m[0]
		if strings.HasSuffix(v, "%") {
			continue
		}
		i := next
		if m[1] != "" {
			i, _ = strconv.Atoi(m[1][1 : len(m[1])-1])
		}
		next = i + 1
		letter := v[len(v)-1:]
		out = append(out, strconv.Itoa(i)+letter)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func hasCyrillic(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) >= 0
}

// TestCatalog: every message has its Russian, the Russian is Russian (not
// the English left in place), and it formats the same arguments.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.key] {
			t.Errorf("%q is in the catalog twice", e.key)
		}
		seen[e.key] = true
		want := verbs(e.key)
		texts := []string{e.ru}
		if e.plural != nil {
			texts = append(e.plural.en[:], e.plural.ru[:]...)
			if e.plural.arg < 1 || e.plural.arg > len(want) {
				t.Errorf("%q: plural argument %d is not one of its %d", e.key, e.plural.arg, len(want))
			}
		}
		for i, s := range texts {
			russian := e.plural == nil || i >= 2
			if russian && !hasCyrillic(s) {
				t.Errorf("%q: no Russian (%q)", e.key, s)
			}
			if got := verbs(s); !cmp.Equal(want, got) {
				t.Errorf("%q: %q formats %v, the key %v", e.key, s, got, want)
			}
		}
	}
}

// root is the module's root, from this package's folder.
const root = "../.."

// TestCallSitesInCatalog: every message a call site passes to a Printer
// (p.Sprintf("…")) or to usageError is in the catalog, so that no message
// silently stays English.
func TestCallSitesInCatalog(t *testing.T) {
	walkSources(t, func(file string, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			arg := -1
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); fn.Sel.Name == "Sprintf" && (!ok || x.Name != "fmt") {
					arg = 0
				}
			case *ast.Ident:
				if fn.Name == "usageError" {
					arg = 1
				}
			}
			if arg < 0 || len(call.Args) <= arg {
				return true
			}
			lit, ok := call.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			if !seenKey(key) {
				t.Errorf("%s: %q is not in the catalog (internal/i18n/messages.go)", file, key)
			}
			return true
		})
	})
}

func seenKey(key string) bool {
	return slices.ContainsFunc(entries, func(e entry) bool { return e.key == key })
}

// backlogDirs are the packages whose words reach people; parsers and the
// e2e harness are not among them.
var backlogDirs = []string{"checks", "lab", "lessons", "cmd"}

var words = regexp.MustCompile(`[A-Za-z]{3,} [A-Za-z]{2,}`)

// TestBacklog keeps testdata/backlog.txt: the messages still printed in
// English only (format strings given to fmt.Fprintf, fmt.Sprintf,
// fmt.Errorf, usageErrorf and the like, outside the catalog; some are for
// logs at -v or for machines, and stay). A new English-only
// message fails the test: put it in the catalog (or, knowingly, in the
// backlog with -update); a message moved into the catalog leaves the list
// with -update.
func TestBacklog(t *testing.T) {
	printers := map[string]int{
		"fmt.Fprintf": 1, "fmt.Fprintln": 1, "fmt.Fprint": 1, "fmt.Printf": 0, "fmt.Println": 0,
		"fmt.Errorf": 0, "errors.New": 0, "usageErrorf": 0, "fmt.Sprintf": 0,
	}
	var lines []string
	walkSources(t, func(file string, f *ast.File) {
		if !slices.ContainsFunc(backlogDirs, func(d string) bool { return strings.HasPrefix(file, d+"/") }) ||
			strings.Contains(file, "/parse/") || strings.HasPrefix(file, "lab/cluster/kindtest") {
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := ""
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok {
					name = x.Name + "." + fn.Sel.Name
				}
			case *ast.Ident:
				name = fn.Name
			}
			arg, ok := printers[name]
			if !ok || len(call.Args) <= arg {
				return true
			}
			lit, ok := call.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			if words.MatchString(s) {
				lines = append(lines, file+": "+strconv.Quote(s))
			}
			return true
		})
	})
	slices.Sort(lines)
	lines = slices.Compact(lines)
	golden.Check(t, "testdata/backlog.txt", strings.Join(lines, "\n")+"\n")
}

// walkSources parses every non-test Go file of the module.
func walkSources(t *testing.T, fn func(file string, f *ast.File)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "test") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fn(filepath.ToSlash(rel), f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
