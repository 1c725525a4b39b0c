// Talking to /v1: the stored token, JSON in and out, and the errors the views tell apart.

const TOKEN_KEY = 'hearth.token';

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** The server answered, but not with 2xx. */
export class HttpError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** The server could not be reached (down, no network, timed out). */
export class Offline extends Error {}

/** Events: 'unauthorized' (a stored token stopped working), 'network' ({offline}). */
export const events = new EventTarget();

function detailOf(data, fallback) {
  if (data && typeof data.detail === 'string') return data.detail;
  if (data && Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join('; ');
  return fallback;
}

/**
 * fresh: skip the service worker's saved copy (used to check a token, which must not be
 * "accepted" by an old answer while the server is away).
 */
export async function request(path, options = {}) {
  const { method = 'GET', body, fresh = false, timeoutMs = 15000 } = options;
  const auth = options.token ?? token.get();
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: fresh ? 'no-store' : 'no-cache',
      credentials: 'omit',
      signal: abort.signal,
    });
  } catch {
    events.dispatchEvent(new CustomEvent('network', { detail: { offline: true } }));
    throw new Offline('The server cannot be reached.');
  } finally {
    clearTimeout(timer);
  }
  const saved = res.headers.get('X-Hearth-Saved-Copy') === '1';
  events.dispatchEvent(new CustomEvent('network', { detail: { offline: saved } }));
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (!res.ok) {
    if (res.status === 401 && !options.token) events.dispatchEvent(new Event('unauthorized'));
    throw new HttpError(res.status, detailOf(data, `HTTP ${res.status}`));
  }
  return data;
}

export const get = (path, options) => request(path, options);

export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** A v4 UUID, also where crypto.randomUUID is missing (plain http on a LAN address). */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export const now = () => Date.now() / 1000;

/** A friendly line for an error a view shows in its alert. */
export function explain(err) {
  if (err instanceof Offline) return 'Offline: the server cannot be reached right now.';
  if (err instanceof HttpError) {
    if (err.status === 403) return `Not allowed with this token: ${err.message}`;
    return `${err.message} (HTTP ${err.status})`;
  }
  return String(err);
}
