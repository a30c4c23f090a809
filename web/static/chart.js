// chart.js: a line chart drawn as inline SVG, no library. Used for the
// train error per iteration of each model of a training.

import {svg} from './dom.js';

const W = 360;
const H = 200;
const PAD = {left: 62, right: 14, top: 14, bottom: 38};

// lineChart draws points [{x, y}] as an SVG line with a dot per point,
// axes with the first and last x and the y range, and a title for screen
// readers. label names what y is.
export function lineChart({title, label, points, className}) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.08;
  y0 -= pad; y1 += pad;
  const sx = (x) => PAD.left + (x1 === x0 ? (W - PAD.left - PAD.right) / 2 : (x - x0) / (x1 - x0) * (W - PAD.left - PAD.right));
  const sy = (y) => PAD.top + (1 - (y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const digits = y1 - y0 < 0.05 ? 4 : 3;
  const bottom = H - PAD.bottom;
  const yTicks = [y0 + pad, (y0 + y1) / 2, y1 - pad];
  const summary = points.length
    ? `${label} from ${points[0].y.toFixed(digits)} at iteration ${points[0].x} to ${points[points.length - 1].y.toFixed(digits)} at iteration ${points[points.length - 1].x}`
    : 'no iterations';
  return svg('svg', {class: ['chart', className], viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}: ${summary}`},
    svg('title', {text: `${title}: ${summary}`}),
    svg('line', {class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom}),
    svg('line', {class: 'axis', x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom}),
    yTicks.map((y) => [
      svg('line', {class: 'grid', x1: PAD.left, y1: sy(y), x2: W - PAD.right, y2: sy(y)}),
      svg('text', {class: 'tick', x: PAD.left - 6, y: sy(y) + 4, 'text-anchor': 'end', text: y.toFixed(digits)}),
    ]),
    [...new Set([x0, Math.round((x0 + x1) / 2), x1])].map((x) =>
      svg('text', {class: 'tick', x: sx(x), y: bottom + 16, 'text-anchor': 'middle', text: String(x)})),
    svg('text', {class: 'axis-label', x: (PAD.left + W - PAD.right) / 2, y: H - 3, 'text-anchor': 'middle', text: 'iteration'}),
    svg('text', {class: 'axis-label', x: 13, y: PAD.top + (bottom - PAD.top) / 2, 'text-anchor': 'middle',
      transform: `rotate(-90 13 ${PAD.top + (bottom - PAD.top) / 2})`, text: label}),
    svg('polyline', {class: 'line', points: points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}),
    points.map((p) => svg('circle', {class: 'dot', cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: 3},
      svg('title', {text: `iteration ${p.x}: ${p.y.toFixed(digits + 1)}`}))),
  );
}
