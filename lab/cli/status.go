package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// statusOptions are lab status's flags.
type statusOptions struct {
	streams Streams
	globals *globals
	kf      kubeconfigFlags
	pf      providerFlags
	output  string

	lf labFlag
	s  *session
}

// labStatus is lab status's report; with -o json it is the whole of stdout.
type labStatus struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Provider   string `json:"provider"`
	Context    string `json:"context,omitempty"`
	Server     string `json:"server,omitempty"`
	Namespace  string `json:"namespace"`
	// Ready is true when the pod exists and is Ready.
	Ready bool `json:"ready"`
	// Problem says what is not right, when Ready is false.
	Problem string          `json:"problem,omitempty"`
	Node    *kube.NodeFacts `json:"node,omitempty"`
	// LogFormat describes the node's pod log files for people.
	LogFormat string         `json:"logFormatDescription,omitempty"`
	Pod       *kube.PodFacts `json:"pod,omitempty"`
	Service   *serviceFacts  `json:"service,omitempty"`
}

type serviceFacts struct {
	Name      string `json:"name"`
	ClusterIP string `json:"clusterIP"`
	Port      int32  `json:"port"`
	Managed   bool   `json:"managed"`
}

func newStatusCmd(streams Streams, g *globals) *cobra.Command {
	o := &statusOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the lab: cluster, node, runtime, pod, debug containers",
		Long: `Show where the lab runs and what the assignment's commands need to know:
the provider, context and API server; the node, its container runtime and
the log format that implies (containerd and CRI-O write CRI lines; docker
through cri-dockerd writes json-file logs behind a symlink); the pod's
phase, IP, UID and its log folder on the node; and the ephemeral debug
containers already added to it, with their target and the kubectl debug
profile their securityContext suggests (SYS_PTRACE means general).

It only reads. Exit codes: 0 the lab is ready, 1 it is not (not deployed,
not Ready, no cluster yet), 2 usage error, 3 the cluster could not be reached.`,
		Example: `  lab status
  lab status -o json | jq -r .pod.logDir`,
		Args: cobra.NoArgs,
		RunE: runOptions(o),
	}
	o.kf.addTo(cmd)
	o.pf.addTo(cmd)
	o.lf.addTo(cmd)
	addOutputFlag(cmd, &o.output, "report")
	return cmd
}

func (o *statusOptions) complete() error {
	var err error
	if o.s, err = newClusterSession(o.streams, o.globals, &o.kf, &o.pf, &o.lf); err != nil {
		return err
	}
	return nil
}

func (o *statusOptions) validate() error {
	return validateOutput(o.output)
}

func (o *statusOptions) run(ctx context.Context) error {
	s := o.s
	defer s.log.Done()
	if err := s.choose(ctx); err != nil {
		return err
	}
	st := &labStatus{APIVersion: "lab/v1", Kind: "Status", Provider: string(s.prov.Name()), Namespace: o.kf.options().Namespace}
	if st.Namespace == "" {
		st.Namespace = kube.DefaultNamespace
	}
	t, err := s.prov.Target(ctx)
	if errors.Is(err, cluster.ErrNoCluster) {
		st.Problem = err.Error()
		return o.report(st, ExitFailed)
	}
	if err != nil {
		return o.problem(st, s.clusterErr(err))
	}
	st.Context, st.Server, st.Namespace = t.Context, t.Server, t.Namespace
	c, err := s.connect(ctx, t)
	if err != nil {
		return o.problem(st, err)
	}
	s.log.Status("reading the lab's pod")
	if st.Provider == string(cluster.Existing) && cluster.HasMinikubeNodes(ctx, c) {
		st.Provider = string(cluster.Minikube)
	}
	pod, err := s.labPod(ctx, c, t.Namespace)
	switch {
	case errors.Is(err, kube.ErrNotDeployed):
		st.Problem = o.globals.printer().Sprintf("the lab is not deployed in namespace %s: run lab up", t.Namespace)
	case err != nil:
		return s.clusterErr(err)
	default:
		st.Pod = &pod
		st.Node = pod.NodeFacts
		st.Ready = pod.Ready && pod.Managed
		switch {
		case !pod.Managed:
			st.Problem = o.globals.printer().Sprintf("pod %s/%s was not created by lab (no %s label)", pod.Namespace, pod.Name, kube.ManagedBySelector())
		case !pod.Ready:
			state := pod.Phase
			if pod.Reason != "" {
				state += ", " + pod.Reason
			}
			st.Problem = o.globals.printer().Sprintf("pod %s is %s, not Ready: lab up says why and repairs what it can", pod.Name, state)
		}
		// The facts must not be printed twice in JSON.
		pod.NodeFacts = nil
	}
	if st.Node == nil {
		st.Node = firstNode(ctx, c)
	}
	if st.Node != nil {
		st.LogFormat = describeLogFormat(o.globals.printer(), st.Node.Runtime)
	}
	st.Service = readService(ctx, c, t.Namespace, s.workload().Pod)
	code := ExitOK
	if !st.Ready {
		code = ExitFailed
	}
	return o.report(st, code)
}

func firstNode(ctx context.Context, c kubernetes.Interface) *kube.NodeFacts {
	ctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	l, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil || len(l.Items) == 0 {
		return nil
	}
	n := kube.NodeFactsOf(&l.Items[0])
	return &n
}

func readService(ctx context.Context, c kubernetes.Interface, ns, name string) *serviceFacts {
	ctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	svc, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	f := &serviceFacts{Name: svc.Name, ClusterIP: svc.Spec.ClusterIP, Managed: kube.IsManaged(svc)}
	if len(svc.Spec.Ports) > 0 {
		f.Port = svc.Spec.Ports[0].Port
	}
	return f
}

// describeLogFormat says what the node's pod log files look like.
func describeLogFormat(p *i18n.Printer, r kube.Runtime) string {
	switch r.LogFormat {
	case kube.LogFormatJSONFile:
		return p.Sprintf("json-file: the files under /var/log/pods are symlinks to docker's {\"log\":…,\"stream\":…,\"time\":…} lines")
	case kube.LogFormatCRI:
		return p.Sprintf("CRI lines: <RFC3339 time> stdout|stderr F|P <message>")
	}
	return ""
}

// problem reports a cluster that cannot be read: the report still says
// so (a script reading -o json gets a document), with the error's code.
func (o *statusOptions) problem(st *labStatus, err error) error {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitCluster {
		return err
	}
	st.Problem = ee.Err.Error()
	return o.report(st, ExitCluster)
}

func (o *statusOptions) report(st *labStatus, code int) error {
	o.s.log.Done()
	if o.output == outputJSON {
		if err := writeJSON(o.streams.Out, st); err != nil {
			return err
		}
	} else {
		writeStatus(o.streams.Out, o.globals.printer(), st)
	}
	if code != ExitOK {
		return &ExitError{Code: code}
	}
	return nil
}

func writeStatus(w io.Writer, pr *i18n.Printer, st *labStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// A label is translated without its indent; being no literal key at a
	// call site, each is in the catalog by hand (messages.go, lab status).
	row := func(k, v string) {
		label := strings.TrimLeft(k, " ")
		if label != "" {
			label = pr.Sprintf(label)
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", k[:len(k)-len(strings.TrimLeft(k, " "))], label, v)
	}
	row("provider", st.Provider)
	if st.Context != "" {
		row("context", st.Context)
		row("server", st.Server)
	}
	if n := st.Node; n != nil {
		row("node", fmt.Sprintf("%s (%s/%s, kubelet %s)", n.Name, n.OS, n.Architecture, n.Kubelet))
		rt := strings.TrimSpace(n.Runtime.Name + " " + n.Runtime.Version)
		row("runtime", rt)
		if st.LogFormat != "" {
			row("log format", st.LogFormat)
		}
	}
	if p := st.Pod; p != nil {
		state := p.Phase
		if p.Ready {
			state += ", Ready"
		} else if p.Reason != "" {
			state += ", " + p.Reason
		}
		row("pod", fmt.Sprintf("%s/%s %s", p.Namespace, p.Name, state))
		row("  ip", orDash(p.IP))
		row("  uid", p.UID)
		row("  image", p.Image)
		if p.ShareProcessNamespace {
			row("  shares PIDs", pr.Sprintf("true (PID 1 is /pause; find %s with ps)", p.Container))
		} else {
			row("  shares PIDs", "false")
		}
		row("  log dir", pr.Sprintf("%s/ on node %s", p.ContainerLogDir(), orDash(p.Node)))
		if len(p.Ephemeral) == 0 {
			row("  debuggers", pr.Sprintf("none yet"))
		}
		for i, e := range p.Ephemeral {
			k := ""
			if i == 0 {
				k = "  debuggers"
			}
			caps := ""
			if len(e.Capabilities) > 0 {
				caps = " (" + strings.Join(e.Capabilities, ", ") + ")"
			}
			row(k, pr.Sprintf("%s → %s, profile %s%s, %s, image %s", e.Name, orDash(e.Target), e.Profile, caps, orDash(e.State), e.Image))
		}
	}
	if sv := st.Service; sv != nil {
		row("service", fmt.Sprintf("%s %s:%d", sv.Name, sv.ClusterIP, sv.Port))
	}
	if st.Problem != "" {
		row("problem", st.Problem)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
