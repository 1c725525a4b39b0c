// Hearth's service worker: the app shell from its cache (so the app opens while the server
// is down), and GETs under /v1 from the network, falling back to the last answer seen.
// Writes are never touched here: the page's outbox owns them.

const BUILD = '{{BUILD}}';
const SHELL_CACHE = `hearth-shell-${BUILD}`;
const DATA_CACHE = 'hearth-data';
const SHELL = {{SHELL}};

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('hearth-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function shell(request) {
  const cache = await caches.open(SHELL_CACHE);
  const url = new URL(request.url);
  const key = url.pathname === '/' ? '/' : request;
  const hit = await cache.match(key, { ignoreSearch: url.pathname === '/' });
  if (hit) return hit;
  return fetch(request);
}

/** One saved answer per path (the last one seen), so the cache stays small. */
async function data(request) {
  const cache = await caches.open(DATA_CACHE);
  const key = new URL(request.url).pathname;
  let response;
  try {
    response = await fetch(request);
  } catch (err) {
    const saved = await cache.match(key);
    if (!saved) throw err;
    const headers = new Headers(saved.headers);
    headers.set('X-Hearth-Saved-Copy', '1');
    return new Response(saved.body, { status: saved.status, headers });
  }
  if (response.status === 200) {
    // Keeping a copy is a nicety: a failed cache write (busy or full storage) must never
    // turn the server's fresh answer into the older saved one.
    try {
      await cache.put(key, response.clone());
    } catch {
      // the next answer is saved instead
    }
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/')) {
    // Search answers are not worth keeping; a token check must reach the server.
    if (request.cache !== 'no-store' && url.pathname !== '/v1/search') {
      event.respondWith(data(request));
    }
    return;
  }
  if (url.pathname === '/' || url.pathname.startsWith(`/static/${BUILD}/`)) {
    event.respondWith(shell(request));
  }
});

self.addEventListener('message', (event) => {
  if (event.data === 'forget-data') event.waitUntil(caches.delete(DATA_CACHE));
});
