package doctor

import "testing"

// FuzzRegistryInput feeds the two things doctor reads from outside: an
// image reference (a flag) and a registry's WWW-Authenticate challenge (a
// server's header). Neither may panic, and a parsed reference always
// names a registry, a repository and a reference.
func FuzzRegistryInput(f *testing.F) {
	f.Add("kyos0109/nginx-distroless", `realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`)
	f.Add("127.0.0.1:5055/lab/nginx@sha256:abc", `realm=unquoted,service="x`)
	f.Add("ghcr.io/org/img:1.2", `"=",,=`)
	f.Fuzz(func(t *testing.T, image, challenge string) {
		if r, err := parseImageRef(image); err == nil && (r.Registry == "" || r.Repository == "" || r.Reference == "") {
			t.Errorf("%q parsed to %+v", image, r)
		}
		_ = parseChallenge(challenge)
	})
}
