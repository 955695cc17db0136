package devstack

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// Gate is a loopback HTTP endpoint in front of a handler (usually a
// reverse proxy to one of the devstack servers, wrapped in fault
// injection). A test gives each instance of a component its own gate, so
// that it can cut that instance off when it simulates a crash: Kill
// aborts the requests in flight and every later one, as if the process
// had vanished, while the servers behind keep serving the other gates.
type Gate struct {
	// URL is the endpoint to give to the component.
	URL    string
	server *httptest.Server
	dead   atomic.Bool
	ctx    context.Context
	kill   context.CancelFunc
}

// NewGate serves h on a loopback port.
func NewGate(h http.Handler) *Gate {
	g := &Gate{}
	g.ctx, g.kill = context.WithCancel(context.Background())
	g.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.dead.Load() {
			panic(http.ErrAbortHandler) // the connection is cut without an answer
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(g.ctx, cancel)
		defer stop()
		h.ServeHTTP(w, r.WithContext(ctx))
		if g.dead.Load() {
			panic(http.ErrAbortHandler)
		}
	}))
	g.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	g.URL = g.server.URL
	return g
}

// Kill makes the gate inert: the requests in flight are cancelled and
// every connection is cut without an answer from now on.
func (g *Gate) Kill() {
	g.dead.Store(true)
	g.kill()
	g.server.CloseClientConnections()
}

// Close stops the gate.
func (g *Gate) Close() {
	g.Kill()
	g.server.Close()
}

// Proxy returns a reverse proxy to target (a devstack server's URL) that
// presents the target's own host, so that URLs the servers build (SQS
// queue URLs) do not depend on the gate a request came through.
func Proxy(target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	return &httputil.ReverseProxy{
		Rewrite:  func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		ErrorLog: log.New(io.Discard, "", 0),
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			DisableCompression:  true,
		},
	}
}
