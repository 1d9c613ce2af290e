// The moderators' console (templates/rooms/_moderator_tools.html), on a room page that
// static/js/room.js makes live. On a wide screen hands, queue and speaking share are shown
// together, each scrolling on its own (static/css/console.css), above the moderators'
// channel, which shares its place with the mutes and takeaways as tabs; on a narrow screen
// every pane is a tab. Tabs follow the ARIA tabs pattern (arrow keys, Home, End); their
// labels count what waits in each pane (`data-count` in the panel's HTML, re-read whenever
// room.js fetches a panel again), and the moderators' channel's tab is marked when a message
// arrives there unseen. Also: the speaking share sorts by any
// column, mutes and the wrap-up count down, and keyboard focus stays on the equivalent
// control when a panel is fetched again. Without this script the panes are simply stacked.
(function () {
  "use strict";
  var consoleEl = document.querySelector("[data-console-root]");
  if (!consoleEl) return;
  var room = consoleEl.closest("[data-room]") || document.body;
  var strings = JSON.parse(consoleEl.dataset.strings);
  var tablist = consoleEl.querySelector("[data-console-tabs]");
  var tabs = Array.prototype.slice.call(tablist.querySelectorAll("[role=tab]"));
  var panes = {};
  consoleEl.querySelectorAll("[data-pane]").forEach(function (pane) {
    panes[pane.dataset.pane] = pane;
    pane.dataset.heading = pane.getAttribute("aria-labelledby") || "";
  });
  var wide = window.matchMedia("(min-width: 1280px)");
  var selected = tabs.length ? tabs[0].dataset.tab : null;

  function t(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }

  function tabFor(key) {
    return tabs.filter(function (tab) { return tab.dataset.tab === key; })[0];
  }

  function tabbed() { return consoleEl.dataset.layout === "tabs"; }

  // --- Panes or tabs ------------------------------------------------------------------------

  // On a wide screen hands, queue and share are shown together; the other panes share the
  // rest of the column as tabs (the moderators' channel first). On a narrow one, all are tabs.
  var PRIMARY = ["hands", "queue", "share"];
  var selectedDock = "backchannel";
  var panesEl = consoleEl.querySelector("[data-console-panes]");

  function inTabs(key) { return tabbed() || PRIMARY.indexOf(key) < 0; }
  function current() { return tabbed() ? selected : selectedDock; }
  function visibleTabs() { return tabs.filter(function (tab) { return !tab.hidden; }); }

  function layout() {
    var asTabs = !wide.matches;
    consoleEl.dataset.layout = asTabs ? "tabs" : "panes";
    // The tab list goes where its tabs are, so that the reading order is the visual one.
    if (asTabs) panesEl.parentNode.insertBefore(tablist, panesEl);
    else panesEl.insertBefore(tablist, panes.backchannel);
    tablist.hidden = false;
    tabs.forEach(function (tab) {
      var key = tab.dataset.tab;
      var pane = panes[key];
      tab.hidden = !inTabs(key);
      if (inTabs(key)) {
        pane.setAttribute("role", "tabpanel");
        pane.setAttribute("aria-labelledby", tab.id);
        pane.setAttribute("tabindex", "0");
      } else {
        pane.removeAttribute("role");
        pane.setAttribute("aria-labelledby", pane.dataset.heading);
        pane.removeAttribute("tabindex");
      }
    });
    show(current());
  }

  function show(key) {
    tabs.forEach(function (tab) {
      var on = tab.dataset.tab === key;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      var pane = panes[tab.dataset.tab];
      pane.hidden = inTabs(tab.dataset.tab) && !on;
    });
    var tab = tabFor(key);
    if (tab) tab.querySelector("[data-tab-mark]").hidden = true;
    if (key === "backchannel") scrollBackchannel();
  }

  function select(key, focus) {
    var tab = tabFor(key);
    if (!tab || !inTabs(key)) return;
    if (tabbed()) selected = key; else selectedDock = key;
    show(key);
    if (focus) tab.focus();
  }

  tablist.addEventListener("click", function (e) {
    var tab = e.target.closest("[role=tab]");
    if (tab) select(tab.dataset.tab, true);
  });

  tablist.addEventListener("keydown", function (e) {
    var shown = visibleTabs();
    var index = shown.indexOf(document.activeElement);
    if (index < 0) return;
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: shown.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(shown[(next + shown.length) % shown.length].dataset.tab, true);
  });

  // A link to a pane or something in it (#mutes after unmuting without the script) opens its tab.
  function showTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    var pane = target && target.closest("[data-pane]");
    if (pane && consoleEl.contains(pane) && inTabs(pane.dataset.pane)) select(pane.dataset.pane, false);
  }
  window.addEventListener("hashchange", showTarget);

  // The newest of the moderators' messages in view, at the bottom of their pane.
  function scrollBackchannel() {
    var pane = panes.backchannel;
    var list = pane && pane.querySelector("[data-message-list]");
    if (list && !pane.hidden) list.scrollTop = list.scrollHeight;
  }

  // A message in the moderators' channel while its tab is not shown: the tab says so.
  document.addEventListener("plenary:room-event", function (e) {
    var event = e.detail || {};
    if (event.type !== "post.created" || !event.post || !event.post.backchannel) return;
    if (event.stream !== room.dataset.modStream) return;
    var tab = tabFor("backchannel");
    if (tab && current() !== "backchannel") tab.querySelector("[data-tab-mark]").hidden = false;
  });

  // --- Live counters ------------------------------------------------------------------------

  function updateCount(key) {
    var tab = tabFor(key);
    var source = panes[key] && panes[key].querySelector("[data-count]");
    if (!tab || !source) return;
    var n = parseInt(source.dataset.count, 10) || 0;
    var badge = tab.querySelector("[data-tab-count]");
    badge.textContent = String(n);
    badge.hidden = n === 0;
  }

  // --- The speaking share, sortable ---------------------------------------------------------

  var sort = { key: "words", direction: "descending", server: true };  // the server's order

  function shareTable() { return panes.share && panes.share.querySelector("[data-share-table]"); }

  function enhanceShare() {
    var table = shareTable();
    if (!table) return;
    table.querySelectorAll("th[data-sort-key]").forEach(function (th) {
      if (th.querySelector("button")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.id = "share-sort-" + th.dataset.sortKey;
      while (th.firstChild) button.appendChild(th.firstChild);
      var arrow = document.createElement("span");
      arrow.className = "sort-arrow";
      arrow.setAttribute("aria-hidden", "true");
      button.appendChild(arrow);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var key = th.dataset.sortKey;
        if (sort.key === key && !sort.server) {
          sort.direction = sort.direction === "ascending" ? "descending" : "ascending";
        } else if (sort.key === key) {
          sort.direction = "ascending";  // from the server's words-descending order
        } else {
          sort.direction = th.dataset.sortType === "text" ? "ascending" : "descending";
        }
        sort.key = key;
        sort.server = false;
        applySort();
      });
    });
    applySort();
  }

  function applySort() {
    var table = shareTable();
    if (!table) return;
    table.querySelectorAll("th[data-sort-key]").forEach(function (th) {
      if (th.dataset.sortKey === sort.key) th.setAttribute("aria-sort", sort.direction);
      else th.removeAttribute("aria-sort");
    });
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = sort.direction === "ascending" ? 1 : -1;
    var collator = new Intl.Collator(document.documentElement.lang || undefined, { sensitivity: "base" });
    rows.sort(function (a, b) {
      if (sort.server) return a.dataset.order - b.dataset.order;
      var x = a.dataset[sort.key], y = b.dataset[sort.key];
      var order = sort.key === "name" ? collator.compare(x, y) : parseFloat(x) - parseFloat(y);
      return order * sign || a.dataset.order - b.dataset.order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  // --- Countdowns: mutes and the wrap-up ------------------------------------------------------

  function tick() {
    var now = Date.now();
    var mutes = panes.mutes;
    if (mutes) {
      mutes.querySelectorAll("[data-mute-until]").forEach(function (item) {
        var left = Date.parse(item.dataset.muteUntil) - now;
        if (left > 0) {
          var text = left >= 60000 ? window.plenaryPlural(strings.minutes_left, Math.ceil(left / 60000)) : strings.under_a_minute;
          var label = item.querySelector("[data-mute-left]");
          if (label && label.textContent !== text) label.textContent = text;
          return;
        }
        // Run out: the entry goes (the server drops it too when room.js fetches the panel).
        var hadFocus = item.contains(document.activeElement);
        var list = item.parentElement;
        var neighbour = item.nextElementSibling || item.previousElementSibling;
        item.remove();
        var heading = mutes.querySelector("[data-count]");
        var count = list.children.length;
        if (heading) {
          heading.dataset.count = String(count);
          var shown = heading.querySelector(".pane-count");
          if (shown) { shown.textContent = String(count); shown.hidden = !count; }
        }
        if (!count) {
          var empty = document.createElement("p");
          empty.className = "empty";
          empty.textContent = strings.nobody_muted;
          list.replaceWith(empty);
        }
        updateCount("mutes");
        if (hadFocus) focusIn(mutes, neighbour && neighbour.querySelector("button"));
      });
    }
    consoleEl.querySelectorAll("[data-console-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.dataset.ends) - now) / 1000));
      el.textContent = t("countdown_left", { time: Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") });
    });
  }

  // --- Focus kept after a panel is fetched again ----------------------------------------------

  // room.js puts focus back on the control with the same id, else on the panel's heading;
  // when that control is gone (the hand given the floor, the mute lifted) the equivalent one
  // is the next of its kind (the next hand's "Give the floor"), else the heading stays.
  var lastFocus = null;
  var toolbar = consoleEl.querySelector("[data-panel=controls]");
  function areaOf(el) {
    var pane = el.closest("[data-pane]");
    if (pane) return { key: pane.dataset.pane, el: pane };
    return toolbar && toolbar.contains(el) ? { key: "controls", el: toolbar } : null;
  }
  consoleEl.addEventListener("focusin", function (e) {
    var area = areaOf(e.target);
    var id = e.target.id || "";
    if (!area || !id || !e.target.matches("button, a, input, select, textarea")) return;
    var kind = id.replace(/-\d+$/, "-");
    var same = Array.prototype.slice.call(area.el.querySelectorAll('[id^="' + kind + '"]'));
    lastFocus = { pane: area.key, kind: kind, index: same.indexOf(e.target) };
  });

  function focusIn(pane, target) {
    target = target || pane.querySelector("h2");
    if (!target) return;
    if (!target.matches("a, button, input, select, textarea")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  function keepFocus(key) {
    var pane = key === "controls" ? toolbar : panes[key];
    var active = document.activeElement;
    var lost = active === document.body || (pane.contains(active) && active.matches("h2"));
    if (!lost || !lastFocus || lastFocus.pane !== key) return;
    var same = pane.querySelectorAll('[id^="' + lastFocus.kind + '"]');
    var target = same[Math.min(lastFocus.index, same.length - 1)];
    // The toolbar has no heading: the phase's next step (after "Start the wrap-up", "Close").
    if (!target && key === "controls") target = pane.querySelector("button:not([disabled]), select");
    if (target && target.getClientRects().length) target.focus();
    else if (active === document.body) focusIn(pane);
  }

  function refreshed(key) {
    updateCount(key);
    if (key === "share") enhanceShare();
    if (key === "mutes") tick();
    keepFocus(key);
  }

  Object.keys(panes).forEach(function (key) {
    if (!panes[key].hasAttribute("data-panel")) return;
    new MutationObserver(function () { refreshed(key); }).observe(panes[key], { childList: true });
    updateCount(key);
  });
  if (toolbar) new MutationObserver(function () { tick(); keepFocus("controls"); }).observe(toolbar, { childList: true });

  enhanceShare();
  layout();
  showTarget();
  tick();
  window.setInterval(tick, 1000);
  if (wide.addEventListener) wide.addEventListener("change", layout);
})();
