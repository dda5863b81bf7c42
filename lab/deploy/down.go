package deploy

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/kube"
)

// protectedNamespaces are never deleted, whatever their labels say.
var protectedNamespaces = map[string]bool{
	"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true,
}

// DownPlan is what Down would delete, worked out before asking the user.
type DownPlan struct {
	Namespace string `json:"namespace"`
	// Delete are the objects labelled managed-by lab.
	Delete []Object `json:"delete"`
	// Foreign are objects with lab's names but without its label: they are
	// left alone, and the user is told so.
	Foreign []Object `json:"foreign,omitempty"`
	// Namespace is deleted too when lab created it (its label), once the
	// objects are gone and only if nothing else is in it.
	DeleteNamespace bool `json:"deleteNamespace"`
}

// Empty reports that there is nothing to delete.
func (p *DownPlan) Empty() bool { return len(p.Delete) == 0 && !p.DeleteNamespace }

// PlanDown lists what lab down would delete in the namespace: only objects
// labelled app.kubernetes.io/managed-by=lab.
func PlanDown(ctx context.Context, c kubernetes.Interface, o Options) (*DownPlan, error) {
	ns := o.namespace()
	plan := &DownPlan{Namespace: ns}
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: kube.ManagedBySelector()}
	pods, err := c.CoreV1().Pods(ns).List(cctx, sel)
	if err != nil {
		return nil, fmt.Errorf("listing lab's pods in %s: %w", ns, err)
	}
	for _, p := range pods.Items {
		if kube.IsManaged(&p) { // the selector again: not every server (or fake) filters
			plan.Delete = append(plan.Delete, Object{Kind: "pod", Namespace: ns, Name: p.Name, UID: p.UID})
		}
	}
	svcs, err := c.CoreV1().Services(ns).List(cctx, sel)
	if err != nil {
		return nil, fmt.Errorf("listing lab's services in %s: %w", ns, err)
	}
	for _, s := range svcs.Items {
		if kube.IsManaged(&s) {
			plan.Delete = append(plan.Delete, Object{Kind: "service", Namespace: ns, Name: s.Name, UID: s.UID})
		}
	}
	cms, err := c.CoreV1().ConfigMaps(ns).List(cctx, sel)
	if err != nil {
		return nil, fmt.Errorf("listing lab's config maps in %s: %w", ns, err)
	}
	for _, cm := range cms.Items {
		if kube.IsManaged(&cm) {
			plan.Delete = append(plan.Delete, Object{Kind: "configmap", Namespace: ns, Name: cm.Name, UID: cm.UID})
		}
	}
	for _, obj := range labObjects(o) {
		var m metav1.Object
		var err error
		switch obj.Kind {
		case "pod":
			m, err = c.CoreV1().Pods(ns).Get(cctx, obj.Name, metav1.GetOptions{})
		case "service":
			m, err = c.CoreV1().Services(ns).Get(cctx, obj.Name, metav1.GetOptions{})
		case "configmap":
			m, err = c.CoreV1().ConfigMaps(ns).Get(cctx, obj.Name, metav1.GetOptions{})
		}
		if err == nil && !kube.IsManaged(m) {
			plan.Foreign = append(plan.Foreign, Object{Kind: obj.Kind, Namespace: ns, Name: obj.Name, UID: m.GetUID()})
		}
	}
	if n, err := c.CoreV1().Namespaces().Get(cctx, ns, metav1.GetOptions{}); err == nil && kube.IsManaged(n) && n.DeletionTimestamp == nil && !protectedNamespaces[ns] {
		plan.DeleteNamespace = true
	}
	return plan, nil
}

// labObjects names the objects the lab folder deploys, so that down can
// say which objects carry lab's names without its label. A folder whose
// manifests no longer load still names its workload's pod.
func labObjects(o Options) []Object {
	l, err := o.lab()
	if err != nil {
		return nil
	}
	m, err := Render(o)
	if err != nil {
		return []Object{{Kind: "pod", Name: l.Spec.Workload.Pod}}
	}
	out := []Object{{Kind: "pod", Name: *m.Pod.Name}}
	for _, s := range m.Services {
		out = append(out, Object{Kind: "service", Name: *s.Name})
	}
	for _, cm := range m.ConfigMaps {
		out = append(out, Object{Kind: "configmap", Name: *cm.Name})
	}
	return out
}

// DownResult is what Down did.
type DownResult struct {
	Deleted []Object `json:"deleted"`
	// KeptNamespace says why a namespace lab created was kept ("" when it
	// was deleted or was not lab's).
	KeptNamespace string `json:"keptNamespace,omitempty"`
}

// Down deletes the plan's objects, each only while it is still the object
// planned (its UID), waits for the pods to go, then deletes the namespace
// if lab created it and nothing else lives there.
func Down(ctx context.Context, c kubernetes.Interface, plan *DownPlan, o Options) (*DownResult, error) {
	res := &DownResult{}
	var pods []*corev1.Pod
	for _, obj := range plan.Delete {
		o.status("deleting " + obj.String())
		cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
		err := deleteObject(cctx, c, obj)
		cancel()
		switch {
		case apierrors.IsNotFound(err):
			continue
		case apierrors.IsConflict(err):
			// The UID precondition failed: someone replaced the object.
			o.debugf("%s was replaced since lab listed it; left alone", obj)
			continue
		case err != nil:
			return res, fmt.Errorf("deleting %s: %w", obj, err)
		}
		res.Deleted = append(res.Deleted, obj)
		if obj.Kind == "pod" {
			pods = append(pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Name, UID: obj.UID}})
		}
	}
	for _, p := range pods {
		if err := waitGone(ctx, c, p, o); err != nil {
			return res, err
		}
	}
	if !plan.DeleteNamespace {
		return res, nil
	}
	others, err := namespaceContents(ctx, c, plan.Namespace)
	if err != nil {
		return res, err
	}
	if len(others) > 0 {
		res.KeptNamespace = fmt.Sprintf("namespace %s was created by lab but holds objects lab did not create (%s); delete it yourself when they are no longer needed", plan.Namespace, strings.Join(others, ", "))
		return res, nil
	}
	obj := Object{Kind: "namespace", Name: plan.Namespace}
	o.status("deleting " + obj.String())
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	if err := deleteObject(cctx, c, obj); err != nil && !apierrors.IsNotFound(err) {
		return res, fmt.Errorf("deleting %s: %w", obj, err)
	}
	res.Deleted = append(res.Deleted, obj)
	return res, nil
}

// namespaceContents lists what a namespace holds besides what Kubernetes
// puts into every namespace (the root CA config map, service account
// tokens) and the lab's own objects on their way out.
func namespaceContents(ctx context.Context, c kubernetes.Interface, ns string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	var out []string
	lists := []struct {
		kind string
		list func() ([]metav1.Object, error)
	}{
		{"pod", func() ([]metav1.Object, error) {
			l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			return items(l, err, func(l *corev1.PodList) []metav1.Object { return objs(l.Items) })
		}},
		{"service", func() ([]metav1.Object, error) {
			l, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			return items(l, err, func(l *corev1.ServiceList) []metav1.Object { return objs(l.Items) })
		}},
		{"configmap", func() ([]metav1.Object, error) {
			l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			return items(l, err, func(l *corev1.ConfigMapList) []metav1.Object {
				var keep []corev1.ConfigMap
				for _, cm := range l.Items {
					if cm.Name != "kube-root-ca.crt" {
						keep = append(keep, cm)
					}
				}
				return objs(keep)
			})
		}},
		{"secret", func() ([]metav1.Object, error) {
			l, err := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
			return items(l, err, func(l *corev1.SecretList) []metav1.Object {
				var keep []corev1.Secret
				for _, s := range l.Items {
					if s.Type != corev1.SecretTypeServiceAccountToken {
						keep = append(keep, s)
					}
				}
				return objs(keep)
			})
		}},
		{"persistentvolumeclaim", func() ([]metav1.Object, error) {
			l, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			return items(l, err, func(l *corev1.PersistentVolumeClaimList) []metav1.Object { return objs(l.Items) })
		}},
	}
	for _, l := range lists {
		found, err := l.list()
		if err != nil {
			return nil, fmt.Errorf("listing %ss in namespace %s: %w", l.kind, ns, err)
		}
		for _, o := range found {
			if kube.IsManaged(o) && o.GetDeletionTimestamp() != nil {
				continue
			}
			out = append(out, l.kind+" "+o.GetName())
		}
	}
	return out, nil
}

func items[L any](l L, err error, f func(L) []metav1.Object) ([]metav1.Object, error) {
	if err != nil {
		return nil, err
	}
	return f(l), nil
}

func objs[T any, P interface {
	*T
	metav1.Object
}](in []T) []metav1.Object {
	out := make([]metav1.Object, len(in))
	for i := range in {
		out[i] = P(&in[i])
	}
	return out
}
