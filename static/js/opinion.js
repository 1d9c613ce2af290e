// The statements board (templates/opinion/show.html): vote without reloading the page and
// get the next statement; fetch the map again when the server says it was recomputed
// ("opinion.map" on the consultation's stream). Without this script every form posts and
// the page comes back with the next statement. The connection, joining and catching up are the
// live stream module's (stream.js).
import { follow } from "./stream.js";

const root = document.querySelector("[data-board]");
const strings = JSON.parse(document.getElementById("opinion-strings").textContent);
const voteStatus = root.querySelector("[data-vote-status]");

// --- Voting ------------------------------------------------------------------------------

let sending = false;

root.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-vote-form]");
  if (!form || form.dataset.plain) return;
  event.preventDefault();
  if (sending) return;  // one vote at a time: a double press sends once
  sending = true;
  const button = event.submitter;
  const body = new FormData(form);
  if (button && button.name) body.append(button.name, button.value);
  voteStatus.textContent = strings.sending;
  try {
    const response = await fetch(form.action, {
      method: "POST", body, credentials: "same-origin", headers: { "X-Plenary-Async": "1" },
    });
    if (!response.ok) throw new Error(String(response.status));
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.querySelector("[data-vote-panel]");
    root.querySelector("[data-vote-panel]").replaceWith(fresh);
    voteStatus.textContent = "";
    // Keyboard and screen-reader users continue with the next statement.
    const next = fresh.querySelector(".statement-text") || fresh;
    next.setAttribute("tabindex", "-1");
    next.focus();
  } catch (error) {
    // Refused (its reason is on the page the normal post shows) or no answer: post normally.
    voteStatus.textContent = strings.failed;
    form.dataset.plain = "yes";
    if (button) form.requestSubmit(button); else form.submit();
  } finally {
    sending = false;
  }
});

// --- The map, live -------------------------------------------------------------------------

const stream = root.dataset.stream;
const mapHolder = root.querySelector("[data-map-holder]");
const announcer = root.querySelector("[data-map-announcer]");
let refreshTimer = null;
let shownVersion = () => parseInt((mapHolder.querySelector("[data-map]") || {}).dataset?.mapVersion || "0", 10);

// Many pages get the same event at once: each fetches once, after a short random delay, and
// several events in a row make one fetch.
function refreshSoon(version) {
  if (version !== undefined && version <= shownVersion()) return;
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(refreshMap, 300 + Math.random() * 1200);
}

async function refreshMap() {
  try {
    const response = await fetch(root.dataset.mapUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const focused = mapHolder.contains(document.activeElement);
    mapHolder.innerHTML = await response.text();
    announcer.textContent = strings.updated;
    if (focused) mapHolder.querySelector("[data-map]").setAttribute("tabindex", "-1");
  } catch (error) {
    /* the next event or a reload shows it */
  }
}

follow(stream, parseInt(root.dataset.seq, 10) || 0, (message) => {
  if (message.type === "opinion.map") refreshSoon(message.data && message.data.version);
}, {
  // Too much missed to replay: what matters here is only the latest map.
  onReload: () => { refreshSoon(); },
});
