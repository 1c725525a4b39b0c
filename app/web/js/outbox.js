// The outbox: every write goes into IndexedDB first, then is sent in order. A write stays
// there through failures, reloads and closed tabs until the server answers it. Each write
// carries its client id and client time, so a resend is never applied twice and an older
// queued mood never beats a newer one (the server's last write wins by updated_at).

import { HttpError, Offline, request, token } from './api.js';

const DB_NAME = 'hearth';
const STORE = 'outbox';
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 5000;

let dbPromise = null;
let running = null;
let again = false;
let retryTimer = null;
let retryDelay = RETRY_MIN_MS;
const listeners = new Set();
const channel = 'BroadcastChannel' in self ? new BroadcastChannel('hearth-outbox') : null;

function openDb() {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

async function run(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Every queued write, oldest first: [{key, kind, body, queued_at}]. */
export async function pending() {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const out = [];
    const req = db.transaction(STORE).objectStore(STORE).openCursor();
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor) { resolve(out); return; }
      out.push({ key: cursor.key, ...cursor.value });
      cursor.continue();
    };
    req.onerror = () => reject(req.error);
  });
}

async function first() {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const req = db.transaction(STORE).objectStore(STORE).openCursor();
    req.onsuccess = () => resolve(req.result ? { key: req.result.key, ...req.result.value } : null);
    req.onerror = () => reject(req.error);
  });
}

export const count = () => run('readonly', (store) => store.count());

/** listener({type: 'changed'|'sent'|'rejected', item?, answer?, error?}) */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(message) {
  for (const listener of listeners) listener(message);
}

if (channel) channel.onmessage = () => emit({ type: 'changed' });

function changed() {
  emit({ type: 'changed' });
  channel?.postMessage('changed');
}

/** Queue a write ('mood' or 'thought' with its full body), then try to send it. */
export async function enqueue(kind, body) {
  await run('readwrite', (store) => store.add({ kind, body, queued_at: Date.now() / 1000 }));
  changed();
  flush();
}

function send(item) {
  if (item.kind === 'mood') return request('/v1/mood', { method: 'PUT', body: item.body });
  if (item.kind === 'thought') return request('/v1/thoughts', { method: 'POST', body: item.body });
  throw new HttpError(400, `unknown write kind ${item.kind}`);
}

/** Worth another try later: the server is away, busy, or does not know the token yet. */
function retryable(err) {
  if (err instanceof Offline) return true;
  if (!(err instanceof HttpError)) return false;
  return err.status >= 500 || [401, 408, 425, 429].includes(err.status);
}

async function drain() {
  if (!token.get()) return false; // signed out: keep everything for the next sign-in
  for (let item = await first(); item; item = await first()) {
    let answer;
    try {
      answer = await send(item);
    } catch (err) {
      if (retryable(err)) return false;
      await run('readwrite', (store) => store.delete(item.key));
      changed();
      emit({ type: 'rejected', item, error: err });
      continue;
    }
    await run('readwrite', (store) => store.delete(item.key));
    changed();
    emit({ type: 'sent', item, answer });
  }
  return true;
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, retryDelay);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
}

/** Send what is queued, in order; one sender at a time, across tabs too. */
export function flush() {
  if (running) {
    again = true; // a write queued while sending: look once more when this pass ends
    return running;
  }
  running = (async () => {
    try {
      const locks = navigator.locks;
      const done = locks ? await locks.request('hearth-outbox', drain) : await drain();
      if (done) {
        retryDelay = RETRY_MIN_MS;
        clearTimeout(retryTimer);
        emit({ type: 'drained' });
      } else {
        scheduleRetry();
      }
    } catch {
      scheduleRetry();
    } finally {
      running = null;
      if (again) {
        again = false;
        flush();
      }
    }
  })();
  return running;
}

/** Retry on load, when the network comes back and when the app is shown again. */
export function start() {
  addEventListener('online', () => { retryDelay = RETRY_MIN_MS; flush(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') flush();
  });
  flush();
}
