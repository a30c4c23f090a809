package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"movierec/engine"
)

// modelParams are the training parameters of the published model.
type modelParams struct {
	Rank       int     `json:"rank"`
	Iterations int     `json:"iterations"`
	Lambda     float64 `json:"lambda"`
	RegOffset  float64 `json:"reg_offset"` // the ridge is λ·(n + reg_offset); 0: ALS-WR's λ·n
	Seed       int64   `json:"seed"`
	Bias       bool    `json:"bias"`
}

// rankingParams are the training parameters of the implicit ranking model.
type rankingParams struct {
	Rank        int     `json:"rank"`
	Iterations  int     `json:"iterations"`
	Lambda      float64 `json:"lambda"`
	Alpha       float64 `json:"alpha"`
	Unobserved  float64 `json:"unobserved"`
	RegExponent float64 `json:"reg_exponent"`
	Seed        int64   `json:"seed"`
}

// rankingInfo describes the ranking model of the published snapshot.
type rankingInfo struct {
	Objective      string        `json:"objective"`
	Params         rankingParams `json:"params"`
	TrainSeconds   float64       `json:"train_seconds"`
	PreferenceRMSE float64       `json:"preference_rmse"`
}

// modelInfo is the body of GET /api/v1/model. Its top-level fields
// describe the rating model (explicit ALS: predicted ratings); Ranking
// the model that orders top-N lists, absent when the rating model ranks
// too (RankedBy "explicit").
type modelInfo struct {
	DataVersion  int64        `json:"data_version"`
	Params       modelParams  `json:"params"`
	Backend      string       `json:"backend"`
	Device       string       `json:"device"`
	TrainedAt    string       `json:"trained_at"`
	TrainSeconds float64      `json:"train_seconds"`
	TrainRMSE    float64      `json:"train_rmse"`
	Ratings      int          `json:"ratings"`
	RankedBy     string       `json:"ranked_by"`
	Ranking      *rankingInfo `json:"ranking,omitempty"`
	Scale        *scaleInfo   `json:"scale,omitempty"`
}

// scaleInfo describes the rating scale: what a POST may send and what
// predictions are clamped to. Min and Max are absent when unbounded, Step
// when not stepped.
type scaleInfo struct {
	Kind    string   `json:"kind"`
	Spec    string   `json:"spec"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Step    *float64 `json:"step,omitempty"`
	Allowed string   `json:"allowed"`
}

// scaler is what a Recommender implements to report its rating scale
// (engine.Engine does); without it GET /api/v1/model has no scale.
type scaler interface{ Scale() engine.Scale }

// describeScale is the scale field of GET /api/v1/model.
func describeScale(s engine.Scale) *scaleInfo {
	num := func(x float32) *float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return &v
	}
	info := &scaleInfo{Kind: s.Kind(), Spec: s.Spec(), Allowed: s.Allowed()}
	if s.Bounded() {
		info.Min, info.Max = num(s.Min), num(s.Max)
	}
	if s.Step > 0 {
		info.Step = num(s.Step)
	}
	return info
}

// v1Model serves GET /api/v1/model: what the published model was trained
// on and how. 503 before the first model.
func (s *Server) v1Model(c *gin.Context) {
	snap := s.rec.Snapshot()
	if snap == nil {
		s.fail(c, engine.ErrModelNotReady)
		return
	}
	c.JSON(http.StatusOK, s.describe(snap))
}

// describe is describeModel plus the recommender's scale.
func (s *Server) describe(snap *engine.Snapshot) *modelInfo {
	info := describeModel(snap)
	if sc, ok := s.rec.(scaler); ok {
		info.Scale = describeScale(sc.Scale())
	}
	return info
}

// describeModel is the body of GET /api/v1/model for snap.
func describeModel(snap *engine.Snapshot) *modelInfo {
	p := snap.Params
	var ranking *rankingInfo
	rankedBy := "explicit"
	if r := snap.Ranker; r != nil {
		rp := snap.RankerParams
		rankedBy = rp.Objective.String()
		ranking = &rankingInfo{
			Objective: rp.Objective.String(),
			Params: rankingParams{Rank: rp.Rank, Iterations: rp.Iterations, Lambda: rp.Lambda, Alpha: rp.Alpha,
				Unobserved: rp.Unobserved, RegExponent: rp.RegExponent, Seed: rp.Seed},
			TrainSeconds:   snap.RankerSeconds,
			PreferenceRMSE: snap.RankerError,
		}
	}
	device := snap.Device
	if device == "" {
		device = snap.Backend // a model stored before devices were recorded
	}
	return &modelInfo{
		RankedBy:     rankedBy,
		Ranking:      ranking,
		DataVersion:  snap.DataVersion,
		Params:       modelParams{Rank: p.Rank, Iterations: p.Iterations, Lambda: p.Lambda, RegOffset: p.RegOffset, Seed: p.Seed, Bias: p.Bias},
		Backend:      snap.Backend,
		Device:       device,
		TrainedAt:    snap.TrainedAt.UTC().Format(time.RFC3339),
		TrainSeconds: snap.TrainSeconds,
		TrainRMSE:    snap.TrainRMSE,
		Ratings:      snap.Ratings,
	}
}
