// CaseRoom's service worker: caches the app shell (HTML, JS, CSS, icons) so the app starts
// offline and installs as a PWA. It never caches API responses: they carry patient data.
const CACHE = "caseroom-shell-v1";
const SHELL = ["/", "/manifest.webmanifest", "/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const isShell = request.mode === "navigate" || url.pathname.startsWith("/assets/") || SHELL.includes(url.pathname);
  if (!isShell) return; // API calls, downloads, /_local: straight to the network
  if (request.mode === "navigate") {
    // Network first for the page, so a new build shows up; the cached shell when offline.
    event.respondWith(fetch(request).catch(() => caches.match("/")));
    return;
  }
  // Hashed assets never change: cache first, filled on first use.
  event.respondWith(
    caches.match(request).then(
      (hit) =>
        hit ||
        fetch(request).then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        }),
    ),
  );
});
