package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
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
// a retrain will start after this request.
func (s *Server) v1Retrain(c *gin.Context) {
	s.rec.RequestForcedRetrain()
	c.JSON(http.StatusAccepted, retrainRequested{Status: "retrain requested", Pending: true})
}
