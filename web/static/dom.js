// dom.js: small DOM helpers. Every piece of data goes into the page as
// text (textContent or a Text node), never as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'class') node.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// el creates an HTML element: el('li', {class: 'movie', onclick: f}, 'text', child).
export function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// svg creates an SVG element with the same conventions as el.
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// $ returns the element with the id, and throws when the page lacks it.
export function $(id) {
  const n = document.getElementById(id);
  if (!n) throw new Error(`page has no #${id}`);
  return n;
}

// debounce calls fn once calls stop for ms milliseconds.
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Messages: one live region at the top of each page.

// showError shows an error (an ApiError carries the server's message and
// request id) until it is dismissed or replaced.
export function showError(err, context) {
  const text = (context ? `${context}: ` : '') + (err && err.message ? err.message : String(err));
  const id = err && err.requestId ? ` (request ${err.requestId})` : '';
  show('error', text + id);
}

// showInfo shows a short note that goes away by itself.
export function showInfo(text) {
  show('info', text, 4000);
}

function show(kind, text, ttl) {
  const box = $('messages');
  const msg = el('div', {class: ['message', kind], role: kind === 'error' ? 'alert' : 'status'},
    el('span', {text}),
    el('button', {type: 'button', class: 'link', 'aria-label': 'Dismiss', text: '×', onclick: () => msg.remove()}));
  box.replaceChildren(msg);
  if (ttl) setTimeout(() => msg.remove(), ttl);
}

// clearMessages removes the messages shown.
export function clearMessages() {
  $('messages').replaceChildren();
}

// setLoading shows or hides the "loading" banner of a server that is
// still starting.
export function setLoading(text) {
  const b = $('loading');
  b.hidden = !text;
  b.textContent = text || '';
}

// waitReady polls the server's readiness (client.ready() resolves to
// null when ready, else to its message) and shows "loading" until then.
export async function waitReady(client) {
  for (;;) {
    const msg = await client.ready();
    if (msg === null) break;
    setLoading(`The server is loading; this page continues when it is ready (${msg}).`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  setLoading(null);
}

const numberFmt = new Intl.NumberFormat();

// fmtInt formats a count with grouping.
export function fmtInt(n) {
  return numberFmt.format(n);
}

// fmtFixed formats a number with d digits after the point.
export function fmtFixed(n, d) {
  return Number(n).toFixed(d);
}

// fmtTime formats an RFC 3339 time or a Unix time in seconds.
export function fmtTime(t) {
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, {dateStyle: 'short', timeStyle: 'medium'});
}

// fmtSeconds formats a duration.
export function fmtSeconds(s) {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
