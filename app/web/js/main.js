// The app's frame: sign-in, the four views, the pending-writes line, the service worker.

import { events, token } from './api.js';
import * as outbox from './outbox.js';
import * as signin from './signin.js';
import * as today from './today.js';

const VIEWS = {
  today: async () => today,
  timeline: () => import('./timeline.js'),
  search: () => import('./search.js'),
  status: () => import('./status.js'),
};
const TITLES = { today: 'Today', timeline: 'Timeline', search: 'Search', status: 'Status' };

const view = document.getElementById('view');
const tabs = document.getElementById('tabs');
const sync = document.getElementById('sync');
let offline = false;
let unmount = null;
let routing = 0;

async function showSync() {
  const n = await outbox.count();
  const parts = [];
  if (n > 0) parts.push(`${n} pending`);
  if (offline) parts.push('offline');
  sync.textContent = parts.join(' · ');
  sync.classList.toggle('warn', n > 0 || offline);
}

function clearView() {
  if (unmount) unmount();
  unmount = null;
  view.replaceChildren();
}

function showSignIn(message) {
  tabs.hidden = true;
  clearView();
  document.title = 'Hearth: sign in';
  unmount = signin.mount(view, { message, onSignedIn: signedIn });
}

function signedIn() {
  outbox.flush();
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/today');
  route();
}

async function route() {
  if (!token.get()) {
    showSignIn();
    return;
  }
  const name = location.hash.slice(2) in VIEWS ? location.hash.slice(2) : 'today';
  const ticket = ++routing;
  tabs.hidden = false;
  for (const link of tabs.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const module = await VIEWS[name]();
  if (ticket !== routing) return; // the user moved on while the module loaded
  clearView();
  document.title = `Hearth: ${TITLES[name]}`;
  unmount = module.mount(view) || null;
}

/** The page allows no script URL from a string (Trusted Types) except this one. */
function workerUrl() {
  if (!self.trustedTypes) return '/sw.js';
  const policy = self.trustedTypes.createPolicy('hearth', {
    createScriptURL: (url) => {
      if (url !== '/sw.js') throw new TypeError(`script URL not allowed: ${url}`);
      return url;
    },
  });
  return policy.createScriptURL('/sw.js');
}

/** Show what the address asks for; a sign-in link (also opened in this tab) first. */
async function enter() {
  const linked = signin.tokenFromLink();
  if (!linked) {
    route();
    return;
  }
  const verdict = await signin.check(linked);
  if (verdict.ok) signedIn();
  else showSignIn(verdict.message);
}

async function start() {
  events.addEventListener('network', (e) => {
    if (offline !== e.detail.offline) {
      offline = e.detail.offline;
      showSync();
    }
  });
  events.addEventListener('unauthorized', () => {
    if (!token.get()) return; // already signed out: keep the form the user may be filling
    token.clear();
    showSignIn('This device’s token is no longer accepted. Sign in again; unsent writes are kept.');
  });
  outbox.subscribe(() => showSync());
  addEventListener('hashchange', () => enter());
  showSync();
  outbox.start();
  enter();
  if ('serviceWorker' in navigator) {
    // A new release's worker took over: this page's code may lazily load files that the
    // old cache no longer holds, so start again on the new one (writes are in IndexedDB).
    const updating = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (updating) location.reload();
    });
    navigator.serviceWorker.register(workerUrl(), { scope: '/' }).catch(() => {
      // Plain http on a LAN address has no service worker: the app still works online.
    });
  }
}

start();
