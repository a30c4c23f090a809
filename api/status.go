package api

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// routeStats is one route's share of the requests.
type routeStats struct {
	Route string  `json:"route"` // method and gin path
	Count uint64  `json:"count"`
	P99MS float64 `json:"p99_ms"`
}

// requestStats summarises the request metrics.
type requestStats struct {
	Total        uint64       `json:"total"`
	PerSecond    float64      `json:"per_second"`
	LatencyP50MS float64      `json:"latency_p50_ms"`
	LatencyP99MS float64      `json:"latency_p99_ms"`
	ByRoute      []routeStats `json:"by_route"`
}

// status is the body of GET /api/v1/status.
type status struct {
	Model          *modelInfo   `json:"model"` // null before the first model
	RetrainPending bool         `json:"retrain_pending"`
	Training       bool         `json:"training"`
	Device         string       `json:"device"`
	Requests       requestStats `json:"requests"`
}

// v1Status serves GET /api/v1/status: the model (as GET /api/v1/model
// gives it, or null), whether a retrain is pending or running, what
// trains, and the request statistics of /metrics since the server
// started: totals and latency quantiles from movierec_http_request_duration_seconds
// (interpolated within its buckets, as Prometheus' histogram_quantile
// does), and the rate over the last minute (since start when younger).
func (s *Server) v1Status(c *gin.Context) {
	out := status{Device: s.device()}
	if snap := s.rec.Snapshot(); snap != nil {
		out.Model = s.describe(snap)
	}
	out.RetrainPending, out.Training = s.rec.RetrainState()
	req, err := s.metrics.requestStats(time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	out.Requests = req
	c.JSON(http.StatusOK, out)
}

// device is "backend (device)", or the backend alone when the device adds
// nothing: "cpu (2 cores)", "cuda (NVIDIA H200)".
func (s *Server) device() string {
	backend, device := "", s.rec.Device()
	if snap := s.rec.Snapshot(); snap != nil {
		backend = snap.Backend
	}
	if backend == "" || backend == device {
		return device
	}
	return backend + " (" + device + ")"
}

// bucket is one cumulative histogram bucket.
type bucket struct {
	upper float64
	count uint64
}

// requestStats reads the latency histogram.
func (m *metrics) requestStats(now time.Time) (requestStats, error) {
	out := requestStats{ByRoute: []routeStats{}, PerSecond: round4(m.rate.perSecond(now, m.start))}
	mfs, err := m.latencies.Gather()
	if err != nil {
		return out, err
	}
	var all []bucket // summed over routes; every route has the same bounds
	for _, mf := range mfs {
		for _, met := range mf.GetMetric() {
			h := met.GetHistogram()
			var method, route string
			for _, l := range met.GetLabel() {
				switch l.GetName() {
				case "method":
					method = l.GetValue()
				case "route":
					route = l.GetValue()
				}
			}
			bs := make([]bucket, 0, len(h.GetBucket())+1)
			for _, b := range h.GetBucket() {
				bs = append(bs, bucket{b.GetUpperBound(), b.GetCumulativeCount()})
			}
			bs = append(bs, bucket{math.Inf(1), h.GetSampleCount()})
			if all == nil {
				all = make([]bucket, len(bs))
				for i, b := range bs {
					all[i].upper = b.upper
				}
			}
			for i, b := range bs {
				all[i].count += b.count
			}
			out.Total += h.GetSampleCount()
			out.ByRoute = append(out.ByRoute, routeStats{Route: method + " " + route, Count: h.GetSampleCount(), P99MS: quantileMS(bs, 0.99)})
		}
	}
	slices.SortFunc(out.ByRoute, func(a, b routeStats) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Compare(a.Route, b.Route)
	})
	out.LatencyP50MS, out.LatencyP99MS = quantileMS(all, 0.5), quantileMS(all, 0.99)
	return out, nil
}

// quantileMS estimates quantile q of cumulative buckets (the last one
// +Inf) in milliseconds, interpolating linearly within the bucket that
// holds it; a quantile in the +Inf bucket is the largest finite bound. No
// observations give 0.
func quantileMS(bs []bucket, q float64) float64 {
	if len(bs) == 0 || bs[len(bs)-1].count == 0 {
		return 0
	}
	rank := q * float64(bs[len(bs)-1].count)
	lower, below := 0.0, uint64(0)
	for i, b := range bs {
		if float64(b.count) >= rank {
			if math.IsInf(b.upper, 1) {
				if i == 0 {
					return 0
				}
				return round4(bs[i-1].upper * 1000)
			}
			in := b.count - below
			frac := 1.0
			if in > 0 {
				frac = (rank - float64(below)) / float64(in)
			}
			return round4((lower + (b.upper-lower)*frac) * 1000)
		}
		lower, below = b.upper, b.count
	}
	return 0
}
