package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"movierec/engine"
)

// modelParams are the training parameters of the published model.
type modelParams struct {
	Rank       int     `json:"rank"`
	Iterations int     `json:"iterations"`
	Lambda     float64 `json:"lambda"`
	Seed       int64   `json:"seed"`
	Bias       bool    `json:"bias"`
}

// modelInfo is the body of GET /api/v1/model.
type modelInfo struct {
	DataVersion  int64       `json:"data_version"`
	Params       modelParams `json:"params"`
	Backend      string      `json:"backend"`
	TrainedAt    string      `json:"trained_at"`
	TrainSeconds float64     `json:"train_seconds"`
	TrainRMSE    float64     `json:"train_rmse"`
	Ratings      int         `json:"ratings"`
}

// v1Model serves GET /api/v1/model: what the published model was trained
// on and how. 503 before the first model.
func (s *Server) v1Model(c *gin.Context) {
	snap := s.rec.Snapshot()
	if snap == nil {
		s.fail(c, engine.ErrModelNotReady)
		return
	}
	p := snap.Params
	c.JSON(http.StatusOK, modelInfo{
		DataVersion:  snap.DataVersion,
		Params:       modelParams{Rank: p.Rank, Iterations: p.Iterations, Lambda: p.Lambda, Seed: p.Seed, Bias: p.Bias},
		Backend:      snap.Backend,
		TrainedAt:    snap.TrainedAt.UTC().Format(time.RFC3339),
		TrainSeconds: snap.TrainSeconds,
		TrainRMSE:    snap.TrainRMSE,
		Ratings:      snap.Ratings,
	})
}
