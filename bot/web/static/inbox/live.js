/*
 * Auskunft inbox: live updates for the queue and the open ticket (no reload needed).
 *
 * Listens to /inbox/events (server-sent events: case numbers, versions, unread flags, the number waiting; never
 * anyone's text); when EventSource is missing or its connection is refused, it polls /inbox/events/state every
 * 10 s instead. The queue marks tickets with a new citizen message and says when it changed; the ticket page
 * loads the transcript again (/inbox/tickets/<case>/verlauf, escaped HTML from the server) and announces it.
 * New tickets and new citizen messages are also reported as the document event "auskunft:live" (for notify.js).
 * Served as a file: the inbox's Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root) { return; }
  var mode = root.getAttribute("data-live");
  var watch = root.getAttribute("data-case") || "";
  var query = watch ? "?fall=" + encodeURIComponent(watch) : "";
  var notice = document.getElementById("live-notice");
  var previous = null;
  var timer = null;
  var stopped = false;
  var POLL_MS = 10000;

  function say(text, withReload) {
    if (!notice) { return; }
    // Shown first, filled a moment later: screen readers announce a change in a live region they already know.
    notice.hidden = false;
    setTimeout(function () {
      notice.textContent = text + " ";
      if (withReload) {
        var again = document.createElement("a");
        again.href = location.pathname + location.search;
        again.textContent = "Seite aktualisieren";
        notice.appendChild(again);
      }
    }, 100);
  }

  function markUnread(tickets) {
    var rows = document.querySelectorAll("tr[data-case]");
    for (var i = 0; i < rows.length; i += 1) {
      var entry = tickets[rows[i].getAttribute("data-case")];
      var marker = rows[i].querySelector(".unread");
      if (marker) { marker.hidden = !(entry && entry.u); }
    }
  }

  function changedCases(state) {
    if (!previous) { return []; }
    var changed = [];
    Object.keys(state.tickets).forEach(function (key) {
      var before = previous.tickets[key];
      if (!before || before.v !== state.tickets[key].v) { changed.push(key); }
    });
    return changed;
  }

  function reloadTranscript() {
    fetch("/inbox/tickets/" + encodeURIComponent(watch) + "/verlauf",
          {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("transcript");
        var current = document.getElementById("transcript");
        if (!fresh || !current) { return; }
        var before = Number(current.getAttribute("data-lines") || 0);
        var after = Number(fresh.getAttribute("data-lines") || 0);
        current.parentNode.replaceChild(document.importNode(fresh, true), current);
        if (after > before) {
          say(after - before === 1 ? "Neue Nachricht im Gesprächsverlauf." :
              (after - before) + " neue Nachrichten im Gesprächsverlauf.", false);
        } else {
          say("Das Ticket wurde geändert.", true);
        }
      })
      .catch(function () { say("Der Gesprächsverlauf konnte nicht neu geladen werden.", true); });
  }

  function announce(state) {
    // For notify.js: case numbers of new tickets and of tickets with a new citizen message (never any text).
    if (!previous) { return; }
    var added = [], messages = [];
    Object.keys(state.tickets).forEach(function (key) {
      var now = state.tickets[key], before = previous.tickets[key];
      if (!before) { added.push(key); } else if (now.u && (!before.u || before.v !== now.v)) { messages.push(key); }
    });
    if (added.length || messages.length) {
      document.dispatchEvent(new CustomEvent("auskunft:live", {detail: {added: added, messages: messages}}));
    }
  }

  function apply(state) {
    if (!state || typeof state.tickets !== "object") { return; }
    var changed = changedCases(state);
    announce(state);
    if (mode === "queue") {
      var waiting = document.querySelector(".waiting-count strong");
      if (waiting) { waiting.textContent = String(state.waiting); }
      markUnread(state.tickets);
      var added = previous && Object.keys(state.tickets).some(function (key) { return !previous.tickets[key]; });
      if (changed.length) {
        say(added ? "Neue Tickets sind eingegangen." : "Die Warteschlange hat sich geändert.", true);
      }
    } else if (mode === "ticket" && changed.indexOf(watch) !== -1) {
      reloadTranscript();
    }
    previous = state;
    root.setAttribute("data-live-seen", String(Number(root.getAttribute("data-live-seen") || 0) + 1));
  }

  function loggedOut() {
    stopped = true;
    if (timer) { clearInterval(timer); }
    say("Ihre Anmeldung ist abgelaufen. Bitte laden Sie die Seite neu und melden Sie sich an.", true);
  }

  function poll() {
    if (stopped) { return; }
    fetch("/inbox/events/state" + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) { loggedOut(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(apply)
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function startPolling() {
    if (timer || stopped) { return; }
    root.setAttribute("data-live-mode", "polling");
    poll();
    timer = setInterval(poll, POLL_MS);
  }

  if (typeof window.EventSource !== "function") {
    startPolling();
    return;
  }
  var source = new EventSource("/inbox/events" + query);
  var errors = 0;
  root.setAttribute("data-live-mode", "events");
  source.addEventListener("state", function (event) {
    errors = 0;
    try { apply(JSON.parse(event.data)); } catch (e) { /* a broken event is skipped */ }
  });
  source.addEventListener("logout", function () { source.close(); loggedOut(); });
  source.onerror = function () {
    // A stream ends every two minutes and reconnects; refused, or failing again and again: poll instead.
    errors += 1;
    if (source.readyState === EventSource.CLOSED || errors >= 3) {
      source.close();
      startPolling();
    }
  };
}());
