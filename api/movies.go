package api

import (
	"fmt"
	"net/http"
	"net/url"
	"unicode/utf8"

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

// maxQueryLen bounds a search query, in characters.
const maxQueryLen = 200

// movieSearch is the body of GET /api/v1/movies?query=.
type movieSearch struct {
	Query  string  `json:"query"`
	Movies []movie `json:"movies"`
}

// v1SearchMovies serves GET /api/v1/movies?query=&limit=: movies whose
// titles contain every word of the query as a word start, best first (see
// engine.Engine.SearchMovies for the matching and the order).
func (s *Server) v1SearchMovies(c *gin.Context) {
	// Parse the query string strictly: a malformed escape is a 400, not a
	// silently missing parameter.
	vals, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, fmt.Errorf("%w: malformed query string: %v", ErrBadRequest, err))
		return
	}
	qs, ok := vals["query"]
	if !ok {
		s.fail(c, fmt.Errorf("%w: query is required", ErrBadRequest))
		return
	}
	q := qs[0]
	if !utf8.ValidString(q) {
		s.fail(c, fmt.Errorf("%w: query is not valid UTF-8", ErrBadRequest))
		return
	}
	if n := utf8.RuneCountInString(q); n < 1 || n > maxQueryLen {
		s.fail(c, fmt.Errorf("%w: query must be 1 to %d characters, not %d", ErrBadRequest, maxQueryLen, n))
		return
	}
	n, err := s.limit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	found, err := s.rec.SearchMovies(q, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := movieSearch{Query: q, Movies: make([]movie, len(found))}
	for i, m := range found {
		out.Movies[i] = movie{MovieID: m.Movie.ID, Title: m.Movie.Title, Genres: genres(m.Movie.Genres),
			RatingsCount: m.Count, AverageRating: round4(m.Average)}
	}
	c.JSON(http.StatusOK, out)
}
