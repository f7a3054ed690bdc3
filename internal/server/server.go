// Package server is yiwang's HTTP server: the middleware every request passes
// through (request ID, panic recovery, access log, metrics), the operational
// endpoints (/healthz, /readyz, /metrics, the OpenAPI document) and graceful
// shutdown. Domain packages bring their own routes.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"yiwang/api"
	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/store"
)

// Routes is implemented by each domain's HTTP handler.
type Routes interface {
	Register(r *httpx.Router)
}

// Server serves the platform over HTTP.
type Server struct {
	db       *store.DB
	logger   *slog.Logger
	router   *httpx.Router
	auth     func(http.Handler) http.Handler
	metrics  *metrics
	registry *prometheus.Registry
	draining atomic.Bool
	// metricsHandler serves the registry; on the public listener only
	// while metricsApart is false (see ServeMetricsOn).
	metricsHandler http.Handler
	metricsApart   atomic.Bool
	https          bool // the public URL is https: send HSTS
	ready          []func(context.Context) error
	proxies        []netip.Prefix // reverse proxies whose X-Forwarded-For is believed
}

// New returns a server for db with the routes of every domain. auth puts the
// request's principal in its context (nil: every request is anonymous).
func New(db *store.DB, logger *slog.Logger, auth func(http.Handler) http.Handler, domains ...Routes) *Server {
	if auth == nil {
		auth = func(h http.Handler) http.Handler { return h }
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{db: db, logger: logger, router: httpx.NewRouter(logger), auth: auth, registry: reg, metrics: newMetrics(reg),
		metricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})}
	s.router.HandleFunc("GET /healthz", authz.Public, s.healthz)
	s.router.HandleFunc("GET /readyz", authz.Public, s.readyz)
	s.router.HandleFunc("GET /metrics", authz.Public, s.serveMetrics)
	s.router.HandleFunc("GET /api/v1/openapi.yaml", authz.Public, serveOpenAPI)
	for _, d := range domains {
		d.Register(s.router)
	}
	s.router.HandleFunc("/api/", authz.Public, httpx.NotFound)
	return s
}

// UseHTTPS tells browsers, through HSTS, to reach the site only over https
// for a year: call it when the public URL (--public-url) is https.
func (s *Server) UseHTTPS() { s.https = true }

// ReadyWhen adds a check /readyz makes after the database's: a dependency
// without which this process should get no traffic (the file store, say).
// check returns an error of kind Unavailable saying what does not answer.
// Call it before Serve.
func (s *Server) ReadyWhen(check func(context.Context) error) {
	s.ready = append(s.ready, check)
}

// Handler returns the full handler chain.
func (s *Server) Handler() http.Handler {
	return s.withClientAddress(s.withRequestID(s.withAccessLog(s.withRecover(s.withSecurityHeaders(s.auth(s.router))))))
}

// TrustProxies names the reverse proxies in front of the server (--trusted-proxies):
// a request from one of them is taken to come from the address the proxy put
// in X-Forwarded-For, so per-address limits and logs see each person, not
// the proxy. From any other address the header is ignored, since anyone
// can send it.
func (s *Server) TrustProxies(prefixes []netip.Prefix) { s.proxies = prefixes }

// MustRegister adds collectors to the registry /metrics serves; it panics
// on a collector registered twice, a programming error.
func (s *Server) MustRegister(cs ...prometheus.Collector) { s.registry.MustRegister(cs...) }

// Router exposes the route table for tests that check every route.
func (s *Server) Router() *httpx.Router { return s.router }

// Listen binds addr, explaining the usual failures in one line that names
// setting, where the address comes from (e.g. "--addr or YIWANG_ADDR").
func Listen(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return nil, apperr.Wrap(err, apperr.Unavailable, apperr.AddressInUse,
				fmt.Sprintf("cannot listen on %s: the port is already in use by another program; stop it or choose another address with %s", addr, setting))
		case errors.Is(err, syscall.EACCES):
			return nil, apperr.Wrap(err, apperr.Unavailable, apperr.AddressForbidden,
				fmt.Sprintf("cannot listen on %s: permission denied (ports below 1024 need privileges); choose another with %s", addr, setting))
		}
		return nil, apperr.Wrap(err, apperr.Invalid, apperr.BadAddress,
			fmt.Sprintf("cannot listen on %q: give host:port, e.g. :8080 or 127.0.0.1:8080, with %s", addr, setting))
	}
	return ln, nil
}

// ServeMetricsOn serves /metrics on ln, apart from the public listener, so
// that it need not be reachable from outside; the public handler then
// answers 404 for it. It returns at once and stops serving when ctx ends.
// Call it before Serve.
func (s *Server) ServeMetricsOn(ctx context.Context, ln net.Listener) {
	s.metricsApart.Store(true)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("the metrics listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close() // a scrape in flight can be lost: the next one will come
	}()
}

// serveMetrics serves /metrics on the public listener unless it is served apart.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsApart.Load() {
		httpx.NotFound(w, r)
		return
	}
	s.metricsHandler.ServeHTTP(w, r)
}

// Serve serves on ln until ctx ends, then stops taking new connections, lets
// requests in flight finish within shutdownTimeout, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.logger.Info("shutting down: finishing requests in flight", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: requests still running after %s: %w", shutdownTimeout, err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this process should get traffic: the database and
// the dependencies given to ReadyWhen answer, and the process is not
// shutting down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		httpx.WriteError(w, r, s.logger, apperr.New(apperr.Unavailable, apperr.ShuttingDown, "this process is shutting down"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		httpx.WriteError(w, r, s.logger, apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseUnavailable, "the database does not answer"))
		return
	}
	for _, check := range s.ready {
		if err := check(ctx); err != nil {
			httpx.WriteError(w, r, s.logger, err)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": string(s.db.Backend)})
}

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Write(api.OpenAPI)
}

// routeLabel is the matched pattern without its method, for metrics and logs;
// unmatched requests share one label so scanners cannot blow up cardinality.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}
