/*
 * Auskunft inbox: keyboard shortcuts for the queue and the ticket page.
 *
 * Single-character shortcuts are off until the agent switches them on with the button "Tastenkürzel einschalten"
 * (remembered in this browser), so that they never get in the way of speech input or a screen reader's own keys
 * (WCAG 2.1.4 "Character Key Shortcuts": a mechanism to turn them off). They never act while the cursor is in a
 * field, nor with Ctrl, Alt or Meta held. Queue: j/k choose the next/previous ticket (its link gets the focus, so
 * Enter opens it), t takes the chosen ticket. Ticket page: t takes it, r jumps to the reply box, w back to the
 * queue. "?" opens or closes the help listing them.
 */
(function () {
  "use strict";
  var tools = document.getElementById("inbox-tools");
  var toggle = document.getElementById("shortcuts-toggle");
  var state = document.getElementById("shortcuts-state");
  var help = document.getElementById("shortcut-help");
  if (!tools || !toggle) { return; }
  tools.hidden = false;
  var KEY = "auskunft-inbox-shortcuts";
  var onQueue = !!document.querySelector("[data-live=queue]");

  function stored() {
    try { return window.localStorage.getItem(KEY) === "on"; } catch (e) { return false; }
  }
  var enabled = stored();

  function show() {
    toggle.setAttribute("aria-pressed", enabled ? "true" : "false");
    toggle.textContent = enabled ? "Tastenkürzel ausschalten" : "Tastenkürzel einschalten";
    if (state) { state.textContent = enabled ? "Tastenkürzel sind an." : "Tastenkürzel sind aus."; }
    document.documentElement.setAttribute("data-shortcuts", enabled ? "on" : "off");
  }

  toggle.addEventListener("click", function () {
    enabled = !enabled;
    try { window.localStorage.setItem(KEY, enabled ? "on" : "off"); } catch (e) { /* private mode: this page only */ }
    show();
  });
  show();

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-case]"));
  }

  function currentIndex(list) {
    for (var i = 0; i < list.length; i += 1) {
      if (list[i].classList.contains("current")) { return i; }
    }
    return -1;
  }

  function choose(step) {
    var list = rows();
    if (!list.length) { return; }
    var index = currentIndex(list);
    var next = index === -1 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, index + step));
    list.forEach(function (row) { row.classList.remove("current"); });
    list[next].classList.add("current");
    var link = list[next].querySelector("a");
    if (link) { link.focus(); }
  }

  function takeChosen() {
    var list = rows();
    var index = currentIndex(list);
    var form = document.getElementById("take-form");
    if (index === -1 || !form) { return; }
    form.action = "/inbox/tickets/" + encodeURIComponent(list[index].getAttribute("data-case")) + "/assign";
    form.submit();
  }

  function ticketKey(key) {
    if (key === "t") {
      var take = document.getElementById("take-button");
      if (take) { take.click(); }
    } else if (key === "r") {
      var box = document.getElementById("reply-text");
      if (box) { box.focus(); }
    } else if (key === "w") {
      window.location.href = "/inbox";
    } else {
      return false;
    }
    return true;
  }

  function queueKey(key) {
    if (key === "j") { choose(1); } else if (key === "k") { choose(-1); } else if (key === "t") { takeChosen(); } else {
      return false;
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (!enabled || event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing ||
        typing(event.target)) {
      return;
    }
    var handled;
    if (event.key === "?") {
      if (help) { help.open = !help.open; }
      handled = true;
    } else {
      handled = onQueue ? queueKey(event.key) : ticketKey(event.key);
    }
    if (handled) { event.preventDefault(); }
  });
}());
