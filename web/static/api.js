// api.js: the one place that talks to the server. It sends the API key as
// a bearer token, turns JSON error bodies into ApiError, and asks for a
// key (once, then remembered) when the server answers 401.

const KEY_STORAGE = 'movierec.apiKey';

// ApiError is a failed request: the HTTP status (0 for a network error),
// the server's message and the request id to find it in the logs.
export class ApiError extends Error {
  constructor(status, message, requestId) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.requestId = requestId || '';
  }
}

// storedKey returns the remembered API key, or ''.
export function storedKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

// forgetKey removes the remembered API key.
export function forgetKey() {
  localStorage.removeItem(KEY_STORAGE);
}

function rememberKey(key) {
  localStorage.setItem(KEY_STORAGE, key);
}

// path builds a URL path with query parameters, leaving out empty ones.
function path(p, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${p}?${s}` : p;
}

// Client sends requests. askKey(message) is called on a 401 and resolves
// to a key to retry with, or to null to give up.
export class Client {
  constructor({askKey} = {}) {
    this.askKey = askKey;
  }

  async request(method, url, body) {
    for (let attempt = 0; ; attempt++) {
      const headers = {Accept: 'application/json'};
      const key = storedKey();
      if (key) headers.Authorization = `Bearer ${key}`;
      const init = {method, headers, cache: 'no-store'};
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let resp;
      try {
        resp = await fetch(url, init);
      } catch (e) {
        throw new ApiError(0, `the server cannot be reached (${e.message})`);
      }
      const data = await readJSON(resp);
      if (resp.ok) return data;
      const err = new ApiError(resp.status,
        (data && data.error) || `${method} ${url}: ${resp.status} ${resp.statusText}`,
        (data && data.request_id) || resp.headers.get('X-Request-ID'));
      if (resp.status === 401 && this.askKey && attempt < 5) {
        const next = await this.askKey(err.message, key);
        if (next) {
          rememberKey(next);
          continue;
        }
      }
      throw err;
    }
  }

  get(url, params) { return this.request('GET', path(url, params)); }
  post(url, body) { return this.request('POST', url, body); }
  del(url) { return this.request('DELETE', url); }

  // ready resolves to null when the server is ready, else to its message.
  async ready() {
    try {
      const resp = await fetch('/readyz', {cache: 'no-store'});
      if (resp.ok) return null;
      const data = await readJSON(resp);
      return (data && data.error) || `${resp.status} ${resp.statusText}`;
    } catch (e) {
      return `the server cannot be reached (${e.message})`;
    }
  }

  // The JSON API, one method per route.
  model() { return this.get('/api/v1/model'); }
  status() { return this.get('/api/v1/status'); }
  trainings(limit) { return this.get('/api/v1/model/trainings', {limit}); }
  retrain() { return this.post('/api/v1/model/retrain'); }
  search(query, limit) { return this.get('/api/v1/movies', {query, limit}); }
  popular(limit) { return this.get('/api/v1/movies/popular', {limit}); }
  movie(id) { return this.get(`/api/v1/movies/${enc(id)}`); }
  similar(id, limit) { return this.get(`/api/v1/movies/${enc(id)}/similar`, {limit}); }
  ratings(user) { return this.get(`/api/v1/users/${enc(user)}/ratings`); }
  recommendations(user, limit, genre) {
    return this.get(`/api/v1/users/${enc(user)}/recommendations`, {limit, genre});
  }
  rate(user, movie, rating) {
    return this.post(`/api/v1/users/${enc(user)}/ratings`, [{movie_id: movie, rating}]);
  }
  unrate(user, movie) { return this.del(`/api/v1/users/${enc(user)}/ratings/${enc(movie)}`); }
}

function enc(v) {
  return encodeURIComponent(String(v));
}

async function readJSON(resp) {
  const text = await resp.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
