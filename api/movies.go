package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// movie is a catalog entry with its rating statistics.
type movie struct {
	MovieID       int32    `json:"movie_id"`
	Title         string   `json:"title"`
	Genres        []string `json:"genres"`
	RatingsCount  int      `json:"ratings_count"`
	AverageRating float64  `json:"average_rating"`
}

// v1Movie serves GET /api/v1/movies/{movie}.
func (s *Server) v1Movie(c *gin.Context) {
	id, err := parseID(c, "movie")
	if err != nil {
		s.fail(c, err)
		return
	}
	m, n, avg, err := s.rec.MovieStats(id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, movie{MovieID: m.ID, Title: m.Title, Genres: genres(m.Genres), RatingsCount: n, AverageRating: round4(avg)})
}

// similarMovie is one entry of a similar-movies list.
type similarMovie struct {
	MovieID    int32   `json:"movie_id"`
	Title      string  `json:"title"`
	Similarity float64 `json:"similarity"`
}

// similarMovies is the body of GET /api/v1/movies/{movie}/similar.
type similarMovies struct {
	MovieID int32          `json:"movie_id"`
	Similar []similarMovie `json:"similar"`
}

// v1Similar serves GET /api/v1/movies/{movie}/similar?limit=&min_ratings=:
// the movies whose item factors are closest in cosine, most similar first.
func (s *Server) v1Similar(c *gin.Context) {
	id, err := parseID(c, "movie")
	if err != nil {
		s.fail(c, err)
		return
	}
	n, minR, err := s.listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	sims, err := s.rec.Similar(c.Request.Context(), id, n, minR)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := similarMovies{MovieID: id, Similar: make([]similarMovie, len(sims))}
	for i, m := range sims {
		out.Similar[i] = similarMovie{MovieID: m.Movie.ID, Title: m.Movie.Title, Similarity: round4(m.Similarity)}
	}
	c.JSON(http.StatusOK, out)
}

// popularMovies is the body of GET /api/v1/movies/popular.
type popularMovies struct {
	Movies []movie `json:"movies"`
}

// v1Popular serves GET /api/v1/movies/popular?limit=&min_ratings=: the
// best average ratings among movies with enough ratings, best first.
func (s *Server) v1Popular(c *gin.Context) {
	n, minR, err := s.listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	preds := s.rec.Popular(n, minR)
	out := popularMovies{Movies: make([]movie, len(preds))}
	for i, p := range preds {
		out.Movies[i] = movie{MovieID: p.Movie.ID, Title: p.Movie.Title, Genres: genres(p.Movie.Genres),
			RatingsCount: p.Count, AverageRating: round4(p.Average)}
	}
	c.JSON(http.StatusOK, out)
}
