// A small hand-drawn SVG chart of mood scores (1..5) over time; it scales with its box.

import { svg, when } from './dom.js';

const W = 340;
const H = 170;
const PAD = { left: 26, right: 10, top: 10, bottom: 24 };

const x = (t, t0, t1) => PAD.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
const y = (score) => H - PAD.bottom - ((score - 1) / 4) * (H - PAD.top - PAD.bottom);

/** points: [{t (epoch s), score (1..5), label}], any order. */
export function moodChart(points) {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const summary = sorted.length
    ? `Mood over time: ${sorted.length} entries, from ${when(sorted[0].t)} to ${when(sorted.at(-1).t)}`
    : 'Mood over time: no scored moods in this period';
  const chart = svg('svg', {
    'data-testid': 'mood-chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': summary, preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', { text: summary }));
  for (let s = 1; s <= 5; s += 1) {
    chart.append(
      svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(s), y2: y(s) }),
      svg('text', { class: 'axis', x: PAD.left - 8, y: y(s) + 4, 'text-anchor': 'end', text: s }));
  }
  if (!sorted.length) {
    chart.append(svg('text', { class: 'axis', x: W / 2, y: H / 2, 'text-anchor': 'middle',
      text: 'No scored moods yet' }));
    return chart;
  }
  const t0 = sorted[0].t;
  const t1 = sorted.at(-1).t;
  const coords = sorted.map((p) => [x(p.t, t0, t1), y(p.score)]);
  chart.append(svg('polyline', { class: 'line', points: coords.map((c) => c.join(',')).join(' ') }));
  sorted.forEach((p, i) => {
    chart.append(svg('circle', { class: 'dot', cx: coords[i][0], cy: coords[i][1], r: 4 },
      svg('title', { text: `${p.label}: ${p.score} (${when(p.t)})` })));
  });
  const dateOnly = (t) => new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  chart.append(
    svg('text', { class: 'axis', x: PAD.left, y: H - 6, text: dateOnly(t0) }),
    svg('text', { class: 'axis', x: W - PAD.right, y: H - 6, 'text-anchor': 'end', text: dateOnly(t1) }));
  return chart;
}
