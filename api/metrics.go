package api

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"movierec/engine"
)

// modelSource is what the model metrics read at scrape time.
type modelSource interface {
	Snapshot() *engine.Snapshot
	DataVersion() int64
	TrainingCounts() []engine.TrainingCount
}

// metrics are the server's Prometheus metrics. Request metrics are recorded
// by the access-log middleware; model and training metrics are read from
// the engine when /metrics is scraped, so they need no wiring.
type metrics struct {
	handler  http.Handler
	reg      *prometheus.Registry // what handler serves
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ratings  prometheus.Counter
	model    *modelCollector

	// latencies gathers latency alone, for GET /api/v1/status.
	latencies *prometheus.Registry
	rate      rateWindow
	start     time.Time
}

func newMetrics(reg *prometheus.Registry, src modelSource, now func() time.Time) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "movierec_http_requests_total",
			Help: "HTTP requests by method, route (gin path) and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "movierec_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route (gin path).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		ratings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "movierec_ratings_stored_total",
			Help: "Ratings accepted and stored durably through the API.",
		}),
		model: newModelCollector(src, now),
	}
	reg.MustRegister(m.requests, m.latency, m.ratings, m.model)
	m.latencies = prometheus.NewRegistry()
	m.latencies.MustRegister(m.latency)
	m.start = time.Now() // the request rate runs on the real clock, as latencies do
	m.reg = reg
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// request records one served request.
func (m *metrics) request(method, route string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // bound the label's values
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
	m.rate.add(time.Now().Unix())
}

// rateWindow counts requests per second over the last minute, in one slot
// per second. Slots are reset without a lock, so a request racing a reset
// may go uncounted: it serves a rate display, not accounting.
type rateWindow struct {
	slots [60]struct{ sec, n atomic.Int64 }
}

func (w *rateWindow) add(sec int64) {
	s := &w.slots[sec%int64(len(w.slots))]
	if old := s.sec.Load(); old != sec && s.sec.CompareAndSwap(old, sec) {
		s.n.Store(0)
	}
	s.n.Add(1)
}

// perSecond is the mean rate over the minute before now, or over the time
// since start when that is shorter (at least one second).
func (w *rateWindow) perSecond(now, start time.Time) float64 {
	sec := now.Unix()
	var n int64
	for i := range w.slots {
		s := &w.slots[i]
		if t := s.sec.Load(); t > sec-int64(len(w.slots)) && t <= sec {
			n += s.n.Load()
		}
	}
	span := min(now.Sub(start).Seconds(), float64(len(w.slots)))
	return float64(n) / max(span, 1)
}

// stored counts accepted ratings.
func (m *metrics) stored(n int) { m.ratings.Add(float64(n)) }

// modelCollector exports the published model's metadata and the engine's
// training counters, all read at scrape time.
type modelCollector struct {
	src modelSource
	now func() time.Time

	trainings, trainingSecs                                                *prometheus.Desc
	ready, version, modelVersion, age, trainedAt, trainSecs, rmse, ratings *prometheus.Desc
}

func newModelCollector(src modelSource, now func() time.Time) *modelCollector {
	return &modelCollector{
		src:          src,
		now:          now,
		trainings:    prometheus.NewDesc("movierec_trainings_total", "Trainings since the server started, by backend and result (ok, failed).", []string{"backend", "result"}, nil),
		trainingSecs: prometheus.NewDesc("movierec_training_seconds_total", "Wall time spent training since the server started, by backend.", []string{"backend"}, nil),
		ready:        prometheus.NewDesc("movierec_model_ready", "1 when a model is published, else 0.", nil, nil),
		version:      prometheus.NewDesc("movierec_data_version", "Current data version (bumped by every accepted write).", nil, nil),
		modelVersion: prometheus.NewDesc("movierec_model_data_version", "Data version the published model was trained on.", nil, nil),
		age:          prometheus.NewDesc("movierec_model_age_seconds", "Seconds since the published model was trained.", nil, nil),
		trainedAt:    prometheus.NewDesc("movierec_model_trained_timestamp_seconds", "Unix time the published model was trained.", nil, nil),
		trainSecs:    prometheus.NewDesc("movierec_model_train_seconds", "Training time of the published model.", []string{"backend"}, nil),
		rmse:         prometheus.NewDesc("movierec_model_train_rmse", "Training RMSE of the published model.", nil, nil),
		ratings:      prometheus.NewDesc("movierec_model_ratings", "Ratings the published model was trained on.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *modelCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.trainings, m.trainingSecs, m.ready, m.version, m.modelVersion, m.age, m.trainedAt, m.trainSecs, m.rmse, m.ratings} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *modelCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.src.TrainingCounts() {
		ch <- prometheus.MustNewConstMetric(m.trainings, prometheus.CounterValue, float64(c.OK), c.Backend, "ok")
		ch <- prometheus.MustNewConstMetric(m.trainings, prometheus.CounterValue, float64(c.Failed), c.Backend, "failed")
		ch <- prometheus.MustNewConstMetric(m.trainingSecs, prometheus.CounterValue, c.Seconds, c.Backend)
	}
	ch <- prometheus.MustNewConstMetric(m.version, prometheus.GaugeValue, float64(m.src.DataVersion()))
	s := m.src.Snapshot()
	if s == nil {
		ch <- prometheus.MustNewConstMetric(m.ready, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.ready, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(m.modelVersion, prometheus.GaugeValue, float64(s.DataVersion))
	ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, m.now().Sub(s.TrainedAt).Seconds())
	ch <- prometheus.MustNewConstMetric(m.trainedAt, prometheus.GaugeValue, float64(s.TrainedAt.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(m.trainSecs, prometheus.GaugeValue, s.TrainSeconds, s.Backend)
	ch <- prometheus.MustNewConstMetric(m.rmse, prometheus.GaugeValue, s.TrainRMSE)
	ch <- prometheus.MustNewConstMetric(m.ratings, prometheus.GaugeValue, float64(s.Ratings))
}

// StorageChecker reports the store's health (store.DB implements it).
type StorageChecker interface {
	StorageStatus() engine.StorageStatus
}

// storageDetails is the storage part of /readyz's details.
func storageDetails(st engine.StorageStatus) gin.H {
	d := gin.H{"writes_ok": st.Healthy(), "disk_full": st.DiskFull, "model_save_failures": st.ModelSaveFailures}
	if st.WriteError != "" {
		d["write_error"] = st.WriteError
	}
	if st.Unavailable {
		d["database_unavailable"] = true
	}
	if st.LastModelSaveError != "" {
		d["last_model_save_error"] = st.LastModelSaveError
	}
	return gin.H{"storage": d}
}

// storageCollector exports the store's health at scrape time.
type storageCollector struct {
	src                  StorageChecker
	writesOK, saveFailed *prometheus.Desc
}

func newStorageCollector(src StorageChecker) *storageCollector {
	return &storageCollector{
		src:        src,
		writesOK:   prometheus.NewDesc("movierec_storage_writes_ok", "1 while database writes succeed, 0 while they fail (disk full, I/O error).", nil, nil),
		saveFailed: prometheus.NewDesc("movierec_model_save_failures_total", "Trained models that could not be saved to the database (a restart retrains).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (s *storageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.writesOK; ch <- s.saveFailed }

// Collect implements prometheus.Collector.
func (s *storageCollector) Collect(ch chan<- prometheus.Metric) {
	st := s.src.StorageStatus()
	ok := 0.0
	if st.Healthy() {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(s.writesOK, prometheus.GaugeValue, ok)
	ch <- prometheus.MustNewConstMetric(s.saveFailed, prometheus.CounterValue, float64(st.ModelSaveFailures))
}

// BuildInfo describes the running binary for movierec_build_info.
type BuildInfo struct {
	Version, Revision, GoVersion string
}

// RegisterBuildInfo adds movierec_build_info{version, revision, goversion}
// 1 to reg.
func RegisterBuildInfo(reg *prometheus.Registry, b BuildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "movierec_build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// StartingMetrics serves /metrics while the service starts, before New:
// what reg holds (the Go, process and build metrics) plus
// movierec_model_ready 0, so Prometheus sees the target up and not ready.
// New, given the same registry, takes over with the full set.
func StartingMetrics(reg *prometheus.Registry) http.Handler {
	starting := prometheus.NewRegistry()
	ready := prometheus.NewGauge(prometheus.GaugeOpts{Name: "movierec_model_ready", Help: "1 when a model is published, else 0."})
	starting.MustRegister(ready)
	return promhttp.HandlerFor(prometheus.Gatherers{reg, starting}, promhttp.HandlerOpts{})
}

// RegisterGPUFallbacks adds movierec_gpu_fallbacks_total{reason} to reg and
// returns the function that counts one: a training the CPU did instead of
// the CUDA worker, because the worker "stalled" (the watchdog killed it),
// "failed", or was skipped while its circuit breaker was open
// ("circuit_open"). The function is safe for concurrent use.
func RegisterGPUFallbacks(reg *prometheus.Registry) func(reason string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "movierec_gpu_fallbacks_total",
		Help: "Trainings done on the CPU instead of the CUDA worker, by reason (stalled, failed, circuit_open).",
	}, []string{"reason"})
	for _, r := range []string{"stalled", "failed", "circuit_open"} {
		c.WithLabelValues(r)
	}
	reg.MustRegister(c)
	return func(reason string) { c.WithLabelValues(reason).Inc() }
}
