package doctor

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http/httpproxy"
)

// connectProxy is a tiny HTTPS proxy on loopback: it answers CONNECT by
// dialling target (whatever host was asked for, so that a registry on
// loopback can stand for one with a real name) and records what it was
// asked to reach.
type connectProxy struct {
	*httptest.Server
	mu    sync.Mutex
	asked []string
}

func newConnectProxy(t *testing.T, target string) *connectProxy {
	p := &connectProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		p.mu.Lock()
		p.asked = append(p.asked, r.Host)
		p.mu.Unlock()
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(up, conn); up.Close() }()
		io.Copy(conn, up)
		conn.Close()
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// A registry behind a proxy is reached through HTTPS_PROXY, and NO_PROXY
// sends it around the proxy; an address that does not resolve then fails
// as a pull would.
func TestRegistryClientHonoursProxyVariables(t *testing.T) {
	reg := newRegistry(t, httptest.NewTLSServer)
	proxy := newConnectProxy(t, strings.TrimPrefix(reg.URL, "https://"))
	// The TLS test server's certificate is for example.com; the proxy
	// takes example.com:443 to it.
	client := func(cfg *httpproxy.Config) *http.Client {
		c := RegistryClient(cfg)
		c.Transport.(*http.Transport).TLSClientConfig = reg.Client().Transport.(*http.Transport).TLSClientConfig
		return c
	}
	image := "example.com/lab/single:1.0"

	got, err := ImagePlatforms(context.Background(), client(&httpproxy.Config{HTTPSProxy: proxy.URL}), image)
	if err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if diff := cmp.Diff([]string{"linux/amd64"}, got); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	// One tunnel, kept alive for the manifest and the config blob.
	if diff := cmp.Diff([]string{"example.com:443"}, proxy.seen()); diff != "" {
		t.Errorf("CONNECTs the proxy saw (-want +got):\n%s", diff)
	}

	// HTTP_PROXY alone is not for an https registry.
	_, err = ImagePlatforms(context.Background(), client(&httpproxy.Config{HTTPProxy: proxy.URL, NoProxy: "example.com"}), "doesnotresolve.invalid/lab/single:1.0")
	if err == nil || len(proxy.seen()) != 1 {
		t.Errorf("HTTP_PROXY was used for https: %v, %v", err, proxy.seen())
	}
	// NO_PROXY's domain goes direct, and does not resolve here.
	_, err = ImagePlatforms(context.Background(), client(&httpproxy.Config{HTTPSProxy: proxy.URL, NoProxy: ".invalid"}), "registry.invalid/lab/single:1.0")
	if err == nil || len(proxy.seen()) != 1 {
		t.Errorf("NO_PROXY was not honoured: %v, %v", err, proxy.seen())
	}
	// A proxy that does not answer is a proxy problem, not the registry's.
	dead := httptest.NewServer(nil)
	dead.Close()
	_, err = ImagePlatforms(context.Background(), client(&httpproxy.Config{HTTPSProxy: dead.URL}), image)
	if err == nil || !strings.Contains(err.Error(), "proxyconnect") {
		t.Errorf("a dead proxy: %v", err)
	}
}
