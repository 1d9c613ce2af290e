// A report's status page (templates/exports/report_status.html) while the report is waiting or
// being built: the job tells the requester's open pages how it goes ({"type": "report.status",
// "report_id", "status", "progress", "status_label"} on the "notice" channel, sent by
// forum/services/reports.py to every socket of the account). Progress is shown as it comes;
// once the report is done or failed the page reloads to show the download link or the reason.
// Without JavaScript the page refreshes itself (a <meta refresh> inside <noscript>, so never
// here); without a socket (no Socket.IO client) this reloads it as that refresh would.
// On each (re)connection it reads the page's state once (notices sent meanwhile are lost).
import { connect } from "./stream.js";

const root = document.querySelector("[data-report]");
if (root) start();

function start() {
  const id = Number(root.dataset.report);
  const statusEl = root.querySelector("[data-report-status]");
  const progressEl = root.querySelector("[data-report-progress]");

  function listen() {
    const socket = connect();
    if (!socket) {
      window.setTimeout(() => window.location.reload(), 5000);
      return;
    }
    socket.on("notice", (data) => {
      if (!data || data.type !== "report.status" || data.report_id !== id) return;
      if (data.status === "done" || data.status === "failed") {
        window.location.reload();
        return;
      }
      if (progressEl && Number.isInteger(data.progress)) {
        progressEl.value = data.progress;
        progressEl.textContent = `${data.progress}%`;
      }
      // Said by the status line itself (role="status"): announcing it too would say it twice.
      if (statusEl && data.status_label && statusEl.textContent !== data.status_label) {
        statusEl.textContent = data.status_label;
      }
    });
    // On every (re)connection: what was sent while the socket was away is lost (and the job
    // may have finished between this page's rendering and the first connection), so read the
    // state once from the page itself and reload if it has moved on.
    const check = () => {
      fetch(window.location.href, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : ""))
        .then((html) => {
          const page = new DOMParser().parseFromString(html, "text/html");
          const fresh = page.querySelector("[data-report]");
          if (fresh && fresh.dataset.status !== root.dataset.status) window.location.reload();
        })
        .catch(() => {});
    };
    socket.on("connect", check);
    if (socket.connected) check();
  }

  if (typeof window.io === "function") listen();
  else window.addEventListener("load", listen);
}
