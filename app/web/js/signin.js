// Sign-in: by the link a QR code carries (/#token=...) or by pasting the token.

import { HttpError, Offline, request, token } from './api.js';
import { alertBox, field, h } from './dom.js';

/** The token in /#token=..., removed from the address bar (and history) at once. */
export function tokenFromLink() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}#/today`);
  try {
    return decodeURIComponent(match[1]).trim();
  } catch {
    return null;
  }
}

/** Keep the token only if the server accepts it (or cannot be asked right now). */
export async function check(candidate) {
  try {
    await request('/v1/state', { token: candidate, fresh: true });
  } catch (err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
      return { ok: false, message: 'That token was not accepted. Check it and try again.' };
    }
    if (!(err instanceof Offline)) {
      return { ok: false, message: `Sign-in failed: ${err.message}` };
    }
  }
  token.set(candidate);
  return { ok: true };
}

export function mount(container, { message, onSignedIn }) {
  const input = h('input', {
    type: 'password', name: 'token', autocomplete: 'current-password', required: true,
    spellcheck: 'false', autocapitalize: 'off',
  });
  const button = h('button', { type: 'submit', text: 'Sign in' });
  const error = alertBox();
  if (message) error.show(message);
  const form = h('form', { class: 'card' },
    h('h2', { text: 'Sign in' }),
    h('p', { class: 'muted', text: 'Open the link from `hearth token create NAME --qr`, or paste a token.' }),
    field('Token', input), button, error.node);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.clear();
    button.disabled = true;
    const verdict = await check(input.value.trim());
    button.disabled = false;
    if (verdict.ok) onSignedIn();
    else {
      error.show(verdict.message);
      input.select();
    }
  });
  container.append(form);
  input.focus();
}
