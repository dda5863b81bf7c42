package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/state"
	"github.com/k8s-debug-lab/lab/lab/traffic"
	"github.com/k8s-debug-lab/lab/lab/version"
)

// trafficOptions are lab traffic's flags.
type trafficOptions struct {
	streams Streams
	globals *globals
	kf      kubeconfigFlags
	lf      labFlag

	count  int
	rate   float64
	via    string
	output string
	yes    bool

	v   traffic.Via
	lab *labfolder.Lab
}

// Defaults of lab traffic: slow enough that a student watching tcpdump or
// strace sees each request go by, done in two seconds.
const (
	defaultTrafficCount = 10
	defaultTrafficRate  = 5
	// trafficRequestTimeout bounds one request.
	trafficRequestTimeout = 10 * time.Second
)

func newTrafficCmd(streams Streams, g *globals) *cobra.Command {
	o := &trafficOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "traffic",
		Short: "Send HTTP requests to the lab's nginx (port-forward and an in-cluster pod)",
		Long: `Send the requests that tcpdump, strace and the log files must show.

Every request asks for /?lab=<nonce>, where the nonce is this lab's own
(kept in the state file under ~/.local/state/lab, one per context and
namespace), with the User-Agent lab-traffic/<version>. lab check compares
the nonce in your captures with this one, so an answer captured on another
cluster fails.

  --via port-forward   from this machine through a port-forward to the pod
                       (a random port on 127.0.0.1; nginx sees 127.0.0.1)
  --via pod            from a client pod (curlimages/curl) that asks for the
                       Service by name: http://nginx-distroless.<ns>.svc.cluster.local/
                       (nginx sees the client pod's IP)
  --via both           both at once (the default)

The client pod is deleted when lab traffic ends, also on Ctrl-C. A lost
port-forward is re-established. Progress is shown on a terminal; the summary
(sent, ok, failed, p50/p99 latency) goes to stdout, as JSON with -o json.

Exit codes: 0 every request was answered, 1 a request failed or the lab is
not deployed or not Ready, 2 usage error or a refused context, 3 the cluster
could not be reached.`,
		Example: `  lab traffic
  lab traffic --via pod --count 50 --rate 10
  lab traffic --via port-forward -o json | jq .runs`,
		Args: cobra.NoArgs,
		RunE: runOptions(o),
	}
	o.kf.addTo(cmd)
	o.lf.addTo(cmd)
	f := cmd.Flags()
	f.IntVar(&o.count, "count", defaultTrafficCount, "requests to send each way")
	f.Float64Var(&o.rate, "rate", defaultTrafficRate, "requests per second each way (0: as fast as nginx answers)")
	f.StringVar(&o.via, "via", string(traffic.Both), "port-forward, pod or both")
	addOutputFlag(cmd, &o.output, "summary")
	f.BoolVar(&o.yes, "yes", false, "confirm a context whose API server is not on this machine (with --context)")
	_ = cmd.RegisterFlagCompletionFunc("via", completeChoices(traffic.Vias))
	return cmd
}

func (o *trafficOptions) complete() error {
	v, err := traffic.ParseVia(o.via)
	if err != nil {
		return usageErrorf("%v", err)
	}
	o.v = v
	o.lab, err = o.lf.load()
	return err
}

func (o *trafficOptions) validate() error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	// The nonce is checked once the state is read; the rest now, before
	// any connection.
	if err := (traffic.Options{Count: o.count, Rate: o.rate, Nonce: "-"}).Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

// trafficReport is lab traffic's summary; with -o json it is all of stdout.
type trafficReport struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Context    string `json:"context"`
	Namespace  string `json:"namespace"`
	Nonce      string `json:"nonce"`
	// Path is what every request asked for.
	Path      string `json:"path"`
	UserAgent string `json:"userAgent"`
	// Service is what the client pod requested.
	Service    string       `json:"service,omitempty"`
	ClientPod  string       `json:"clientPod,omitempty"`
	Runs       []trafficRun `json:"runs"`
	Reconnects int          `json:"reconnects"`
	Start      time.Time    `json:"start"`
	End        time.Time    `json:"end"`
	// Error says why a way could not send, or that the run was interrupted.
	Error string `json:"error,omitempty"`
}

type trafficRun struct {
	Via    traffic.Via `json:"via"`
	Source string      `json:"source,omitempty"`
	// Server is the Server header the answers carried.
	Server string         `json:"server,omitempty"`
	Sent   int            `json:"sent"`
	OK     int            `json:"ok"`
	Failed int            `json:"failed"`
	P50Ms  float64        `json:"p50Ms"`
	P99Ms  float64        `json:"p99Ms"`
	Errors map[string]int `json:"errors,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (o *trafficOptions) run(ctx context.Context) error {
	s := newSession(o.streams, o.globals, &o.kf, o.lab)
	log := s.log
	defer log.Done()
	conn, err := s.openLab(ctx, o.yes)
	if err != nil {
		return err
	}
	st := conn.state
	tc := conn.trafficCluster(log)
	tc.Progress = newTrafficProgress(log, o.v, o.count).update
	rep, sendErr := sendTraffic(ctx, tc, st, o.v, o.count, o.rate)
	if err := st.Save(conn.statePath); err != nil {
		sendErr = errors.Join(sendErr, err)
	}
	log.Done()
	rep.Context, rep.Namespace = conn.target.Context, conn.target.Namespace
	return o.report(rep, sendErr)
}

// sendTraffic runs lab/traffic against the lab and remembers the run in
// the state (saving is the caller's). lab solve sends its traffic this
// way too, so that lab check knows where it came from.
func sendTraffic(ctx context.Context, tc traffic.Cluster, st *state.Lab, via traffic.Via, count int, rate float64) (*trafficReport, error) {
	opts := traffic.Options{
		Count: count, Rate: rate, Nonce: st.Nonce,
		UserAgent: "lab-traffic/" + version.String(), Timeout: trafficRequestTimeout,
	}
	res, err := traffic.Send(ctx, tc, via, opts)
	rep := &trafficReport{
		APIVersion: "lab/v1", Kind: "Traffic", Nonce: st.Nonce, Path: opts.Path(), UserAgent: opts.UserAgent,
		ClientPod: res.ClientPod, Reconnects: res.Reconnects, Start: res.Start, End: res.End, Runs: []trafficRun{},
	}
	if via != traffic.PortForward {
		rep.Service = traffic.ServiceURL(tc.Service, tc.Namespace, tc.Port)
	}
	for _, s := range res.Summaries {
		st.AddRun(state.Run{Via: string(s.Via), Start: res.Start.UTC(), End: res.End.UTC(), Sent: s.Sent, OK: s.OK, Source: s.Source, Server: s.Server})
		rep.Runs = append(rep.Runs, trafficRun{
			Via: s.Via, Source: s.Source, Server: s.Server, Sent: s.Sent, OK: s.OK, Failed: s.Failed,
			P50Ms: ms(s.P50), P99Ms: ms(s.P99), Errors: s.Errors,
		})
	}
	if ctx.Err() != nil {
		// What the ways said is only the cancellation; a client pod left
		// behind is what the user must still hear about.
		var cleanup *traffic.CleanupError
		if errors.As(err, &cleanup) {
			err = fmt.Errorf("interrupted; %w", cleanup)
		} else {
			err = errors.New("interrupted")
		}
	}
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

func (o *trafficOptions) report(rep *trafficReport, sendErr error) error {
	failed := 0
	for _, r := range rep.Runs {
		failed += r.Failed
	}
	if o.output == outputJSON {
		if err := writeJSON(o.streams.Out, rep); err != nil {
			return err
		}
	} else {
		writeTrafficText(o.streams.Out, o.globals.printer(), rep)
	}
	switch {
	case sendErr != nil && kube.LostCluster(sendErr):
		return &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w\nthe cluster stopped answering; lab status says when it is back", sendErr)}
	case sendErr != nil:
		return &ExitError{Code: ExitFailed, Err: sendErr}
	case failed > 0:
		return &ExitError{Code: ExitFailed, Err: errors.New(o.globals.printer().Sprintf("%d requests failed", failed))}
	}
	return nil
}

func writeTrafficText(w io.Writer, p *i18n.Printer, rep *trafficReport) {
	for _, r := range rep.Runs {
		s := traffic.Summary{Via: r.Via, Sent: r.Sent, OK: r.OK, Failed: r.Failed,
			P50: time.Duration(r.P50Ms * float64(time.Millisecond)), P99: time.Duration(r.P99Ms * float64(time.Millisecond)), Errors: r.Errors}
		from := p.Sprintf("from %s", r.Source)
		if r.Source == "" {
			from = p.Sprintf("source unknown")
		}
		if r.Via == traffic.Pod && rep.ClientPod != "" {
			from += ", " + p.Sprintf("client pod %s", rep.ClientPod)
		}
		if r.Server != "" {
			from += ", " + p.Sprintf("answered by %s", r.Server)
		}
		fmt.Fprintf(w, "%s (%s)\n", s.In(p), from)
	}
	fmt.Fprintln(w, p.Sprintf("every request: GET %s, User-Agent %s", rep.Path, rep.UserAgent))
	if rep.Reconnects > 0 {
		fmt.Fprintln(w, p.Sprintf("the port-forward was lost and re-established %d times", rep.Reconnects))
	}
}

// trafficProgress draws the progress line: one count per way. Only a
// terminal gets it; a log gets the summary alone.
type trafficProgress struct {
	log   *progress
	mu    sync.Mutex
	done  map[traffic.Via]int
	ways  []traffic.Via
	total int
}

func newTrafficProgress(log *progress, via traffic.Via, total int) *trafficProgress {
	ways := []traffic.Via{via}
	if via == traffic.Both {
		ways = []traffic.Via{traffic.PortForward, traffic.Pod}
	}
	return &trafficProgress{log: log, done: map[traffic.Via]int{}, ways: ways, total: total}
}

func (p *trafficProgress) update(via traffic.Via, done, total int) {
	if !p.log.tty {
		return
	}
	p.mu.Lock()
	p.done[via] = done
	parts := make([]string, len(p.ways))
	for i, w := range p.ways {
		parts[i] = fmt.Sprintf("%s %d/%d", w, p.done[w], p.total)
	}
	p.mu.Unlock()
	p.log.Status("sending requests: " + strings.Join(parts, " · "))
}

// compile-time check that the real port-forward fits lab/traffic.
var _ traffic.Forwarder = (*kube.Forward)(nil)
