// stars.js: the rating widget. A radio group, so it is one tab stop and
// the arrow keys move the rating; a click rates at once, keys rate when
// they rest for a moment. Values follow the data set's scale (MovieLens:
// 0.5 to 5 in half stars). Scales that stars cannot show (continuous,
// unbounded, or more than MAX_STARS steps) get a number field instead:
// see ratingWidget.

import {el} from './dom.js';

// MOVIELENS_SCALE is the scale used when the server names none.
export const MOVIELENS_SCALE = Object.freeze({min: 0.5, max: 5, step: 0.5});

// MAX_STARS is the most values a star widget shows (1:10:1 has 10).
export const MAX_STARS = 20;

let count = 0; // gives each widget's radios their own group name

// starsFit reports whether stars can show every value of the scale: a
// stepped scale (min, max and step given) with at most MAX_STARS values.
export function starsFit(scale) {
  return scale && scale.step > 0 && Number.isFinite(scale.min) && Number.isFinite(scale.max) &&
    scale.max > scale.min && Math.round((scale.max - scale.min) / scale.step) + 1 <= MAX_STARS;
}

// ratingWidget builds the widget that fits the scale: stars, or a number
// field with a Rate button (same options as stars).
export function ratingWidget(opts) {
  return starsFit(opts.scale || MOVIELENS_SCALE) ? stars(opts) : numberRating(opts);
}

// numberRating is the widget for scales stars cannot show: a number field
// bounded by the scale (any value when unbounded) and a Rate button. The
// server checks the value and answers a clear error when it is off the
// scale; onRate is called with the number typed.
export function numberRating({value, scale, label, onRate}) {
  const attrs = {type: 'number', class: 'rating-number', 'aria-label': label, step: scale && scale.step > 0 ? scale.step : 'any',
    required: true};
  if (scale && Number.isFinite(scale.min)) attrs.min = scale.min;
  if (scale && Number.isFinite(scale.max)) attrs.max = scale.max;
  const input = el('input', attrs);
  if (value !== undefined) input.value = String(value);
  const button = el('button', {type: 'submit', class: 'rate', text: 'Rate'});
  const form = el('form', {class: 'rating-form'}, input, button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(v)) return;
    form.classList.add('busy');
    Promise.resolve(onRate(v)).finally(() => form.classList.remove('busy'));
  });
  return form;
}

// scaleValues lists the values a rating can take on the scale.
export function scaleValues(scale) {
  const out = [];
  const n = Math.round((scale.max - scale.min) / scale.step);
  for (let i = 0; i <= n; i++) out.push(Math.round((scale.min + i * scale.step) * 100) / 100);
  return out;
}

// stars builds the widget. value is the current rating (or undefined);
// onRate(value) is called with the chosen rating and may return a promise.
export function stars({value, scale = MOVIELENS_SCALE, label, onRate}) {
  const name = `stars-${++count}`;
  const half = scale.step === 0.5;
  const shown = el('output', {class: 'stars-value', 'aria-hidden': 'true', text: value ? String(value) : '–'});
  const group = el('span', {class: 'stars', role: 'radiogroup', 'aria-label': label});
  let pointerAt = 0;
  let timer;
  const paint = (v) => {
    for (const l of group.querySelectorAll('label')) l.classList.toggle('on', v !== undefined && Number(l.dataset.value) <= v);
    shown.textContent = v ? String(v) : '–';
  };
  for (const v of scaleValues(scale)) {
    const side = !half ? 'f' : (Math.round(v * 2) % 2 === 1 ? 'l' : 'r');
    const input = el('input', {type: 'radio', name, value: v, 'aria-label': `${v} of ${scale.max} stars`});
    if (value === v) input.checked = true;
    group.append(el('label', {class: ['star', side], 'data-value': v, title: `${v}`}, input, el('span', {class: 'glyph'})));
  }
  group.append(shown);
  paint(value);
  group.addEventListener('pointerdown', () => { pointerAt = Date.now(); });
  group.addEventListener('change', (e) => {
    const v = Number(e.target.value);
    paint(v);
    clearTimeout(timer);
    const rate = () => {
      group.classList.add('busy');
      Promise.resolve(onRate(v)).finally(() => group.classList.remove('busy'));
    };
    if (Date.now() - pointerAt < 1500) rate();
    else timer = setTimeout(rate, 800);
  });
  return group;
}
