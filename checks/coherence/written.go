package coherence

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The rules in this file judge one file: does it look captured at all?

//go:embed nginx-conf-sizes.txt
var sizesText []byte

// SizeRange is the sizes one stock nginx file may have; Max < 0 means no
// upper bound.
type SizeRange struct {
	Min, Max int64
}

// StockSizes are the ranges of nginx-conf-sizes.txt by file name.
var StockSizes = mustParseSizes(sizesText)

func mustParseSizes(b []byte) map[string]SizeRange {
	m, err := ParseSizes(b)
	if err != nil {
		panic("coherence: nginx-conf-sizes.txt: " + err.Error()) // embedded: a test reads it
	}
	return m
}

// ParseSizes reads "name min max # comment" lines; "-" as max means no
// upper bound.
func ParseSizes(b []byte) (map[string]SizeRange, error) {
	out := map[string]SizeRange{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want name, min and max, got %q", n, line)
		}
		lo, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: min: %v", n, err)
		}
		hi := int64(-1)
		if f[2] != "-" {
			if hi, err = strconv.ParseInt(f[2], 10, 64); err != nil || hi < lo {
				return nil, fmt.Errorf("line %d: max %q is not a size of at least %d", n, f[2], lo)
			}
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", n, f[0])
		}
		out[f[0]] = SizeRange{lo, hi}
	}
	return out, sc.Err()
}

// stockSizes: a listing of nginx's conf directory whose stock files have
// sizes no nginx release ships was written, not captured. It judges only
// a listing that holds at least three stock names: /etc itself may hold a
// mime.types of another package.
func stockSizes(a Answer) []Disagreement {
	var stock, bad []string
	for _, v := range a.Facts.Get("entry.size").Values {
		name, size, _ := strings.Cut(v, "=")
		r, ok := StockSizes[name]
		if !ok {
			continue
		}
		stock = append(stock, name)
		lo, hi, ok := sizeBounds(size)
		if !ok {
			continue // a size ls printed in a way this does not read
		}
		if hi < r.Min || r.Max >= 0 && lo > r.Max {
			bad = append(bad, fmt.Sprintf("%s is %s bytes (nginx ships %s)", name, size, r))
		}
	}
	if len(stock) < 3 || len(bad) == 0 {
		return nil
	}
	return []Disagreement{{
		Rule:    RuleStockSizes,
		Steps:   []string{a.Step},
		Message: fmt.Sprintf("%s lists nginx's files with sizes no nginx release ships: %s; this listing was not captured from the pod", a.Step, strings.Join(firstN(bad, 3), "; ")),
		Hint:    "save what ls -la /proc/<nginx master PID>/root/etc/nginx/ prints in the debug container, unedited",
	}}
}

// String writes the range for messages.
func (r SizeRange) String() string {
	if r.Max < 0 {
		return fmt.Sprintf("at least %d", r.Min)
	}
	return fmt.Sprintf("%d to %d", r.Min, r.Max)
}

// sizeBounds reads a size as ls prints it: bytes ("2837"), or -h's
// "2.8K"/"5M", which stands for a range because of rounding (GNU rounds
// up, BusyBox to the nearest).
func sizeBounds(s string) (lo, hi int64, ok bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, n, true
	}
	if len(s) < 2 {
		return 0, 0, false
	}
	unit := map[byte]float64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'k': 1000}[s[len(s)-1]]
	if unit == 0 {
		return 0, 0, false
	}
	v, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil || v < 0 {
		return 0, 0, false
	}
	step := 1.0 // the last digit printed
	if i := strings.IndexByte(s, '.'); i >= 0 {
		step = math.Pow(10, -float64(len(s)-2-i))
	}
	return int64(math.Floor((v - step) * unit)), int64(math.Ceil((v + step) * unit)), true
}

// straceAccepts: the process that accepts connections is an nginx worker.
// PID 1 is /pause in a pod that shares its PID namespace, and the nginx
// master in one that does not; a master with workers only waits in
// rt_sigsuspend and never accepts. A trace that shows either was written.
func straceAccepts(a Answer) []Disagreement {
	accepts := a.Facts.Get("accept.pid").Values
	if len(accepts) == 0 {
		return nil
	}
	hint := "attach strace to the nginx worker (ps shows \"nginx: worker process\", or the nginx process whose parent is the master) while lab traffic runs, and save what it prints"
	if slices.Contains(accepts, "1") {
		return []Disagreement{{
			Rule:    RulePID1Accepts,
			Steps:   []string{a.Step},
			Message: a.Step + " shows PID 1 accepting connections: PID 1 is /pause in this pod (it shares its PID namespace), or the nginx master in a pod that does not, and neither ever accepts; this trace was not captured",
			Hint:    hint,
		}}
	}
	for _, pid := range a.Facts.Get("rt_sigsuspend.pid").Values {
		if slices.Contains(accepts, pid) {
			return []Disagreement{{
				Rule:    RuleMasterAccept,
				Steps:   []string{a.Step},
				Message: fmt.Sprintf("%s shows PID %s both waiting in rt_sigsuspend, as the nginx master does, and accepting connections, as only a worker does; one nginx process never does both, so this trace was not captured", a.Step, pid),
				Hint:    hint,
			}}
		}
	}
	return nil
}
