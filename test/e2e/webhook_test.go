//go:build e2e

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// holdingWebhook is an admission webhook on loopback that holds the
// creation of the objects it matches until released or the request is
// given up: the one way to stop a lab command, every time, in the middle
// of a create (a Ctrl-C "while applying" would otherwise land wherever the
// scheduler put it).
type holdingWebhook struct {
	name    string
	arrived chan string // the name of an object whose creation is held
	release chan struct{}
}

// holdCreates registers a webhook that holds every CREATE of resource (a
// core/v1 resource: "pods", "services") carrying labels, until the row
// ends or release is closed.
func holdCreates(t *testing.T, e *env, resource string, labels map[string]string) *holdingWebhook {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab-e2e-hold"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &holdingWebhook{name: "lab-e2e-hold-" + resource, arrived: make(chan string, 16), release: make(chan struct{})}
	ready := make(chan struct{}, 1)
	srv := &http.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			var review struct {
				Request struct {
					UID    string `json:"uid"`
					DryRun bool   `json:"dryRun"`
					Object struct {
						Metadata struct {
							Name string `json:"name"`
						} `json:"metadata"`
					} `json:"object"`
				} `json:"request"`
			}
			if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
				http.Error(rw, err.Error(), http.StatusBadRequest)
				return
			}
			if review.Request.DryRun {
				// holdCreates' own probe: the webhook is in force.
				select {
				case ready <- struct{}{}:
				default:
				}
			} else {
				w.arrived <- review.Request.Object.Metadata.Name
				select {
				case <-w.release:
				case <-r.Context().Done():
				}
			}
			fmt.Fprintf(rw, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":%q,"allowed":true}}`, review.Request.UID)
		}),
	}
	go srv.ServeTLS(ln, "", "")
	labelsJSON, err := json.Marshal(labels)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
 "metadata": {"name": %q},
 "webhooks": [{"name": "hold.lab-e2e.test", "admissionReviewVersions": ["v1"], "sideEffects": "None",
  "failurePolicy": "Fail", "timeoutSeconds": 25,
  "clientConfig": {"url": "https://%s/", "caBundle": %q},
  "objectSelector": {"matchLabels": %s},
  "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": [%q]}]}]}`,
		w.name, ln.Addr(), base64.StdEncoding.EncodeToString(certPEM), labelsJSON, resource)
	cmd := exec.Command(e.kubectl, "--kubeconfig", e.kubeconfig, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(config)
	if out, err := cmd.CombinedOutput(); err != nil {
		srv.Close()
		t.Fatalf("registering the holding webhook: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		kubectlErr(e, 30*time.Second, "delete", "validatingwebhookconfiguration", w.name, "--ignore-not-found")
		w.Release()
		srv.Close()
	})
	// The API server picks a new webhook up within a second or two: probe
	// with a server-side dry run until it answers through it.
	probes := map[string]string{
		"pods":     `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lab-e2e-probe", "labels": %s}, "spec": {"containers": [{"name": "c", "image": "probe"}]}}`,
		"services": `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lab-e2e-probe", "labels": %s}, "spec": {"ports": [{"port": 80}]}}`,
	}
	if probes[resource] == "" {
		t.Fatalf("holdCreates: no probe for %q", resource)
	}
	obj := fmt.Sprintf(probes[resource], labelsJSON)
	waitFor(t, 30*time.Second, "the holding webhook in force", func() bool {
		cmd := exec.Command(e.kubectl, "--kubeconfig", e.kubeconfig, "create", "--dry-run=server", "-f", "-")
		cmd.Stdin = strings.NewReader(obj)
		cmd.Run()
		select {
		case <-ready:
			return true
		default:
			return false
		}
	})
	return w
}

// Held waits until a create is held and returns the object's name.
func (w *holdingWebhook) Held(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case n := <-w.arrived:
		return n
	case <-time.After(d):
		t.Fatalf("no create reached the holding webhook %s within %s", w.name, d)
		return ""
	}
}

// Release lets held creates, and any later ones, through.
func (w *holdingWebhook) Release() {
	select {
	case <-w.release:
	default:
		close(w.release)
	}
}
