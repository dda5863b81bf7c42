package shell

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		line string
		lone []string
		want string
	}{
		{"~ # ls -la /proc/7/root/etc/nginx", nil, "ls -la /proc/7/root/etc/nginx"},
		{"root@node:/# cat /var/log/pods/x/nginx/0.log", nil, ""}, // cat is not a command word
		{"$ kubectl get pod -o wide", nil, "kubectl get pod -o wide"},
		{"➜  repo git:(main) ✗ kubectl get pod", nil, "kubectl get pod"},
		{"PS C:\\Users\\me> kubectl get pod", nil, "kubectl get pod"},
		{"kubectl get pod", nil, "kubectl get pod"},
		{"ls", []string{"ls"}, "ls"},
		{"ls", nil, ""},
		{"exit", nil, "exit"},
		{"nginx.conf", []string{"ls"}, ""},
		{"lsof -i", nil, ""},
		{"drwxr-xr-x 2 root root 4096 Feb 14 10:59 .", []string{"ls"}, ""},
		{"/ # ", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(Command([]byte(tt.line), tt.lone...))); diff != "" {
				t.Errorf("Command (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWords(t *testing.T) {
	var got []string
	for _, w := range Words(nil, []byte(`sh -c 'ls -la /x';  echo "y"`)) {
		got = append(got, string(w))
	}
	if diff := cmp.Diff([]string{"sh", "-c", "ls", "-la", "/x", "echo", "y"}, got); diff != "" {
		t.Errorf("Words (-want +got):\n%s", diff)
	}
	if !IsSeparator([]byte("&&")) || IsSeparator([]byte("-la")) {
		t.Error("IsSeparator")
	}
}
