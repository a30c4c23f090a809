// rate.js: the rating view at /. Choose a user, find movies as you type,
// rate them with stars, and watch "Recommended for you" follow each
// rating (the server folds a rating in at once).

import {Client} from './api.js';
import {$, clearMessages, debounce, el, fmtFixed, fmtInt, fmtTime, showError, showInfo, waitReady} from './dom.js';
import {askKey, showKeyState} from './keydialog.js';
import {MOVIELENS_SCALE, ratingWidget} from './stars.js';

const USER_STORAGE = 'movierec.user';
const MAX_USER = 2147483647;
const LIST_LENGTH = 10;
const SEARCH_LENGTH = 20;
const MINE_SHOWN = 30;
// MovieLens genres, for the filter; genres seen in answers are added.
const GENRES = ['Action', 'Adventure', 'Animation', 'Children', 'Comedy', 'Crime', 'Documentary', 'Drama',
  'Fantasy', 'Film-Noir', 'Horror', 'IMAX', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];

class RateView {
  constructor(client) {
    this.client = client;
    this.scale = MOVIELENS_SCALE;
    this.user = null;
    this.ratings = new Map(); // movie id → {movie_id, title, rating, timestamp}
    this.touched = new Map(); // movie id → order of this page's ratings, to sort ties in time
    this.seq = 0;
    this.showAllMine = false;
    this.lists = {search: null, similar: null, recs: null}; // last data, to re-render rated state
    this.similarTo = null;
    this.genres = new Set(GENRES);
    this.latest = {user: 0, search: 0, recs: 0, similar: 0}; // ids of the newest requests; older answers are dropped
  }

  async start() {
    showKeyState();
    this.wire();
    await waitReady(this.client);
    try {
      const m = await this.client.model();
      if (m && m.scale) this.scale = m.scale; // any kind: ratingWidget picks stars or a number field
    } catch (err) {
      showError(err, 'Reading the model');
    }
    this.fillGenres();
    await this.useUser(initialUser());
    document.body.dataset.ready = 'true';
  }

  wire() {
    $('user-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const v = $('user-id').value.trim();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > MAX_USER) {
        showError(`A user id is a whole number from 0 to ${MAX_USER}.`);
        return;
      }
      clearMessages();
      this.useUser(n);
    });
    $('new-user').addEventListener('click', () => this.useUser(randomUser()));
    const search = $('search-input');
    const run = debounce(() => this.search(search.value), 200);
    search.addEventListener('input', run);
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        search.value = '';
        this.search('');
      }
    });
    $('genre').addEventListener('change', () => this.refreshRecs());
    $('similar-close').addEventListener('click', () => {
      $('similar').hidden = true;
      this.similarTo = null;
    });
  }

  fillGenres() {
    const sel = $('genre');
    const current = sel.value;
    sel.replaceChildren(el('option', {value: '', text: 'All genres'}),
      ...[...this.genres].sort().map((g) => el('option', {value: g, text: g})));
    sel.value = current;
  }

  noteGenres(movies) {
    const before = this.genres.size;
    for (const m of movies) for (const g of m.genres || []) if (g && !g.startsWith('(')) this.genres.add(g);
    if (this.genres.size !== before) this.fillGenres();
  }

  async useUser(user) {
    this.user = user;
    localStorage.setItem(USER_STORAGE, String(user));
    $('user-id').value = String(user);
    this.ratings = new Map();
    this.touched = new Map();
    this.showAllMine = false;
    await this.refreshUser();
  }

  // refreshUser reloads the user's ratings, then the recommendations, and
  // re-renders every list so each shows the current ratings.
  async refreshUser() {
    const id = ++this.latest.user;
    try {
      const data = await this.client.ratings(this.user);
      if (id !== this.latest.user) return; // a newer refresh (or another user) wins
      this.ratings = new Map(data.ratings.map((r) => [r.movie_id, r]));
    } catch (err) {
      showError(err, 'Loading your ratings');
    }
    this.renderMine();
    this.renderSearch();
    this.renderSimilar();
    await this.refreshRecs();
  }

  async refreshRecs() {
    const id = ++this.latest.recs;
    const genre = $('genre').value;
    const personal = this.ratings.size > 0;
    let movies;
    try {
      if (personal) {
        movies = (await this.client.recommendations(this.user, LIST_LENGTH, genre)).recommendations;
      } else {
        // Popular: the best averages among often-rated movies; filtered here
        // by genre as the popular route takes none.
        movies = (await this.client.popular(genre ? 200 : LIST_LENGTH)).movies;
        if (genre) movies = movies.filter((m) => (m.genres || []).includes(genre));
        movies = movies.slice(0, LIST_LENGTH);
      }
    } catch (err) {
      if (id === this.latest.recs) showError(err, personal ? 'Loading recommendations' : 'Loading popular movies');
      return;
    }
    if (id !== this.latest.recs) return;
    this.noteGenres(movies);
    this.lists.recs = {movies, personal, genre, ratings: this.ratings.size, user: this.user};
    this.renderRecs();
  }

  renderRecs() {
    const d = this.lists.recs;
    if (!d) return;
    const section = $('recs');
    $('recs-h').textContent = d.personal ? 'Recommended for you' : 'Popular';
    $('recs-note').textContent = d.personal
      ? 'Your best unrated movies; each rating you give changes this list at once.'
      : 'Best averages among often-rated movies. Rate a few movies to get your own list.';
    const list = $('recs-list');
    list.replaceChildren(...d.movies.map((m) => this.row(m, d.personal
      ? [`predicted ${fmtFixed(m.predicted_rating, 1)}`, genreText(m), countText(m)]
      : [`average ${fmtFixed(m.average_rating, 2)}`, genreText(m), countText(m)])));
    if (d.movies.length === 0) list.append(el('li', {class: 'empty', text: d.genre ? `Nothing in ${d.genre} yet.` : 'Nothing to show.'}));
    section.dataset.mode = d.personal ? 'recommended' : 'popular';
    section.dataset.ratings = String(d.ratings);
    section.dataset.user = String(d.user);
  }

  async search(q) {
    const id = ++this.latest.search;
    const query = q.trim();
    if (query.length < 2) {
      this.lists.search = null;
      this.renderSearch();
      return;
    }
    try {
      const data = await this.client.search(query, SEARCH_LENGTH);
      if (id !== this.latest.search) return;
      this.noteGenres(data.movies);
      this.lists.search = {query, movies: data.movies};
    } catch (err) {
      if (id === this.latest.search) showError(err, 'Searching');
      return;
    }
    this.renderSearch();
  }

  renderSearch() {
    const list = $('search-results');
    const d = this.lists.search;
    if (!d) {
      list.replaceChildren();
      $('search-results').dataset.query = '';
      return;
    }
    list.replaceChildren(...d.movies.map((m) => this.row(m, [genreText(m), countText(m),
      m.ratings_count ? `average ${fmtFixed(m.average_rating, 2)}` : null])));
    if (d.movies.length === 0) list.append(el('li', {class: 'empty', text: `No title matches “${d.query}”.`}));
    list.dataset.query = d.query;
  }

  async showSimilar(m) {
    const id = ++this.latest.similar;
    this.similarTo = m;
    const section = $('similar');
    section.hidden = false;
    $('similar-h').textContent = `Similar to ${m.title}`;
    $('similar-list').replaceChildren(el('li', {class: 'empty', text: 'Loading…'}));
    section.scrollIntoView({block: 'nearest'});
    $('similar-h').focus({preventScroll: true});
    try {
      const data = await this.client.similar(m.movie_id, LIST_LENGTH);
      if (id !== this.latest.similar) return;
      this.lists.similar = {movie: m, movies: data.similar};
    } catch (err) {
      if (id === this.latest.similar) {
        $('similar-list').replaceChildren();
        showError(err, `Finding movies similar to ${m.title}`);
      }
      return;
    }
    this.renderSimilar();
  }

  renderSimilar() {
    const d = this.lists.similar;
    if (!d || $('similar').hidden) return;
    const list = $('similar-list');
    list.replaceChildren(...d.movies.map((m) => this.row(m, [`similarity ${fmtFixed(m.similarity, 2)}`])));
    if (d.movies.length === 0) list.append(el('li', {class: 'empty', text: 'No similar movie has enough ratings.'}));
    list.dataset.movieId = String(d.movie.movie_id);
  }

  renderMine() {
    const mine = [...this.ratings.values()].sort((a, b) => b.timestamp - a.timestamp ||
      (this.touched.get(b.movie_id) || 0) - (this.touched.get(a.movie_id) || 0) || a.movie_id - b.movie_id);
    $('mine-count').textContent = mine.length ? `(${fmtInt(mine.length)})` : '';
    const shown = this.showAllMine ? mine : mine.slice(0, MINE_SHOWN);
    const list = $('mine-list');
    list.replaceChildren(...shown.map((r) => this.row(r, [`rated ${fmtTime(r.timestamp)}`])));
    if (mine.length === 0) list.append(el('li', {class: 'empty', text: 'No ratings yet: find a movie and click a star.'}));
    if (shown.length < mine.length) {
      list.append(el('li', {class: 'more'}, el('button', {type: 'button', class: 'link',
        text: `Show all ${fmtInt(mine.length)}`, onclick: () => { this.showAllMine = true; this.renderMine(); }})));
    }
  }

  // row renders one movie with its details, the star widget, "Remove"
  // when the user rated it, and "Similar".
  row(m, details) {
    const id = m.movie_id;
    const mine = this.ratings.get(id);
    return el('li', {class: 'movie', 'data-movie-id': id},
      el('div', {class: 'info'},
        el('span', {class: 'title', text: m.title}),
        el('span', {class: 'meta', text: details.filter(Boolean).join(' · ')})),
      el('div', {class: 'actions'},
        ratingWidget({value: mine ? mine.rating : undefined, scale: this.scale, label: `Your rating of ${m.title}`,
          onRate: (v) => this.rate(m, v)}),
        mine ? el('button', {type: 'button', class: 'remove', text: 'Remove',
          'aria-label': `Remove your rating of ${m.title}`, onclick: () => this.unrate(m)}) : null,
        el('button', {type: 'button', class: 'similar', text: 'Similar',
          'aria-label': `Movies similar to ${m.title}`, onclick: () => this.showSimilar(m)})));
  }

  async rate(m, value) {
    try {
      await this.client.rate(this.user, m.movie_id, value);
    } catch (err) {
      showError(err, `Rating ${m.title}`);
      await this.refreshUser(); // show the stored rating again
      return;
    }
    this.touched.set(m.movie_id, ++this.seq);
    showInfo(`Rated ${m.title}: ${value}`);
    showKeyState();
    await this.refreshUser();
  }

  async unrate(m) {
    try {
      await this.client.unrate(this.user, m.movie_id);
    } catch (err) {
      showError(err, `Removing your rating of ${m.title}`);
      return;
    }
    this.touched.delete(m.movie_id);
    showInfo(`Removed your rating of ${m.title}`);
    showKeyState();
    await this.refreshUser();
  }
}

function genreText(m) {
  const g = (m.genres || []).filter((x) => x && !x.startsWith('('));
  return g.length ? g.join(', ') : null;
}

function countText(m) {
  if (m.ratings_count === undefined) return null;
  return m.ratings_count === 1 ? '1 rating' : `${fmtInt(m.ratings_count)} ratings`;
}

function initialUser() {
  const v = localStorage.getItem(USER_STORAGE);
  if (v !== null && /^\d+$/.test(v) && Number(v) <= MAX_USER) return Number(v);
  return randomUser();
}

// randomUser picks an id far above MovieLens's users: a new user.
function randomUser() {
  return 1000000 + Math.floor(Math.random() * 9000000);
}

new RateView(new Client({askKey})).start().catch((err) => showError(err));
