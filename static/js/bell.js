// The header's bell (templates/base.html): the number of unread notifications, as the server
// counts it, kept live over the page's one Socket.IO connection (stream.js). The server sends
// {"type": "notifications.unread", "count": n} on the "notice" channel to every socket of the
// account whenever the count changes (a new notice, one read, all read: in any tab). Pages
// without a live stream of their own still connect (signed-in people only: this script is not
// loaded for visitors), so that every open tab's bell follows; after a reconnection the count is
// asked for once (GET data-bell-count-url), since what was sent while offline is lost.
// docs/notifications.md "The bell".
import { announce, connect } from "./stream.js";

const bell = document.querySelector("[data-bell]");
const stringsElement = document.getElementById("bell-strings");

if (bell && stringsElement) start(JSON.parse(stringsElement.textContent));

function start(strings) {
  const text = bell.querySelector("[data-bell-text]");
  const badge = bell.querySelector("[data-bell-count]");
  let shown = parseInt(badge.textContent, 10) || 0;
  // Several rises gathered into one saying (stream.js announce) are said once, with the count
  // as it is then: "Notifications, 5 unread", not "…, 3 unread. …, 4 unread. …, 5 unread".
  const latest = () => text.textContent;

  function show(count, say) {
    if (typeof count !== "number" || count < 0 || !Number.isInteger(count)) return;
    const grew = count > shown;
    shown = count;
    text.textContent = count ? window.plenaryPlural(strings.unread, count) : strings.none;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    bell.classList.toggle("bell-unread", count > 0);
    if (say && grew) announce(text.textContent, latest);
  }

  function refresh() {
    fetch(bell.dataset.bellCountUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => { if (data) show(data.count, false); })
      .catch(() => {});  // offline again: the next reconnection asks
  }

  function listen() {
    const socket = connect();
    if (!socket) return;
    let connectedBefore = socket.connected;
    socket.on("notice", (data) => {
      if (data && data.type === "notifications.unread") show(data.count, true);
    });
    socket.on("connect", () => {
      if (connectedBefore) refresh();  // a reconnection: notices sent meanwhile were lost
      connectedBefore = true;
    });
  }

  if (typeof window.io === "function") {
    listen();
  } else {
    // A page without a live stream: load the Socket.IO client (our own copy) first.
    const script = document.createElement("script");
    script.src = bell.dataset.socketClient;
    script.addEventListener("load", listen);
    document.head.append(script);
  }
}
