// Plenary: small enhancements on top of pages that work without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Show times in the reader's own time zone and language when the browser knows them
  // (also used by live.js for posts that arrive later).
  var lang = document.documentElement.lang || undefined;
  var format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch (e) { format = null; }
  window.plenaryFormatTimes = function (root) {
    if (!format) return;
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) {
        el.title = el.textContent.trim();
        el.textContent = format.format(date);
      }
    });
  };
  window.plenaryFormatTimes(document);

  // Every posting form carries a key of its own: sent twice (a double click, a resend after
  // a lost answer), it still makes one post.
  window.plenaryNewKey = function () {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2);
  };
  document.querySelectorAll('input[name="client_key"]').forEach(function (input) {
    if (!input.value) input.value = window.plenaryNewKey();
  });

  // A counted text in the page's language: `forms` maps each plural category of the language
  // ("one", "other"...) to its text with {n} for the number, as the server sends it
  // (forum.i18n.plural_forms); the browser knows which category a number falls in.
  window.plenaryPlural = function (forms, n) {
    var category = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
    return (forms[category] || forms.other).split("{n}").join(String(n));
  };

  // Who is here now, on a live page (live.js and room.js): "N here now" and the names. A
  // large audience comes as a number: only the first names are sent (maybe none), and
  // `more` counts the other signed-in people, shown as "+N" after the names.
  window.plenaryShowPresence = function (panel, data, countText) {
    if (!panel) return;
    panel.hidden = false;
    panel.querySelector("[data-presence-count]").textContent = countText;
    var list = panel.querySelector("[data-presence-list]");
    var items = (data.users || []).map(function (user) {
      var li = document.createElement("li");
      li.textContent = user.name;
      return li;
    });
    if (data.more > 0) {
      var more = document.createElement("li");
      more.textContent = "+" + data.more;
      items.push(more);
    }
    list.replaceChildren.apply(list, items);
  };

  // Who is typing, on a live page (live.js and room.js). `watchTyping` shows the socket's
  // "typing" notices for one stream in `element` ("{names}" in `template`), each for five
  // seconds; `sendTyping` tells the stream, at most every three seconds, that this reader types.
  window.plenaryWatchTyping = function (socket, stream, element, template) {
    if (!element) return;
    var typers = {};  // name -> time of their last notice
    var timer = null;
    function show() {
      var now = Date.now();
      var names = Object.keys(typers).filter(function (name) { return now - typers[name] < 5000; });
      element.textContent = names.length ? template.replace("{names}", names.join(", ")) : "";
      timer = names.length ? window.setTimeout(show, 1000) : null;
    }
    socket.on("typing", function (data) {
      if (data.stream !== stream) return;
      typers[data.user.name] = Date.now();
      if (timer) window.clearTimeout(timer);
      show();
    });
  };
  window.plenarySendTyping = function (socket, stream, field) {
    var last = 0;
    field.addEventListener("input", function () {
      if (socket.connected && Date.now() - last > 3000) {
        last = Date.now();
        socket.emit("typing", { stream: stream });
      }
    });
  };

  // A live count of the characters left in long text fields.
  document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    var counter = document.createElement("p");
    counter.className = "hint char-count";
    counter.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", counter);
    function update() {
      var left = area.maxLength - area.value.length;
      counter.textContent = left < 1000 ? left + " / " + area.maxLength : "";
    }
    area.addEventListener("input", update);
    update();
  });
})();
