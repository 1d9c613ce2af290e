// Plenary event rooms: messages, the room's phase and countdown, raised hands and the
// moderators' panels, live. Protocol: docs/realtime.md. Without this script the page works
// as a normal page: its forms post and come back. The connection, catching up, the order of
// events, the status and the announcements are the live stream module's (stream.js).
import { connect, follow, showStatus, announce, watchTyping, sendTyping, showPresence } from "./stream.js";

(function () {
  "use strict";
  var root = document.querySelector("[data-room]");
  var socket = root && connect();
  if (!socket) return;

  var strings = JSON.parse(document.getElementById("room-strings").textContent);
  var me = document.querySelector('meta[name="user-id"]').content;
  me = me ? parseInt(me, 10) : null;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var moderates = root.dataset.moderates === "yes";
  var muted = root.dataset.muted === "yes";  // the notices user.muted and user.unmuted change it
  var roomId = parseInt(root.dataset.room, 10);
  var noticeEl = root.querySelector("[data-notices]");
  var presenceEl = root.querySelector("[data-presence]");
  var clockOffset = 0;  // server time minus this browser's time, in ms
  var roomState = JSON.parse(root.dataset.state);

  // A room's page in this event (the page gives the address of room 0; live events give ids).
  function roomUrl(id) { return root.dataset.roomUrl.replace(/0$/, String(id)); }

  function t(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }

  function notice(text, link) {
    var p = document.createElement("p");
    p.className = "flash flash-info";
    p.textContent = text + " ";
    if (link) {
      var a = document.createElement("a");
      a.href = link.url;
      a.textContent = link.label;
      p.appendChild(a);
    }
    noticeEl.prepend(p);
    return p;
  }

  // --- Messages --------------------------------------------------------------------------

  var words = JSON.parse(document.getElementById("card-words").textContent);

  // --- The discussion as a chat: it scrolls on its own (the page does not), opens at the
  // newest message and stays where the reader is when they have scrolled up.

  var feed = root.querySelector("[data-feed]");
  var mainList = listFor(root.dataset.stream);
  var newButton = root.querySelector("[data-new-messages]");
  var unseen = [];  // messages that came while the reader was reading earlier ones
  var lang = document.documentElement.lang || "en";
  var clockFormat, dayFormat;
  try {
    clockFormat = new Intl.DateTimeFormat(lang, { timeStyle: "short" });
    dayFormat = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });
  } catch (e) { clockFormat = null; }

  // A message's time: the time of day in view, the whole date on hover and for screen
  // readers (the <time> in the visually hidden part, formatted by plenaryFormatTimes).
  function shortTimes(scope) {
    if (!clockFormat) return;
    scope.querySelectorAll(".message-time").forEach(function (link) {
      var clock = link.querySelector(".message-clock time");
      if (!clock) return;
      var date = new Date(clock.getAttribute("datetime"));
      if (isNaN(date)) return;
      clock.textContent = clockFormat.format(date);
      clock.removeAttribute("title");
      link.title = dayFormat.format(date);
    });
  }

  // One header per run of messages by one person within five minutes (as the server's
  // rooms/_message_items.html): the later ones are "grouped".
  var GROUP_SECONDS = 300;
  function regroup(list) {
    if (!list) return;
    var previous = null;
    Array.prototype.forEach.call(list.children, function (item) {
      if (!item.matches(".message")) { previous = null; return; }
      var grouped = !!previous && previous.dataset.author === item.dataset.author &&
        !previous.matches(".post-deleted, .message-announcement") && !item.matches(".post-deleted, .message-announcement") &&
        (Date.parse(item.dataset.created) - Date.parse(previous.dataset.created)) / 1000 < GROUP_SECONDS;
      item.classList.toggle("message-grouped", grouped);
      previous = item;
    });
  }

  // How far the newest message is below the visible part of the discussion, in pixels.
  function belowView() {
    if (!feed) return 0;
    return Math.round(feed.firstElementChild.getBoundingClientRect().bottom - feed.getBoundingClientRect().bottom);
  }
  function atEnd() { return belowView() < 80; }
  function toEnd() {
    if (feed) feed.scrollTop += belowView();
    unseen = [];
    if (newButton) newButton.hidden = true;
  }

  // Change the discussion (`change`) while keeping the first message in view where it is.
  function keepPlace(change) {
    var top = feed ? feed.getBoundingClientRect().top : 0;
    var anchor = feed && Array.prototype.find.call(mainList.children, function (item) {
      return item.getBoundingClientRect().bottom > top;
    });
    var before = anchor && anchor.getBoundingClientRect().top;
    change();
    if (anchor && anchor.isConnected) feed.scrollTop += anchor.getBoundingClientRect().top - before;
  }

  if (newButton) {
    newButton.addEventListener("click", function () {
      var first = unseen[0];
      toEnd();
      if (first && first.isConnected) focusMessage(first); else focusMessage(mainList.lastElementChild);
    });
  }
  if (feed) {
    feed.addEventListener("scroll", function () {
      if (!newButton.hidden && atEnd()) { unseen = []; newButton.hidden = true; }
    }, { passive: true });
  }

  // New messages are announced politely, never one's own; several that come together are
  // said as a number (stream.js gathers what comes within a moment: `many`).
  var manyMessages = function (n) { return window.plenaryPlural(strings.new_messages, n); };
  function announceNew(prefix, name) {
    announce(t(prefix === "mod-" ? "new_backchannel" : "new_message", { name: name }), manyMessages);
  }

  // "Load earlier": the messages before the first one here, from the server, put above it
  // without moving what the reader sees. Without JavaScript the link loads the page.
  root.querySelectorAll("[data-load-earlier]").forEach(function (link) {
    var loading = false;
    link.addEventListener("click", function (e) {
      e.preventDefault();
      if (loading) return;
      loading = true;
      link.setAttribute("aria-busy", "true");
      var url = link.dataset.url + "?before=" + encodeURIComponent(link.dataset.before);
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      }).then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var page = holder.content.querySelector("[data-earlier]");
        var items = Array.prototype.filter.call(page.children, function (item) {
          return !item.id || !document.getElementById(item.id);
        });
        var hadFocus = link === document.activeElement;
        keepPlace(function () {
          var empty = mainList.querySelector("[data-empty]");
          if (empty && items.length) empty.remove();
          mainList.prepend.apply(mainList, items);
          items.forEach(function (item) {
            if (window.plenaryFormatTimes) window.plenaryFormatTimes(item);
            shortTimes(item);
            enhanceForms(item);
          });
          regroup(mainList);
          if (page.dataset.before) {
            link.dataset.before = page.dataset.before;
            var next = new URL(link.href, window.location.href);
            next.searchParams.set("before", page.dataset.before);
            link.href = next.toString();
          } else {
            link.closest(".load-earlier").remove();
          }
        });
        loading = false;
        link.removeAttribute("aria-busy");
        if (hadFocus && !link.isConnected) focusMessage(items[items.length - 1]);
      }).catch(function () { window.location.href = link.href; });
    });
  });

  // The pinned bar opens when a marker in the discussion points to it.
  root.addEventListener("click", function (e) {
    if (!e.target.closest(".pinned-marker")) return;
    var bar = root.querySelector("[data-pinned]");
    if (bar) bar.open = true;
  });

  // On a narrow screen: which view (the discussion or the side column) is the current one.
  function showTab() {
    var aside = document.getElementById("room-aside");
    var target = window.location.hash ? document.getElementById(decodeURIComponent(window.location.hash.slice(1))) : null;
    var current = aside && target && aside.contains(target) ? "aside" : "chat";
    root.querySelectorAll("[data-room-tab]").forEach(function (tab) {
      if (tab.dataset.roomTab === current) tab.setAttribute("aria-current", "true"); else tab.removeAttribute("aria-current");
    });
  }
  window.addEventListener("hashchange", showTab);
  showTab();

  // On a phone the pinned bar starts closed (its summary says how many): the messages and
  // the box need the screen. Without JavaScript it is open.
  var pinnedBar = root.querySelector("[data-pinned]");
  if (pinnedBar && window.matchMedia("(max-width: 40rem)").matches) pinnedBar.open = false;

  // A message's card as the server renders it for this reader, from the event's data and
  // the page's card template (plenaryFillCard, static/js/app.js), in the page's language.
  function card(post) {
    var author = post.author || {};
    var data = window.plenaryCardData(post, words);
    var facts = Object.assign(data.facts, {
      announcement: post.announcement, pending: post.status === "pending", rejected: post.status === "rejected",
      published: post.status === "published", moderator: author.role === "moderator",
      organiser: author.role === "organiser", zero: !post.endorsement_count
    });
    Object.assign(facts, window.plenaryActions(post, words, {
      role: root.dataset.readerRole, writes: root.dataset.canPost === "yes", me: me }));
    var values = Object.assign(data.values, {
      rejected_reason: post.rejected_reason,
      agreements: window.plenaryPlural(words.agreements, post.endorsement_count)
    });
    var template = document.querySelector('script[data-card="' + (post.backchannel ? "backchannel" : "message") + '"]');
    var item = window.plenaryFillCard(template, facts, values);
    enhanceForms(item);
    return item;
  }

  // A message the server rendered for this reader (their own view of a hidden one).
  function fromHtml(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var item = holder.content.firstElementChild;
    if (window.plenaryFormatTimes) window.plenaryFormatTimes(item);
    enhanceForms(item);
    return item;
  }

  // Keyboard focus on a message (the list item is a focus target, tabindex=-1).
  function focusMessage(item) {
    if (!item) return;
    if (!item.hasAttribute("tabindex")) item.setAttribute("tabindex", "-1");
    item.focus();
  }

  function nearBottom(list) {
    var rect = list.getBoundingClientRect();
    return rect.bottom <= window.innerHeight + 120;
  }

  function listFor(stream) {
    return root.querySelector('[data-message-list][data-list-stream="' + stream + '"]');
  }

  // A broadcast shows a hidden message as a placeholder; its author and the moderators get
  // their own rendering (with the text and the reason) from the server.
  function ownView(event) {
    var list = listFor(event.stream);
    var url = list && list.dataset.messageUrl;
    if (!url) return;
    fetch(url.replace("/0", "/" + event.post.id), { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) return;
      placeMessage({ stream: event.stream, post: event.post }, fromHtml(html));
    });
  }

  // A new message goes in the order of the discussion (ids): one whose own view came from
  // the server later than the messages after it still goes before them.
  function insertInOrder(list, item, id) {
    var prefix = list.dataset.prefix;
    var later = Array.prototype.find.call(list.children, function (other) {
      return other.id.indexOf(prefix) === 0 && parseInt(other.id.slice(prefix.length), 10) > id;
    });
    list.insertBefore(item, later || null);
  }

  // `own`: the reader's own view of the message, rendered by the server (ownView).
  function placeMessage(event, own) {
    var list = listFor(event.stream);
    if (!list) return;
    if (!own && event.post.hidden && !event.post.deleted && (moderates || event.post.author_id === me)) {
      ownView(event);
      return;
    }
    var existing = document.getElementById(list.dataset.prefix + event.post.id);
    if (event.type === "post.endorsed") {
      // Only the figures change (the event carries nothing else): the reader's own "agree"
      // state stays as it is; the words are in the reader's language, plural and all.
      if (!existing) return;
      var n = event.post.endorsement_count;
      existing.querySelectorAll(".count").forEach(function (el) { el.textContent = n; });
      var count = existing.querySelector(".endorse-count");
      if (count) {
        count.textContent = window.plenaryPlural(words.agreements, n);
        count.hidden = !n;
      }
      return;
    }
    var fresh = own || card(event.post);
    fresh.id = list.dataset.prefix + event.post.id;
    shortTimes(fresh);
    if (existing) {
      var focused = existing.contains(document.activeElement);
      // The same button if it is still there (say "Agree"), else the message itself.
      var form = focused && document.activeElement.closest("form");
      var action = form && form.getAttribute("action");
      existing.replaceWith(fresh);
      regroup(list);
      if (focused) {
        var same = action && Array.prototype.find.call(fresh.querySelectorAll("form"), function (f) {
          return f.getAttribute("action") === action;
        });
        var button = same && same.querySelector("button");
        if (button && button.getClientRects().length) button.focus(); else focusMessage(fresh);
      }
    } else {
      var mine = event.post.author_id === me;
      var empty = list.querySelector("[data-empty]");
      if (list === mainList && feed) {
        // The reader at the newest message follows the discussion (and always after sending);
        // one who scrolled up stays there, with a "New messages" button to come down.
        var follow = mine || atEnd();
        keepPlace(function () {
          if (empty) empty.remove();
          insertInOrder(list, fresh, event.post.id);
          regroup(list);
        });
        if (follow) toEnd();
        else {
          unseen.push(fresh);
          newButton.hidden = false;
        }
      } else {
        var near = nearBottom(list) || mine;
        if (empty) empty.remove();
        insertInOrder(list, fresh, event.post.id);
        regroup(list);
        if (near) fresh.scrollIntoView({ block: "nearest" });
      }
      fresh.classList.add("post-new");
      var name = (fresh.querySelector(".message-author") || {}).textContent || "";
      if (!mine) announceNew(list.dataset.prefix, name.trim());
    }
    updatePinned(event, fresh);
  }

  function updatePinned(event, article) {
    var pinned = root.querySelector("[data-pinned]");
    // A refresh of one's own view (after agreeing) says nothing of pinning: leave it as it is.
    if (!pinned || event.stream !== root.dataset.stream || event.post.pinned === undefined) return;
    var copy = document.getElementById("pinned-" + event.post.id);
    if (event.post.pinned && !event.post.hidden && !event.post.deleted) {
      var clone = article.cloneNode(true);
      clone.id = "pinned-" + event.post.id;
      clone.classList.remove("message-grouped", "post-new");
      clone.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
      clone.querySelectorAll("footer, .moderate-actions").forEach(function (el) { el.remove(); });
      clone.querySelectorAll("[aria-labelledby]").forEach(function (el) { el.removeAttribute("aria-labelledby"); });
      if (copy) copy.replaceWith(clone); else pinned.querySelector("ol").appendChild(clone);
    } else if (copy) {
      copy.remove();
    }
    var count = pinned.querySelector("ol").children.length;
    pinned.hidden = !count;
    var countEl = pinned.querySelector("[data-pinned-count]");
    if (countEl) countEl.textContent = count;
  }

  function removeMessage(event) {
    var list = listFor(event.stream);
    var existing = list && document.getElementById(list.dataset.prefix + event.post.id);
    if (existing) {
      // Keyboard users land on the next message (or the one before, or the list's heading).
      var focused = existing.contains(document.activeElement);
      var neighbour = existing.nextElementSibling || existing.previousElementSibling;
      existing.remove();
      regroup(list);
      if (focused) {
        if (neighbour && neighbour.matches(".message")) focusMessage(neighbour);
        else {
          // No message left beside it: the list itself (a focus target), never <body>.
          list.setAttribute("tabindex", "-1");
          list.focus();
        }
      }
    }
    var copy = document.getElementById("pinned-" + event.post.id);
    if (copy) copy.remove();
  }

  // --- Room state and the countdown ------------------------------------------------------

  var countdownEl = root.querySelector("[data-countdown]");
  var lastAnnounced = null;

  function showState(state) {
    roomState = state;
    root.querySelectorAll("[data-phase-label]").forEach(function (el) {
      el.textContent = strings["phase_" + state.phase];
      el.dataset.phase = state.phase;
    });
    var rules = [];
    if (state.locked) rules.push(strings.locked);
    if (state.slow_mode_seconds) rules.push(window.plenaryPlural(strings.slow_mode, state.slow_mode_seconds));
    if (state.premoderated) rules.push(strings.premoderated);
    root.querySelectorAll("[data-room-rules]").forEach(function (el) {
      el.textContent = rules.join(" · ");
      el.hidden = !rules.length;
    });
    // Who may post now comes with the state (forum/permissions.py posting_roles).
    var speaksAs = root.dataset.speaksAs;
    var canPost = !!speaksAs && state.posting.indexOf(speaksAs) >= 0 && (speaksAs === "moderator" || !muted);
    root.dataset.canPost = canPost ? "yes" : "no";
    var form = root.querySelector("[data-compose]");
    var closedNote = root.querySelector("[data-compose-closed]");
    if (form) form.hidden = !canPost;
    var skip = document.querySelector("[data-skip-compose]");
    if (skip && form) skip.setAttribute("href", canPost ? "#" + form.querySelector("textarea").id : "#compose");
    if (closedNote) {
      closedNote.hidden = canPost;
      closedNote.textContent = state.phase === "closed" ? strings.room_closed
        : state.locked ? strings.room_locked : state.phase === "not_started" ? strings.room_not_started : "";
    }
    tick();
  }

  function tick() {
    if (!countdownEl) return;
    var ends = roomState.phase === "wrap_up" && roomState.wrap_up_ends_at ? Date.parse(roomState.wrap_up_ends_at) : null;
    countdownEl.hidden = ends === null;
    if (ends === null) return;
    var left = Math.max(0, Math.round((ends - (Date.now() + clockOffset)) / 1000));
    var text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    countdownEl.querySelector("[data-countdown-value]").textContent = text;
    countdownEl.dataset.remaining = left;
    // Screen readers hear the countdown at a few moments, not every second.
    var mark = left === 0 ? "0" : left <= 60 ? "60" : left <= 300 ? "300" : null;
    if (mark && mark !== lastAnnounced) {
      lastAnnounced = mark;
      announce(left === 0 ? strings.time_up : t("time_left", { time: text }));
    }
  }
  window.setInterval(tick, 1000);

  // A mute that has run out leaves the moderators' list (the server renders it again, once).
  var expiredMutes = {};
  window.setInterval(function () {
    root.querySelectorAll("[data-mute-until]").forEach(function (el) {
      var until = el.dataset.muteUntil;
      if (!expiredMutes[until] && Date.parse(until) <= Date.now() + clockOffset) {
        expiredMutes[until] = true;
        refreshPanel("mutes");
      }
    });
  }, 5000);

  // --- Panels the server renders (hands, queue, share, takeaways, report) ----------------

  var panelTimers = {};
  function refreshPanel(name) {
    var panel = root.querySelector('[data-panel="' + name + '"]');
    if (!panel || panelTimers[name]) return;
    panelTimers[name] = window.setTimeout(function () {
      panelTimers[name] = null;
      fetch(panel.dataset.panelUrl, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html === null) return;
        var hadFocus = panel.contains(document.activeElement);
        var focusedId = hadFocus ? document.activeElement.id : null;
        panel.innerHTML = html;
        if (window.plenaryFormatTimes) window.plenaryFormatTimes(panel);
        enhanceForms(panel);
        if (!hadFocus) return;
        // Keep keyboard users where they were; if that button is gone, at the panel's heading.
        var target = (focusedId && document.getElementById(focusedId)) || panel.querySelector("h2");
        if (target) {
          if (!target.matches("a, button, input, select, textarea")) target.setAttribute("tabindex", "-1");
          target.focus();
        }
      });
    }, 300);
  }

  var PANELS = {
    "post.created": ["share", "own-hand"], "post.deleted": ["share"], "post.moved": ["share"],
    "post.pending": ["queue"], "post.approved": ["queue"], "post.rejected": ["queue"],
    "post.hidden": ["queue"], "post.restored": ["queue"], "flag.created": ["queue"], "flag.dismissed": ["queue"],
    "hand.queue": ["hands", "own-hand"], "hand.floor": ["hands", "own-hand"],
    "takeaway.changed": ["takeaways"], "report.card": ["report"], "member.muted": ["queue", "mutes"],
    "member.unmuted": ["queue", "mutes"], "room.state": ["controls", "own-hand", "takeaways"]
  };

  // --- Applying events, in order, per stream ---------------------------------------------

  function handle(event) {
    // Others on the page (polls.js: a poll opened here) see the room's events, in order, once.
    document.dispatchEvent(new CustomEvent("plenary:room-event", { detail: event }));
    (PANELS[event.type] || []).forEach(refreshPanel);
    if (event.post && event.post.left) { removeMessage(event); return; }
    // Participants' messages on the moderators' stream are waiting ones: they live in the queue.
    if (event.post && event.stream === root.dataset.modStream && !event.post.backchannel) return;
    switch (event.type) {
      case "post.created":
      case "post.pending":
        if (event.stream === root.dataset.modStream && event.type === "post.pending") return;
        placeMessage(event); return;
      case "post.moved": removeMessage(event); return;
      case "room.state": showState(event.data); return;
      case "hand.floor":
        announce(t("floor_given", { name: event.data.name }));
        if (event.data.user_id === me) notice(strings.you_have_floor).classList.add("flash-success");
        return;
      case "event.recall":
        var banner = notice(event.data.message || strings.recalled, { url: roomUrl(event.data.plenary_id), label: strings.go_plenary });
        banner.setAttribute("role", "alert");
        return;
      case "post.approved": case "post.rejected": case "flag.created": case "flag.dismissed":
      case "hand.queue": case "takeaway.changed": case "report.card": case "member.muted": case "member.unmuted":
      case "member.moved":
        if (event.stream === root.dataset.modStream || event.type === "report.card") return;
    }
    if (event.post) placeMessage(event);
  }

  // Each stream's events in order (stream.js holds an early one until the gap fills, skips
  // those seen, and counts superseded ones), from the number the page was rendered with.
  showStatus(root.querySelector("[data-live-status]"), strings);
  follow(root.dataset.stream, parseInt(root.dataset.seq, 10) || 0, handle, {
    status: true,
    onJoin: function (ack) {
      if (ack.server_time) clockOffset = Date.parse(ack.server_time) - Date.now();
      if (ack.room) showState(ack.room);
      // Whatever changed while away, the server-rendered panels are fetched afresh.
      ["controls", "hands", "own-hand", "queue", "mutes", "share", "takeaways", "report"].forEach(refreshPanel);
    },
    onPresence: function (data) {
      showPresence(presenceEl, data, window.plenaryPlural(strings.here_now, data.count));
    }
  });
  if (root.dataset.modStream) follow(root.dataset.modStream, parseInt(root.dataset.modSeq, 10) || 0, handle);
  // The console's pre-event pane (docs/pre-event.md) is fetched again whenever the room's board
  // changes (an answer, an endorsement, a pin): from now on, and once on every (re)join for
  // what changed meanwhile.
  var boardStream = root.querySelector("[data-panel=preevent] [data-board-stream]");
  if (boardStream) {
    follow(boardStream.dataset.boardStream, null, function () { refreshPanel("preevent"); }, {
      catchUp: false, onJoin: function () { refreshPanel("preevent"); }
    });
  }
  socket.on("notice", function (data) {
    if (data.type === "hand.state") { refreshPanel("own-hand"); return; }  // the panel says it
    if ((data.type === "user.muted" || data.type === "user.unmuted") && data.room_id === roomId) {
      muted = data.type === "user.muted";
      showState(roomState);
    }
    var text = strings["notice_" + data.type];
    if (!text) return;
    var link = data.type === "member.moved" ? { url: roomUrl(data.room_id), label: strings.go_room } : null;
    var p = notice(t(text, { reason: data.reason || "" }), link);
    p.setAttribute("role", "alert");
  });

  // --- Sending ------------------------------------------------------------------------------

  // "… is typing", under each composer, from the same notices as on a consultation.
  root.querySelectorAll("[data-typing]").forEach(function (el) {
    watchTyping(el.dataset.typingStream, el, strings.typing);
  });

  // Messages go over the socket when it is up (acknowledged with the stored message), else
  // as the form's normal POST with the same key: never twice.
  document.querySelectorAll("[data-compose]").forEach(function (form) {
    var stream = form.dataset.composeStream;
    var keyField = form.querySelector('input[name$="client_key"]');
    var body = form.querySelector("textarea");
    sendTyping(stream, body);
    var parentField = form.querySelector('input[name$="parent_id"]');
    var quoteField = form.querySelector('input[name$="quote"]');
    var statusLine = form.querySelector("[data-form-status]");
    var sending = false;
    // Enter sends, Shift+Enter starts a new line, as in every chat.
    body.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (submit) {
      if (!socket.connected) return;
      submit.preventDefault();
      if (sending || !body.value.trim()) return;
      sending = true;
      form.querySelectorAll(".live-error").forEach(function (el) { el.remove(); });
      statusLine.textContent = strings.sending;
      var data = { stream: stream, body: body.value, client_key: keyField.value,
                   parent_id: parentField && parentField.value ? parseInt(parentField.value, 10) : null,
                   quote: !!(quoteField && quoteField.checked && parentField && parentField.value) };
      socket.timeout(10000).emit("post", data, function (err, ack) {
        sending = false;
        if (err) { form.submit(); return; }
        statusLine.textContent = "";
        if (!ack.ok) {
          var p = document.createElement("p");
          p.className = "error live-error";
          p.setAttribute("role", "alert");
          p.textContent = ack.error.message;
          body.insertAdjacentElement("afterend", p);
          return;
        }
        body.value = "";
        keyField.value = window.plenaryNewKey();
        clearReply(form);
        statusLine.textContent = ack.post.status === "pending" ? strings.pending : "";
      });
    });
  });

  function clearReply(form) {
    var parentField = form.querySelector('input[name$="parent_id"]');
    if (parentField) parentField.value = "";
    var replying = form.querySelector("[data-replying]");
    if (replying) replying.hidden = true;
    var quoting = form.querySelector("[data-replying-quote]");
    if (quoting) { quoting.hidden = true; quoting.querySelector("input").checked = false; }
  }

  // "Reply" and "Quote" fill the composer instead of loading the page again.
  root.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-reply-to]");
    if (link) {
      var form = root.querySelector('[data-compose][data-compose-stream="' + root.dataset.stream + '"]');
      if (!form || form.hidden) return;
      e.preventDefault();
      form.querySelector('input[name$="parent_id"]').value = link.dataset.replyTo;
      var replying = form.querySelector("[data-replying]");
      replying.hidden = false;
      replying.querySelector("[data-replying-name]").textContent = link.dataset.replyName;
      var quoting = form.querySelector("[data-replying-quote]");
      quoting.hidden = false;
      quoting.querySelector("input").checked = "quote" in link.dataset;
      form.querySelector("textarea").focus();
      return;
    }
    var cancel = e.target.closest("[data-cancel-reply]");
    if (cancel) { e.preventDefault(); clearReply(cancel.closest("form")); }
  });

  // Moderators' and participants' buttons act without leaving the page: the live event
  // that follows updates everyone's view, this one's included. On a refusal the form is
  // sent normally, so its reason is shown.
  function enhanceForms(scope) {
    scope.querySelectorAll("form[data-async]").forEach(function (form) {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "yes";
      form.addEventListener("submit", function (e) {
        if (form.dataset.plain) return;  // the fallback below: a normal submission
        e.preventDefault();
        var submitter = e.submitter;
        function plain() {
          form.dataset.plain = "yes";
          form.requestSubmit(submitter || undefined);
        }
        // getAttribute: a control named "action" hides the form's own .action property.
        fetch(form.getAttribute("action"), { method: "POST", body: new FormData(form, submitter),
                                             credentials: "same-origin", redirect: "manual",
                                             headers: { "X-CSRFToken": csrf, "X-Plenary-Async": "1" } })
          .then(function (response) {
            if (response.type === "opaqueredirect" || response.ok) {
              form.querySelectorAll("textarea, input[type=text], input:not([type])").forEach(function (el) { el.value = ""; });
              // The disclosures close; keyboard focus goes to the message acted on (the live
              // event that follows replaces it and keeps the focus there), never to <body>.
              var message = form.closest(".message");
              if (message && form.closest("[data-message-menu]")) focusMessage(message);
              var details = form.closest("details");
              while (details) {
                details.open = false;
                details = details.parentElement.closest("details");
              }
              announce(strings.done);
              if (form.dataset.refresh) form.dataset.refresh.split(" ").forEach(refreshPanel);
              if (form.dataset.refreshMessage) {
                ownView({ stream: root.dataset.stream, post: { id: parseInt(form.dataset.refreshMessage, 10) } });
              }
            } else {
              plain();
            }
          }, plain);
      });
    });
  }
  enhanceForms(document);
  shortTimes(document);
  showState(roomState);
})();
