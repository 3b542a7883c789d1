/*
 * Auskunft editor: live preview of an entry's answer while it is typed (the entry form, /inbox/editor/entries).
 *
 * Each region [data-preview-of="<textarea id>"] shows its textarea's markdown rendered by the chat widget's own
 * renderer (window.AuskunftMarkdown, from /widget/auskunft.js loaded with data-markdown-only just before this file),
 * so the preview cannot differ from what citizens see. Rendering waits until typing pauses (300 ms). The regions
 * are labelled but not live regions: screen readers are not interrupted on every key. Without JavaScript the
 * regions stay hidden and the form's "Vorschau" button renders the preview on the server.
 * Served as a file: the inbox's Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";
  var renderer = window.AuskunftMarkdown;
  if (!renderer) { return; }
  var WAIT_MS = 300;

  Array.prototype.forEach.call(document.querySelectorAll("[data-preview-of]"), function (region) {
    var source = document.getElementById(region.getAttribute("data-preview-of"));
    var target = region.querySelector("[data-preview-body]");
    if (!source || !target) { return; }
    var timer = null;

    function show() {
      timer = null;
      while (target.firstChild) { target.removeChild(target.firstChild); }
      if (source.value.trim()) {
        renderer.render(source.value, target);
      } else {
        var empty = document.createElement("p");
        empty.className = "field-hint";
        empty.textContent = "Noch kein Text.";
        target.appendChild(empty);
      }
    }

    source.addEventListener("input", function () {
      if (timer !== null) { clearTimeout(timer); }
      timer = setTimeout(show, WAIT_MS);
    });
    show();
    region.hidden = false;
  });
}());
