package htmlreport_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/grade/htmlreport"
)

// maxPageBytes is the size the page of 1,000 students must stay under: an
// instructor mails it, uploads it to a course site, opens it on a laptop.
const maxPageBytes = 3 << 20

// chromium finds Debian's chromium (or another Chrome) for the browser
// tests. Without one they skip, unless LAB_BROWSER_REQUIRED=1 (CI) makes
// that a failure.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("LAB_BROWSER_REQUIRED") == "1" {
		t.Fatal("no chromium on PATH and LAB_BROWSER_REQUIRED=1: install it with apt-get install -y chromium fonts-dejavu-core")
	}
	t.Skip("no chromium on PATH: the report is not checked in a browser (apt-get install -y chromium fonts-dejavu-core; LAB_BROWSER_REQUIRED=1 makes this a failure)")
	return ""
}

// browser starts a headless chromium for the test and returns a tab.
func browser(t testing.TB, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.WindowSize(1280, 1600),
		// As root (CI, containers) chromium refuses to start sandboxed.
		chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// artifacts is where the browser test leaves the page and its
// screenshots for a person to look at: $LAB_ARTIFACTS, or a new folder
// under the system's temporary folder. Nothing there is committed.
func artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LAB_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "lab-report-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// classPage grades a generated class of n students (and the hostile
// names) and writes its page into dir.
func classPage(t testing.TB, n int, dir string) (*grade.Class, string) {
	t.Helper()
	c := gradedClass(t, n, t.TempDir())
	name := filepath.Join(dir, htmlreport.File)
	if err := htmlreport.WriteFile(name, htmlreport.Build(c, htmlreport.English)); err != nil {
		t.Fatal(err)
	}
	return c, name
}

// TestBrowser opens the page of a class of 1,000 in a real headless
// chromium, from disk: nothing on the console, the charts and every
// student there, and the table's sort, filter and keyboard working.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test grades a class of 1,000 and starts chromium")
	}
	if raceEnabled {
		t.Skip("skipped under -race (it slows grading a class of 1,000 several-fold and checks nothing in a browser); make test runs it again without -race")
	}
	exe := chromium(t)
	out := artifacts(t)
	start := time.Now()
	lap := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	c, name := classPage(t, 1000, out)
	lap("graded")
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d students: %s is %.2f MB; screenshots beside it", len(c.Students), name, float64(fi.Size())/(1<<20))
	if fi.Size() >= maxPageBytes {
		t.Errorf("the page of %d students is %d bytes, want under %d", len(c.Students), fi.Size(), maxPageBytes)
	}

	ctx := browser(t, exe)
	// Every message the page leaves on the console, CSP refusals and
	// failed loads (the browser log) included.
	var mu sync.Mutex
	var console []string
	if err := chromedp.Do(ctx); err != nil { // the tab exists from here on
		t.Fatalf("starting %s: %v", exe, err)
	}
	lap("browser up")
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				mu.Lock()
				console = append(console, m.String())
				mu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+name), chromedp.WaitReady(chromedp.CSS("#rows"))); err != nil {
		t.Fatalf("opening the page: %v", err)
	}

	lap("opened")
	eval := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	visible := `Array.prototype.filter.call(document.querySelectorAll("#rows > details.row"), function (r) { return r.offsetParent !== null }).length`
	p := htmlreport.Build(c, htmlreport.English)
	graded := 0
	for _, s := range p.Steps {
		if s.Graded {
			graded++
		}
	}
	for _, tc := range []struct {
		what string
		js   string
		want int
	}{
		{"histogram bars", `document.querySelectorAll("#histogram svg g.bar rect").length`, len(p.Histogram)},
		{"drawn histogram bars (not zero-sized)", `Array.prototype.filter.call(document.querySelectorAll("#histogram svg g.bar rect"), function (r) { return r.getBBox().height > 0 }).length`, nonEmptyBins(p)},
		{"pass-rate bars", `document.querySelectorAll("#steps svg g.rate:not(.skipped)").length`, graded},
		{"student rows", `document.querySelectorAll("#rows > details.row").length`, len(c.Students)},
		{"visible student rows", visible, len(c.Students)},
		{"scripts run (one)", `document.scripts.length`, 1},
	} {
		if got := eval(tc.js); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.what, got, tc.want)
		}
	}
	var names []string
	names, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll("#rows .name"), function (e) { return e.textContent })`))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, st := range c.Students {
		want = append(want, st.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("the rows name %d students, not the class's %d (first %q)", len(names), len(want), names[:min(3, len(names))])
	}
	for _, h := range hostile {
		if !slices.Contains(names, h) {
			t.Errorf("%q is not shown as text", h)
		}
	}
	if err := shot(ctx, filepath.Join(out, "report-top.png")); err != nil {
		t.Error(err)
	}

	lap("checked")
	// Sort by points: the best first, then (again) the worst first.
	points := func() []int {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`Array.prototype.map.call(document.querySelectorAll("#rows > details.row"), function (r) { return +r.getAttribute("data-points") })`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.sort[data-key="points"]`))); err != nil {
		t.Fatal(err)
	}
	if got := points(); !slices.IsSortedFunc(got, func(a, b int) int { return b - a }) || got[0] != p.Numbers.Max {
		t.Errorf("sorted by points: starts %v, want the highest (%d) first, descending", got[:5], p.Numbers.Max)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.sort[data-key="points"]`))); err != nil {
		t.Fatal(err)
	}
	if got := points(); !slices.IsSorted(got) || got[0] != p.Numbers.Min {
		t.Errorf("sorted again: starts %v, want the lowest (%d) first, ascending", got[:5], p.Numbers.Min)
	}

	lap("sorted")
	// Filter: one student by name, then everyone who failed step-3.
	one := c.Students[len(c.Students)/2].Name
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#f-name"), one)); err != nil {
		t.Fatal(err)
	}
	if got := eval(visible); got != 1 {
		t.Errorf("filtered by %q: %d rows shown, want 1", one, got)
	}
	shown, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#shown")))
	if err != nil || shown != fmt.Sprintf("1 of %d students shown", len(c.Students)) {
		t.Errorf("the count says %q (%v)", shown, err)
	}
	step := slices.IndexFunc(p.Steps, func(s htmlreport.Step) bool { return s.ID == "step-3" })
	// As a person would choose them; a select takes no typed keys.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function () {
		document.getElementById("f-name").value = "";
		document.getElementById("f-step").value = "%d";
		var s = document.getElementById("f-status");
		s.value = "f";
		s.dispatchEvent(new Event("change"));
	})()`, step))); err != nil {
		t.Fatal(err)
	}
	if got, want := eval(visible), p.Steps[step].Failed; got != want || want == 0 {
		t.Errorf("filtered to step-3 failed: %d rows shown, want %d", got, want)
	}

	lap("filtered")
	// The keyboard opens a student's report: Tab reaches the summary,
	// Enter opens it.
	first := `document.querySelector("#rows > details.row:not([hidden])")`
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](first+`.querySelector("summary").focus()`),
		chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if eval(first+`.open ? 1 : 0`) != 1 {
		t.Error("Enter on a student's row did not open the report")
	}
	if eval(first+`.querySelectorAll(".results li").length`) == 0 {
		t.Error("the opened report lists no failed step")
	}
	if err := shot(ctx, filepath.Join(out, "report-filtered.png")); err != nil {
		t.Error(err)
	}

	// A link from a reason to a student opens that student's row, even
	// one the filter hides.
	hidden := eval(`(function () { var r = document.querySelector("#rows > details.row[hidden]"); return r ? +r.id.slice(2) : -1 })()`)
	if hidden < 0 {
		t.Fatal("the filter hid no row")
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = "#s-%d"`, hidden)), chromedp.Sleep(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if eval(fmt.Sprintf(`(function () { var r = document.getElementById("s-%d"); return !r.hidden && r.open ? 1 : 0 })()`, hidden)) != 1 {
		t.Errorf("a link to #s-%d did not show and open the row", hidden)
	}

	// Dark by the system's setting, and print without the controls.
	media := func(typ, scheme string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: typ,
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		})
	}
	background := `getComputedStyle(document.body).backgroundColor`
	for _, tc := range []struct{ typ, scheme, want, shot string }{
		{"", "dark", "rgb(13, 17, 23)", "report-dark.png"},
		{"", "light", "rgb(255, 255, 255)", ""},
	} {
		if err := chromedp.Do(ctx, media(tc.typ, tc.scheme)); err != nil {
			t.Fatal(err)
		}
		bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](background))
		if err != nil || bg != tc.want {
			t.Errorf("prefers-color-scheme %s: background %q (%v), want %q", tc.scheme, bg, err, tc.want)
		}
		if tc.shot != "" {
			if err := shot(ctx, filepath.Join(out, tc.shot)); err != nil {
				t.Error(err)
			}
		}
	}
	if err := chromedp.Do(ctx, media("print", "light")); err != nil {
		t.Fatal(err)
	}
	if eval(`document.querySelector(".filters").offsetParent === null && document.querySelector("nav").offsetParent === null ? 1 : 0`) != 1 {
		t.Error("printing shows the filters and the navigation")
	}

	if err := chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond)); err != nil { // late console messages
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(console) > 0 {
		t.Errorf("the console says:\n%s", strings.Join(console, "\n"))
	}
}

func nonEmptyBins(p *htmlreport.Page) int {
	n := 0
	for _, b := range p.Histogram {
		if b.Count > 0 {
			n++
		}
	}
	return n
}

func shot(ctx context.Context, name string) error {
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return os.WriteFile(name, png, 0o644)
}

// paint is when the browser first painted the page, and loaded it, in
// milliseconds from the start of the navigation.
type paint struct {
	First       float64 `json:"first"`
	Contentful  float64 `json:"contentful"`
	DOMContent  float64 `json:"domContent"`
	Load        float64 `json:"load"`
	Interactive float64 `json:"interactive"`
}

// paintTimes waits for the first contentful paint and the load event.
const paintTimes = `new Promise(function (resolve) {
  (function check() {
    var fp = performance.getEntriesByName("first-paint")[0], fcp = performance.getEntriesByName("first-contentful-paint")[0];
    var nav = performance.getEntriesByType("navigation")[0];
    if (fcp && nav && nav.loadEventEnd > 0) {
      resolve({first: fp ? fp.startTime : fcp.startTime, contentful: fcp.startTime, domContent: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, interactive: nav.domInteractive});
      return;
    }
    setTimeout(check, 10);
  })();
})`

// BenchmarkReportFirstPaint opens the page of a class of 1,000 from disk
// in a headless chromium, a new tab each time, and reports the time to
// the first paint and to the load event (ms, averages over b.N). It is
// measured, not a target; bench/report prints it with the page's size.
func BenchmarkReportFirstPaint(b *testing.B) {
	exe := chromium(b)
	_, name := classPage(b, 1000, b.TempDir())
	fi, err := os.Stat(name)
	if err != nil {
		b.Fatal(err)
	}
	ctx := browser(b, exe)
	if err := chromedp.Do(ctx); err != nil {
		b.Fatalf("starting %s: %v", exe, err)
	}
	var sum paint
	b.ResetTimer()
	for b.Loop() {
		tab, cancel := chromedp.NewContext(ctx)
		if err := chromedp.Do(tab, chromedp.Navigate("file://"+name)); err != nil {
			b.Fatal(err)
		}
		p, err := chromedp.Run(tab, chromedp.Evaluate[paint](paintTimes, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		cancel()
		sum.First += p.First
		sum.Contentful += p.Contentful
		sum.Interactive += p.Interactive
		sum.DOMContent += p.DOMContent
		sum.Load += p.Load
	}
	n := float64(b.N)
	b.ReportMetric(sum.First/n, "ms-first-paint")
	b.ReportMetric(sum.Contentful/n, "ms-first-contentful-paint")
	b.ReportMetric(sum.Interactive/n, "ms-dom-interactive")
	b.ReportMetric(sum.Load/n, "ms-load")
	b.ReportMetric(float64(fi.Size())/(1<<20), "MB-page")
}
