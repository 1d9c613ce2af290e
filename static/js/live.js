// Plenary live discussion: posts, edits, deletions and endorsements appear as they happen.
// Protocol: docs/realtime.md. Without this script (or without a connection) the page works
// as a normal page and its forms post as usual. The connection, catching up, the order of
// events, the status and the announcements are the live stream module's (stream.js).
import { connect, follow, showStatus, announce, watchTyping, sendTyping, showPresence } from "./stream.js";

(function () {
  "use strict";
  var root = document.querySelector("[data-stream]");
  var socket = root && connect();
  if (!socket) return;

  var stream = root.dataset.stream;
  var strings = JSON.parse(document.getElementById("live-strings").textContent);
  var me = document.querySelector('meta[name="user-id"]').content;
  me = me ? parseInt(me, 10) : null;
  var topicFilter = root.dataset.topic ? parseInt(root.dataset.topic, 10) : null;
  var stanceFilter = root.dataset.stance || null;
  var liveList = root.dataset.liveList === "yes";

  var newPostsBar = root.querySelector("[data-new-posts]");
  var form = document.querySelector("[data-live-form]");
  var presenceEl = document.querySelector("[data-presence]");
  var queued = [];       // new responses held back while the reader is scrolled away

  function t(key, values) {
    var text = strings[key];
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }

  // --- Applying events ------------------------------------------------------------------

  var words = JSON.parse(document.getElementById("card-words").textContent);

  // A post's card as the server renders it for this reader, from the event's data and the
  // page's card template (plenaryFillCard, static/js/app.js), in the page's language.
  function card(post) {
    var author = post.author || {};
    var topic = words.topics[post.topic_id] || {};
    var data = window.plenaryCardData(post, words);
    var facts = Object.assign(data.facts, {
      locked: post.locked, edited: post.edited && !post.deleted && !post.hidden, host: author.role === "host",
      on_behalf: !!post.on_behalf, subject: !!post.subject
    });
    // The badge of the response's stance on a proposal (its name is the card template's).
    (words.stances || []).forEach(function (code) { facts["stance_" + code] = post.stance === code; });
    Object.assign(facts, window.plenaryActions(post, words, {
      role: root.dataset.readerRole, writes: root.dataset.writes === "yes", me: me }));
    var values = Object.assign(data.values, {
      thread_id: post.thread_id, topic_id: post.topic_id, subject: post.subject, on_behalf: post.on_behalf,
      organisation_type: words.organisation_types[author.organisation_type] || author.organisation_type,
      topic_number: topic.number, topic_title: topic.title,
      endorsements: window.plenaryPlural(words.endorsements, post.endorsement_count)
    });
    var template = document.querySelector('script[data-card="' + (post.parent_id ? "reply" : "response") + '"]');
    return window.plenaryFillCard(template, facts, values);
  }

  function markNew(article) {
    article.classList.add("post-new");
    window.setTimeout(function () { article.classList.remove("post-new"); }, 8000);
  }

  function threadList() {
    var list = root.querySelector(".thread-list");
    if (!list) {
      list = document.createElement("ol");
      list.className = "thread-list";
      var empty = root.querySelector(".empty");
      if (empty) empty.replaceWith(list); else root.appendChild(list);
    }
    return list;
  }

  function listTopVisible() {
    var list = root.querySelector(".thread-list") || root;
    return list.getBoundingClientRect().top >= -40;
  }

  function insertResponse(article) {
    var item = document.createElement("li");
    item.className = "thread";
    item.appendChild(article);
    threadList().prepend(item);
    markNew(article);
  }

  function showQueued() {
    queued.reverse().forEach(insertResponse);
    var first = queued.length ? queued[0] : null;
    queued = [];
    newPostsBar.hidden = true;
    if (first) first.scrollIntoView({ block: "start" });
  }

  function updateBar() {
    newPostsBar.hidden = queued.length === 0;
    newPostsBar.textContent = window.plenaryPlural(strings.new_posts, queued.length);
  }

  function created(event) {
    var post = event.post;
    if (document.getElementById("post-" + post.id)) return updated(event);
    var article = card(post);
    var name = (article.querySelector(".post-author strong") || {}).textContent || "";
    if (post.parent_id) {
      var parent = document.getElementById("post-" + post.parent_id);
      if (!parent) return;  // its thread is not on this page
      var holder = parent.parentElement;
      var replies = holder.querySelector(":scope > ol.reply-list");
      if (!replies) {
        replies = document.createElement("ol");
        replies.className = "reply-list";
        holder.appendChild(replies);
      }
      var item = document.createElement("li");
      item.appendChild(article);
      replies.appendChild(item);
      markNew(article);
      announce(t("new_reply", { name: name }));
      return;
    }
    if (!liveList || (topicFilter !== null && post.topic_id !== topicFilter)) return;
    if (stanceFilter !== null && post.stance !== stanceFilter) return;
    announce(t("new_response", { name: name }));
    if (post.author_id === me || listTopVisible()) {
      insertResponse(article);
    } else {
      queued.push(article);
      updateBar();
    }
  }

  function updated(event) {
    var current = document.getElementById("post-" + event.post.id);
    if (!current) {
      // Caught up on a post whose creation was superseded while away: it is new here.
      if (event.type !== "post.endorsed" && !event.post.deleted && !event.post.left) created(event);
      return;
    }
    if (event.type === "post.endorsed") {
      // Only the figures change (the event carries nothing else): update them in place, so
      // focus and the reader's own endorsement state stay where they are.
      var n = event.post.endorsement_count;
      current.querySelectorAll(".count").forEach(function (el) { el.textContent = n; });
      var count = current.querySelector(".endorse-count");
      if (count) count.textContent = window.plenaryPlural(words.endorsements, n);
      return;
    }
    var focused = current.contains(document.activeElement) ? current.id : null;
    var fresh = card(event.post);
    // Keep the reader's own endorsement button (its pressed state is theirs, not the broadcast's).
    var ownEndorse = current.querySelector("footer form[action$='/endorsement']");
    var freshEndorse = fresh.querySelector("footer form[action$='/endorsement']");
    if (ownEndorse && freshEndorse && !event.post.deleted) {
      ownEndorse.querySelector(".count").textContent = event.post.endorsement_count;
      freshEndorse.replaceWith(ownEndorse);
    }
    current.replaceWith(fresh);
    if (focused) fresh.setAttribute("tabindex", "-1"), fresh.focus();  // keep keyboard users in place
  }

  // The page's counts, as the server counted them for this event, in the reader's words.
  function showCounts(event) {
    if (!event.counts) return;
    var counts = event.counts;
    function responses(n) { return window.plenaryPlural(strings.responses, n); }
    document.querySelectorAll('[data-count="read"]').forEach(function (el) {
      el.textContent = window.plenaryPlural(strings.read, counts.responses);
    });
    var stances = counts.stances || { topics: {}, all: {} };
    document.querySelectorAll('[data-count="responses"]').forEach(function (el) {
      var n = topicFilter === null ? counts.responses : counts.topics[topicFilter];
      if (stanceFilter !== null) {
        n = topicFilter === null ? stances.all[stanceFilter] : (stances.topics[topicFilter] || {})[stanceFilter];
      }
      if (n !== undefined) el.textContent = responses(n);
    });
    // A proposal's line of counts ("12 in favour · 3 neutral · 5 against") and the stance filter.
    document.querySelectorAll("[data-stance-counts]").forEach(function (line) {
      var perStance = stances.topics[line.dataset.stanceCounts];
      if (!perStance) return;
      line.querySelectorAll("[data-stance-count]").forEach(function (el) {
        var n = perStance[el.dataset.stanceCount];
        var words = el.querySelector("[data-stance-words]");
        if (n !== undefined && words) words.textContent = window.plenaryPlural(strings.stances[el.dataset.stanceCount], n);
      });
    });
    document.querySelectorAll("option[data-count-stance]").forEach(function (option) {
      var n = stances.all[option.dataset.countStance];
      if (n !== undefined) option.textContent = option.dataset.countLabel + " (" + n + ")";
    });
    document.querySelectorAll("[data-count-topic]").forEach(function (el) {
      var n = counts.topics[el.dataset.countTopic];
      if (n !== undefined) el.textContent = responses(n);
    });
    document.querySelectorAll("option[data-count-label]:not([data-count-stance])").forEach(function (option) {
      var n = option.value ? counts.topics[option.value] : counts.responses;
      if (n !== undefined) option.textContent = option.dataset.countLabel + " (" + n + ")";
    });
  }

  // One event of the stream, in order (stream.js holds an early one until the gap fills,
  // skips those seen, and counts superseded ones).
  function apply(event) {
    if (!event.post) return;  // not about a post (a poll opened, the board's "opinion.map", ...)
    if (event.type === "post.created") created(event); else updated(event);
    showCounts(event);
  }

  // --- Connection -------------------------------------------------------------------------

  showStatus(root.querySelector("[data-live-status]"), strings);
  follow(stream, parseInt(root.dataset.seq, 10) || 0, apply, {  // the number the page was rendered with
    status: true,
    onPresence: function (data) {
      showPresence(presenceEl, data, window.plenaryPlural(strings.here_now, data.count));
    }
  });
  watchTyping(stream, document.querySelector("[data-typing]"), strings.typing);
  newPostsBar.addEventListener("click", showQueued);
  window.addEventListener("scroll", function () {
    if (queued.length && listTopVisible()) showQueued();
  }, { passive: true });

  // --- Posting over the socket --------------------------------------------------------------

  if (!form) return;
  var keyField = form.querySelector('input[name="client_key"]');
  var statusLine = form.querySelector("[data-form-status]");

  sendTyping(stream, form.querySelector("textarea"));

  // The stance is asked for a proposal only: the group shows (and is sent) while the chosen
  // topic is one. Without this script it is always there, and its hint says when it applies.
  var stanceField = form.querySelector("[data-stance-field]");
  function showStance() {
    if (!stanceField) return;
    var chosen = form.elements.topic_id.selectedOptions[0];
    var proposal = !!(chosen && chosen.dataset.proposal === "yes");
    stanceField.hidden = !proposal;
    stanceField.disabled = !proposal;
    stanceField.querySelectorAll("input").forEach(function (input) { input.required = proposal; });
  }
  if (stanceField) {
    form.elements.topic_id.addEventListener("change", showStance);
    showStance();
  }

  function clearErrors() {
    form.querySelectorAll(".live-error").forEach(function (el) { el.remove(); });
  }

  function showError(error) {
    var field = error.field === "stance" && stanceField ? stanceField.querySelector(".stance-choices")
      : error.field && form.querySelector('[name="' + error.field + '"]');
    var p = document.createElement("p");
    p.className = "error live-error";
    p.setAttribute("role", "alert");
    p.textContent = error.message;
    if (field) field.insertAdjacentElement("afterend", p); else form.prepend(p);
  }

  var sending = false;
  form.addEventListener("submit", function (submit) {
    if (!socket.connected) return;  // the normal POST, with the same client key
    submit.preventDefault();
    if (sending) return;            // a double click sends once
    sending = true;
    clearErrors();
    statusLine.textContent = strings.sending;
    var data = {
      stream: stream,
      topic_id: parseInt(form.elements.topic_id.value, 10) || null,
      parent_id: null,
      subject: form.elements.subject.value,
      body: form.elements.body.value,
      on_behalf_of_organisation: !!(form.elements.on_behalf_of_organisation && form.elements.on_behalf_of_organisation.checked),
      client_key: keyField.value
    };
    var stance = stanceField && !stanceField.disabled && stanceField.querySelector("input:checked");
    if (stance) data.stance = stance.value;
    socket.timeout(10000).emit("post", data, function (err, ack) {
      sending = false;
      if (err) { form.submit(); return; }  // no answer: post the form; the key prevents a duplicate
      statusLine.textContent = "";
      if (!ack.ok) { showError(ack.error); return; }
      form.elements.subject.value = "";
      form.elements.body.value = "";
      if (stanceField) stanceField.querySelectorAll("input").forEach(function (input) { input.checked = false; });
      keyField.value = window.plenaryNewKey();
      statusLine.textContent = strings.published;
      var article = document.getElementById("post-" + ack.post.id);
      if (article) article.scrollIntoView({ block: "center" });
    });
  });
})();
