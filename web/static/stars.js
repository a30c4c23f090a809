// stars.js: the rating widget. A radio group, so it is one tab stop and
// the arrow keys move the rating; a click rates at once, keys rate when
// they rest for a moment. Values follow the data set's scale (MovieLens:
// 0.5 to 5 in half stars).

import {el} from './dom.js';

// MOVIELENS_SCALE is the scale used when the server names none.
export const MOVIELENS_SCALE = Object.freeze({min: 0.5, max: 5, step: 0.5});

let count = 0; // gives each widget's radios their own group name

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
