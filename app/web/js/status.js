// Status: what the server reports about itself, its jobs and its backups.

import { explain, get, request, token } from './api.js';
import { alertBox, bytes, h, section, when } from './dom.js';

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d} d ${hours} h` : hours ? `${hours} h ${m} min` : `${m} min`;
}

function jobItem(job, onRun) {
  const name = h('strong', { text: job.name, id: `job-${job.name}` });
  const last = job.last_run;
  const lastText = last
    ? `last run ${last.status}${last.finished_at ? ` at ${when(last.finished_at)}` : ''}${last.error ? `: ${last.error}` : ''}`
    : 'never run';
  const next = job.next_run_at ? ` · next ${when(job.next_run_at)}` : '';
  const button = h('button', { type: 'button', text: 'Run now', 'aria-describedby': name.id });
  button.addEventListener('click', () => onRun(job.name, button));
  return h('li', { class: 'job' }, h('div', {}, name, h('small', { class: 'muted', text: ` ${lastText}${next}` })), button);
}

function backupItem(b) {
  return h('li', {}, h('span', { class: 'text', text: b.name }),
    h('small', { class: 'muted', text: ` ${when(b.created_at)} · ${bytes(b.size_bytes)} · ${b.verified ? 'verified' : 'not verified'}` }));
}

export function mount(container) {
  const error = alertBox();
  const message = h('p', { class: 'muted', 'aria-live': 'polite' });
  const server = h('div');
  const warnings = h('ul', { class: 'items warnings' });
  const jobs = h('ul', { class: 'items' });
  const backups = h('ul', { class: 'items' });
  const backupButton = h('button', { type: 'button', text: 'Back up now' });
  const signOut = h('button', { type: 'button', class: 'quiet', text: 'Sign out of this device' });

  async function load() {
    const [status, jobList, backupList] = await Promise.allSettled([
      get('/v1/status'), get('/v1/jobs'), get('/v1/backups')]);
    const failed = [status, jobList, backupList].find((r) => r.status === 'rejected');
    if (failed) error.show(explain(failed.reason));
    else error.clear();
    if (status.status === 'fulfilled') {
      const s = status.value;
      const types = Object.entries(s.events.by_type).map(([t, n]) => `${t} ${n}`).join(', ');
      server.replaceChildren(facts([
        ['Version', s.version], ['Up for', duration(s.uptime_s)],
        ['Events', `${s.events.total}${types ? ` (${types})` : ''}`], ['Embedder', s.embedder],
        ['Data', bytes(s.storage.data_dir_bytes)], ['Disk free', bytes(s.storage.disk_free_bytes)],
        ['Backups', `${s.backups.count}${s.backups.newest_at ? `, newest ${when(s.backups.newest_at)}` : ''}`],
      ]));
      const list = s.warnings.length ? s.warnings : ['No warnings.'];
      warnings.replaceChildren(...list.map((w) => h('li', { text: w })));
    }
    if (jobList.status === 'fulfilled') {
      jobs.replaceChildren(...jobList.value.jobs.map((j) => jobItem(j, runJob)));
    }
    if (backupList.status === 'fulfilled') {
      const items = [...backupList.value.items].sort((a, b) => b.created_at - a.created_at);
      backups.replaceChildren(...items.map(backupItem));
      if (!items.length) backups.replaceChildren(h('li', { class: 'muted', text: 'No backups yet.' }));
    }
  }

  async function act(button, work, done) {
    error.clear();
    button.disabled = true;
    try {
      await work();
      message.textContent = done;
    } catch (err) {
      error.show(explain(err));
    } finally {
      button.disabled = false;
      await load();
    }
  }

  function runJob(name, button) {
    return act(button, () => request(`/v1/jobs/${encodeURIComponent(name)}/run`, { method: 'POST' }),
      `Started ${name}.`);
  }

  backupButton.addEventListener('click', () => {
    message.textContent = 'Backing up (this can take a while)…';
    act(backupButton, () => request('/v1/backups', { method: 'POST', timeoutMs: 600000 }),
      'Backup written and verified.');
  });
  signOut.addEventListener('click', async () => {
    token.clear();
    if ('caches' in self) await caches.delete('hearth-data');
    location.replace('/');
  });

  container.append(
    error.node, message,
    section('Server', server),
    section('Warnings', warnings),
    section('Jobs', jobs),
    section('Backups', backupButton, backups),
    signOut,
  );
  load();
}
