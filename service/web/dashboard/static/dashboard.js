// The dashboard's only script (no inline scripts: the CSP allows none). Filters submit on
// change; the board and the claim page follow the /api/v1/events stream, and poll every
// few seconds whenever the stream is unavailable (not deployed, refused because the server
// serves as many streams as it may, or reconnecting), opening it again later.
(function () {
  'use strict';

  var EVENT_TYPES = ['report.recorded', 'report.retracted', 'import.batch_recorded',
    'claim.created', 'claim.score_changed', 'claim.resolved', 'model.activated'];
  var POLL_MS = 5000;

  // Calls onEvent(event) for every event of the stream, and onEvent(null) whenever the
  // page should check for itself: on each (re)connection and, while there is no stream,
  // every POLL_MS. setMode(text) is told how the page is kept up to date.
  function live(onEvent, setMode) {
    var pollTimer = null;
    function startPolling(reason) {
      if (pollTimer === null) {
        pollTimer = window.setInterval(function () { onEvent(null); }, POLL_MS);
      }
      setMode('polling every ' + POLL_MS / 1000 + ' s (' + reason + ')');
    }
    function stopPolling() {
      if (pollTimer !== null) {
        window.clearInterval(pollTimer);
        pollTimer = null;
      }
    }
    if (!('EventSource' in window)) {
      startPolling('this browser has no event streams');
      return;
    }
    // A stream the server refused (503 while it serves as many streams as it may, or any
    // other failure EventSource does not retry by itself) is opened again after a while:
    // RETRY_MS (the 503's Retry-After), doubled after each refusal up to RETRY_MAX_MS, with
    // jitter so that many refused tabs do not come back together. Polling meanwhile.
    var RETRY_MS = 30000;
    var RETRY_MAX_MS = 300000;
    var retryMs = RETRY_MS;
    var retryTimer = null;
    var source = null;
    function connect() {
      retryTimer = null;
      source = new EventSource('/api/v1/events');
      var current = source;
      source.addEventListener('open', function () {
        retryMs = RETRY_MS;
        stopPolling();
        setMode('live: event stream');
        onEvent(null); // catch up with whatever happened while disconnected
      });
      source.addEventListener('error', function () {
        if (current.readyState === EventSource.CLOSED) {
          startPolling('event stream unavailable; trying again in ' +
            Math.round(retryMs / 1000) + ' s');
          if (retryTimer === null) {
            retryTimer = window.setTimeout(connect, retryMs * (0.75 + Math.random() / 2));
            retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
          }
        } else {
          startPolling('event stream reconnecting');
        }
      });
      EVENT_TYPES.forEach(function (type) {
        current.addEventListener(type, function (message) {
          var event;
          try {
            event = JSON.parse(message.data);
          } catch (error) {
            event = { type: type, claim_id: null };
          }
          onEvent(event);
        });
      });
    }
    connect();
    window.addEventListener('pagehide', function () {
      if (retryTimer !== null) {
        window.clearTimeout(retryTimer);
        retryTimer = null;
      }
      source.close();
    });
  }

  function clock() {
    return new Date().toLocaleTimeString();
  }

  function fetchFresh(url, accept) {
    return window.fetch(url, {
      credentials: 'same-origin', cache: 'no-store', headers: { Accept: accept }
    });
  }

  // The board: swap in the server-rendered rows (same filters and sort) when claims change.
  function board(body) {
    var status = document.getElementById('live-status');
    var url = body.getAttribute('data-rows-url');
    var mode = 'connecting';
    var lastHtml = null;
    var inFlight = false;
    var again = false;
    var pending = null;

    function show(text) {
      if (status) status.textContent = 'Updates: ' + mode + (text ? ' · ' + text : '');
    }
    function versions() {
      var found = {};
      body.querySelectorAll('tr[data-claim-id]').forEach(function (row) {
        found[row.getAttribute('data-claim-id')] = row.getAttribute('data-version');
      });
      return found;
    }
    function refresh() {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      fetchFresh(url, 'text/html').then(function (response) {
        if (response.status === 401) {
          show('signed out: reload the page to sign in again');
          return null;
        }
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.text();
      }).then(function (html) {
        if (html === null) return;
        if (html !== lastHtml) {
          var before = versions();
          body.innerHTML = html; // our own server-rendered, escaped rows
          lastHtml = html;
          body.querySelectorAll('tr[data-claim-id]').forEach(function (row) {
            var id = row.getAttribute('data-claim-id');
            if (before[id] !== row.getAttribute('data-version')) row.classList.add('changed');
          });
        }
        show('checked ' + clock());
      }).catch(function (error) {
        show('could not refresh (' + error.message + ')');
      }).then(function () {
        inFlight = false;
        if (again) {
          again = false;
          refresh();
        }
      });
    }
    live(function () {
      // Events come in bursts (a batch of reports): refresh once per burst.
      if (pending === null) {
        pending = window.setTimeout(function () {
          pending = null;
          refresh();
        }, 250);
      }
    }, function (text) {
      mode = text;
      show('');
    });
  }

  // A claim page: say so when the claim changes (a reload would lose a half-written note).
  // Not once this page's own verdict form is sent: the verdict changes the claim while
  // the answer (a fresh page) is on its way, and that change is the reader's own.
  function claimPage(article) {
    var id = Number(article.getAttribute('data-claim-id'));
    var shown = Date.parse(article.getAttribute('data-updated'));
    var api = article.getAttribute('data-api-url');
    var notice = document.getElementById('claim-live');
    var sent = false;
    document.querySelectorAll('form.verdict').forEach(function (form) {
      form.addEventListener('submit', function () { sent = true; });
    });
    function check() {
      if (sent) return;
      fetchFresh(api, 'application/json').then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (claim) {
        if (!sent && claim && Date.parse(claim.updated_at) > shown) notice.hidden = false;
      }).catch(function () { /* the next event or poll tries again */ });
    }
    // An import batch's summary names its claims in data.claim_ids.
    function names(event) {
      return event.claim_id === id || event.type === 'model.activated' ||
        (event.type === 'import.batch_recorded' && event.data &&
          (event.data.claim_ids || []).indexOf(id) >= 0);
    }
    live(function (event) {
      if (event === null || names(event)) check();
    }, function () {});
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('select.auto-submit').forEach(function (select) {
      select.addEventListener('change', function () { select.form.submit(); });
    });
    // A double click must not record a verdict twice.
    document.querySelectorAll('form.verdict').forEach(function (form) {
      form.addEventListener('submit', function () {
        form.querySelectorAll('button[type=submit]').forEach(function (button) {
          button.disabled = true;
        });
      });
    });
    var body = document.getElementById('claims-body');
    if (body) board(body);
    var article = document.getElementById('claim');
    if (article) claimPage(article);
  });
}());
