package api

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"movierec/engine"
)

// retrainRequested is the body of POST /api/v1/model/retrain.
type retrainRequested struct {
	Status  string `json:"status"`
	Pending bool   `json:"pending"`
}

// v1Retrain serves POST /api/v1/model/retrain: it asks for a background
// retrain and answers 202 at once. Requests coalesce with those of rating
// writes (at most one training runs and one more is pending); unlike
// theirs, it retrains even when no rating changed. Pending is always true:
// a retrain will start after this request. A process that does not train
// (--train=false, or another process holds the trainer lock) answers 409.
func (s *Server) v1Retrain(c *gin.Context) {
	if !s.rec.Trainer() {
		s.fail(c, fmt.Errorf("%w: this process does not train now (it runs with --train=false, or another process sharing the database holds the trainer lock); ask the trainer", engine.ErrNotTrainer))
		return
	}
	s.rec.RequestForcedRetrain()
	c.JSON(http.StatusAccepted, retrainRequested{Status: "retrain requested", Pending: true})
}

// iteration is one iteration of a model's fit.
type iteration struct {
	N          int      `json:"n"`
	TrainError *float64 `json:"train_error"` // null when not finite (a diverged fit)
	Seconds    float64  `json:"seconds"`
}

// modelTraining is the fit of one model of a training.
type modelTraining struct {
	Model      string      `json:"model"`
	Params     string      `json:"params"`
	Iterations []iteration `json:"iterations"`
	WarmStart  int64       `json:"warm_start,omitempty"`
}

// training is one retrain of the history.
type training struct {
	ID          int64           `json:"id"`
	StartedAt   string          `json:"started_at"`
	Seconds     float64         `json:"seconds"`
	Backend     string          `json:"backend"`
	Device      string          `json:"device"`
	Result      string          `json:"result"`
	Error       string          `json:"error,omitempty"`
	DataVersion int64           `json:"data_version"`
	Ratings     int             `json:"ratings"`
	Models      []modelTraining `json:"models"`
}

// trainings is the body of GET /api/v1/model/trainings.
type trainings struct {
	Trainings []training `json:"trainings"`
}

// defaultTrainings is the length of the training history when the client
// names no limit.
const defaultTrainings = 20

// v1Trainings serves GET /api/v1/model/trainings?limit=: the newest
// trainings (the store keeps 50), newest first.
func (s *Server) v1Trainings(c *gin.Context) {
	n := defaultTrainings
	if v, ok := c.GetQuery("limit"); ok {
		var err error
		if n, err = s.parseCount("limit", v); err != nil {
			s.fail(c, err)
			return
		}
	}
	ts, err := s.rec.Trainings(c.Request.Context(), n)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := trainings{Trainings: make([]training, len(ts))}
	for i, t := range ts {
		tr := training{ID: t.ID, StartedAt: t.StartedAt.UTC().Format(time.RFC3339), Seconds: round6(t.Seconds),
			Backend: t.Backend, Device: t.Device, Result: t.Result, Error: t.Error, DataVersion: t.DataVersion,
			Ratings: t.Ratings, Models: make([]modelTraining, len(t.Models))}
		for j, m := range t.Models {
			mt := modelTraining{Model: m.Model, Params: m.Params, Iterations: make([]iteration, len(m.Iterations)), WarmStart: m.WarmStart}
			for k, it := range m.Iterations {
				mt.Iterations[k] = iteration{N: it.N, Seconds: round6(it.Seconds)}
				if !math.IsNaN(it.TrainError) && !math.IsInf(it.TrainError, 0) {
					v := round6(it.TrainError)
					mt.Iterations[k].TrainError = &v
				}
			}
			tr.Models[j] = mt
		}
		out.Trainings[i] = tr
	}
	c.JSON(http.StatusOK, out)
}
