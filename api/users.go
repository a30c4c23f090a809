package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"movierec/engine"
)

// userRating is one rating in the JSON API.
type userRating struct {
	MovieID   int32   `json:"movie_id"`
	Title     string  `json:"title"`
	Rating    float32 `json:"rating"`
	Timestamp int64   `json:"timestamp"`
}

// userRatings is the body of GET /api/v1/users/{user}/ratings.
type userRatings struct {
	UserID  int32        `json:"user_id"`
	Ratings []userRating `json:"ratings"`
}

// v1UserRatings serves GET /api/v1/users/{user}/ratings: the user's stored
// ratings, ordered by movie id (an unknown user has an empty list).
func (s *Server) v1UserRatings(c *gin.Context) {
	user, err := parseID(c, "user")
	if err != nil {
		s.fail(c, err)
		return
	}
	rs, err := s.rec.UserRatings(c.Request.Context(), user)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := userRatings{UserID: user, Ratings: make([]userRating, 0, len(rs))}
	for _, r := range rs {
		m, _, _, err := s.rec.MovieStats(r.Movie)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.Ratings = append(out.Ratings, userRating{MovieID: r.Movie, Title: m.Title, Rating: r.Value, Timestamp: r.Time})
	}
	c.JSON(http.StatusOK, out)
}

// storedRating is one rating as a POST stored it.
type storedRating struct {
	MovieID   int32   `json:"movie_id"`
	Rating    float32 `json:"rating"`
	Timestamp int64   `json:"timestamp"`
}

// storedRatings is the body of POST /api/v1/users/{user}/ratings.
type storedRatings struct {
	UserID int32          `json:"user_id"`
	Stored []storedRating `json:"stored"`
}

// v1PostRatings serves POST /api/v1/users/{user}/ratings with a JSON array
// of {movie_id, rating}. The batch is stored whole or not at all; an unknown
// movie, an off-scale rating or a movie rated twice in the batch is a 400.
func (s *Server) v1PostRatings(c *gin.Context) {
	if err := requireJSON(c); err != nil {
		s.fail(c, err)
		return
	}
	user, stored, err := s.addRatings(c, ParseRatingsJSON)
	if errors.Is(err, engine.ErrUnknownMovie) {
		err = fmt.Errorf("%w: %w", ErrBadRequest, err) // a bad body, not a missing resource
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := storedRatings{UserID: user, Stored: make([]storedRating, len(stored))}
	for i, r := range stored {
		out.Stored[i] = storedRating{MovieID: r.Movie, Rating: r.Value, Timestamp: r.Time}
	}
	c.JSON(http.StatusOK, out)
}

// requireJSON checks that the request body is declared application/json.
func requireJSON(c *gin.Context) error {
	ct := c.GetHeader("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return fmt.Errorf("%w: Content-Type %q, want application/json", ErrUnsupportedMediaType, clip([]byte(ct)))
	}
	return nil
}

// recommendation is one recommended movie.
type recommendation struct {
	MovieID         int32    `json:"movie_id"`
	Title           string   `json:"title"`
	Genres          []string `json:"genres"`
	PredictedRating float64  `json:"predicted_rating"`
	Score           float64  `json:"score"` // what ordered the list (engine.Prediction.Rank)
	RatingsCount    int      `json:"ratings_count"`
	AverageRating   float64  `json:"average_rating"`
}

// recommendations is the body of GET /api/v1/users/{user}/recommendations.
type recommendations struct {
	UserID          int32            `json:"user_id"`
	Recommendations []recommendation `json:"recommendations"`
}

// v1Recommendations serves GET
// /api/v1/users/{user}/recommendations?limit=&min_ratings=&genre=: the
// user's best unrated movies, best first.
func (s *Server) v1Recommendations(c *gin.Context) {
	user, err := parseID(c, "user")
	if err != nil {
		s.fail(c, err)
		return
	}
	q := engine.Query{User: user}
	if q.N, q.MinRatings, err = s.listParams(c); err != nil {
		s.fail(c, err)
		return
	}
	if q.Genre, err = genre(c); err != nil {
		s.fail(c, err)
		return
	}
	preds, err := s.rec.Recommend(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := recommendations{UserID: user, Recommendations: make([]recommendation, len(preds))}
	for i, p := range preds {
		out.Recommendations[i] = recommendation{
			MovieID: p.Movie.ID, Title: p.Movie.Title, Genres: genres(p.Movie.Genres),
			PredictedRating: round4(p.Score), Score: round6(p.Rank), RatingsCount: p.Count, AverageRating: round4(p.Average),
		}
	}
	c.JSON(http.StatusOK, out)
}

// genres returns g, or an empty list for nil, so JSON shows [] not null.
func genres(g []string) []string {
	if g == nil {
		return []string{}
	}
	return g
}

// deletedRating is the body of DELETE /api/v1/users/{user}/ratings/{movie}.
type deletedRating struct {
	UserID  int32 `json:"user_id"`
	MovieID int32 `json:"movie_id"`
	Deleted bool  `json:"deleted"`
}

// v1DeleteRating serves DELETE /api/v1/users/{user}/ratings/{movie}: the
// rating is removed durably and the user folded in again before the
// answer. 404 when the movie is unknown or the user has not rated it
// (nothing changes then).
func (s *Server) v1DeleteRating(c *gin.Context) {
	user, movie, err := parseUserMovie(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.rec.DeleteRating(c.Request.Context(), user, movie); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, deletedRating{UserID: user, MovieID: movie, Deleted: true})
}
