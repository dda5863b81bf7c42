package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

// Defaults for Options.
const (
	// DefaultTimeout bounds the wait for the pod to be Ready: long enough
	// for a first image pull on a slow network.
	DefaultTimeout = 5 * time.Minute
	// DefaultPoll is how often the pod is read while waiting.
	DefaultPoll = 500 * time.Millisecond
	// deleteGrace is the pods' grace period when lab deletes them: nginx
	// stops at once on SIGTERM, but a debugger's interactive shell ignores
	// it and would hold the pod for the default 30 s.
	deleteGrace = int64(2)
	// cleanupTimeout bounds the clean-up after an interrupt, which runs on
	// a fresh context since the command's own is cancelled.
	cleanupTimeout = 15 * time.Second
)

// Options configure Up, Reset and Down.
type Options struct {
	// Lab is the lab folder whose manifests are deployed; nil means the
	// built-in lab.
	Lab *labfolder.Lab
	// Namespace is the lab's namespace; "" means kube.DefaultNamespace.
	Namespace string
	// NginxImage replaces the workload container's image (lab up
	// --nginx-image); "" keeps the manifest's.
	NginxImage string
	// Timeout bounds the wait for Ready (and, in Down, for pods to go).
	Timeout time.Duration
	// Poll is the interval between reads while waiting.
	Poll time.Duration
	// Status receives a short line whenever what is being waited for
	// changes (a spinner's text).
	Status func(msg string)
	// Debugf receives detail shown with -v.
	Debugf func(format string, args ...any)
}

func (o Options) namespace() string {
	if o.Namespace == "" {
		return kube.DefaultNamespace
	}
	return o.Namespace
}

func (o Options) lab() (*labfolder.Lab, error) {
	if o.Lab == nil {
		return labfolder.Builtin()
	}
	return o.Lab, nil
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o Options) poll() time.Duration {
	if o.Poll <= 0 {
		return DefaultPoll
	}
	return o.Poll
}

func (o Options) status(msg string) {
	if o.Status != nil {
		o.Status(msg)
	}
}

func (o Options) debugf(format string, args ...any) {
	if o.Debugf != nil {
		o.Debugf(format, args...)
	}
}

// Object names one object lab handled.
type Object struct {
	Kind      string    `json:"kind"`
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name"`
	UID       types.UID `json:"uid,omitempty"`
}

func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Change is one thing Up or Reset did to the cluster.
type Change struct {
	Object Object `json:"object"`
	// Action is created, updated or recreated.
	Action string `json:"action"`
	// Why says what made it necessary (the drift found, lab reset).
	Why string `json:"why,omitempty"`
}

func (c Change) String() string {
	if c.Why == "" {
		return c.Action + " " + c.Object.String()
	}
	return fmt.Sprintf("%s %s (%s)", c.Action, c.Object, c.Why)
}

// Result is what Up and Reset did and the pod they left.
type Result struct {
	// Changes are what was written, in order; none on a ready lab.
	Changes []Change `json:"changes"`
	// Pod is the lab's pod, Ready.
	Pod kube.PodFacts `json:"pod"`
	// ServiceIP is the Service's cluster IP.
	ServiceIP string `json:"serviceIP,omitempty"`
	// Image is the nginx image the pod runs.
	Image string `json:"image"`
	// ImageKept is true when Image is not the default but was chosen by an
	// earlier --nginx-image and kept.
	ImageKept bool `json:"imageKept,omitempty"`
}

// imagePulled reports whether the node ever pulled the workload
// container's image (the kubelet records the image's ID once it has it).
func imagePulled(pod *corev1.Pod, container string) bool {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container {
			return s.ImageID != ""
		}
	}
	return false
}

// ForeignError means an object with one of lab's names exists without
// lab's label: lab did not create it and will neither change nor delete it.
type ForeignError struct{ Object Object }

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s exists but lab did not create it (it has no %s label), so lab leaves it alone; delete it yourself (kubectl delete %s %s -n %s) or put the lab in another namespace with --namespace",
		e.Object, kube.ManagedBySelector(), e.Object.Kind, e.Object.Name, e.Object.Namespace)
}

// Up brings the lab to the state the manifests describe and waits for the
// pod to be Ready. On a ready lab it only reads: nothing is written, so a
// second lab up is quick and changes nothing. A pod whose spec drifted is
// recreated. When ctx is cancelled (Ctrl-C), what this call created is
// deleted again before it returns.
func Up(ctx context.Context, c kubernetes.Interface, o Options) (*Result, error) {
	return up(ctx, c, o, "")
}

// Reset recreates the lab's pod: the only way to clear the ephemeral
// containers students added, which can never be removed from a pod.
func Reset(ctx context.Context, c kubernetes.Interface, o Options) (*Result, error) {
	return up(ctx, c, o, "lab reset")
}

func up(ctx context.Context, c kubernetes.Interface, o Options, recreate string) (res *Result, err error) {
	ns := o.namespace()
	l, err := o.lab()
	if err != nil {
		return nil, err
	}
	w := l.Spec.Workload
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	live, err := c.CoreV1().Pods(ns).Get(cctx, w.Pod, metav1.GetOptions{})
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return nil, fmt.Errorf("reading pod %s/%s: %w", ns, w.Pod, err)
	}
	kept := ""
	if o.NginxImage == "" && live != nil && kube.IsManaged(live) && imagePulled(live, w.Container) {
		// The image chosen by an earlier lab up --nginx-image stays chosen
		// until another is given: otherwise every lab up and lab reset
		// would need the flag again. Only an image that could be pulled
		// is kept, so that a mistyped one is not repeated forever.
		kept = live.Annotations[ImageAnnotation]
		o.NginxImage = kept
	}
	m, err := Render(o)
	if err != nil {
		return nil, err
	}
	d := &deployer{c: c, o: o, m: m, ns: ns, w: w}
	res = &Result{Image: m.Image(), ImageKept: kept != "" && kept != DefaultImage(l)}
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = d.undo(err)
		}
	}()
	if err := d.namespace(ctx, res); err != nil {
		return res, err
	}
	if err := d.configMaps(ctx, res); err != nil {
		return res, err
	}
	if err := d.pod(ctx, res, live, recreate); err != nil {
		return res, err
	}
	if err := d.services(ctx, res); err != nil {
		return res, err
	}
	pod, err := d.waitReady(ctx)
	if err != nil {
		return res, err
	}
	res.Pod = kube.PodFactsOf(pod, w.Container)
	return res, nil
}

// deployer carries one Up or Reset through its steps and remembers what it
// created, for the clean-up after an interrupt.
type deployer struct {
	c       kubernetes.Interface
	o       Options
	m       *Manifests
	ns      string
	w       spec.Workload
	created []Object
}

func (d *deployer) apply(res *Result, obj Object, action, why string, uid types.UID) {
	obj.UID = uid
	res.Changes = append(res.Changes, Change{Object: obj, Action: action, Why: why})
	if action != "updated" {
		d.created = append(d.created, obj)
	}
	d.o.debugf("%s", res.Changes[len(res.Changes)-1])
}

// cutOff remembers an object whose creation an interrupt cut off: the API
// server may have made it without lab hearing back, and a half-applied lab
// (a pod without its Service) must not outlive the Ctrl-C. Its UID is
// unknown, so undo looks it up and removes it only if it carries lab's
// label.
func (d *deployer) cutOff(ctx context.Context, obj Object, action string) {
	if ctx.Err() != nil && action != "updated" {
		d.created = append(d.created, obj)
	}
}

var applyOptions = metav1.ApplyOptions{FieldManager: kube.FieldManager, Force: true}

func (d *deployer) namespace(ctx context.Context, res *Result) error {
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	_, err := d.c.CoreV1().Namespaces().Get(cctx, d.ns, metav1.GetOptions{})
	switch {
	case err == nil, apierrors.IsForbidden(err):
		// A user who may not read namespaces works inside one that exists.
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading namespace %s: %w", d.ns, err)
	}
	d.o.status("creating namespace " + d.ns)
	ns, err := d.c.CoreV1().Namespaces().Apply(cctx, d.m.Namespace, applyOptions)
	if err != nil {
		d.cutOff(ctx, Object{Kind: "namespace", Name: d.ns}, "created")
		return fmt.Errorf("creating namespace %s: %w", d.ns, err)
	}
	d.apply(res, Object{Kind: "namespace", Name: d.ns}, "created", "", ns.UID)
	return nil
}

func (d *deployer) pod(ctx context.Context, res *Result, live *corev1.Pod, recreate string) error {
	obj := Object{Kind: "pod", Namespace: d.ns, Name: d.w.Pod}
	if live == nil {
		return d.applyPod(ctx, res, obj, "created", "")
	}
	if !kube.IsManaged(live) {
		obj.UID = live.UID
		return &ForeignError{Object: obj}
	}
	why, err := d.podDrift(live, recreate)
	if err != nil {
		return err
	}
	if why == "" {
		metaDrift, err := findDrift(d.m.Pod, live, "metadata")
		if err != nil {
			return err
		}
		if metaDrift == nil {
			return nil
		}
		return d.applyPod(ctx, res, obj, "updated", metaDrift.String())
	}
	if live.DeletionTimestamp == nil {
		d.o.status(fmt.Sprintf("deleting pod %s (%s)", d.w.Pod, why))
		if err := deletePod(ctx, d.c, live); err != nil {
			return err
		}
	}
	if err := waitGone(ctx, d.c, live, d.o); err != nil {
		return err
	}
	return d.applyPod(ctx, res, obj, "recreated", why)
}

// podDrift says why the live pod must be recreated, or "" when it need
// not be.
func (d *deployer) podDrift(live *corev1.Pod, recreate string) (string, error) {
	if recreate != "" {
		return recreate, nil
	}
	if live.DeletionTimestamp != nil {
		return "it was being deleted", nil
	}
	switch live.Status.Phase {
	case corev1.PodFailed, corev1.PodSucceeded:
		// restartPolicy Always never gets here unless the node evicted it.
		return fmt.Sprintf("it is %s: %s", live.Status.Phase, live.Status.Reason), nil
	}
	drift, err := findDrift(d.m.Pod, live, "spec")
	if err != nil {
		return "", fmt.Errorf("comparing the pod with its manifest: %w", err)
	}
	if drift != nil {
		return "its spec differs from the manifest: " + drift.String(), nil
	}
	return "", nil
}

func (d *deployer) applyPod(ctx context.Context, res *Result, obj Object, action, why string) error {
	d.o.status(fmt.Sprintf("applying pod %s", d.w.Pod))
	deadline := time.Now().Add(ServiceAccountWait)
	for {
		cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
		pod, err := d.c.CoreV1().Pods(d.ns).Apply(cctx, d.m.Pod, applyOptions)
		cancel()
		if err == nil {
			d.apply(res, obj, action, why, pod.UID)
			return nil
		}
		if !noServiceAccountYet(err) || time.Now().After(deadline) {
			d.cutOff(ctx, obj, action)
			return fmt.Errorf("applying %s: %w", obj, err)
		}
		// A cluster (or namespace) made seconds ago has no default service
		// account until the controller-manager creates it, and admission
		// refuses pods until then.
		d.o.status("waiting for the namespace's default service account")
		select {
		case <-ctx.Done():
			return fmt.Errorf("applying %s: %w", obj, ctx.Err())
		case <-time.After(serviceAccountPoll):
		}
	}
}

// ServiceAccountWait bounds how long lab up waits for a new namespace's
// default service account before it gives up on creating the pod.
const ServiceAccountWait = time.Minute

var serviceAccountPoll = 500 * time.Millisecond

// noServiceAccountYet recognises admission refusing a pod because the
// namespace's default service account does not exist yet.
func noServiceAccountYet(err error) bool {
	msg := err.Error()
	return apierrors.IsForbidden(err) && strings.Contains(msg, "serviceaccount") && strings.Contains(msg, "not found")
}

// services applies the lab's Services; the one named like the pod gives
// the result its cluster IP.
func (d *deployer) services(ctx context.Context, res *Result) error {
	svcs := d.c.CoreV1().Services(d.ns)
	for _, want := range d.m.Services {
		svc, err := applyObject(ctx, d, res, "service", *want.Name, want, []string{"spec", "metadata"},
			func(ctx context.Context) (*corev1.Service, error) {
				return svcs.Get(ctx, *want.Name, metav1.GetOptions{})
			},
			func(ctx context.Context) (*corev1.Service, error) { return svcs.Apply(ctx, want, applyOptions) })
		if err != nil {
			return err
		}
		if svc.Name == d.w.Pod {
			res.ServiceIP = svc.Spec.ClusterIP
		}
	}
	return nil
}

// configMaps applies the lab's ConfigMaps, before the pod that mounts them.
func (d *deployer) configMaps(ctx context.Context, res *Result) error {
	cms := d.c.CoreV1().ConfigMaps(d.ns)
	for _, want := range d.m.ConfigMaps {
		_, err := applyObject(ctx, d, res, "configmap", *want.Name, want, []string{"data", "binaryData", "metadata"},
			func(ctx context.Context) (*corev1.ConfigMap, error) {
				return cms.Get(ctx, *want.Name, metav1.GetOptions{})
			},
			func(ctx context.Context) (*corev1.ConfigMap, error) { return cms.Apply(ctx, want, applyOptions) })
		if err != nil {
			return err
		}
	}
	return nil
}

// applyObject brings one object that can be changed in place (a Service,
// a ConfigMap; unlike a pod) to what the manifest says: created when
// missing, refused when someone else's, updated when a section lab sets
// drifted, left alone otherwise. It returns the object as it now is.
func applyObject[T interface {
	comparable
	metav1.Object
}](ctx context.Context, d *deployer, res *Result, kind, name string, want any, sections []string,
	get, apply func(context.Context) (T, error)) (T, error) {
	var zero T
	obj := Object{Kind: kind, Namespace: d.ns, Name: name}
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	live, err := get(cctx)
	action, why := "created", ""
	switch {
	case err == nil:
		if !kube.IsManaged(live) {
			obj.UID = live.GetUID()
			return zero, &ForeignError{Object: obj}
		}
		var drift *Drift
		for _, sec := range sections {
			if drift, err = findDrift(want, live, sec); err != nil || drift != nil {
				break
			}
		}
		if err != nil {
			return zero, err
		}
		if drift == nil {
			return live, nil
		}
		action, why = "updated", drift.String()
	case !apierrors.IsNotFound(err):
		return zero, fmt.Errorf("reading %s: %w", obj, err)
	}
	d.o.status("applying " + obj.String())
	got, err := apply(cctx)
	if err != nil {
		d.cutOff(ctx, obj, action)
		return zero, fmt.Errorf("applying %s: %w", obj, err)
	}
	d.apply(res, obj, action, why, got.GetUID())
	return got, nil
}

// undo deletes what this call created, after an interrupt. It runs on a
// fresh context: the command's own is cancelled.
func (d *deployer) undo(cause error) error {
	if len(d.created) == 0 {
		return cause
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var removed []string
	var errs []error
	for i := len(d.created) - 1; i >= 0; i-- {
		obj := d.created[i]
		if obj.UID == "" {
			uid, managed, err := lookupObject(ctx, d.c, obj)
			if apierrors.IsNotFound(err) || err == nil && !managed {
				continue // never made, or not lab's
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("looking for %s, whose creation was cut off: %w", obj, err))
				continue
			}
			obj.UID = uid
		}
		if err := deleteObject(ctx, d.c, obj); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing %s: %w", obj, err))
			continue
		}
		removed = append(removed, obj.String())
	}
	err := fmt.Errorf("%w; removed what this command created: %v", cause, removed)
	if len(errs) > 0 {
		return errors.Join(append([]error{err}, errs...)...)
	}
	return err
}

// lookupObject reads an object's UID and whether lab manages it.
func lookupObject(ctx context.Context, c kubernetes.Interface, obj Object) (types.UID, bool, error) {
	var m metav1.Object
	var err error
	switch obj.Kind {
	case "pod":
		m, err = c.CoreV1().Pods(obj.Namespace).Get(ctx, obj.Name, metav1.GetOptions{})
	case "service":
		m, err = c.CoreV1().Services(obj.Namespace).Get(ctx, obj.Name, metav1.GetOptions{})
	case "configmap":
		m, err = c.CoreV1().ConfigMaps(obj.Namespace).Get(ctx, obj.Name, metav1.GetOptions{})
	case "namespace":
		m, err = c.CoreV1().Namespaces().Get(ctx, obj.Name, metav1.GetOptions{})
	default:
		return "", false, fmt.Errorf("unknown kind %q", obj.Kind)
	}
	if err != nil {
		return "", false, err
	}
	return m.GetUID(), m.GetLabels()[kube.ManagedByLabel] == kube.ManagedByValue, nil
}

// deleteObject deletes one object lab created, only if it is still that
// object (its UID): a pod recreated by someone else meanwhile survives.
func deleteObject(ctx context.Context, c kubernetes.Interface, obj Object) error {
	opts := metav1.DeleteOptions{}
	if obj.UID != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &obj.UID}
	}
	switch obj.Kind {
	case "pod":
		grace := deleteGrace
		opts.GracePeriodSeconds = &grace
		return c.CoreV1().Pods(obj.Namespace).Delete(ctx, obj.Name, opts)
	case "service":
		return c.CoreV1().Services(obj.Namespace).Delete(ctx, obj.Name, opts)
	case "configmap":
		return c.CoreV1().ConfigMaps(obj.Namespace).Delete(ctx, obj.Name, opts)
	case "namespace":
		return c.CoreV1().Namespaces().Delete(ctx, obj.Name, opts)
	}
	return fmt.Errorf("lab does not delete %ss", obj.Kind)
}

func deletePod(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) error {
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	err := deleteObject(cctx, c, Object{Kind: "pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// waitGone waits until the pod (that UID) no longer exists.
func waitGone(parent context.Context, c kubernetes.Interface, pod *corev1.Pod, o Options) error {
	ctx, cancel := context.WithTimeout(parent, o.timeout())
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, kube.CallTimeout)
		p, err := c.CoreV1().Pods(pod.Namespace).Get(cctx, pod.Name, metav1.GetOptions{})
		ccancel()
		switch {
		case apierrors.IsNotFound(err), err == nil && p.UID != pod.UID:
			return nil
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("waiting for pod %s/%s to be deleted: %w", pod.Namespace, pod.Name, err)
		}
		o.status(fmt.Sprintf("waiting for the old pod %s to go", pod.Name))
		select {
		case <-ctx.Done():
			if parent.Err() == nil {
				// A node that does not stop the pod's containers (a kubelet
				// gone, a network namespace it cannot remove) is not a
				// cluster that stopped answering: say where to look.
				return fmt.Errorf("pod %s/%s is still being deleted after %s; kubectl describe pod %s -n %s shows why (its node must stop its containers), then run lab up again",
					pod.Namespace, pod.Name, o.timeout(), pod.Name, pod.Namespace)
			}
			return fmt.Errorf("waiting for pod %s/%s to be deleted: %w", pod.Namespace, pod.Name, ctx.Err())
		case <-time.After(o.poll()):
		}
	}
}
