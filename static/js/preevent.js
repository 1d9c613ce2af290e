// A room's pre-event board (templates/preevent/board.html), live (docs/pre-event.md): follows
// the board's stream ("preevent:<room id>", docs/realtime.md) from the number the page was
// rendered with. Its messages say which answer changed (given, changed, endorsed, pinned) or
// which question went, never the text: the page fetches that answer as its reader may see it
// (GET .../pre-event/answers/<id>, the server's own partial) and puts it in place, or at the
// end of its question's list when it is new. Answers keep their place while the page is open
// (nothing moves under the reader's pointer or focus); a reload sorts them, most endorsed
// first. "Endorse" sends its form without leaving the page and shows the answer as it now is.
// Without this script the board is the page as loaded, and its forms post and come back.
import { announce, follow, showStatus } from "./stream.js";

const root = document.querySelector("[data-preevent-board]");
if (root) start(root);

function start(root) {
  const strings = JSON.parse(document.getElementById("preevent-strings").textContent);
  const answerUrl = (id) => root.dataset.answerUrl.replace(/0$/, String(id));
  const fetching = new Map();  // answer id -> {again, announce}: one request per answer at a time

  showStatus(root.querySelector("[data-live-status]"), strings);
  follow(root.dataset.stream, parseInt(root.dataset.seq, 10) || 0, apply, { status: true });
  enhance(root);

  function apply(event) {
    const data = event.data || {};
    if (event.type === "preevent.removed") {
      removeQuestion(data.question_id);
    } else if (event.type.startsWith("preevent.") && Number.isInteger(data.answer_id)) {
      refresh(data.answer_id, data.question_id, event.type === "preevent.answered");
    }
  }

  function refresh(answerId, questionId, isNews) {
    const waiting = fetching.get(answerId);
    if (waiting) {  // asked again while a request is out: once more after it, with what is new
      waiting.again = true;
      waiting.announce = waiting.announce || isNews;
      return;
    }
    const state = { again: false, announce: false };
    fetching.set(answerId, state);
    fetch(answerUrl(answerId), { credentials: "same-origin" })
      .then((response) => (response.status === 404 ? "" : response.ok ? response.text() : null))
      .then((html) => { if (html !== null) place(answerId, questionId, html, isNews); })
      .catch(() => {})
      .finally(() => {
        fetching.delete(answerId);
        if (state.again) refresh(answerId, questionId, state.announce);
      });
  }

  function place(answerId, questionId, html, isNews) {
    const current = document.getElementById(`answer-${answerId}`);
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const item = template.content.querySelector("li");
    if (!item) {  // no longer there for this reader (its question removed)
      if (current) removeItem(current);
      return;
    }
    if (current) {
      const hadFocus = current.contains(document.activeElement);
      current.replaceWith(item);
      enhance(item);
      if (hadFocus) focusIn(item);
      return;
    }
    const section = root.querySelector(`[data-question="${questionId}"]`);
    if (!section) return;  // a question added since the page was loaded: it shows on reload
    const list = section.querySelector(".preevent-answers");
    list.append(item);
    list.hidden = false;
    const empty = section.querySelector("[data-empty]");
    if (empty) empty.remove();
    item.classList.add("is-new");
    enhance(item);
    if (isNews) announce(strings.new_input.replace("{question}", section.dataset.label));
  }

  // Keyboard users stay where they were: on the same answer's button, else on the answer.
  function focusIn(item) {
    const button = item.querySelector("button");
    if (button) { button.focus(); return; }
    item.setAttribute("tabindex", "-1");
    item.focus();
  }

  function removeItem(item) {
    const hadFocus = item.contains(document.activeElement);
    const section = item.closest("[data-question]");
    item.remove();
    if (hadFocus && section) focusHeading(section);
  }

  function removeQuestion(questionId) {
    const section = root.querySelector(`[data-question="${questionId}"]`);
    if (!section) return;
    const hadFocus = section.contains(document.activeElement);
    section.remove();
    if (hadFocus) focusHeading(root);
  }

  function focusHeading(scope) {
    const heading = scope.querySelector("h1, h2");
    if (!heading) return;
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  // "Endorse" / "Endorsed" without leaving the page. A refusal (the event has started, ...)
  // sends the form normally, so that its reader sees why.
  function enhance(scope) {
    scope.querySelectorAll("form[data-endorse]").forEach((form) => {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "yes";
      form.addEventListener("submit", (submit) => {
        if (form.dataset.plain) return;
        submit.preventDefault();
        const button = form.querySelector("button");
        if (button.getAttribute("aria-disabled") === "true") return;  // sent already
        button.setAttribute("aria-disabled", "true");
        const item = form.closest("[data-answer]");
        const plain = () => {
          form.dataset.plain = "yes";
          form.requestSubmit();
        };
        fetch(form.getAttribute("action"), { method: "POST", body: new FormData(form), credentials: "same-origin",
                                             redirect: "manual", headers: { "X-Plenary-Async": "1" } })
          .then((response) => {
            if (response.type !== "opaqueredirect" && !response.ok) { plain(); return; }
            const section = item.closest("[data-question]");
            refresh(Number(item.dataset.answer), Number(section.dataset.question), false);
          }, plain);
      });
    });
  }
}
