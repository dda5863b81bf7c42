package labfolder_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

// secondLab is the lab folder make e2e runs beside the built-in one: its
// spec, manifests and lessons must open here first.
const secondLab = "../../test/labs/httpd"

func TestSecondLabOpensAndValidates(t *testing.T) {
	l, v, err := load(secondLab)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Warnings) > 0 {
		t.Errorf("warnings: %v", v.Warnings)
	}
	m, err := l.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	got = append(got, "Pod/"+*m.Pod.Name)
	for _, s := range m.Services {
		got = append(got, "Service/"+*s.Name)
	}
	for _, c := range m.ConfigMaps {
		got = append(got, "ConfigMap/"+*c.Name)
	}
	if diff := cmp.Diff([]string{"Pod/web", "Service/web", "ConfigMap/web-content"}, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if c := m.Container(l.Spec.Workload); c == nil || *c.Image != "curlimages/curl" {
		t.Errorf("the workload's container: %+v", c)
	}
}

// What lab up would deploy, and what it refuses before anything is created.
func TestManifests(t *testing.T) {
	spec, err := os.ReadFile(secondLab + "/assignment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pod := func(name, container string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n  containers:\n    - name: " + container + "\n      image: busybox\n"
	}
	for _, tc := range []struct {
		name      string
		manifests map[string]string
		want      string // an error's text; "" for none
	}{
		{name: "one pod, multi-document file", manifests: map[string]string{
			"all.yaml": "# the pod\n" + pod("web", "httpd") + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 8080}]\n---\n# trailing\n"}},
		{name: "yml files count", manifests: map[string]string{"pod.yml": pod("web", "httpd")}},
		{name: "no manifests", manifests: map[string]string{"README.txt": "x"},
			want: "no manifests: lab up deploys manifests/*.yaml, which must hold the workload's pod web"},
		{name: "cluster-scoped", manifests: map[string]string{"a.yaml": pod("web", "httpd") + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"},
			want: "Namespace is cluster-scoped"},
		{name: "a kind lab does not deploy", manifests: map[string]string{"a.yaml": pod("web", "httpd") + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"},
			want: "lab does not deploy a Deployment"},
		{name: "a namespace of its own", manifests: map[string]string{"a.yaml": strings.Replace(pod("web", "httpd"), "name: web", "name: web\n  namespace: prod", 1)},
			want: "Pod web names namespace prod: leave it out"},
		{name: "another pod", manifests: map[string]string{"a.yaml": pod("web", "httpd"), "b.yaml": pod("other", "c")},
			want: "other"},
		{name: "not the workload's pod", manifests: map[string]string{"a.yaml": pod("other", "httpd")},
			want: "other"},
		{name: "no workload container", manifests: map[string]string{"a.yaml": pod("web", "nginx")},
			want: "pod web has no container httpd"},
		{name: "the same object twice", manifests: map[string]string{"a.yaml": pod("web", "httpd"), "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"},
			want: "ConfigMap c is also in"},
		{name: "not YAML", manifests: map[string]string{"a.yaml": pod("web", "httpd") + "---\n\t: [\n"},
			want: "not a Kubernetes object"},
		{name: "no kind", manifests: map[string]string{"a.yaml": pod("web", "httpd") + "---\nmetadata:\n  name: x\n"},
			want: "no kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"assignment.yaml": string(spec), "lessons/en/intro.md": "# x\n"}
			for name, data := range tc.manifests {
				files["manifests/"+name] = data
			}
			l, err := labfolder.Open(writeFolder(t, files))
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Manifests()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}
