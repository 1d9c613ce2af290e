// The organisers' control room (templates/events/control.html): applies the snapshots of the
// event's control stream ("event:<id>:control", docs/realtime.md) to the table the server
// rendered, and counts the wrap-up countdowns down. Every figure comes from the server as a
// number; the words are the page's (#control-strings). Without this script the page is a
// table as it was when loaded, and its forms post and come back.
import { announce, follow, showStatus } from "./stream.js";

const root = document.querySelector("[data-control]");
if (root) start(root);

function start(root) {
  const strings = JSON.parse(document.getElementById("control-strings").textContent);
  const decimal = new Intl.NumberFormat(root.dataset.lang || undefined,
                                        { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const rows = new Map();
  root.querySelectorAll("[data-room-row]").forEach((row) => rows.set(row.dataset.roomRow, row));
  let clockOffset = 0;  // server time minus this browser's, in ms

  const t = (key, values = {}) =>
    Object.entries(values).reduce((text, [name, value]) => text.replace(`{${name}}`, value), strings[key] || key);
  const cell = (row, name) => row.querySelector(`[data-cell="${name}"]`);

  showStatus(root.querySelector("[data-live-status]"), strings);
  follow(root.dataset.stream, parseInt(root.dataset.seq, 10) || 0, apply, {
    snapshot: true,
    status: true,
    onJoin(ack) {
      if (ack && ack.server_time) clockOffset = Date.parse(ack.server_time) - Date.now();
    },
  });
  tick();
  window.setInterval(tick, 1000);

  function apply(event) {
    if (event.type !== "control.figures" || !event.data) return;
    if (event.data.at) clockOffset = Date.parse(event.data.at) - Date.now();
    event.data.rooms.forEach(update);
    tick();
  }

  function update(figures) {
    const row = rows.get(String(figures.room_id));
    if (!row) return;  // a room added since the page was loaded: it shows on reload
    const title = row.dataset.title;
    for (const name of ["present", "placed", "recent", "hands", "pending", "flags"]) {
      const target = cell(row, name);
      if (target.textContent !== String(figures[name])) target.textContent = String(figures[name]);
    }
    cell(row, "balance").textContent = figures.balance === null ? "—" : decimal.format(figures.balance);

    const badge = cell(row, "phase");
    if (badge.dataset.phase !== figures.phase) {
      badge.dataset.phase = figures.phase;
      badge.textContent = strings.phases[figures.phase] || figures.phase;
      announce(t("phase_changed", { room: title, phase: badge.textContent }));
    }
    row.querySelectorAll("[data-phase-action]").forEach((button) => {
      const shows = button.dataset.phaseAction === "open"
        ? ["not_started", "closed"].includes(figures.phase)
        : ["open", "wrap_up"].includes(figures.phase);
      button.hidden = !shows;
    });
    cell(row, "countdown").dataset.ends = figures.wrap_up_ends_at || "";

    // Attention: said politely once when a reason appears, shown for as long as it lasts.
    const before = (row.dataset.attention || "").split(" ").filter(Boolean);
    const now = figures.attention || [];
    for (const code of now) {
      if (!before.includes(code)) announce(t(`new_${code === "flags" ? "flag" : code}`, { room: title }));
    }
    if (before.join(" ") !== now.join(" ")) {
      row.dataset.attention = now.join(" ");
      row.classList.toggle("needs-attention", now.length > 0);
      const list = cell(row, "attention");
      list.replaceChildren(...now.map((code) => {
        const item = document.createElement("li");
        item.textContent = strings.attention[code] || code;
        return item;
      }));
      list.hidden = now.length === 0;
    }
  }

  function tick() {
    rows.forEach((row) => {
      const target = cell(row, "countdown");
      const ends = target.dataset.ends;
      const wrapping = cell(row, "phase").dataset.phase === "wrap_up";
      let text = "—";
      if (ends && wrapping) {
        const left = Math.max(0, Math.round((Date.parse(ends) - (Date.now() + clockOffset)) / 1000));
        const minutes = Math.floor(left / 60);
        const seconds = String(left % 60).padStart(2, "0");
        text = left > 0 ? t("countdown", { time: `${minutes}:${seconds}` }) : strings.countdown_over;
      }
      if (target.textContent !== text) target.textContent = text;
    });
  }
}
