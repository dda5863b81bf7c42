package traffic

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/k8s-debug-lab/lab/lab/kube"
)

// The client pod's fixed facts.
const (
	// ClientPrefix starts the client pod's name (lab-traffic-x7k2p).
	ClientPrefix = "lab-traffic-"
	// ClientContainer is the client pod's one container.
	ClientContainer = "curl"
	// LoopbackSource is where port-forwarded requests come from as the
	// lab's pod sees them: the kubelet's forward dials nginx on the pod's
	// own loopback.
	LoopbackSource = "127.0.0.1"
)

// ServiceURL is the address the client pod requests: the lab's Service by
// its cluster DNS name, as the assignment's in-cluster curl does.
func ServiceURL(service, namespace string, port int) string {
	host := service + "." + namespace + ".svc.cluster.local"
	if port != 80 {
		host += ":" + strconv.Itoa(port)
	}
	return "http://" + host + "/"
}

// ClientPod is the pod that sends o.Count requests to target from inside
// the cluster. It never restarts (a run is counted once), carries lab's
// managed-by label, mounts no service-account token (it needs no API
// access) and stops at once when deleted.
func ClientPod(namespace, name, image, target string, o Options) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: namespace,
			Labels: map[string]string{
				kube.ManagedByLabel:         kube.ManagedByValue,
				"app.kubernetes.io/name":    "lab-traffic",
				"app.kubernetes.io/part-of": "lab",
			},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			Containers: []corev1.Container{{
				Name:  ClientContainer,
				Image: image,
				// IfNotPresent, so that an image loaded with lab up --preload
				// is used without a registry.
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{"sh", "-c", PodScript(target, o)},
			}},
		},
	}
}

// Forwarder is a port-forward that may move to a new local port (see
// kube.Forward).
type Forwarder interface {
	Base(ctx context.Context) (string, error)
	Reconnects() int
	Close()
}

// Cluster is what a run needs of the lab's cluster.
type Cluster struct {
	// Client creates, reads and deletes the client pod.
	Client kubernetes.Interface
	// Namespace is the lab's.
	Namespace string
	// Pod is the lab's pod, and Service the Service in front of it that
	// the client pod asks for on Port.
	Pod, Service string
	Port         int
	// Forward opens a port-forward to the lab's pod's Port.
	Forward func(ctx context.Context) (Forwarder, error)
	// Logs streams the client pod's log (following it with follow).
	Logs func(ctx context.Context, namespace, pod, container string, follow bool) (io.ReadCloser, error)
	// HTTP sends the port-forwarded requests; nil means a client that
	// opens a new connection per request, as curl does, so that every
	// request shows up as its own accept4 and handshake.
	HTTP *http.Client
	// Image is the client pod's image: curl and a shell (the lab's
	// images.trafficClient).
	Image string
	// StartTimeout bounds the wait for the client pod to start; zero
	// means two minutes (a first pull of the image).
	StartTimeout time.Duration
	// Progress is told about every request, per way.
	Progress func(via Via, done, total int)
	// Status is told what the run is waiting for.
	Status func(msg string)
}

// RunResult is what a run did.
type RunResult struct {
	// Summaries has one entry per way that sent requests, port-forward
	// first.
	Summaries []Summary
	// ClientPod is the client pod's name ("" without --via pod).
	ClientPod string
	// Reconnects counts port-forwards re-established after a lost stream.
	Reconnects int
	Start, End time.Time
}

// Sources are the addresses the requests came from, as nginx saw them.
func (r *RunResult) Sources() []string {
	var out []string
	for _, s := range r.Summaries {
		if s.Source != "" && s.Sent > 0 {
			out = append(out, s.Source)
		}
	}
	return out
}

// Send sends o.Count requests each way that via names. Both ways run at
// once: the port-forward's requests go while the client pod starts. The
// client pod is deleted before Send returns, whether the run succeeded,
// failed or ctx was cancelled (Ctrl-C). A way that could not send at all
// is an error; the other way's summary is still returned.
func Send(ctx context.Context, c Cluster, via Via, o Options) (*RunResult, error) {
	res := &RunResult{Start: time.Now()}
	var (
		wg      sync.WaitGroup
		podSum  *Summary
		podErr  error
		fwdSum  *Summary
		fwdErr  error
		podName string
	)
	if via == Pod || via == Both {
		c.sweep(ctx)
		podName = ClientPrefix + kube.Suffix()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.viaPod(ctx, podName, o)
			podSum, podErr = s, err
		}()
	}
	if via == PortForward || via == Both {
		fwdSum, res.Reconnects, fwdErr = c.viaForward(ctx, o)
	}
	wg.Wait()
	res.ClientPod = podName
	if fwdSum != nil {
		res.Summaries = append(res.Summaries, *fwdSum)
	}
	if podSum != nil {
		res.Summaries = append(res.Summaries, *podSum)
	}
	res.End = time.Now()
	return res, errors.Join(fwdErr, podErr)
}

// sweep deletes the finished client pods of earlier runs: a run whose
// cluster stopped answering (a laptop suspended, an API server paused)
// could not delete its own, and said so; the next run tidies up. Running
// client pods are left alone: they may be another lab traffic's, now. It
// is best effort and bounded: a cluster that does not answer here will
// fail the run's own requests with a clearer error.
func (c Cluster) sweep(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	pods := c.Client.CoreV1().Pods(c.Namespace)
	list, err := pods.List(cctx, metav1.ListOptions{LabelSelector: kube.ManagedByLabel + "=" + kube.ManagedByValue + ",app.kubernetes.io/name=lab-traffic"})
	if err != nil {
		return
	}
	for _, p := range list.Items {
		if !strings.HasPrefix(p.Name, ClientPrefix) || (p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed) {
			continue
		}
		uid := p.UID
		opts := metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &uid}}
		if err := pods.Delete(cctx, p.Name, opts); err == nil {
			c.status("deleted the client pod " + p.Name + " an earlier run left")
		}
	}
}

func (c Cluster) progress(via Via) Progress {
	return func(done, total int) {
		if c.Progress != nil {
			c.Progress(via, done, total)
		}
	}
}

func (c Cluster) status(msg string) {
	if c.Status != nil {
		c.Status(msg)
	}
}

func (c Cluster) viaForward(ctx context.Context, o Options) (*Summary, int, error) {
	c.status("opening a port-forward to pod " + c.Pod)
	fw, err := c.Forward(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("port-forward: %w", err)
	}
	defer fw.Close()
	client := c.HTTP
	if client == nil {
		client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	}
	s := HTTP(ctx, client, fw.Base, o, c.progress(PortForward))
	s.Source = LoopbackSource
	return &s, fw.Reconnects(), nil
}

func (c Cluster) serviceURL() string { return ServiceURL(c.Service, c.Namespace, c.Port) }

// CleanupError is a client pod lab could not delete.
type CleanupError struct {
	Namespace, Pod string
	Err            error
}

func (e *CleanupError) Error() string {
	return fmt.Sprintf("deleting the client pod %s/%s (delete it with kubectl delete pod %s -n %s): %v", e.Namespace, e.Pod, e.Pod, e.Namespace, e.Err)
}

func (e *CleanupError) Unwrap() error { return e.Err }

// deleteTimeout bounds the client pod's deletion, which runs on a fresh
// context after Ctrl-C cancelled the run's.
const deleteTimeout = 10 * time.Second

func (c Cluster) viaPod(ctx context.Context, name string, o Options) (sum *Summary, err error) {
	pods := c.Client.CoreV1().Pods(c.Namespace)
	pod := ClientPod(c.Namespace, name, c.Image, c.serviceURL(), o)
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	created, err := pods.Create(cctx, pod, metav1.CreateOptions{FieldManager: kube.FieldManager})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("creating the client pod %s/%s: %w", c.Namespace, name, err)
	}
	defer func() {
		// A fresh context: after Ctrl-C the run's is already cancelled,
		// and the pod must not outlive the command.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
		defer cancel()
		opts := metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}
		if created.UID != "" {
			opts.Preconditions = &metav1.Preconditions{UID: &created.UID}
		}
		if derr := pods.Delete(dctx, name, opts); derr != nil && !apierrors.IsNotFound(derr) {
			err = errors.Join(err, &CleanupError{Namespace: c.Namespace, Pod: name, Err: derr})
		}
	}()

	c.status(fmt.Sprintf("starting client pod %s (%s)", name, c.Image))
	timeout := c.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	started, err := kube.WaitPod(ctx, c.Client, c.Namespace, name, timeout, kube.PodStarted)
	if err != nil {
		return nil, fmt.Errorf("the client pod %s did not start: %w", name, err)
	}
	source := started.Status.PodIP

	c.status(fmt.Sprintf("client pod %s requests %s", name, c.serviceURL()))
	results, complete, err := c.followLog(ctx, name, o.Count)
	if ctx.Err() != nil {
		return summaryOf(Pod, results, source), ctx.Err()
	}
	if !complete {
		// The stream broke (or began after the container ended, on a
		// cluster that cut it short): read the whole log once the pod is
		// done instead.
		budget := time.Duration(o.Count)*time.Duration(max(o.Timeout, time.Second)) + time.Minute
		final, werr := kube.WaitPod(ctx, c.Client, c.Namespace, name, budget, kube.PodFinished)
		if werr != nil {
			return summaryOf(Pod, results, source), fmt.Errorf("the client pod %s did not finish: %w", name, werr)
		}
		if source == "" {
			source = final.Status.PodIP
		}
		results, complete, err = c.readLog(ctx, name)
		if err == nil && !complete {
			err = fmt.Errorf("the client pod %s ended (%s) before its last request; its log: kubectl logs %s -n %s",
				name, podEnd(final), name, c.Namespace)
		}
	}
	if err != nil {
		return summaryOf(Pod, results, source), err
	}
	return summaryOf(Pod, results, source), nil
}

func summaryOf(via Via, results []Result, source string) *Summary {
	s := Summarize(via, results)
	s.Source = source
	return &s
}

func podEnd(p *corev1.Pod) string {
	for _, st := range p.Status.ContainerStatuses {
		if t := st.State.Terminated; t != nil {
			return fmt.Sprintf("%s, exit code %d", t.Reason, t.ExitCode)
		}
	}
	return string(p.Status.Phase)
}

// followLog reads the client pod's log as it is written, reporting each
// request as it completes.
func (c Cluster) followLog(ctx context.Context, name string, total int) ([]Result, bool, error) {
	rc, err := c.Logs(ctx, c.Namespace, name, ClientContainer, true)
	if err != nil {
		return nil, false, nil // read again once the pod is done
	}
	defer rc.Close()
	var results []Result
	complete := false
	prog := c.progress(Pod)
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		rs, done, _ := ParsePodLog(strings.NewReader(sc.Text()))
		complete = complete || done
		if len(rs) > 0 {
			results = append(results, rs...)
			prog(len(results), total)
		}
	}
	return results, complete, nil
}

func (c Cluster) readLog(ctx context.Context, name string) ([]Result, bool, error) {
	rc, err := c.Logs(ctx, c.Namespace, name, ClientContainer, false)
	if err != nil {
		return nil, false, fmt.Errorf("reading the client pod's log: %w", err)
	}
	defer rc.Close()
	return ParsePodLog(rc)
}
