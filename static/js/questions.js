/* The plenary's Q&A (templates/rooms/_questions.html): the list follows the room's live
   events ("question.*", dispatched by room.js as "plenary:room-event") by fetching the
   server-rendered list again (throttled), in this reader's language and with their buttons.
   Votes, questions and moderators' actions are sent in the background (X-Plenary-Async);
   focus stays on the button acted on. On a refusal the form is sent normally, so its reason
   is shown. Without this script every form posts and comes back to #questions. */
(function () {
  "use strict";
  var section = document.querySelector("[data-questions]");
  if (!section) return;
  var list = section.querySelector("[data-questions-list]");
  var announcer = document.querySelector("[data-live-announcer]");
  var params = new URLSearchParams(location.search);
  var order = params.get("questions") || "votes";
  var timer = null, inFlight = null, again = false;

  function announce(text) {
    if (!announcer || !text) return;
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function focusKey() {
    var active = document.activeElement;
    return active && list.contains(active) && active.dataset.focusKey ? active.dataset.focusKey : null;
  }

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
        section.dataset.questionsLoaded = String(Date.now());
        if (key) {
          var again_ = list.querySelector('[data-focus-key="' + key + '"]');
          (again_ || section.querySelector("#questions-heading")).focus();
        } else if (lostFocus) {
          section.querySelector("#questions-heading").focus();
        }
      })
      .catch(function () {})
      .then(function () {
        inFlight = null;
        if (again) { again = false; refresh(); }
      });
    return inFlight;
  }

  // At most one fetch per `delay`, however many events arrive (a busy plenary votes a lot:
  // counts are patched at once, the order follows within a second and a half).
  function later(delay) {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, delay);
  }

  document.addEventListener("plenary:room-event", function (e) {
    var event = e.detail || {};
    if (typeof event.type !== "string" || event.type.indexOf("question.") !== 0) return;
    // The count moves at once; the list (order, buttons, groups) follows.
    var data = event.data && event.data.question;
    if (data && event.type === "question.updated") {
      var count = list.querySelector('[data-question="' + data.id + '"] [data-question-votes]');
      if (count) count.textContent = String(data.votes);
    }
    if (event.type === "question.asked" && section.dataset.sending !== "yes") announce(section.dataset.newQuestion);
    later(event.type === "question.updated" ? 1500 : 250);
  });

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
    section.dataset.sending = "yes";
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                                         redirect: "manual", headers: { "X-Plenary-Async": "1" } })
      .then(function (response) {
        if (response.type !== "opaqueredirect" && !response.ok) { plain(); return; }
        if ("clear" in form.dataset) {
          form.querySelectorAll("textarea").forEach(function (el) { el.value = ""; });
          form.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = false; });
        }
        announce(section.dataset.done);
        return refresh().then(function () {
          if (key) {
            var button = list.querySelector('[data-focus-key="' + key + '"]');
            (button || section.querySelector("#questions-heading")).focus();
          }
        });
      }, plain)
      .then(function () { section.dataset.sending = ""; });
  });
})();
