/* The plenary's Q&A (templates/rooms/_questions.html), live from the room's events
   ("question.*", dispatched by room.js as "plenary:room-event"; docs/questions.md). Each
   message carries what every reader may see of the question (forum/services/questions.py
   `_data`), and the page applies it itself, without asking the server:
   - a vote (figures only): the count is patched and, sorted by votes, the question moves to
     its place (votes, then most recent first, as services.questions.list_questions orders),
     the focus staying on the button it was on;
   - a new question: built from the page's question template (forum/web/cards.py
     question_template: rendered once, in the page's language, with this reader's buttons)
     with the message's data as text, and put in its place;
   - answered, reopened, dismissed: built anew where it now belongs, or taken out.
   Only what cannot be built from a message asks for the list again (one jittered request:
   the moderators' own stream, a question this page does not show). The reader's own writes
   are sent in the background (X-Plenary-Async): a vote flips its button; asking and the
   moderators' actions fetch this reader's list once. On a refusal the form is sent normally,
   so its reason is shown. Without this script every form posts and comes back to #questions.
   Said aloud through the page's one polite announcer (stream.js `announce`). */
import { announce } from "./stream.js";

(function () {
  "use strict";
  var section = document.querySelector("[data-questions]");
  if (!section) return;
  var list = section.querySelector("[data-questions-list]");
  var heading = section.querySelector("#questions-heading");
  var source = document.querySelector('script[data-card="question"]');
  var words = JSON.parse(document.querySelector("script[data-question-words]").textContent);
  var reader = words.reader;
  var params = new URLSearchParams(location.search);
  var order = params.get("questions") || "votes";
  var timer = null, inFlight = null, again = false;

  function focusKey() {
    var active = document.activeElement;
    return active && list.contains(active) && active.dataset.focusKey ? active.dataset.focusKey : null;
  }

  // --- The list as the server renders it for this reader (rare: see above) --------------

  function refresh() {
    if (inFlight) { again = true; return inFlight; }
    var url = section.dataset.questionsUrl + "?order=" + encodeURIComponent(order);
    inFlight = fetch(url, { credentials: "same-origin", headers: { "X-Plenary-Async": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var key = focusKey();
        var lostFocus = document.activeElement && list.contains(document.activeElement) && !key;
        list.innerHTML = html;
        if (window.plenaryFormatTimes) window.plenaryFormatTimes(list);
        section.dataset.questionsLoaded = String(Date.now());
        if (key) {
          var again_ = list.querySelector('[data-focus-key="' + key + '"]');
          (again_ || heading).focus();
        } else if (lostFocus) {
          heading.focus();
        }
      })
      .catch(function () {})
      .then(function () {
        inFlight = null;
        if (again) { again = false; refresh(); }
      });
    return inFlight;
  }

  // One request, after a random 0-2 s: the readers who need it do not all ask at once.
  function refreshSoon() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, Math.random() * 2000);
  }

  // --- Applying a message ---------------------------------------------------------------

  function item(id) { return list.querySelector('li[data-question="' + Number(id) + '"]'); }
  function group(name) { return list.querySelector('[data-question-group="' + name + '"]'); }

  function showGroups() {
    var open = group("open");
    var empty = list.querySelector("[data-questions-empty]");
    var any = !!(open && open.querySelector("li"));
    if (open) open.hidden = !any;
    if (empty) empty.hidden = any;
    list.querySelectorAll("[data-question-part]").forEach(function (part) { part.hidden = !part.querySelector("li"); });
  }

  function plural(forms, n) { return window.plenaryPlural(forms, n); }

  function setVotes(li, votes) {
    li.dataset.votes = String(votes);
    var count = li.querySelector("[data-question-votes]");
    if (count) count.textContent = String(votes);
    var button = li.querySelector("[data-upvote-label]");
    if (button) button.textContent = plural(words.upvote, votes);
    var label = li.querySelector("[data-question-votes-label]");
    if (label) label.textContent = plural(words.votes, votes);
  }

  function setVoted(li, voted) {
    li.dataset.voted = voted ? "true" : "false";
    var button = li.querySelector(".vote-button");
    if (button) button.setAttribute("aria-pressed", voted ? "true" : "false");
    var action = li.querySelector("[data-vote-action]");
    if (action) action.value = voted ? "withdraw" : "vote";
  }

  // Jinja's truncate(60): whole words, "...", 5 characters of leeway.
  function truncate(text) {
    if (text.length <= 65) return text;
    var cut = text.slice(0, 57);
    var space = cut.lastIndexOf(" ");
    return (space > 0 ? cut.slice(0, space) : cut) + "...";
  }

  function build(q, old) {
    var anonymous = !q.author;
    // The reader's own: named in the message, or (anonymous: the message names nobody) marked
    // so by the server on the item this one replaces.
    var own = (reader.me !== null && q.author_id === reader.me) || (!!old && old.dataset.own === "yes");
    var created = q.created_at || "";
    var li = window.plenaryFillCard(source, {
      vote: reader.vote && q.status === "published" && !own, anonymous: anonymous,
      published: q.status === "published", answered: q.status === "answered", moderate: reader.moderate
    }, {
      id: q.id, status: q.status, votes: q.votes, created: created, created_at: created.replace(/\.\d+/, ""),
      body: q.body, body_short: truncate(q.body || ""),
      // A closed account's question names a "Former participant", in the page's language.
      author_name: anonymous ? "" : (q.author.former ? words.former_participant : q.author.name),
      upvote_label: plural(words.upvote, q.votes), votes_label: plural(words.votes, q.votes)
    });
    if (old && old.dataset.voted === "true") setVoted(li, true);
    if (own) li.dataset.own = "yes";
    return li;
  }

  // Sorted by votes: most first, then the most recent, then the latest id (list_questions).
  function sortKey(li) {
    return { votes: Number(li.dataset.votes), created: li.dataset.created || "", id: Number(li.dataset.question) };
  }
  function before(a, b) {
    if (order === "votes" && a.votes !== b.votes) return a.votes > b.votes;
    if (a.created !== b.created) return a.created > b.created;
    return a.id > b.id;
  }

  // Moving an element takes the focus off it: give it back to the same button.
  function keepingFocus(element, change) {
    var active = document.activeElement;
    var inside = active && element.contains(active);
    change();
    if (inside && document.activeElement !== active && document.contains(active)) active.focus();
  }

  function placeOpen(li) {
    var open = group("open");
    var key = sortKey(li);
    var next = null;
    Array.prototype.some.call(open.children, function (other) {
      if (other !== li && before(key, sortKey(other))) { next = other; return true; }
      return false;
    });
    if (li.parentNode === open && li.nextElementSibling === next) return;
    keepingFocus(li, function () { open.insertBefore(li, next); });
  }

  // Put a question (built anew) where its status says, in place of `old`.
  function put(q, old) {
    var li = build(q, old);
    var key = focusKey();
    var hadFocus = old && old.contains(document.activeElement);
    if (old) old.remove();
    if (q.status === "answered") {
      var answered = group("answered");
      answered.insertBefore(li, answered.firstElementChild);  // the latest answered first
    } else {
      placeOpen(li);
    }
    showGroups();
    if (hadFocus) ((key && li.querySelector('[data-focus-key="' + key + '"]')) || heading).focus();
  }

  function remove(li) {
    var hadFocus = li.contains(document.activeElement);
    li.remove();
    showGroups();
    if (hadFocus) heading.focus();
  }

  document.addEventListener("plenary:room-event", function (e) {
    var event = e.detail || {};
    if (typeof event.type !== "string" || event.type.indexOf("question.") !== 0) return;
    // The moderators' stream (pending questions, with their buttons): the few moderators ask.
    if (/:moderators$/.test(event.stream || "")) { refreshSoon(); return; }
    var q = event.data && event.data.question;
    if (!q) return;  // question.settings: nothing in the list changes
    var li = item(q.id);
    if (event.type === "question.removed") {
      if (li) remove(li);
      return;
    }
    if (!("body" in q)) {  // a vote: its figures only
      if (!li) { refreshSoon(); return; }  // one this page does not show (rare)
      setVotes(li, q.votes);
      if (li.parentNode === group("open")) placeOpen(li);
      return;
    }
    if (q.status !== "published" && q.status !== "answered") return;
    put(q, li);
    if (event.type === "question.asked" && !li && section.dataset.sending !== "yes") announce(section.dataset.newQuestion);
  });

  // --- Sorting and the reader's own writes -------------------------------------------------

  section.addEventListener("click", function (e) {
    var link = e.target.closest("[data-question-sort]");
    if (!link) return;
    e.preventDefault();
    order = link.dataset.questionSort;
    section.querySelectorAll("[data-question-sort]").forEach(function (other) {
      if (other === link) other.setAttribute("aria-current", "true"); else other.removeAttribute("aria-current");
    });
    section.querySelectorAll("[data-question-order]").forEach(function (input) { input.value = order; });
    var url = new URL(location.href);
    if (order === "votes") url.searchParams.delete("questions"); else url.searchParams.set("questions", order);
    history.replaceState(history.state, "", url.pathname + url.search + "#questions");
    refresh();
  });

  section.addEventListener("submit", function (e) {
    var form = e.target.closest("[data-question-form]");
    if (!form || form.dataset.plain) return;
    e.preventDefault();
    var submitter = e.submitter;
    var key = submitter && submitter.dataset.focusKey;
    function plain() {
      form.dataset.plain = "yes";
      form.requestSubmit(submitter || undefined);
    }
    var body = new FormData(form, submitter);
    if (body.has("order")) body.set("order", order);
    var vote = form.querySelector("[data-vote-action]");
    section.dataset.sending = "yes";
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                                         redirect: "manual", headers: { "X-Plenary-Async": "1" } })
      .then(function (response) {
        if (response.type !== "opaqueredirect" && !response.ok) { plain(); return; }
        announce(section.dataset.done);
        if (vote) {  // the count comes with the vote's event, to every reader alike
          var li = form.closest("li[data-question]");
          if (li) setVoted(li, body.get("action") === "vote");
          return;
        }
        if ("clear" in form.dataset) {
          form.querySelectorAll("textarea").forEach(function (el) { el.value = ""; });
          form.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = false; });
        }
        return refresh().then(function () {
          if (key) {
            var button = list.querySelector('[data-focus-key="' + key + '"]');
            (button || heading).focus();
          }
        });
      }, plain)
      .then(function () { section.dataset.sending = ""; });
  });
})();
