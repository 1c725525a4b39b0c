// Timeline: the mood chart, insights (when the server offers them), and each day's moods
// and thoughts, newest day first.

import { HttpError, Offline, explain, get, now, query } from './api.js';
import { alertBox, clock, day, field, h, section } from './dom.js';
import { moodChart } from './chart.js';

// Used only when the server has no /v1/insights/mood (its scores are the real ones).
const SCORES = {
  rad: 5, great: 5, happy: 5, good: 4, calm: 4, focused: 4, content: 4, meh: 3, neutral: 3,
  ok: 3, okay: 3, tired: 2, bad: 2, sad: 2, stressed: 2, anxious: 2, awful: 1, angry: 1,
};

function chartPoints(history, insights) {
  if (insights) {
    return insights.days.filter((d) => d.score !== null).map((d) => ({
      t: new Date(`${d.date}T12:00:00`).getTime() / 1000,
      score: d.score,
      label: `${d.date}, ${Object.keys(d.moods).join(', ')}`,
    }));
  }
  return history
    .filter((m) => m.mood.toLowerCase() in SCORES)
    .map((m) => ({ t: m.updated_at, score: SCORES[m.mood.toLowerCase()], label: m.mood }));
}

function insightsView(data) {
  const fmt = (v) => (v === null || v === undefined ? '–' : Number(v).toFixed(1));
  const facts = h('dl', { class: 'facts' },
    h('dt', { text: 'Average' }), h('dd', { text: `${fmt(data.average)} / 5` }),
    h('dt', { text: 'Days logged' }), h('dd', { text: data.logged_days }),
    h('dt', { text: 'Streak' }), h('dd', { text: `${data.streak_days} days` }));
  const activities = (data.by_activity || []).slice(0, 8).map((a) =>
    h('li', {}, h('span', { text: a.activity }),
      h('small', { class: 'muted', text: ` ${fmt(a.average)} / 5 over ${a.entries}` })));
  return [facts, activities.length ? h('ul', { class: 'items' }, activities) : null];
}

function byDay(moods, thoughts) {
  const entries = [
    ...moods.map((m) => ({ t: m.updated_at, kind: 'Mood', text: m.context ? `${m.mood}: ${m.context}` : m.mood })),
    ...thoughts.map((e) => ({ t: e.timestamp, kind: 'Thought', text: e.text })),
  ].sort((a, b) => b.t - a.t);
  const days = new Map();
  for (const entry of entries) {
    const key = day(entry.t);
    if (!days.has(key)) days.set(key, []);
    days.get(key).push(entry);
  }
  if (!days.size) return [h('p', { class: 'muted', text: 'Nothing in this period yet.' })];
  return [...days].map(([label, list]) => h('section', { class: 'day' },
    h('h3', { text: label }),
    h('ul', { class: 'items' }, list.map((e) => h('li', { class: e.kind.toLowerCase() },
      h('small', { class: 'muted', text: `${clock(e.t)} · ${e.kind}` }),
      h('p', { class: 'text', text: e.text }))))));
}

export function mount(container) {
  const period = h('select', { name: 'period' },
    [7, 30, 90, 365].map((d) => h('option', { value: d, text: `${d} days`, selected: d === 30 })));
  const chartBox = h('div', { class: 'chart-box' }, moodChart([]));
  const insightsBody = h('div');
  const insights = section('Insights', insightsBody);
  insights.hidden = true;
  const days = h('div', { class: 'days' });
  const error = alertBox();

  async function load() {
    const since = Math.floor(now() - Number(period.value) * 86400);
    const [history, thoughts, summary] = await Promise.allSettled([
      get(`/v1/mood/history${query({ since, limit: 500 })}`),
      get(`/v1/events${query({ type: 'thought', since, limit: 500 })}`),
      get(`/v1/insights/mood${query({ since })}`),
    ]);
    const failed = [history, thoughts].find((r) => r.status === 'rejected');
    if (failed && !(failed.reason instanceof Offline)) error.show(explain(failed.reason));
    else if (failed) error.show('Offline: nothing saved for this period yet.');
    else error.clear();
    const moods = history.status === 'fulfilled' ? history.value.items : [];
    const notes = thoughts.status === 'fulfilled' ? thoughts.value.items : [];
    const facts = summary.status === 'fulfilled' ? summary.value : null;
    // No insights route (404) or no answer: the panel stays hidden, the chart uses labels.
    insights.hidden = !facts;
    if (facts) insightsBody.replaceChildren(...insightsView(facts).filter(Boolean));
    else if (!(summary.reason instanceof HttpError)) insightsBody.replaceChildren();
    chartBox.replaceChildren(moodChart(chartPoints(moods, facts)));
    days.replaceChildren(...byDay(moods, notes));
  }

  period.addEventListener('change', load);
  container.append(
    error.node,
    section('Mood over time', field('Period', period), chartBox),
    insights,
    section('By day', days),
  );
  load();
}
