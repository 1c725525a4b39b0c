// Search by meaning, with a type and a date range (dates are whole days, local time).

import { explain, get, query } from './api.js';
import { alertBox, field, h, section, when } from './dom.js';

const TYPES = ['thought', 'mood', 'blog', 'location', 'place', 'health'];

/** 'YYYY-MM-DD' -> epoch seconds of local midnight, `days` later. */
function dayStart(value, days = 0) {
  if (!value) return undefined;
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + days).getTime() / 1000;
}

function resultItem(hit) {
  return h('li', {},
    h('p', { class: 'text', text: hit.text }),
    h('small', { class: 'muted meta' },
      h('span', { class: 'type', text: hit.type }), ' · ',
      h('time', { datetime: new Date(hit.timestamp * 1000).toISOString(), text: when(hit.timestamp) }),
      ' · ',
      h('span', { class: 'score', text: `score ${Number(hit.score).toFixed(2)}` })));
}

export function mount(container) {
  const q = h('input', { type: 'search', name: 'q', required: true, autocomplete: 'off', enterkeyhint: 'search' });
  const type = h('select', { name: 'type' },
    h('option', { value: '', text: 'Any type' }), TYPES.map((t) => h('option', { value: t, text: t })));
  const since = h('input', { type: 'date', name: 'since' });
  const until = h('input', { type: 'date', name: 'until' });
  const button = h('button', { type: 'submit', text: 'Search' });
  const form = h('form', { role: 'search', class: 'stack' },
    field('Search', q),
    h('div', { class: 'filters' }, field('Type', type), field('From', since), field('To', until)),
    button);
  const note = h('p', { class: 'muted', 'aria-live': 'polite' });
  const results = h('ul', { 'data-testid': 'search-results', class: 'items' });
  const error = alertBox();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.clear();
    button.disabled = true;
    note.textContent = 'Searching…';
    try {
      const answer = await get(`/v1/search${query({
        q: q.value.trim(), n: 20, type: type.value,
        since: dayStart(since.value), until: dayStart(until.value, 1),
      })}`);
      results.replaceChildren(...answer.results.map(resultItem));
      const seen = answer.interpreted;
      note.textContent = answer.results.length ? `${answer.results.length} results` : 'No results.';
      if (seen) {
        const from = seen.since ? ` from ${when(seen.since)}` : '';
        const to = seen.until ? ` until ${when(seen.until)}` : '';
        note.textContent += ` Searched for “${seen.text}”${from}${to}.`;
      }
    } catch (err) {
      note.textContent = '';
      error.show(explain(err));
    } finally {
      button.disabled = false;
    }
  });
  container.append(section('Search', form, error.node, note, results));
  q.focus();
}
