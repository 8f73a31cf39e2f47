// Live updates: the server's job events (GET /live, SSE) name a job id; when a job shown on
// this page changed, the page's live regions ([data-live]) are fetched again and swapped in
// place, so states, results and outputs update without a reload (and without losing the page).
// A list of jobs ([data-live-any]) may gain a job it does not show yet (a new one, or one that
// now matches its filter), so any job's event refreshes it too, at most once a second.
"use strict";

(function () {
  if (!document.querySelector("[data-live]") || !window.EventSource) {
    return;
  }
  var scheduled = null;

  function shownJobs() {
    var ids = new Set();
    document.querySelectorAll("[data-job]").forEach(function (element) {
      ids.add(element.getAttribute("data-job"));
    });
    return ids;
  }

  function refresh() {
    scheduled = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (replacement) {
            region.replaceWith(document.importNode(replacement, true));
          }
        });
      })
      .catch(function () { /* the server stopped: the page keeps what it showed */ });
  }

  var listsEveryJob = document.querySelector("[data-live-any]") !== null;
  var events = new EventSource("/live");
  events.addEventListener("ApiEvent", function (message) {
    if (scheduled !== null) {
      return;
    }
    if (shownJobs().has(JSON.parse(message.data).ResourceLink)) {
      scheduled = window.setTimeout(refresh, 100);
    } else if (listsEveryJob) {
      scheduled = window.setTimeout(refresh, 1000);
    }
  });
  window.addEventListener("pagehide", function () { events.close(); });
})();
