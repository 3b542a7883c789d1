/*
 * Auskunft inbox: insert a canned reply into the reply box at the cursor, without leaving the page.
 *
 * The ticket page offers the department's canned replies (placeholders already filled by the server) in a select;
 * without JavaScript "Einfügen" posts the form to /inbox/tickets/<case>/insert, which shows the page again with the
 * text added. Here the click inserts the option's text (data-text) at the cursor instead, keeps what was typed,
 * puts the cursor after the inserted text and says so in a status region. Nothing is sent.
 */
(function () {
  "use strict";
  var button = document.getElementById("canned-insert");
  var select = document.getElementById("canned-select");
  var box = document.getElementById("reply-text");
  var status = document.getElementById("canned-status");
  if (!button || !select || !box) { return; }

  button.addEventListener("click", function (event) {
    var option = select.options[select.selectedIndex];
    if (!option) { return; }
    event.preventDefault();
    var text = option.getAttribute("data-text") || "";
    var start = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === "number" ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start).replace(/[ \t]+$/, "");  // as the server does without JavaScript
    var after = box.value.slice(end);
    if (before && !/\n\n$/.test(before)) { text = (/\n$/.test(before) ? "\n" : "\n\n") + text; }
    if (after && !/^\n/.test(after)) { text += "\n\n"; }
    box.value = before + text + after;
    var caret = before.length + text.length;
    box.focus();
    box.setSelectionRange(caret, caret);
    if (status) {
      status.textContent = "";
      setTimeout(function () {
        status.textContent = "Textbaustein „" + option.textContent + "“ eingefügt. Prüfen Sie den Text und senden Sie ihn dann ab.";
      }, 100);
    }
  });
}());
