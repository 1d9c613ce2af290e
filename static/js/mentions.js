// Mentions in composers: typing "@" and letters offers the people who may read the place
// (GET /people/mentionable: the server decides who, forum/permissions.py readers_of), in the
// ARIA 1.2 combobox pattern. The textarea is the combobox (aria-autocomplete=list); its
// listbox of options follows it; the active option is aria-activedescendant, so focus never
// leaves the text. Up/Down move, Enter or Tab insert "@handle ", Escape closes; a pointer
// (mouse, touch) chooses too. A polite live region says how many people are offered.
// Without JavaScript the textarea is a textarea: "@handle" typed by hand links all the same.
//
// A composer opts in with data-mentions (the URL to ask, with its place) and
// data-mention-words (its words in the reader's language), from forum.web.people.mention_attrs.

const PAUSE_MS = 150;          // one request per pause in typing, not per key
// "@" after a space, a line start or punctuation (not inside a word or an address, as the
// server's MENTION_RE), then at least one character of a handle, up to the caret.
const TYPED = /(?:^|[^\w@.\-/])@([A-Za-z0-9][A-Za-z0-9._-]{0,29})$/;
let made = 0;

function plural(forms, n) {
  if (window.plenaryPlural) return window.plenaryPlural(forms, n);
  return (forms.other || "").split("{n}").join(String(n));
}

export function enhance(area) {
  if (area.dataset.mentionsReady) return;
  area.dataset.mentionsReady = "1";
  const words = JSON.parse(area.dataset.mentionWords || "{}");
  const id = `mentions-${++made}`;

  const list = document.createElement("ul");
  list.id = id;
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", words.label || "");
  list.hidden = true;
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.setAttribute("aria-atomic", "true");
  area.insertAdjacentElement("afterend", list);
  list.insertAdjacentElement("afterend", status);
  area.parentElement.classList.add("mention-field");

  area.setAttribute("role", "combobox");
  area.setAttribute("aria-autocomplete", "list");
  area.setAttribute("aria-haspopup", "listbox");
  area.setAttribute("aria-expanded", "false");
  area.setAttribute("aria-controls", id);

  let people = [];
  let active = -1;
  let token = null;      // {start, end, query}: the "@..." being typed
  let timer = null;
  let request = null;
  let dismissed = null;  // the token Escape closed: not offered again until it changes

  function typedToken() {
    if (area.selectionStart !== area.selectionEnd) return null;
    const before = area.value.slice(0, area.selectionStart);
    const match = TYPED.exec(before);
    if (!match) return null;
    const query = match[1];
    return { start: area.selectionStart - query.length - 1, end: area.selectionStart, query };
  }

  function close() {
    if (request) request.abort();
    request = null;
    clearTimeout(timer);
    people = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    area.setAttribute("aria-expanded", "false");
    area.removeAttribute("aria-activedescendant");
  }

  function setActive(index) {
    active = index;
    list.querySelectorAll("[role=option]").forEach((option, i) => {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) option.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0) area.setAttribute("aria-activedescendant", `${id}-${index}`);
    else area.removeAttribute("aria-activedescendant");
  }

  function show(found) {
    people = found;
    list.replaceChildren();
    if (!found.length) {
      close();
      status.textContent = words.none || "";
      return;
    }
    found.forEach((person, i) => {
      const option = document.createElement("li");
      option.id = `${id}-${i}`;
      option.className = "mention-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      const name = document.createElement("span");
      name.className = "mention-name";
      name.textContent = person.name;
      const handle = document.createElement("span");
      handle.className = "mention-handle";
      handle.textContent = `@${person.handle}`;
      option.append(name, " ", handle);
      if (person.organisation) {
        const org = document.createElement("span");
        org.className = "mention-org";
        org.textContent = person.organisation;
        option.append(" ", org);
      }
      // Keep the focus (and the caret) in the text: a pointer press must not blur it.
      option.addEventListener("pointerdown", (e) => e.preventDefault());
      option.addEventListener("mousedown", (e) => e.preventDefault());
      option.addEventListener("click", () => choose(i));
      list.append(option);
    });
    // Below the text, where the page can scroll to show it (a reply form low on the screen:
    // above, it would cover the field's label and what is quoted, far from the caret); above
    // only where it cannot (the room's composer sits at the bottom of a screen-high chat).
    const box = area.getBoundingClientRect();
    const root = document.scrollingElement || document.documentElement;
    const below = window.innerHeight - box.bottom + Math.max(0, root.scrollHeight - root.scrollTop - window.innerHeight);
    const up = below < 220 && box.top > below;
    list.classList.toggle("mention-list-up", up);
    list.hidden = false;
    if (!up) list.scrollIntoView({ block: "nearest" });
    area.setAttribute("aria-expanded", "true");
    setActive(0);
    status.textContent = plural(words.count || {}, found.length);
  }

  function ask(current) {
    if (request) request.abort();
    request = new AbortController();
    const url = `${area.dataset.mentions}&q=${encodeURIComponent(current.query)}`;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: request.signal })
      .then((response) => (response.ok ? response.json() : { people: [] }))
      .then((data) => {
        const now = typedToken();
        if (!now || now.query !== current.query || now.start !== current.start) return;  // typed on
        token = now;
        show(data.people || []);
      })
      .catch((error) => { if (error.name !== "AbortError") close(); });
  }

  function update() {
    const current = typedToken();
    if (!current || (dismissed && dismissed.start === current.start && dismissed.query === current.query)) {
      token = null;
      close();
      return;
    }
    dismissed = null;
    token = current;
    clearTimeout(timer);
    timer = setTimeout(() => ask(current), PAUSE_MS);
  }

  function choose(index) {
    const person = people[index];
    if (!person || !token) return;
    const inserted = `@${person.handle} `;
    const after = area.value.slice(token.end).replace(/^ /, "");
    area.value = area.value.slice(0, token.start) + inserted + after;
    const caret = token.start + inserted.length;
    area.setSelectionRange(caret, caret);
    close();
    token = null;
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));  // counters, "typing" notices
  }

  area.addEventListener("input", update);
  area.addEventListener("click", update);
  area.addEventListener("blur", () => { token = null; close(); });
  // In the capture phase, so that an open list has the keys before the composer's own
  // handlers (the room's Enter sends the message).
  area.addEventListener("keydown", (e) => {
    if (list.hidden || e.isComposing) return;
    let handled = true;
    if (e.key === "ArrowDown") setActive((active + 1) % people.length);
    else if (e.key === "ArrowUp") setActive((active - 1 + people.length) % people.length);
    else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && active >= 0) choose(active);
    else if (e.key === "Escape") { dismissed = token; close(); }
    else handled = false;
    if (handled) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  area.addEventListener("keyup", (e) => {
    if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") update();
  });
}

document.querySelectorAll("textarea[data-mentions]").forEach(enhance);
