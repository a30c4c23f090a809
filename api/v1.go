package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
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
