package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"movierec/engine"
)

// Log keys and gin context keys.
const (
	logKeyComponent = "component"
	logKeyRequestID = "request_id"
	logKeyRoute     = "route"
	logKeyStatus    = "status"
	logKeyMethod    = "method"
	logKeyLatency   = "latency_ms"
	logKeyErr       = "err"
	ctxKeyRequestID = "request_id"
)

// Recommender is what the handlers need of the engine; *engine.Engine
// implements it. Its methods must be safe for concurrent use. The errors
// they return are mapped to statuses by the table in errors.go.
type Recommender interface {
	Top(ctx context.Context, user int32, n int) ([]engine.Prediction, error)
	Recommend(ctx context.Context, q engine.Query) ([]engine.Prediction, error)
	Predict(ctx context.Context, user, movie int32) (engine.Prediction, error)
	Similar(ctx context.Context, movie int32, n, minRatings int) ([]engine.SimilarMovie, error)
	Popular(n, minRatings int) []engine.Prediction
	AddRatings(ctx context.Context, user int32, in []engine.RatingInput) ([]engine.Rating, error)
	UserRatings(ctx context.Context, user int32) ([]engine.Rating, error)
	MovieStats(id int32) (engine.Movie, int, float64, error)
	SearchMovies(query string, n int) ([]engine.Match, error)
	DeleteRating(ctx context.Context, user, movie int32) (engine.Rating, error)
	RequestForcedRetrain()
	RetrainState() (pending, running bool)
	Trainer() bool // this process trains (see engine.Config.Lock)
	Trainings(ctx context.Context, limit int) ([]engine.Training, error)
	Device() string
	Snapshot() *engine.Snapshot
	DataVersion() int64
	TrainingCounts() []engine.TrainingCount
	Ready() bool
}

var _ Recommender = (*engine.Engine)(nil)

// Options configure the server. Zero values take the defaults.
type Options struct {
	MaxCount     int   // largest count or limit for top-N lists (default 1000)
	MaxBodyBytes int64 // largest POST body (default 1 MiB)

	// APIKey, when set, is required as "Authorization: Bearer <APIKey>" on
	// every write route (POST, DELETE). /healthz, /readyz, /metrics and /openapi.json stay
	// open.
	APIKey string
	// AuthReads requires the API key on the GET routes too (when APIKey is
	// set).
	AuthReads bool

	// CORSOrigins are the origins whose browsers may call the API from
	// other pages (see ParseCORSOrigins): exact matches of the Origin
	// header, or "*" for any. Nil turns CORS off: no CORS headers at all.
	CORSOrigins []string

	// Registry receives the server's metrics, served at /metrics. Nil makes
	// a new registry with the Go and process collectors. Registering two
	// servers in one registry panics.
	Registry *prometheus.Registry
	// Now is the clock for the model age metric (default time.Now).
	Now func() time.Time
	// Storage, when set, reports whether writes work: /readyz is 503 while
	// they fail, and /metrics exports its counters.
	Storage StorageChecker
}

// Server holds the handlers' dependencies. It is safe for concurrent use.
type Server struct {
	rec     Recommender
	opts    Options
	log     *slog.Logger
	metrics *metrics
	eng     *gin.Engine
}

// New builds the router and registers its metrics. log may be nil.
func New(rec Recommender, opts Options, log *slog.Logger) *Server {
	if opts.MaxCount <= 0 {
		opts.MaxCount = 1000
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{rec: rec, opts: opts, log: log.With(logKeyComponent, "api")}
	s.metrics = newMetrics(opts.Registry, rec, opts.Now)
	if opts.Storage != nil {
		s.metrics.reg.MustRegister(newStorageCollector(opts.Storage))
	}
	s.eng = s.routes()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.eng.ServeHTTP(w, r) }

// Routes lists the registered routes (method and gin path), for documents
// and tests.
func (s *Server) Routes() gin.RoutesInfo { return s.eng.Routes() }

// routes is the one place where routes and their auth levels are set.
func (s *Server) routes() *gin.Engine {
	g := gin.New()
	g.HandleMethodNotAllowed = true
	// No redirects: /api/v1/movies/ is a JSON 404 like any unknown path,
	// not a 301 with an HTML body that a client might follow with a GET.
	g.RedirectTrailingSlash = false
	g.RedirectFixedPath = false
	_ = g.SetTrustedProxies(nil)
	g.Use(s.requestID, s.accessLog, s.recovery, s.cors, headBody, s.strictQuery)
	g.NoRoute(func(c *gin.Context) {
		s.fail(c, fmt.Errorf("%w: no route %s %s", errNotFound, c.Request.Method, c.Request.URL.Path))
	})
	g.NoMethod(func(c *gin.Context) {
		s.fail(c, fmt.Errorf("%w: %s not allowed on %s", errMethod, c.Request.Method, c.Request.URL.Path))
	})

	// Every GET route answers HEAD too (probes and monitors use it).
	get := func(r gin.IRoutes, path string, h ...gin.HandlerFunc) {
		r.GET(path, h...)
		r.HEAD(path, h...)
	}

	// Always open.
	get(g, "/healthz", s.healthz)
	get(g, "/readyz", s.readyz)
	get(g, "/metrics", gin.WrapH(s.metrics.handler))
	get(g, "/openapi.json", s.openAPI)

	read := g.Group("/", s.auth(s.opts.AuthReads)...)
	write := g.Group("/", s.auth(true)...)

	// The Flask tutorial's routes, at its exact paths and shapes.
	get(read, "/:user/ratings/top/:count", s.tutorialTop)
	get(read, "/:user/ratings/:movie", s.tutorialPredict)
	write.POST("/:user/ratings", s.tutorialPost)

	// The JSON API.
	v1r, v1w := read.Group("/api/v1"), write.Group("/api/v1")
	get(v1r, "/users/:user/recommendations", s.v1Recommendations)
	get(v1r, "/users/:user/ratings", s.v1UserRatings)
	v1w.POST("/users/:user/ratings", s.v1PostRatings)
	v1w.DELETE("/users/:user/ratings/:movie", s.v1DeleteRating)
	get(v1r, "/movies", s.v1SearchMovies)
	get(v1r, "/movies/popular", s.v1Popular)
	get(v1r, "/movies/:movie", s.v1Movie)
	get(v1r, "/movies/:movie/similar", s.v1Similar)
	get(v1r, "/model", s.v1Model)
	v1w.POST("/model/retrain", s.v1Retrain)
	get(v1r, "/model/trainings", s.v1Trainings)
	get(v1r, "/status", s.v1Status)

	// OPTIONS on every route path: 204 with Allow, open like a preflight.
	allow := map[string][]string{}
	var paths []string
	for _, r := range g.Routes() {
		if allow[r.Path] == nil {
			paths = append(paths, r.Path)
		}
		allow[r.Path] = append(allow[r.Path], r.Method)
	}
	for _, p := range paths {
		methods := append(allow[p], http.MethodOptions)
		slices.Sort(methods)
		g.OPTIONS(p, s.options(strings.Join(methods, ", ")))
	}
	return g
}

var (
	errNotFound = errors.New("not found")
	errMethod   = errors.New("method not allowed")
)

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (s *Server) readyz(c *gin.Context) {
	if !s.rec.Ready() {
		s.fail(c, fmt.Errorf("%w: the first model is still training", engine.ErrModelNotReady))
		return
	}
	if s.opts.Storage != nil {
		st := s.opts.Storage.StorageStatus()
		details := storageDetails(st)
		if st.Unavailable {
			// A shared store is down: reads are served from memory, so
			// the replica stays in rotation; writes answer 503.
			c.JSON(http.StatusOK, gin.H{"status": "degraded",
				"error": "database unavailable: reads are served from memory, writes fail: " + st.WriteError, "details": details})
			return
		}
		if !st.Healthy() {
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"status": "not ready",
				"error": "writes fail: " + st.WriteError, "details": details, "request_id": c.GetString(ctxKeyRequestID)})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready", "details": details})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// parseID reads a non-negative 32-bit id from a path parameter.
func parseID(c *gin.Context, name string) (int32, error) {
	v := c.Param(name)
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s id %q is not a non-negative 32-bit integer", ErrBadRequest, name, clip([]byte(v)))
	}
	return int32(n), nil
}

// parseUserMovie reads the user and movie ids of a /{user}/…/{movie} path.
func parseUserMovie(c *gin.Context) (user, movie int32, err error) {
	if user, err = parseID(c, "user"); err != nil {
		return 0, 0, err
	}
	movie, err = parseID(c, "movie")
	return user, movie, err
}

// readBody reads the whole body up to the limit.
func (s *Server) readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes))
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil:
		return body, nil
	case errors.As(err, &mbe):
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, s.opts.MaxBodyBytes)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		// The error names the socket addresses: keep it out of the answer.
		return nil, fmt.Errorf("%w: the request body did not arrive within the server's read timeout", ErrTimeout)
	}
	s.log.DebugContext(c.Request.Context(), "read body", logKeyRequestID, c.GetString(ctxKeyRequestID), slog.Any(logKeyErr, err))
	return nil, fmt.Errorf("%w: the request body could not be read (malformed chunked encoding or a dropped connection)", ErrBadRequest)
}

// requestID takes X-Request-ID from the client (if sane: 1 to 64 printable
// ASCII bytes) or makes one, and echoes it.
func (s *Server) requestID(c *gin.Context) {
	id := requestIDOf(c.Request)
	c.Set(ctxKeyRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// accessLog logs every request and records it in the request metrics.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.metrics.request(c.Request.Method, route, status, elapsed)
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
		slog.String(logKeyRequestID, c.GetString(ctxKeyRequestID)),
		slog.String(logKeyMethod, c.Request.Method),
		slog.String(logKeyRoute, route),
		slog.Int(logKeyStatus, status),
		slog.Float64(logKeyLatency, float64(elapsed.Microseconds())/1000))
}

func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// strictQuery answers 400 for a query string that does not parse (a bad
// escape such as %zz, a ';' separator) on every route, instead of letting
// Gin drop the parameters silently.
func (s *Server) strictQuery(c *gin.Context) {
	if _, err := url.ParseQuery(c.Request.URL.RawQuery); err != nil {
		s.fail(c, fmt.Errorf("%w: malformed query string: %v", ErrBadRequest, err))
		return
	}
	c.Next()
}

// headBody drops the body of a HEAD answer. net/http does so too; this
// keeps any other http.Server-less use of the handler (tests, wrappers)
// correct.
func headBody(c *gin.Context) {
	if c.Request.Method == http.MethodHead {
		c.Writer = headWriter{c.Writer}
	}
	c.Next()
}

// headWriter is a gin.ResponseWriter that writes headers and no body.
type headWriter struct{ gin.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) {
	w.WriteHeaderNow()
	return len(b), nil
}

func (w headWriter) WriteString(s string) (int, error) {
	w.WriteHeaderNow()
	return len(s), nil
}
