/*! Auskunft chat widget. One script tag, no cookies, no third-party requests.
 *
 *   <script src="https://BOT-HOST/widget/auskunft.js" defer
 *           data-lang="de" data-title="Fragen an die Stadt" data-color="#00567a"
 *           data-position="right" data-privacy-url="/datenschutz"></script>
 *
 * A deployment serving several agencies (a district and its towns) tells them apart by
 * data-agency="adorf": the bot then answers from that agency's kb only.
 *
 * Everything the bot or an agent writes is inserted as text nodes; the small markdown subset
 * (paragraphs, lists, **bold**, links) is built element by element, never through innerHTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__auskunftWidget) { return; }
  window.__auskunftWidget = true;

  // ---- configuration -------------------------------------------------------------------
  var data = script.dataset;
  var BASE = new URL(data.api || "..", new URL(script.src, location.href)).href.replace(/\/?$/, "/");
  var LANG = (data.lang || document.documentElement.lang || "de").slice(0, 2).toLowerCase() === "en" ? "en" : "de";
  var AGENCY = /^[a-z0-9][a-z0-9-]{0,39}$/.test(data.agency || "") ? data.agency : null;
  var STORE_KEY = "auskunft:v1" + (AGENCY ? ":" + AGENCY : "");
  var POLL_MS = 15000;
  var TIMEOUT_MS = 20000;
  var MAX_CHARS = 2000;
  var MAX_KEPT = 300;  // messages kept across reloads

  var STRINGS = {
    de: {
      launcher: "Fragen? Chat öffnen", newReply: "Neue Antwort im Chat", title: "Digitaler Assistent",
      subtitle: "Automatische Antworten ohne Gewähr", close: "Chat schließen", del: "Gespräch löschen",
      confirm: "Verlauf auf diesem Gerät und auf dem Server löschen? Bereits weitergeleitete Anliegen bleiben bei der Verwaltung.",
      confirmYes: "Ja, löschen", confirmNo: "Abbrechen", deleted: "Das Gespräch wurde gelöscht.",
      deleteFailed: "Das Löschen ist fehlgeschlagen, weil der Server nicht erreichbar ist. Bitte versuchen Sie es später erneut.",
      log: "Chatverlauf", input: "Ihre Frage", placeholder: "Frage eingeben …", send: "Senden",
      hint: "Die Eingabetaste sendet die Nachricht, Umschalt + Eingabetaste beginnt eine neue Zeile.",
      privacy: "Bitte geben Sie keine persönlichen Daten wie Telefonnummern ein.", privacyLink: "Datenschutz",
      welcome: "Guten Tag! Ich beantworte Fragen zu Leistungen der Verwaltung, zum Beispiel: „Wie beantrage ich einen Personalausweis?“ Ich bin ein Computerprogramm. Wenn ich keine verlässliche Antwort habe, leite ich Ihr Anliegen auf Wunsch an Mitarbeitende weiter.",
      you: "Sie:", bot: "Assistent:", notice: "Hinweis:", agent: "Antwort der Verwaltung, Fall {case}:", typing: "Der Assistent schreibt …", busy: "Gerade kommen sehr viele Nachrichten an. Ihre Nachricht wird in {seconds} Sekunden automatisch gesendet.",
      unreachable: "Der Assistent ist gerade nicht erreichbar. Ihre Nachricht wurde nicht gesendet; sie bleibt hier erhalten.",
      retry: "Erneut senden", notSent: "(nicht gesendet)", rejected: "Diese Nachricht wurde nicht angenommen: ",
      tooMany: "Gerade kommen sehr viele Nachrichten an. Ihre Nachricht wurde noch nicht gesendet; sie bleibt hier erhalten. Bitte senden Sie sie in {seconds} Sekunden erneut.",
      helpful: "Hat Ihnen diese Antwort geholfen?", yes: "Ja", no: "Nein",
      email: "E-Mail-Adresse (freiwillig)", emailSend: "Weiter", emailEmpty: "Bitte geben Sie eine E-Mail-Adresse ein oder wählen Sie „Ohne E-Mail weiter“.",
      caseNumber: "Ihre Fallnummer: ", newTab: "(öffnet in neuem Tab)",
      plain: "In Einfacher Sprache lesen", plainTitle: "Einfache Sprache"
    },
    en: {
      launcher: "Questions? Open chat", newReply: "New reply in the chat", title: "Digital assistant",
      subtitle: "Automatic answers, no guarantee", close: "Close chat", del: "Delete conversation",
      confirm: "Delete the conversation on this device and on the server? Questions already forwarded stay with the office.",
      confirmYes: "Yes, delete", confirmNo: "Cancel", deleted: "The conversation has been deleted.",
      deleteFailed: "Deleting did not work because the server is not reachable. Please try again.",
      log: "Conversation", input: "Your question", placeholder: "Type your question …", send: "Send",
      hint: "Enter sends, Shift and Enter starts a new line.",
      privacy: "Please do not enter personal data such as phone numbers.", privacyLink: "Privacy",
      welcome: "Hello! I answer questions about the city's services, for example: “How do I register my address?” I am a computer program. If I have no reliable answer, I can forward your question to a member of staff.",
      you: "You:", bot: "Assistant:", notice: "Notice:", agent: "Reply from the office, case {case}:", typing: "The assistant is typing …", busy: "A great many messages are arriving right now. Your message will be sent automatically in {seconds} seconds.",
      unreachable: "The assistant cannot be reached right now. Your message was not sent; it is kept here.",
      retry: "Send again", notSent: "(not sent)", rejected: "This message was not accepted: ",
      tooMany: "A great many messages are arriving right now. Your message has not been sent yet; it is kept here. Please send it again in {seconds} seconds.",
      helpful: "Did this answer help you?", yes: "Yes", no: "No",
      email: "E-mail address (optional)", emailSend: "Continue", emailEmpty: "Please enter an e-mail address or choose “Continue without e-mail”.",
      caseNumber: "Your case number: ", newTab: "(opens in a new tab)",
      plain: "Read in plain language", plainTitle: "Plain language"
    }
  };
  var T = STRINGS[LANG];

  // ---- small DOM helpers -----------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    if (text != null) { node.textContent = text; }
    return node;
  }
  function srOnly(text) { return el("span", {"class": "ak-sr"}, text); }
  var uid = 0;
  function nextId(prefix) { uid += 1; return "ak-" + prefix + "-" + uid; }

  // ---- safe markdown subset --------------------------------------------------------------
  var LIST_ITEM = /^\s*([-*•]|\d{1,3}[.)])\s+/;
  var INLINE = "\\*\\*([^*\\n]+?)\\*\\*|\\[([^\\]\\n]+)\\]\\(\\s*([^()\\s]+(?:\\([^()\\s]*\\)[^()\\s]*)*)\\s*\\)|(https?:\\/\\/[^\\s<>\"]*[^\\s<>\".,;:!?)\\]])";

  function safeHref(raw) {
    try {
      var url = new URL(raw, location.href);
      return /^(https?|mailto|tel):$/.test(url.protocol) ? url.href : null;
    } catch (e) { return null; }
  }
  function link(text, href, parent) {
    var safe = safeHref(href);
    if (!safe) { parent.appendChild(document.createTextNode(text)); return; }
    var a = el("a", {href: safe});
    a.textContent = text;
    if (!/^(mailto|tel):/.test(safe)) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.appendChild(srOnly(" " + T.newTab));
    }
    parent.appendChild(a);
  }
  function inline(text, parent) {
    var re = new RegExp(INLINE, "g"), last = 0, m;
    while ((m = re.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) {
        var strong = el("strong");
        inline(m[1], strong);
        parent.appendChild(strong);
      } else if (m[2] !== undefined) {
        link(m[2], m[3], parent);
      } else {
        link(m[4], m[4], parent);
      }
      last = re.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }
  function markdown(text, parent) {
    String(text).replace(/\r\n?/g, "\n").split(/\n{2,}/).forEach(function (block) {
      var lines = block.split("\n"), i = 0, m;
      while (i < lines.length) {
        if (!lines[i].trim()) { i += 1; continue; }
        m = LIST_ITEM.exec(lines[i]);
        if (m) {
          var ordered = /\d/.test(m[1]);
          var list = el(ordered ? "ol" : "ul");
          while (i < lines.length && (m = LIST_ITEM.exec(lines[i])) && /\d/.test(m[1]) === ordered) {
            var item = el("li");
            inline(lines[i].slice(m[0].length), item);
            list.appendChild(item);
            i += 1;
          }
          parent.appendChild(list);
        } else {
          var p = el("p");
          var first = true;
          while (i < lines.length && lines[i].trim() && !LIST_ITEM.test(lines[i])) {
            if (!first) { p.appendChild(el("br")); }
            inline(lines[i], p);
            first = false;
            i += 1;
          }
          parent.appendChild(p);
        }
      }
    });
  }

  // The editors' entry form previews an answer with this very code (bot/web/static/inbox/entry_preview.js loads
  // this file with data-markdown-only): it gets the renderer and no chat, so the preview cannot differ.
  if (data.markdownOnly !== undefined) {
    window.AuskunftMarkdown = {render: function (text, parent) { markdown(text, parent); }};
    return;
  }

  // ---- state in sessionStorage (this tab only; gone when the tab closes) ------------------
  var memory = null;
  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null"); } catch (e) { return memory; }
  }
  function save() {
    if (!state.id) { return; }  // nothing is stored before the citizen writes
    var copy = {id: state.id, open: state.open, after: state.after, closed: state.closed, cases: state.cases,
                history: state.history.slice(-MAX_KEPT).map(function (h) { var c = {}; Object.keys(h).forEach(function (k) { if (k !== "node") { c[k] = h[k]; } }); return c; })};
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(copy)); } catch (e) { memory = copy; }
  }
  function forget() {
    try { sessionStorage.removeItem(STORE_KEY); } catch (e) { /* storage disabled */ }
    memory = null;
  }
  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var stored = load();
  var state = {
    id: stored && stored.id || null, open: !!(stored && stored.open), after: stored && stored.after || 0,
    closed: stored && stored.closed || 0,
    cases: stored && stored.cases || [], history: stored && stored.history || [], busy: false, unread: false
  };

  // ---- the widget's DOM, in a shadow root so the host page's CSS cannot break it ----------
  var host = el("div", {id: "auskunft-widget"});
  host.style.display = "none";  // until our stylesheet has loaded
  var root = host.attachShadow({mode: "open"});
  var css = el("link", {rel: "stylesheet", href: BASE + "widget/auskunft.css"});
  css.addEventListener("load", function () { host.style.display = ""; });
  root.appendChild(css);

  var aside = el("aside", {"class": "ak ak-" + (data.position === "left" ? "left" : "right"), "aria-label": data.title || T.title, lang: LANG});
  if (data.color) { aside.style.setProperty("--ak-brand", readable(data.color)); }
  var launcher = el("button", {type: "button", "class": "ak-launcher", "aria-expanded": "false", "aria-controls": "ak-panel"});
  var launcherText = el("span", null, T.launcher);
  launcher.appendChild(icon());
  launcher.appendChild(launcherText);

  var panel = el("section", {id: "ak-panel", "class": "ak-panel", role: "dialog", "aria-labelledby": "ak-title", "aria-describedby": "ak-subtitle"});
  panel.hidden = true;
  var header = el("header", {"class": "ak-header"});
  var titles = el("div", {"class": "ak-titles"});
  titles.appendChild(el("h2", {id: "ak-title"}, data.title || T.title));
  titles.appendChild(el("p", {id: "ak-subtitle"}, T.subtitle));
  var caseLine = el("p", {"class": "ak-case"});
  titles.appendChild(caseLine);
  var delButton = el("button", {type: "button", "class": "ak-text-button"}, T.del);
  titles.appendChild(delButton);
  var closeButton = el("button", {type: "button", "class": "ak-close", "aria-label": T.close});
  closeButton.appendChild(el("span", {"aria-hidden": "true"}, "×"));
  header.appendChild(titles);
  header.appendChild(closeButton);

  var confirmBox = el("div", {"class": "ak-confirm", role: "group", "aria-labelledby": "ak-confirm-text"});
  confirmBox.hidden = true;
  confirmBox.appendChild(el("p", {id: "ak-confirm-text"}, T.confirm));
  var confirmYes = el("button", {type: "button", "class": "ak-danger"}, T.confirmYes);
  var confirmNo = el("button", {type: "button", "class": "ak-choice"}, T.confirmNo);
  confirmBox.appendChild(confirmYes);
  confirmBox.appendChild(confirmNo);

  var logBox = el("div", {"class": "ak-log", role: "log", "aria-live": "off", "aria-label": T.log, tabindex: "0"});
  var log = el("ol", {"class": "ak-list"});
  logBox.appendChild(log);
  var announcer = el("div", {"class": "ak-sr", "aria-live": "polite"});
  var status = el("p", {"class": "ak-status", role: "status"});
  var alertBox = el("div", {"class": "ak-alert", role: "alert"});
  var form = el("form", {"class": "ak-form"});
  var label = el("label", {"for": "ak-input"}, T.input);
  var input = el("textarea", {id: "ak-input", rows: "2", maxlength: String(MAX_CHARS), placeholder: T.placeholder, "aria-describedby": "ak-hint", autocomplete: "off"});
  var sendButton = el("button", {type: "submit", "class": "ak-send"}, T.send);
  var hint = el("p", {id: "ak-hint", "class": "ak-sr"}, T.hint);
  form.appendChild(label);
  var row = el("div", {"class": "ak-row"});
  row.appendChild(input);
  row.appendChild(sendButton);
  form.appendChild(row);
  form.appendChild(hint);
  var note = el("p", {"class": "ak-note"}, T.privacy + " ");
  if (data.privacyUrl && safeHref(data.privacyUrl)) { link(T.privacyLink, data.privacyUrl, note); }

  [header, confirmBox, logBox, status, alertBox, form, note].forEach(function (n) { panel.appendChild(n); });
  aside.appendChild(launcher);
  aside.appendChild(panel);
  aside.appendChild(announcer);
  root.appendChild(aside);

  function icon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  // A brand colour with white text needs contrast >= 4.5:1: darken the configured colour until it has.
  function readable(color) {
    var m = /^#?([0-9a-f]{6})$/i.exec(String(color).trim());
    if (!m) { return "#00567a"; }
    var rgb = [0, 2, 4].map(function (i) { return parseInt(m[1].slice(i, i + 2), 16); });
    function lum(c) {
      var v = c.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
      return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
    }
    while (1.05 / (lum(rgb) + 0.05) < 4.6) { rgb = rgb.map(function (x) { return Math.floor(x * 0.9); }); }
    return "#" + rgb.map(function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  // ---- rendering the conversation --------------------------------------------------------
  function render(item) {
    var li = el("li", {"class": "ak-msg ak-" + item.who + (item.failed ? " ak-failed" : "")});
    if (item.who === "agent") {
      var from = el("p", {"class": "ak-from"}, T.agent.split("{case}")[0]);
      from.appendChild(el("span", {"class": "ak-nowrap"}, (item.caseNumber || "") + T.agent.split("{case}")[1]));
      li.appendChild(from);
    } else {
      li.appendChild(srOnly(whoOf(item) + " "));
    }
    var body = el("div", {"class": "ak-body"});
    if (item.who === "user") { body.textContent = item.text; } else { markdown(item.text || "", body); }
    if (item.lang && item.lang !== LANG) { body.setAttribute("lang", item.lang); }
    li.appendChild(body);
    if (item.failed) { li.appendChild(el("span", {"class": "ak-flag"}, T.notSent)); }
    if (!item.used) { actions(item, li); }
    if (item.node && item.node.parentNode) { item.node.parentNode.replaceChild(li, item.node); } else { log.appendChild(li); }
    item.node = li;
    return li;
  }

  function actions(item, li) {
    var buttons = item.buttons || [];
    if (item.kind === "email") {
      var f = el("form", {"class": "ak-inline"});
      var id = nextId("email");
      f.appendChild(el("label", {"for": id}, T.email));
      var email = el("input", {id: id, type: "email", autocomplete: "email", inputmode: "email", maxlength: "254"});
      var ok = el("button", {type: "submit", "class": "ak-choice"}, T.emailSend);
      f.appendChild(email);
      f.appendChild(ok);
      buttons.forEach(function (b) { f.appendChild(choice(b.title, b.payload)); });
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var value = email.value.trim();
        if (!value) { showAlert(T.emailEmpty); email.focus(); return; }
        send(value, value);
      });
      li.appendChild(f);
      return;
    }
    if (item.kind === "answer" && item.plain && !item.plainShown) {
      var simple = el("button", {type: "button", "class": "ak-choice ak-plain"}, T.plain);
      simple.addEventListener("click", function () {
        item.plainShown = true;
        render(item);
        reveal(add({who: "bot", text: "**" + T.plainTitle + "**\n\n" + item.plain, local: true}, true));
        save();
        input.focus();
      });
      li.appendChild(simple);
    }
    if (!buttons.length) { return; }
    var group = el("div", {"class": "ak-choices", role: "group"});
    if (item.kind === "answer") {
      var q = nextId("q");
      group.setAttribute("aria-labelledby", q);
      group.appendChild(el("p", {id: q, "class": "ak-question"}, T.helpful));
      buttons.forEach(function (b) {
        group.appendChild(choice(b.payload === "/feedback_helpful" ? T.yes : b.payload === "/feedback_not_helpful" ? T.no : b.title, b.payload, b.title));
      });
    } else {
      group.setAttribute("aria-label", item.text ? item.text.slice(0, 80) : T.bot);
      buttons.forEach(function (b) { group.appendChild(choice(b.title, b.payload)); });
    }
    li.appendChild(group);
  }

  function choice(title, payload, shown) {
    var b = el("button", {type: "button", "class": "ak-choice"}, title);
    b.addEventListener("click", function () { send(payload, shown || title); });
    return b;
  }

  function whoOf(item) {
    return item.who === "user" ? T.you : item.who === "agent" ? T.agent.replace("{case}", item.caseNumber || "") : item.who === "sys" ? T.notice : T.bot;
  }
  function add(item, announce) {
    state.history.push(item);
    render(item);
    if (announce) { announcer.textContent = ""; announcer.textContent = whoOf(item) + " " + plain(item.text); }
    return item;
  }
  // New messages come into view; when they are taller than the log, it shows their first line, not their end.
  var calm = window.matchMedia && matchMedia("(prefers-reduced-motion: reduce)");
  function reveal(item) {
    var node = item && item.node, top = logBox.scrollHeight;
    if (node) { top = Math.min(top, logBox.scrollTop + node.getBoundingClientRect().top - logBox.getBoundingClientRect().top - 8); }
    logBox.scrollTo({top: top, behavior: calm && calm.matches ? "auto" : "smooth"});
  }
  function plain(text) { return String(text || "").replace(/\*\*/g, "").replace(/\[([^\]]+)\]\([^)]*\)/g, "$1"); }

  function retire() {  // buttons of earlier messages go once the citizen moves on
    state.history.forEach(function (h) { if (!h.used && (h.buttons || h.kind === "email")) { h.used = true; render(h); } });
  }

  function showAlert(text, retryItem) {
    alertBox.textContent = "";
    if (!text) { return; }
    setTimeout(function () { logBox.scrollTop = logBox.scrollHeight; }, 0);  // keep the unsent message in view
    alertBox.appendChild(el("p", null, text));
    if (retryItem) {
      var again = el("button", {type: "button", "class": "ak-choice"}, T.retry);
      again.addEventListener("click", function () { resend(retryItem); });
      alertBox.appendChild(again);
    }
  }

  function updateCase() {
    var open = state.cases.length ? state.cases[state.cases.length - 1] : null;
    caseLine.textContent = open ? T.caseNumber : "";
    if (open) { caseLine.appendChild(el("span", {"class": "ak-nowrap"}, open)); }
    caseLine.hidden = !open;
  }

  // ---- talking to the bot ----------------------------------------------------------------
  function request(method, path, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    var headers = {"X-Auskunft-Conversation": state.id};
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(BASE + path, {method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
                               credentials: "omit", cache: "no-store", signal: controller.signal})
      .finally(function () { clearTimeout(timer); });
  }

  // Messages go out one after another, in the order the citizen sent them.
  var queue = Promise.resolve();
  function send(payload, shown) {
    if (!state.id) { state.id = newId(); }
    retire();
    var item = {who: "user", text: shown || payload, payload: payload};
    reveal(add(item, false));
    enqueue(item);
    input.focus();
  }

  function resend(item) {
    item.failed = false;
    render(item);
    enqueue(item);
  }

  function enqueue(item) {
    save();
    queue = queue.then(function () { return deliver(item); });
  }

  // A 503 with Retry-After: the service was too busy to take the message (nothing of it was stored); it goes out
  // again by itself, twice at most, then stays here for "send again".
  function deliver(item, tries) {
    tries = tries || 0;
    state.busy = true;
    showAlert("");
    status.textContent = T.typing;
    var outgoing = {sender: state.id, message: item.payload || item.text, lang: LANG};
    if (AGENCY) { outgoing.agency = AGENCY; }
    return request("POST", "api/chat", outgoing)
      .then(function (r) {
        if (r.ok) { return r.json(); }
        var later = parseInt(r.headers.get("Retry-After") || "", 10);
        if (r.status === 503 && tries < 2 && later > 0 && later <= 30) {
          var full = new Error("busy");
          full.seconds = later;
          throw full;
        }
        if (r.status === 429) {  // a limit: not the message's fault; it stays here for "send again"
          var wait = parseInt(r.headers.get("Retry-After") || "", 10);
          var busy = new Error("limited");
          busy.seconds = wait > 0 && wait < 3600 ? wait : 60;
          throw busy;
        }
        if (r.status >= 400 && r.status < 500) {
          return r.json().catch(function () { return {}; }).then(function (body) {
            var err = new Error("rejected");
            err.detail = typeof body.detail === "string" ? body.detail : String(r.status);
            throw err;
          });
        }
        throw new Error("unreachable");
      })
      .then(function (messages) {
        status.textContent = "";
        receive(messages);
      })
      .catch(function (err) {
        status.textContent = "";
        if (err.message === "busy") {
          status.textContent = T.busy.replace("{seconds}", String(err.seconds));
          return new Promise(function (done) { setTimeout(done, err.seconds * 1000 + Math.random() * 1000); })
            .then(function () { return deliver(item, tries + 1); });
        }
        item.failed = true;
        render(item);
        if (err.message === "rejected") { showAlert(T.rejected + err.detail); }
        else if (err.message === "limited") { showAlert(T.tooMany.replace("{seconds}", String(err.seconds)), item); }
        else { showAlert(T.unreachable, item); }
      })
      .finally(function () {
        state.busy = false;
        save();
      });
  }

  function receive(messages) {
    var last = null, first = null;
    (messages || []).forEach(function (m) {
      if (m.custom) {
        var c = m.custom;
        if (last) {
          last.kind = c.decision === "answer" ? "answer" : c.decision === "clarify" ? "clarify" : c.step || c.decision;
          if (c.faq_id) { last.faq = c.faq_id; }
          if (c.lang === "de" || c.lang === "en") { last.lang = c.lang; }
          if (typeof c.plain === "string" && c.plain) { last.plain = c.plain; }
          render(last);
        }
        if (c.case_number && state.cases.indexOf(c.case_number) < 0) { state.cases.push(c.case_number); updateCase(); poll(); }
        return;
      }
      if (m.text || (m.buttons && m.buttons.length)) {
        last = {who: "bot", text: m.text || "", buttons: (m.buttons || []).map(function (b) { return {title: String(b.title), payload: String(b.payload)}; })};
        add(last, true);
        first = first || last;
      }
    });
    if (first) { reveal(first); }
  }

  // Replies written by staff arrive in this conversation while it lasts.
  var polling = null, unseen = null;
  function poll() {
    if (!state.id || !state.cases.length) { return; }
    request("GET", "api/chat/replies?after=" + encodeURIComponent(state.after) + "&closed_after=" + encodeURIComponent(state.closed))
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (replies) {
        var first = null;
        replies.forEach(function (r) {
          var closed = r.kind === "closed";  // the case was closed: a status note, not a staff message
          if (closed) { state.closed = Math.max(state.closed, r.id); } else { state.after = Math.max(state.after, r.id); }
          var item = add(closed ? {who: "sys", text: r.text} : {who: "agent", text: r.text, caseNumber: r.case_number}, true);
          first = first || item;
        });
        if (replies.length) {
          if (state.open) { reveal(first); } else { unseen = unseen || first; }
          save();
          if (!state.open) { state.unread = true; launcherText.textContent = T.newReply; }
        }
      })
      .catch(function () { /* offline: the next poll tries again */ });
    if (!polling) { polling = setInterval(function () { if (!document.hidden) { poll(); } }, POLL_MS); }
  }

  // ---- opening, closing, deleting ------------------------------------------------------------
  function setOpen(open, focus) {
    state.open = open;
    panel.hidden = !open;
    aside.classList.toggle("ak-is-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcherText.textContent = open ? T.close : T.launcher;
    if (open) {
      state.unread = false;
      if (!state.history.length) { welcome(); }
      logBox.scrollTop = logBox.scrollHeight;
      if (unseen) { reveal(unseen); unseen = null; }
      if (focus) { input.focus(); }
    } else if (focus) {
      launcher.focus();
    }
    save();
  }
  function welcome() {
    var item = {who: "bot", text: T.welcome, local: true};
    state.history.push(item);
    render(item);
  }

  function askDelete() {
    confirmBox.hidden = false;
    confirmNo.focus();
  }
  function doDelete() {
    var clear = function () {
      forget();
      state.id = null; state.after = 0; state.closed = 0; state.cases = []; state.history = [];
      log.textContent = "";
      confirmBox.hidden = true;
      showAlert("");
      updateCase();
      welcome();
      announcer.textContent = T.deleted;
      status.textContent = T.deleted;
      input.value = "";
      input.focus();
    };
    if (!state.id) { clear(); return; }
    request("DELETE", "api/chat/conversation")
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } clear(); })
      .catch(function () { confirmBox.hidden = true; showAlert(T.deleteFailed); delButton.focus(); });
  }

  launcher.addEventListener("click", function () { setOpen(!state.open, true); });
  closeButton.addEventListener("click", function () { setOpen(false, true); });
  delButton.addEventListener("click", askDelete);
  confirmNo.addEventListener("click", function () { confirmBox.hidden = true; delButton.focus(); });
  confirmYes.addEventListener("click", doDelete);
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); confirmBox.hidden = true; setOpen(false, true); }
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(); }
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); submit(); });
  function submit() {
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  }

  // ---- start ---------------------------------------------------------------------------
  function start() {
    document.body.appendChild(host);
    state.history.forEach(function (h) { render(h); });
    var pending = state.history.filter(function (h) { return h.failed; }).pop();
    if (pending) { showAlert(T.unreachable, pending); }
    updateCase();
    if (state.open) { setOpen(true, false); }
    poll();
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
}());
