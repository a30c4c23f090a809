package api

import (
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"movierec/engine"
)

// tutorialTop serves GET /{user}/ratings/top/{count}:
// [[title, predicted, ratings_count], ...], best first.
func (s *Server) tutorialTop(c *gin.Context) {
	user, err := parseID(c, "user")
	if err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.parseCount("count", c.Param("count"))
	if err != nil {
		s.fail(c, err)
		return
	}
	preds, err := s.rec.Top(c.Request.Context(), user, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([][3]any, len(preds))
	for i, p := range preds {
		out[i] = [3]any{p.Movie.Title, round4(p.Score), p.Count}
	}
	c.JSON(http.StatusOK, out)
}

// tutorialPredict serves GET /{user}/ratings/{movie}:
// [[title, predicted, ratings_count]].
func (s *Server) tutorialPredict(c *gin.Context) {
	user, movie, err := parseUserMovie(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.rec.Predict(c.Request.Context(), user, movie)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, [][3]any{{p.Movie.Title, round4(p.Score), p.Count}})
}

// tutorialPost serves POST /{user}/ratings with a body of movieId,rating
// lines, whatever the Content-Type (curl --data-binary sends form encoding):
// [[user, movie, rating], ...] as stored.
func (s *Server) tutorialPost(c *gin.Context) {
	user, stored, err := s.addRatings(c, ParseRatingLines)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([][3]any, len(stored))
	for i, r := range stored {
		out[i] = [3]any{user, r.Movie, r.Value}
	}
	c.JSON(http.StatusOK, out) // 200, as the tutorial answered
}

// addRatings is what both POST routes do: read the user id and the body,
// parse the body with parse, store the batch and count it.
func (s *Server) addRatings(c *gin.Context, parse func([]byte) ([]engine.RatingInput, error)) (int32, []engine.Rating, error) {
	user, err := parseID(c, "user")
	if err != nil {
		return 0, nil, err
	}
	body, err := s.readBody(c)
	if err != nil {
		return 0, nil, err
	}
	in, err := parse(body)
	if err != nil {
		return 0, nil, err
	}
	stored, err := s.rec.AddRatings(c.Request.Context(), user, in)
	if err != nil {
		return 0, nil, err
	}
	s.metrics.stored(len(stored))
	return user, stored, nil
}

// round4 rounds a prediction to 4 decimals: float32 factors carry no more,
// and clients get 4.2863 rather than 4.286283016204834.
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// round6 rounds v to six decimals, for scores that are no ratings.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
