// Today: the current mood and the recent thoughts. Writes go through the outbox and show
// at once (marked pending) whether or not the server can be reached.

import { Offline, explain, get, newId, now } from './api.js';
import { alertBox, field, h, section, when } from './dom.js';
import * as outbox from './outbox.js';

const WORDS = ['rad', 'good', 'meh', 'bad', 'awful', 'happy', 'calm', 'focused', 'neutral',
  'tired', 'sad', 'stressed', 'anxious', 'angry'];

function moodForm(onSave) {
  const mood = h('input', {
    name: 'mood', required: true, maxlength: 64, list: 'mood-words', autocomplete: 'off',
  });
  const context = h('textarea', { name: 'context', maxlength: 2000, rows: 2 });
  const form = h('form', { class: 'stack' },
    field('Mood', mood),
    h('datalist', { id: 'mood-words' }, WORDS.map((w) => h('option', { value: w }))),
    field('Context', context),
    h('button', { type: 'submit', text: 'Save mood' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { mood: mood.value.trim(), context: context.value.trim(), updated_at: now() };
    if (!body.mood) return;
    form.reset();
    await onSave(body);
  });
  return form;
}

function thoughtForm(onAdd) {
  const text = h('textarea', { name: 'thought', required: true, maxlength: 10000, rows: 3 });
  const form = h('form', { class: 'stack' },
    field('Thought', text),
    h('button', { type: 'submit', text: 'Add thought' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    form.reset();
    await onAdd({ id: newId(), text: value, created_at: now() });
  });
  return form;
}

function moodView(mood, pending) {
  if (!mood || !mood.updated_at) {
    return [h('strong', { class: 'mood', text: mood ? mood.mood : '…' }),
      h('small', { class: 'muted', text: ' not set yet' })];
  }
  return [
    h('strong', { class: 'mood', text: mood.mood }),
    mood.context ? h('p', { class: 'text', text: mood.context }) : null,
    h('small', { class: 'muted' }, when(mood.updated_at), pending ? ' · pending' : ''),
  ];
}

function thoughtItem(thought) {
  return h('li', { class: thought.pending ? 'pending' : null },
    h('p', { class: 'text', text: thought.text }),
    h('small', { class: 'muted' }, when(thought.created_at), thought.pending ? ' · pending' : ''));
}

export function mount(container) {
  let server = { mood: null, thoughts: [] };
  let ticket = 0;
  let sent = false;
  const current = h('div', { 'data-testid': 'current-mood', class: 'current' });
  const list = h('ul', { 'data-testid': 'thought-list', class: 'items' });
  const empty = h('p', { class: 'muted', text: 'No thoughts yet.', hidden: true });
  const error = alertBox();

  async function render() {
    const mine = ++ticket;
    const queued = await outbox.pending();
    if (mine !== ticket) return; // a newer render is under way
    let mood = server.mood;
    let moodPending = false;
    for (const item of queued) {
      if (item.kind === 'mood' && (!mood || item.body.updated_at >= mood.updated_at)) {
        mood = item.body;
        moodPending = true;
      }
    }
    current.replaceChildren(...moodView(mood, moodPending).filter(Boolean));
    const known = new Set(server.thoughts.map((t) => t.id));
    const waiting = queued
      .filter((item) => item.kind === 'thought' && !known.has(item.body.id))
      .map((item) => ({ ...item.body, pending: true }));
    const thoughts = [...waiting, ...server.thoughts].sort((a, b) => b.created_at - a.created_at);
    list.replaceChildren(...thoughts.map(thoughtItem));
    empty.hidden = thoughts.length > 0;
  }

  async function load() {
    sent = false;
    try {
      const [mood, thoughts] = await Promise.all([get('/v1/mood'), get('/v1/thoughts?limit=50')]);
      server = { mood, thoughts: thoughts.items };
      error.clear();
    } catch (err) {
      if (!(err instanceof Offline)) error.show(explain(err));
    }
    await render();
  }

  const unsubscribe = outbox.subscribe((message) => {
    if (message.type === 'sent') sent = true;
    if (message.type === 'rejected') {
      error.show(`A ${message.item.kind} was refused by the server: ${explain(message.error)}`);
    }
    if (message.type === 'drained' && sent) load();
    else render();
  });

  const write = (kind) => async (body) => {
    error.clear();
    await outbox.enqueue(kind, body);
    await render();
  };
  container.append(
    error.node,
    section('Mood', current, moodForm(write('mood'))),
    section('Thoughts', thoughtForm(write('thought')), list, empty),
  );
  load();
  return unsubscribe;
}
