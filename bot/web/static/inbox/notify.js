/*
 * Auskunft inbox: optional browser notifications for a new ticket or a new citizen message.
 *
 * The browser is asked for permission only when the agent clicks "Benachrichtigungen aktivieren", never on load;
 * the choice is remembered in this browser and can be switched off again. live.js reports each change of the
 * agent's tickets as the document event "auskunft:live" ({added: [...], messages: [...]}: case numbers only); a
 * notification names the case number, never what anyone wrote. Clicking it opens the ticket.
 */
(function () {
  "use strict";
  var button = document.getElementById("notify-toggle");
  var state = document.getElementById("notify-state");
  var KEY = "auskunft-inbox-notifications";
  if (!button) { return; }
  var supported = typeof window.Notification === "function";

  function wanted() {
    try { return window.localStorage.getItem(KEY) === "on"; } catch (e) { return false; }
  }
  function remember(on) {
    try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }
  function active() { return supported && wanted() && window.Notification.permission === "granted"; }

  function show(message) {
    button.hidden = false;
    button.textContent = active() ? "Benachrichtigungen ausschalten" : "Benachrichtigungen aktivieren";
    button.setAttribute("aria-pressed", active() ? "true" : "false");
    if (state) { state.textContent = message || ""; }
  }

  if (!supported) {
    if (state) { state.textContent = "Dieser Browser kann keine Benachrichtigungen anzeigen."; }
    return;
  }
  show(active() ? "Benachrichtigungen sind an." : "");

  button.addEventListener("click", function () {
    if (active()) {
      remember(false);
      show("Benachrichtigungen sind aus.");
      return;
    }
    window.Notification.requestPermission().then(function (permission) {
      remember(permission === "granted");
      show(permission === "granted" ? "Benachrichtigungen sind an." :
           "Der Browser hat Benachrichtigungen für diese Seite blockiert. Sie können sie in den " +
           "Website-Einstellungen des Browsers erlauben.");
    });
  });

  function notify(title, caseNumber) {
    var note = new window.Notification(title, {body: "Fall " + caseNumber + " · Auskunft-Posteingang",
                                               tag: "auskunft-" + caseNumber});
    note.onclick = function () {
      window.focus();
      window.location.href = "/inbox/tickets/" + encodeURIComponent(caseNumber);
    };
  }

  document.addEventListener("auskunft:live", function (event) {
    if (!active() || !event.detail) { return; }
    (event.detail.added || []).forEach(function (c) { notify("Neues Ticket", c); });
    (event.detail.messages || []).forEach(function (c) { notify("Neue Nachricht der anfragenden Person", c); });
  });
}());
