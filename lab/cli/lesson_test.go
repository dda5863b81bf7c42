package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lessons"
)

// noCluster makes lab lesson find no kubeconfig and an English locale,
// whatever the machine running the tests has.
func noCluster(t *testing.T) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-kubeconfig"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(k, "")
	}
}

// answersDir copies a sample answers folder, keeping only the given files.
func answersDir(t *testing.T, from string, files ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodAnswers = "../../checks/testdata/answers/good"

func TestLessonWithoutACluster(t *testing.T) {
	noCluster(t)
	r := lab(t, "lesson", "7")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v\n%s", r.code, r.returnedError, r.err)
	}
	for _, want := range []string{
		"# Step 7: nginx's log file, read on the node",
		"/var/log/pods/default_nginx-distroless_<POD_UID: kubectl get pod nginx-distroless -n default -o jsonpath='{.metadata.uid}'>/nginx/*.log' > answers/step-7.txt",
		"node/<NODE: the NODE column of kubectl get pod nginx-distroless -n default -o wide>",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "\x1b[") {
		t.Error("escape codes written to a pipe")
	}
	if n := strings.Count(r.err, "\n"); n != 1 || !strings.Contains(r.err, "lab up") {
		t.Errorf("want one note on stderr that says lab up, got:\n%s", r.err)
	}
}

func TestLessonPlain(t *testing.T) {
	noCluster(t)
	r := lab(t, "lesson", "step-3", "--plain", "-n", "course")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v", r.code, r.returnedError)
	}
	if !strings.HasPrefix(r.out, "# Step 3: nginx's own files through `/proc/<pid>/root`\n") || !strings.Contains(r.out, "```sh {run}\nkubectl exec -n course nginx-distroless -c debugger -- ps") {
		t.Errorf("--plain should print the personalised markdown:\n%s", r.out)
	}
}

func TestLessonWidth(t *testing.T) {
	noCluster(t)
	narrow := lab(t, "lesson", "intro", "--width", "40")
	wide := lab(t, "lesson", "intro")
	for _, r := range []run{narrow, wide} {
		if r.code != ExitOK {
			t.Fatalf("exit %d: %v", r.code, r.returnedError)
		}
	}
	longest := func(s string) int {
		n := 0
		for line := range strings.Lines(s) {
			// Tables and commands may be wider; prose is wrapped.
			if strings.Contains(line, "|") || strings.HasPrefix(line, "    ") {
				continue
			}
			n = max(n, len([]rune(strings.TrimRight(line, "\n"))))
		}
		return n
	}
	if n := longest(narrow.out); n > 40 {
		t.Errorf("--width 40: a prose line of %d columns", n)
	}
	if n := longest(wide.out); n > lessons.DefaultWidth || n < 60 {
		t.Errorf("piped: the longest prose line has %d columns, want about %d", n, lessons.DefaultWidth)
	}
}

func TestLessonLanguage(t *testing.T) {
	noCluster(t)
	t.Setenv("LANG", "ru_RU.UTF-8")
	r := lab(t, "lesson", "1")
	if r.code != ExitOK || !strings.Contains(r.out, "# Шаг 1: distroless-под с nginx") {
		t.Errorf("LANG=ru_RU.UTF-8: exit %d, want the Russian lesson:\n%.300s", r.code, r.out)
	}
	r = lab(t, "lesson", "1", "--lang", "en")
	if !strings.Contains(r.out, "# Step 1: a distroless nginx pod") {
		t.Errorf("--lang en did not override LANG:\n%.300s", r.out)
	}
	t.Setenv("LC_ALL", "C")
	r = lab(t, "lesson", "1")
	if !strings.Contains(r.out, "# Step 1:") {
		t.Errorf("LC_ALL=C overrides LANG=ru: want English:\n%.300s", r.out)
	}
}

func TestLessonUsageErrors(t *testing.T) {
	noCluster(t)
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown lesson", []string{"lesson", "9"}, `unknown lesson "9" (lessons: intro, step-1, step-2, step-3, step-4, step-5, step-6, step-7, star)`},
		{"unknown language", []string{"lesson", "3", "--lang", "x"}, "unknown language: x (want en or ru)"},
		{"too narrow", []string{"lesson", "3", "--width", "5"}, "--width 5: give 20 columns or more"},
		{"negative width", []string{"lesson", "3", "--width", "-1"}, "--width -1"},
		{"two lessons", []string{"lesson", "3", "5"}, "accepts at most 1 arg"},
		{"answers is a file", []string{"lesson", "list", "--answers", notDir}, "is not a folder"},
		{"assignment not a folder", []string{"lesson", "3", "--assignment", notDir}, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lab(t, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want 2 (%v)", r.code, r.returnedError)
			}
			if r.returnedError == nil || !strings.Contains(r.returnedError.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", r.returnedError, tt.want)
			}
		})
	}
}

func TestLessonList(t *testing.T) {
	noCluster(t)
	answers := answersDir(t, seed, "step-3.txt", "step-5.txt")
	r := lab(t, "lesson", "list", "--answers", answers)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v", r.code, r.returnedError)
	}
	lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
	var ids []string
	status := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		ids = append(ids, f[0])
		if i := strings.Index(l, "  ✓"); i > 0 {
			status[f[0]] = "pass"
		} else if strings.Contains(l, "✗ not yet") {
			status[f[0]] = "fail"
		} else if strings.Contains(l, "checked against the cluster") {
			status[f[0]] = "live"
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing spaces: %q", l)
		}
	}
	if diff := cmp.Diff([]string{"intro", "step-1", "step-2", "step-3", "step-4", "step-5", "step-6", "step-7", "star"}, ids); diff != "" {
		t.Errorf("lessons (-want +got):\n%s", diff)
	}
	want := map[string]string{"step-1": "live", "step-2": "live", "step-3": "fail", "step-5": "pass", "step-6": "fail", "step-7": "fail", "star": "fail"}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("statuses (-want +got):\n%s\n%s", diff, r.out)
	}
	for _, s := range []string{"Step 3: nginx's own files through /proc/<pid>/root", "the /pause sandbox's filesystem", "answers/step-6.txt not found"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("list lacks %q:\n%s", s, r.out)
		}
	}

	r = lab(t, "lesson", "list", "--answers", filepath.Join(t.TempDir(), "none"), "--lang", "ru")
	if r.code != ExitOK || !strings.Contains(r.out, "Шаг 5: дамп HTTP-трафика") || strings.Contains(r.out, "✗") || !strings.Contains(r.out, "lab lesson intro") {
		t.Errorf("list without an answers folder: exit %d\n%s", r.code, r.out)
	}
}

func TestLessonNext(t *testing.T) {
	noCluster(t)
	tests := []struct {
		name    string
		answers string
		want    string // the lesson's first line, or the message when all pass
		why     string
	}{
		{"no answers folder", filepath.Join(t.TempDir(), "none"), "# Before you start", "no "},
		{"nothing saved", answersDir(t, goodAnswers), "# Step 1:", "does not pass yet"},
		{"step 3 fails", answersDir(t, seed, "step-3.txt", "step-5.txt", "step-6.txt"), "# Step 3:", "does not pass yet"},
		{"step 3 passes", answersDir(t, goodAnswers, "step-3.txt"), "# Step 5:", "does not pass yet"},
		{"all pass", answersDir(t, goodAnswers, "step-3.txt", "step-5.txt", "step-6.txt", "step-7.txt", "star.txt"), "Every step passes offline", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lab(t, "lesson", "next", "--answers", tt.answers)
			if r.code != ExitOK {
				t.Fatalf("exit %d: %v", r.code, r.returnedError)
			}
			if !strings.HasPrefix(strings.TrimSpace(r.out), tt.want) {
				t.Errorf("want %q first:\n%.200s", tt.want, r.out)
			}
			if tt.why != "" && !strings.Contains(r.err, tt.why) {
				t.Errorf("stderr %q lacks %q", r.err, tt.why)
			}
		})
	}
	// No argument is next.
	r := lab(t, "lesson", "--answers", answersDir(t, goodAnswers, "step-3.txt"))
	if !strings.HasPrefix(strings.TrimSpace(r.out), "# Step 5:") {
		t.Errorf("lab lesson without an argument should open the next lesson:\n%.200s", r.out)
	}
}

// fakeAPI serves the pod and its node the way an API server does.
type fakeAPI struct {
	mu    sync.Mutex
	paths []string
	pod   *corev1.Pod
	node  *corev1.Node
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var obj any
	switch {
	case f.pod != nil && r.URL.Path == "/api/v1/namespaces/"+f.pod.Namespace+"/pods/"+f.pod.Name:
		obj = f.pod
	case f.node != nil && r.URL.Path == "/api/v1/nodes/"+f.node.Name:
		obj = f.node
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"%s not found"}`, r.URL.Path)
		return
	}
	data, err := json.Marshal(obj)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Write(data)
}

func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: %q}
contexts:
- name: lab
  context: {cluster: lab, user: student}
- name: other
  context: {cluster: lab, user: student, namespace: elsewhere}
current-context: lab
users:
- name: student
  user: {token: secret}
`, server)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLessonFromTheCluster(t *testing.T) {
	noCluster(t)
	started := metav1.NewTime(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	api := &fakeAPI{
		pod: &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", Namespace: "course", UID: "0f6c1a2e-1111-4c2b-9d3e-7a8b9c0d1e2f"},
			Spec: corev1.PodSpec{
				NodeName:   "worker-1",
				Containers: []corev1.Container{{Name: "nginx", Image: "kyos0109/nginx-distroless"}},
				EphemeralContainers: []corev1.EphemeralContainer{
					{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger"}, TargetContainerName: "nginx"},
					{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger2"}, TargetContainerName: "nginx"},
					{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "untargeted"}},
				},
			},
			Status: corev1.PodStatus{
				PodIP: "10.244.1.23",
				EphemeralContainerStatuses: []corev1.ContainerStatus{
					{Name: "debugger", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}},
					{Name: "debugger2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}},
					{Name: "untargeted", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started.Add(time.Hour))}}},
				},
			},
		},
		node: &corev1.Node{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
			ObjectMeta: metav1.ObjectMeta{Name: "worker-1"},
			Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: "docker://27.4.0"}},
		},
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	kc := kubeconfigFor(t, srv.URL)

	r := lab(t, "lesson", "7", "--kubeconfig", kc, "--namespace", "course")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v\n%s", r.code, r.returnedError, r.err)
	}
	if r.err != "" {
		t.Errorf("a cluster that answers needs no note: %s", r.err)
	}
	for _, want := range []string{
		// docker: the log is a link to an absolute path that resolves only
		// in the chroot.
		"kubectl debug node/worker-1 -n course --attach=true --image=ubuntu --profile=general -- chroot /host sh -c 'sleep 3; cat /var/log/pods/course_nginx-distroless_0f6c1a2e-1111-4c2b-9d3e-7a8b9c0d1e2f/nginx/*.log' > answers/step-7.txt",
		"Your node runs docker://27.4.0.",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("lesson lacks %q:\n%s", want, r.out)
		}
	}
	r = lab(t, "lesson", "7", "--kubeconfig", kc, "--namespace", "course", "-v")
	if want := `lab lesson: filled in from pod course/nginx-distroless (uid 0f6c1a2e-1111-4c2b-9d3e-7a8b9c0d1e2f, node worker-1, ip 10.244.1.23, runtime docker://27.4.0, debug container "debugger2")`; !strings.Contains(r.err, want) {
		t.Errorf("-v: stderr %q lacks %q", r.err, want)
	}
	r = lab(t, "lesson", "5", "--plain", "--kubeconfig", kc, "-n", "course")
	if !strings.Contains(r.out, "kubectl exec -n course nginx-distroless -c debugger2 -- timeout") || !strings.Contains(r.out, "`10.244.1.23`") {
		t.Errorf("want the newest running debugger that targets nginx and the pod's IP:\n%s", r.out)
	}

	// A lesson that names nginx's PIDs gets them from ps in that debug
	// container (BusyBox ps, captured on the e2e harness: master 6,
	// worker 11).
	ps, err := os.ReadFile("../../test/e2e/testdata/captured/ps.txt")
	if err != nil {
		t.Fatal(err)
	}
	streams := &psStreams{out: string(ps)}
	useDeps(t, func(d *Deps) { d.NewStreams = func(*kube.Target) (LabStreams, error) { return streams, nil } })
	r = lab(t, "lesson", "3", "--plain", "--kubeconfig", kc, "-n", "course")
	if !strings.Contains(r.out, "-c debugger2 -- ls -la /proc/6/root/etc/nginx/ > answers/step-3.txt") || !strings.Contains(r.out, "yours is `11`") {
		t.Errorf("want the PIDs of ps in debugger2 in lesson 3:\n%s", r.out)
	}
	if streams.got.Container != "debugger2" || streams.got.Namespace != "course" {
		t.Errorf("ps ran in %s/%s, want course/debugger2", streams.got.Namespace, streams.got.Container)
	}

	// The lab's namespace is default unless --namespace says otherwise,
	// whatever namespace the context names.
	r = lab(t, "lesson", "7", "--kubeconfig", kc, "--context", "other")
	if r.code != ExitOK || !strings.Contains(r.err, "no pod nginx-distroless in namespace default") || strings.Count(r.err, "\n") != 1 {
		t.Errorf("a missing pod: exit %d, stderr %q", r.code, r.err)
	}
	if !strings.Contains(r.out, "<POD_UID: kubectl get pod nginx-distroless -n default -o jsonpath='{.metadata.uid}'>") {
		t.Errorf("a missing pod leaves the placeholders:\n%.500s", r.out)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.paths) == 0 || api.paths[len(api.paths)-1] != "/api/v1/namespaces/default/pods/nginx-distroless" {
		t.Errorf("requests %v", api.paths)
	}
	r = lab(t, "lesson", "7", "--kubeconfig", kc, "--context", "nope")
	if r.code != ExitOK || !strings.Contains(r.err, `context "nope" is not in the kubeconfig`) {
		t.Errorf("an unknown context: exit %d, stderr %q", r.code, r.err)
	}
}

// A pod being deleted (a student's kubectl delete, lab reset in another
// terminal) still fills the lesson in, with a note that its UID is about
// to be wrong; no ps runs in its dying debug container.
func TestLessonWhilePodIsDeleted(t *testing.T) {
	noCluster(t)
	gone := metav1.NewTime(time.Date(2026, 12, 5, 8, 10, 15, 0, time.UTC))
	api := &fakeAPI{pod: &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", Namespace: "default", UID: "4fb7f22b-f590-404b-8826-e353cd66adf4",
			DeletionTimestamp: &gone},
		Spec: corev1.PodSpec{NodeName: "lab-e2e-node", Containers: []corev1.Container{{Name: "nginx"}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-pxfqd"}, TargetContainerName: "nginx"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.4",
			EphemeralContainerStatuses: []corev1.ContainerStatus{{Name: "debugger-pxfqd", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	kc := kubeconfigFor(t, srv.URL)
	streams := &psStreams{out: "PID   USER     TIME  COMMAND\n    1 65535     0:00 /pause\n"}
	useDeps(t, func(d *Deps) { d.NewStreams = func(*kube.Target) (LabStreams, error) { return streams, nil } })
	r := lab(t, "lesson", "3", "--plain", "--kubeconfig", kc)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v\n%s", r.code, r.returnedError, r.err)
	}
	if want := "lab lesson: pod default/nginx-distroless is being deleted: the commands name its UID 4fb7f22b-f590-404b-8826-e353cd66adf4, which its replacement will not have; lab up makes the new pod"; !strings.Contains(r.err, want) {
		t.Errorf("stderr %q lacks %q", r.err, want)
	}
	if streams.got.Container != "" {
		t.Errorf("ps ran in the dying debug container %s", streams.got.Container)
	}
}

func TestLessonWhenTheClusterDoesNotAnswer(t *testing.T) {
	noCluster(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	t.Setenv("KUBECONFIG", kubeconfigFor(t, url))
	start := time.Now()
	r := lab(t, "lesson", "3")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v", r.code, r.returnedError)
	}
	if !strings.Contains(r.err, "did not answer") || !strings.Contains(r.err, "lab up") {
		t.Errorf("stderr %q", r.err)
	}
	if d := time.Since(start); d > 2*lessonFetchTimeout {
		t.Errorf("took %s with no cluster", d)
	}
}

// courseDir is a custom assignment: the built-in spec and its own lessons.
func courseDir(t *testing.T, lessonFiles map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	spec, err := fs.ReadFile(assets.Lab(), "assignment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "assignment.yaml"), spec, 0o644)
	for name, text := range lessonFiles {
		p := filepath.Join(dir, "lessons", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLessonCustomAssignment(t *testing.T) {
	noCluster(t)
	course := courseDir(t, map[string]string{
		"en/intro.md":  "# Welcome to our course\n\nRun `lab up`.\n",
		"en/step-3.md": "# Our step 3\n\n```sh\nkubectl exec -n {{.Namespace}} {{.Pod}} -c {{.Debugger}} -- ls -la /proc/{{.MasterPID}}/root/etc/nginx/ > answers/step-3.txt\n```\n",
		"en/step-5.md": "# Our step 5\n\nuse {{.Namspace}}\n",
	})
	r := lab(t, "lesson", "3", "--assignment", course, "--plain")
	if r.code != ExitOK || !strings.Contains(r.out, "kubectl exec -n default nginx-distroless -c debugger -- ls -la /proc/<MASTER_PID:") {
		t.Errorf("custom lesson: exit %d %v\n%s", r.code, r.returnedError, r.out)
	}
	answers := answersDir(t, goodAnswers, "step-3.txt")
	r = lab(t, "lesson", "list", "--assignment", course, "--answers", answers)
	if !regexp.MustCompile(`(?m)^step-3 +Our step 3 +✓ passes$`).MatchString(r.out) || strings.Contains(r.out, "step-7") {
		t.Errorf("custom list:\n%s", r.out)
	}
	r = lab(t, "lesson", "next", "--assignment", course, "--answers", answers)
	if r.code != ExitUsage || !strings.Contains(r.err, "lab lesson next: step-5") {
		t.Errorf("custom next should open step-5, whose lesson has a typo: exit %d\n%s", r.code, r.err)
	}
	r = lab(t, "lesson", "next", "--assignment", course, "--answers", answersDir(t, goodAnswers, "step-3.txt", "step-5.txt"))
	if r.code != ExitOK || r.out != "step-6: The pod's IP and node from kubectl get pod -o wide\n  kubectl get pod nginx-distroless -o wide > answers/step-6.txt\n" || !strings.Contains(r.err, "has no lesson for step-6") {
		t.Errorf("custom next to a step without a lesson: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = lab(t, "lesson", "5", "--assignment", course)
	if r.code != ExitUsage || !strings.Contains(r.returnedError.Error(), filepath.Join(course, "lessons")+": template: en/step-5.md:3:6") {
		t.Errorf("a typo'd placeholder: exit %d, %v", r.code, r.returnedError)
	}
	r = lab(t, "lesson", "3", "--assignment", course, "--lang", "ru")
	if r.code != ExitUsage || !strings.Contains(r.returnedError.Error(), "нет уроков на языке ru (есть: en): укажите --lang en") {
		t.Errorf("a missing language asked for: exit %d, %v", r.code, r.returnedError)
	}
	t.Setenv("LANG", "ru_RU.UTF-8")
	r = lab(t, "lesson", "intro", "--assignment", course)
	if r.code != ExitOK || !strings.Contains(r.out, "Welcome to our course") {
		t.Errorf("the locale's language is missing: want the course's own: exit %d %v", r.code, r.returnedError)
	}
	bare := courseDir(t, nil)
	r = lab(t, "lesson", "3", "--assignment", bare)
	if r.code != ExitUsage || !strings.Contains(r.returnedError.Error(), "нет уроков: каталог лаборатории хранит их в "+bare+"/lessons/<lang>") {
		t.Errorf("no lessons folder: exit %d, %v", r.code, r.returnedError)
	}
}

func TestLessonsNameTheLabsPod(t *testing.T) {
	if lessons.DefaultPod != labPod {
		t.Errorf("lessons.DefaultPod %q, the lab deploys %q", lessons.DefaultPod, labPod)
	}
}

func TestLessonLayout(t *testing.T) {
	tests := []struct {
		tty        bool
		cols, flag int
		noColor    bool
		style      string
		width      int
	}{
		{false, 0, 0, false, lessons.StyleNoTTY, lessons.DefaultWidth},
		{false, 0, 60, false, lessons.StyleNoTTY, 60},
		{true, 200, 0, false, lessons.StyleAuto, maxLessonWidth},
		{true, 72, 0, false, lessons.StyleAuto, 72},
		{true, 72, 120, false, lessons.StyleAuto, 120},
		{true, 72, 0, true, lessons.StyleNoTTY, 72},
		{true, 0, 0, false, lessons.StyleAuto, lessons.DefaultWidth},
	}
	for _, tt := range tests {
		style, width := lessonLayout(tt.tty, tt.cols, tt.flag, tt.noColor)
		if style != tt.style || width != tt.width {
			t.Errorf("lessonLayout(%v, %d, %d, %v) = %s, %d; want %s, %d", tt.tty, tt.cols, tt.flag, tt.noColor, style, width, tt.style, tt.width)
		}
	}
}

func TestPager(t *testing.T) {
	if got := pagerCommand("cat"); got != nil {
		t.Errorf("PAGER=cat: %v, want no pager", got)
	}
	if diff := cmp.Diff([]string{"sh", "-c", "less -FRX"}, pagerCommand(" less -FRX ")); diff != "" {
		t.Errorf("PAGER with options (-want +got):\n%s", diff)
	}
	var out, errOut bytes.Buffer
	if err := runPager([]string{"sh", "-c", "tr a-z A-Z; printf %s \"$LESSCHARSET\""}, "ok\n", &out, &errOut); err != nil {
		t.Fatal(err)
	}
	want := "OK\nutf-8"
	if os.Getenv("LESSCHARSET") != "" {
		want = "OK\n" + os.Getenv("LESSCHARSET")
	}
	if out.String() != want {
		t.Errorf("pager output %q, want %q", out.String(), want)
	}
	if err := runPager([]string{"sh", "-c", "exit 3"}, "x", &out, &errOut); err == nil {
		t.Error("a failing pager reported no error")
	}
}

func TestNewestDebugger(t *testing.T) {
	at := func(h int) *time.Time { x := time.Date(2026, 11, 27, h, 0, 0, 0, time.UTC); return &x }
	general := []string{"SYS_PTRACE"}
	tests := []struct {
		name string
		eph  []kube.EphemeralFacts
		want string
	}{
		{"none", nil, ""},
		{"only terminated", []kube.EphemeralFacts{{Name: "a", Target: "nginx", State: "terminated", Started: at(1), Capabilities: general}}, ""},
		{"newest running", []kube.EphemeralFacts{
			{Name: "a", Target: "nginx", State: "running", Started: at(1), Capabilities: general},
			{Name: "b", Target: "nginx", State: "running", Started: at(2), Capabilities: general},
			{Name: "c", Target: "nginx", State: "terminated", Started: at(3), Capabilities: general},
		}, "b"},
		{"ptrace beats newer legacy", []kube.EphemeralFacts{
			{Name: "general", Target: "nginx", State: "running", Started: at(1), Capabilities: general},
			{Name: "legacy", Target: "nginx", State: "running", Started: at(2), Profile: kube.ProfileLegacy},
		}, "general"},
		{"legacy when it is all there is", []kube.EphemeralFacts{{Name: "legacy", Target: "nginx", State: "running", Started: at(2)}}, "legacy"},
		{"not aimed at nginx", []kube.EphemeralFacts{{Name: "x", State: "running", Started: at(2), Capabilities: general}}, ""},
	}
	for _, tt := range tests {
		if got := newestDebugger(tt.eph, "nginx"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// psStreams answers lab lesson's ps in the debug container.
type psStreams struct {
	LabStreams // nil: a lesson only execs
	got        kube.ExecOptions
	out        string
}

func (p *psStreams) Exec(_ context.Context, o kube.ExecOptions) error {
	p.got = o
	_, err := io.WriteString(o.Stdout, p.out)
	return err
}
