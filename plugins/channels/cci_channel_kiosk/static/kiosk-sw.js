/* The kiosk's service worker: the kiosk page and its files open from the device's cache when
   the network or the server is gone, so even a reload (or a restarted browser) while offline
   shows the survey. Network first: online, the server always decides (a revoked device gets
   its screen). The page fills the cache itself (kiosk.js) with what it loaded. The API is
   never cached. */
"use strict";

var CACHE = "cci-kiosk-v1";

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("cci-kiosk-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin ||
      url.pathname.indexOf("/k/api/") === 0) {
    return;
  }
  event.respondWith(fetch(request).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(request, { ignoreSearch: request.mode === "navigate" })
        .then(function (found) { return found || Promise.reject(new Error("offline")); });
    });
  }));
});
