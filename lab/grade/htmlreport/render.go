package htmlreport

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/lab/grade"
)

// File is the page's name in lab grade's output folder.
const File = "report.html"

var (
	//go:embed report.html.tmpl
	pageTemplate string
	//go:embed style.css
	style string
	//go:embed script.js
	script string
)

// csp allows nothing but the page's own style and its one script (by
// hash): the page never reaches the network, and a name that slipped
// past escaping still could not run.
var csp = func() string {
	sum := sha256.Sum256([]byte(script))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// tmpl is parsed once; Write binds the language's words to a clone.
var tmpl = template.Must(template.New("page").Funcs(funcs(English, nil)).Parse(pageTemplate))

// view is what the template reads: the page and what only drawing needs.
type view struct {
	P          *Page
	CSP        string
	Style      template.CSS
	Script     template.JS
	GradedISO  string
	GradedText string
	Hist       histChart
	Rates      rateChart
}

// Write renders the page into w.
func Write(w io.Writer, p *Page) error {
	ids := make(map[string]string, len(p.Students))
	for i, st := range p.Students {
		ids[st.Name] = "s-" + strconv.Itoa(i)
	}
	t, err := tmpl.Clone()
	if err != nil {
		return err
	}
	t.Funcs(funcs(p.Lang, ids))
	v := view{P: p, CSP: csp, Style: template.CSS(style), Script: template.JS(script),
		GradedISO: p.Graded.Format("2006-01-02T15:04:05Z07:00"), GradedText: p.Graded.Format("2006-01-02 15:04 MST"),
		Hist: drawHistogram(p), Rates: drawRates(p)}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := t.Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteFile renders the page into the file name, replacing it.
func WriteFile(name string, p *Page) error {
	if dir := filepath.Dir(name); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating the folder for %s: %w", name, err)
		}
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	err = Write(f, p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// markView is how a step verdict shows in a student's row.
type markView struct{ Class, Sign string }

func funcs(lang Lang, ids map[string]string) template.FuncMap {
	w := words(lang)
	word := func(key string) string {
		if s, ok := w[key]; ok {
			return s
		}
		return key
	}
	status := func(s checks.Status) string { return word("status." + string(s)) }
	return template.FuncMap{
		"t":  word,
		"tf": func(key string, args ...any) string { return fmt.Sprintf(word(key), args...) },
		"num": func(f float64) string {
			return strconv.FormatFloat(f, 'f', -1, 64)
		},
		"lower":     strings.ToLower,
		"join":      strings.Join,
		"status":    status,
		"strength":  func(s string) string { return word("strength." + s) },
		"verStatus": func(s grade.VerificationStatus) string { return word("ver." + string(s)) },
		"graded":    func(s Step) int { return s.Passed + s.Failed + s.Errors },
		"share": func(n, of int) int {
			if of == 0 {
				return 0
			}
			return max(1, 100*n/of)
		},
		"labels": func(rs []Result, s checks.Status) []string {
			var out []string
			for _, r := range rs {
				if r.Status == s {
					out = append(out, r.Label)
				}
			}
			return out
		},
		"studentID": func(name string) string { return ids[name] },
		"flags": func(s Student) string {
			var f []string
			if s.Copy > 0 {
				f = append(f, "copy")
			}
			if s.Seed {
				f = append(f, "seed")
			}
			if len(s.Problems) > 0 {
				f = append(f, "problem")
			}
			return strings.Join(f, " ")
		},
		"marks": func(marks string) []markView {
			out := make([]markView, len(marks))
			for i := range len(marks) {
				switch marks[i] {
				case 'p':
					out[i] = markView{"pass", "✓"}
				case 'f':
					out[i] = markView{"fail", "✗"}
				case 'e':
					out[i] = markView{"error", "!"}
				default:
					out[i] = markView{"skip", "–"}
				}
			}
			return out
		},
	}
}

// The charts are drawn here rather than in the browser: the numbers are
// on the page before any script runs, and print as they show.

type histChart struct {
	W, H, BaseY, AxisY int
	Bars               []histBar
}

type histBar struct {
	X, Y, W, H, MidX, TextY int
	Count                   int
	Label, Title            string
}

func drawHistogram(p *Page) histChart {
	const w, h, top, bottom = 720, 220, 18, 24
	c := histChart{W: w, H: h, BaseY: h - bottom, AxisY: h - 6}
	n := len(p.Histogram)
	if n == 0 {
		return c
	}
	most := 1
	for _, b := range p.Histogram {
		most = max(most, b.Count)
	}
	slot := w / n
	gap := max(2, slot/8)
	words := words(p.Lang)
	for i, b := range p.Histogram {
		bh := (h - top - bottom) * b.Count / most
		if b.Count > 0 {
			bh = max(bh, 2)
		}
		lbl := strconv.Itoa(b.From)
		if b.To != b.From {
			lbl += "–" + strconv.Itoa(b.To)
		}
		x := i*slot + gap/2
		c.Bars = append(c.Bars, histBar{X: x, W: slot - gap, Y: h - bottom - bh, H: bh, MidX: x + (slot-gap)/2,
			TextY: h - bottom - bh - 4, Count: b.Count, Label: lbl, Title: fmt.Sprintf(words["histBar"], b.Count, lbl)})
	}
	return c
}

type rateChart struct {
	W, H, X, BarW, ValX int
	Bars                []rateBar
}

type rateBar struct {
	Y, W, H, TextY int
	Graded         bool
	Label, Value   string
	Title          string
}

func drawRates(p *Page) rateChart {
	const w, row, barH, labelW, valW = 720, 30, 20, 40, 150
	c := rateChart{W: w, H: max(row, row*len(p.Steps)), X: labelW, BarW: w - labelW - valW, ValX: w - valW + 8}
	words := words(p.Lang)
	for i, s := range p.Steps {
		y := i*row + (row-barH)/2
		b := rateBar{Y: y, H: barH, TextY: y + barH - 5, Graded: s.Graded, Label: s.Label}
		if s.Graded {
			graded := s.Passed + s.Failed + s.Errors
			b.W = c.BarW * s.PassRate / 100
			b.Value = fmt.Sprintf("%d%% (%d/%d)", s.PassRate, s.Passed, graded)
			b.Title = fmt.Sprintf(words["rateBar"], s.Label, s.Title, s.PassRate, s.Passed, graded)
		} else {
			b.Title = s.Label + " " + s.Title + ": " + words["liveOnly"]
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}
