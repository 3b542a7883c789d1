// Minimal demo chat: all bot text is inserted as text (never as HTML); links are built as elements.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("input");
  var statusEl = document.getElementById("status");
  var key = "auskunft-demo-sender";
  var sender = sessionStorage.getItem(key);
  if (!sender) {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    sender = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    sessionStorage.setItem(key, sender);
  }
  var LINK = /\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;
  function appendText(el, text) {
    var last = 0, m;
    LINK.lastIndex = 0;
    while ((m = LINK.exec(text)) !== null) {
      el.appendChild(document.createTextNode(text.slice(last, m.index).replace(/\*\*/g, "")));
      var a = document.createElement("a");
      a.href = m[2]; a.textContent = m[1]; a.rel = "noopener noreferrer"; a.target = "_blank";
      el.appendChild(a);
      last = LINK.lastIndex;
    }
    el.appendChild(document.createTextNode(text.slice(last).replace(/\*\*/g, "")));
  }
  function add(who, text, buttons) {
    var li = document.createElement("li");
    li.className = who;
    li.style.whiteSpace = "pre-line";
    appendText(li, text || "");
    if (buttons && buttons.length) {
      var div = document.createElement("div");
      div.className = "choices";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        div.appendChild(btn);
      });
      li.appendChild(div);
    }
    log.appendChild(li);
    li.scrollIntoView({block: "nearest"});
  }
  function send(message, shown) {
    add("user", shown || message);
    statusEl.textContent = "";
    return fetch("/api/chat", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sender: sender, message: message, lang: document.documentElement.lang})
    }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (msgs) {
      msgs.forEach(function (m) { add("bot", m.text, m.buttons); });
    }).catch(function () {
      statusEl.textContent = "Der Assistent ist gerade nicht erreichbar. Bitte versuchen Sie es erneut.";
      input.value = input.value || (shown ? "" : message);
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
}());
