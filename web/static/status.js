// status.js: the operator view at /status. The published model and how it
// was trained, the last trainings with a chart of train error per
// iteration, whether a retrain is pending, request rates and latency, and
// "Retrain now".

import {Client} from './api.js';
import {lineChart} from './chart.js';
import {$, el, fmtFixed, fmtInt, fmtSeconds, fmtTime, showError, showInfo, waitReady} from './dom.js';
import {askKey, showKeyState} from './keydialog.js';

const REFRESH_MS = 5000;
const TRAININGS = 20;

class StatusView {
  constructor(client) {
    this.client = client;
    this.selected = null; // id of the training whose chart is shown
    this.trainings = [];
    this.statusRoute = true; // false once the server answered 404 (an older server)
    this.trainingsRoute = true; // likewise for /api/v1/model/trainings
    this.busy = false;
  }

  async start() {
    showKeyState();
    $('retrain').addEventListener('click', () => this.retrain());
    await waitReady(this.client);
    await this.refresh();
    document.body.dataset.ready = 'true';
    setInterval(() => { if (!document.hidden) this.refresh(); }, REFRESH_MS);
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all([this.loadStatus(), this.loadTrainings()]);
      $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } finally {
      this.busy = false;
    }
  }

  async loadStatus() {
    let st;
    try {
      if (this.statusRoute) {
        st = await this.client.status();
      } else {
        st = {model: await this.client.model()};
      }
    } catch (err) {
      if (err.status === 404 && this.statusRoute) {
        this.statusRoute = false; // degrade: the model alone, from /api/v1/model
        showError(err, 'This server has no /api/v1/status; showing the model only');
        return this.loadStatus();
      }
      showError(err, 'Loading the status');
      return;
    }
    this.renderModel(st.model, st.device);
    this.renderRetrain(st);
    this.renderRequests(st.requests);
  }

  renderModel(m, device) {
    const box = $('model-fields');
    if (!m) {
      box.replaceChildren(el('p', {class: 'empty', text: 'No model is published yet: the first training is running.'}));
      $('ranking-fields').replaceChildren();
      return;
    }
    const p = m.params || {};
    box.replaceChildren(fields([
      ['Data version', m.data_version, 'data_version'],
      ['Backend', m.backend, 'backend'],
      ['Device', m.device || device || '–', 'device'],
      ['Rank', p.rank, 'rank'],
      ['λ (lambda)', p.lambda, 'lambda'],
      ['Iterations', p.iterations, 'iterations'],
      ['Bias terms', p.bias ? 'yes' : 'no', 'bias'],
      ['Seed', p.seed, 'seed'],
      ['Trained at', fmtTime(m.trained_at), 'trained_at'],
      ['Train seconds', fmtFixed(m.train_seconds, 2), 'train_seconds'],
      ['Train RMSE', fmtFixed(m.train_rmse, 4), 'train_rmse'],
      ['Ratings', fmtInt(m.ratings), 'ratings'],
      ['Ranked by', m.ranked_by, 'ranked_by'],
    ]));
    const r = m.ranking;
    if (!r) {
      $('ranking-fields').replaceChildren(el('p', {class: 'hint', text: 'The rating model ranks the lists too (no separate ranking model).'}));
      return;
    }
    const rp = r.params || {};
    $('ranking-fields').replaceChildren(fields([
      ['Objective', r.objective, 'ranking_objective'],
      ['Rank', rp.rank, 'ranking_rank'],
      ['λ (lambda)', rp.lambda, 'ranking_lambda'],
      ['Iterations', rp.iterations, 'ranking_iterations'],
      ['α (alpha)', rp.alpha, 'ranking_alpha'],
      ['Unobserved weight', rp.unobserved, 'ranking_unobserved'],
      ['Regularisation exponent', rp.reg_exponent, 'ranking_reg_exponent'],
      ['Seed', rp.seed, 'ranking_seed'],
      ['Train seconds', fmtFixed(r.train_seconds, 2), 'ranking_train_seconds'],
      ['Preference RMSE', fmtFixed(r.preference_rmse, 4), 'ranking_preference_rmse'],
    ]));
  }

  renderRetrain(st) {
    const s = $('retrain-state');
    if (st.retrain_pending === undefined) {
      s.textContent = 'This server does not report whether a retrain is pending.';
      return;
    }
    const parts = [];
    parts.push(st.training ? 'A training is running now.' : 'No training is running.');
    parts.push(st.retrain_pending ? 'A retrain is pending (new ratings or a request wait for the next training).' : 'No retrain is pending.');
    s.textContent = parts.join(' ');
    s.dataset.pending = String(Boolean(st.retrain_pending));
  }

  renderRequests(r) {
    const box = $('request-stats');
    const table = $('routes');
    if (!r) {
      box.replaceChildren(el('p', {class: 'hint', text: 'Request counters need /api/v1/status, which this server lacks.'}));
      table.hidden = true;
      return;
    }
    box.replaceChildren(fields([
      ['Requests', fmtInt(r.total), 'requests_total'],
      ['Per second', fmtFixed(r.per_second, 2), 'requests_per_second'],
      ['Latency p50', `${fmtFixed(r.latency_p50_ms, 2)} ms`, 'latency_p50'],
      ['Latency p99', `${fmtFixed(r.latency_p99_ms, 2)} ms`, 'latency_p99'],
    ]));
    table.hidden = false;
    table.tBodies[0].replaceChildren(...(r.by_route || []).map((x) => el('tr', {},
      el('td', {}, el('code', {text: x.route})),
      el('td', {class: 'num', text: fmtInt(x.count)}),
      el('td', {class: 'num', text: fmtFixed(x.p99_ms, 2)}))));
  }

  async loadTrainings() {
    if (!this.trainingsRoute) return;
    let data;
    try {
      data = await this.client.trainings(TRAININGS);
    } catch (err) {
      if (err.status === 404) this.trainingsRoute = false;
      $('trainings-note').textContent = err.status === 404
        ? 'This server keeps no training history (no /api/v1/model/trainings).'
        : `Cannot load the trainings: ${err.message}`;
      return;
    }
    this.trainings = data.trainings || [];
    if (!this.trainings.some((t) => t.id === this.selected)) this.selected = this.trainings.length ? this.trainings[0].id : null;
    this.renderTrainings();
  }

  renderTrainings() {
    const ts = this.trainings;
    $('trainings-note').textContent = ts.length ? `The last ${ts.length} trainings, newest first.` : 'No training is recorded yet.';
    $('trainings-table').tBodies[0].replaceChildren(...ts.map((t) => {
      const last = lastError(t, 'rating');
      return el('tr', {class: ['training', t.id === this.selected && 'selected'], 'data-id': t.id, 'data-result': t.result},
        el('td', {text: fmtTime(t.started_at)}),
        el('td', {class: 'num', text: fmtSeconds(t.seconds)}),
        el('td', {text: t.device ? `${t.backend} (${t.device})` : t.backend}),
        el('td', {class: ['result', t.result], text: t.result, title: t.error || ''}),
        el('td', {class: 'num', text: t.data_version}),
        el('td', {class: 'num', text: fmtInt(t.ratings)}),
        el('td', {class: 'num', text: last === null ? '–' : fmtFixed(last, 4)}),
        el('td', {}, el('button', {type: 'button', class: 'link', text: 'Chart',
          'aria-pressed': String(t.id === this.selected),
          onclick: () => { this.selected = t.id; this.renderTrainings(); }})));
    }));
    this.renderCharts();
  }

  renderCharts() {
    const box = $('charts');
    const t = this.trainings.find((x) => x.id === this.selected);
    if (!t) {
      box.replaceChildren();
      return;
    }
    const charts = (t.models || []).filter((m) => (m.iterations || []).length > 0).map((m) => {
      const label = m.model === 'rating' ? 'train RMSE' : 'train error';
      const title = m.model === 'rating' ? 'Rating model' : 'Ranking model';
      return el('figure', {class: 'chart-box', 'data-model': m.model},
        lineChart({title, label, className: m.model, points: m.iterations.map((i) => ({x: i.n, y: i.train_error}))}),
        el('figcaption', {}, el('strong', {text: `${title}: ${label} per iteration`}),
          m.params ? el('span', {class: 'params', text: paramText(m.params)}) : null));
    });
    const head = el('p', {class: 'hint', text: `Training of ${fmtTime(t.started_at)} on ${t.backend}${t.device ? ` (${t.device})` : ''}: ${t.result}${t.error ? ` (${t.error})` : ''}.`});
    box.replaceChildren(head, charts.length
      ? el('div', {class: 'chart-row'}, charts)
      : el('p', {class: 'empty', text: 'This training recorded no iterations.'}));
  }

  async retrain() {
    const b = $('retrain');
    b.disabled = true;
    try {
      const r = await this.client.retrain();
      showInfo(r && r.status ? `Retrain: ${r.status}` : 'Retrain requested');
      showKeyState();
    } catch (err) {
      showError(err, 'Retrain');
    } finally {
      b.disabled = false;
    }
    await this.refresh();
  }
}

function fields(rows) {
  return el('dl', {class: 'fields'}, rows.map(([k, v, key]) => [
    el('dt', {text: k}),
    el('dd', {'data-field': key, text: v === undefined || v === null || v === '' ? '–' : String(v)}),
  ]));
}

// paramText shows training parameters given as text or as an object.
function paramText(p) {
  if (typeof p !== 'object') return String(p);
  return Object.entries(p).map(([k, v]) => `${k} ${v}`).join(', ');
}

function lastError(t, model) {
  const m = (t.models || []).find((x) => x.model === model);
  if (!m || !m.iterations || m.iterations.length === 0) return null;
  return m.iterations[m.iterations.length - 1].train_error;
}

new StatusView(new Client({askKey})).start().catch((err) => showError(err));
