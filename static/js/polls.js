// Plenary polls, live (docs/realtime.md, *Polls*). Without this module the pages work as they
// are: the vote form posts, the results are those of the page load.
//
// On a poll's page: results arrive on the poll's results streams, which the page joins when the
// server rendered it allowed to (#poll-live), after its reader voted (the `vote` answer says
// whether they may now) and when the poll closes; the results are rebuilt in place from the
// page's results template (forum/web/poll_live.py), as the server renders them. Votes go over
// the socket with the form's own fields (the server reads them with the form's parser); without
// a connection the form posts.
// On a room's page: a poll opened (or changed) in the room shows (or changes) its card, for
// everyone in the room, from room.js's events.
"use strict";

const lang = document.documentElement.lang || "en";

function plural(forms, n) { return window.plenaryPlural(forms, n); }

// --- A poll's page ------------------------------------------------------------------------

function pollPage(config) {
  const pollId = config.poll_id;
  const announcer = document.querySelector("[data-poll-announcer]");
  const template = document.querySelector(`script[data-poll-results-template="${pollId}"]`);
  const strings = config.strings;
  const socket = window.io({ transports: ["websocket", "polling"] });
  const seqs = {};  // results streams joined (or to join) -> the number of the last message applied
  if (config.results_stream) seqs[config.results_stream] = config.results_seq;
  if (config.breakdown_stream) seqs[config.breakdown_stream] = config.breakdown_seq;
  let closed = document.querySelector("[data-poll]")?.dataset.pollStatus === "closed";

  // The same figures the server's partial shows: percent "#,##0%", decimal "#,##0.0#" (half even).
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0, roundingMode: "halfEven" });
  const decimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 2, roundingMode: "halfEven" });
  const bar = (fraction) => (Math.min(Math.max(fraction || 0, 0), 1) * 100).toFixed(2);

  // The values of the results template's slots, from a poll.results message.
  function values(results) {
    const v = { voters: results.voters, voters_text: plural(config.words.voters, results.voters) };
    if (results.points_given !== undefined) {
      v.points_given = results.points_given;
      v.points_given_text = plural(config.words.points_given, results.points_given);
    }
    const span = config.scale_max - config.scale_min;
    (results.options || []).forEach((row) => {
      const o = `o${row.id}_`;
      if (results.kind === "score") {
        v[o + "mean"] = row.mean === null ? "–" : decimal.format(row.mean);
        v[o + "bar"] = bar(row.mean === null ? 0 : (row.mean - config.scale_min) / span);
        v[o + "ratings"] = row.ratings;
        Object.keys(row.distribution).forEach((value) => { v[o + "d" + value] = row.distribution[value]; });
      } else {
        v[o + "share"] = percent.format(row.share || 0);
        v[o + "bar"] = bar(row.share);
        v[o + "votes"] = row.votes;
        v[o + "points"] = row.points;
      }
    });
    return v;
  }

  function section() { return document.querySelector(`[data-poll-results="${pollId}"]`); }

  function place(fresh) {
    const current = section();
    if (!current || !fresh) return;
    const focused = current.contains(document.activeElement);
    current.replaceWith(fresh);
    if (focused) {  // keyboard users stay in the results, at their heading
      const heading = fresh.querySelector("h2");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  // Screen readers hear the count of voters, politely and at most every few seconds.
  let lastSaid = null;
  let sayTimer = null;
  function announce(voters) {
    if (voters === lastSaid || sayTimer) return;
    sayTimer = window.setTimeout(() => {
      sayTimer = null;
      const now = Number(section()?.dataset.voters);
      if (Number.isNaN(now) || now === lastSaid) return;
      lastSaid = now;
      announcer.textContent = plural(config.words.voters, now);
    }, 3000);
  }

  // Results the template cannot build (a ranked poll's rounds, breakdowns, the final wording
  // after closing) come from the server, for this reader: one request at a time, at most every
  // two seconds, the last one after the latest message.
  let fetching = false;
  let fetchAgain = false;
  let lastFetch = 0;
  function fetchResults() {
    const url = config.results_url;  // the server's partial, from the latest stored messages
    if (fetching) { fetchAgain = true; return; }
    fetching = true;
    const wait = Math.max(0, lastFetch + 2000 - Date.now()) + Math.random() * 500;
    window.setTimeout(() => {
      lastFetch = Date.now();
      fetch(url, { credentials: "same-origin" }).then((response) => (response.ok ? response.text() : null))
        .then((html) => {
          if (html === null) return;
          const holder = document.createElement("template");
          holder.innerHTML = html.trim();
          const fresh = holder.content.firstElementChild;
          if (window.plenaryFormatTimes) window.plenaryFormatTimes(fresh);
          place(fresh);
          announce(Number(fresh.dataset.voters));
        })
        .catch(() => {})
        .finally(() => {
          fetching = false;
          if (fetchAgain) { fetchAgain = false; fetchResults(); }
        });
    }, wait);
  }

  function show(event) {
    if (event.data.status === "closed" && !closed) { pollClosed(); return; }  // it fetches the final wording
    if (!template || config.breakdown_stream || closed || event.type !== "poll.results") { fetchResults(); return; }
    const fresh = window.plenaryFillCard(template, {}, values(event.data.results));
    place(fresh);
    announce(event.data.results.voters);
  }

  // A results stream's messages are snapshots: the latest wins, gaps and all.
  function receive(event) {
    if (!(event.stream in seqs) || typeof event.seq !== "number" || event.seq <= seqs[event.stream]) return;
    seqs[event.stream] = event.seq;
    if (event.type === "poll.results" || event.type === "poll.breakdown") show(event);
  }

  const catchUp = window.plenaryCatchUp(socket, {
    // The place's stream is joined for its poll events from now on (null: no catch-up).
    lastSeq: (stream) => (stream in seqs ? seqs[stream] : null),
    stale: () => false,
    answered: (kind, stream, ack) => (kind === "join" ? ack.missed : ack.events).forEach(receive),
    reload: () => {},
    retrying: () => {},
    refused: (stream) => { delete seqs[stream]; },  // not (or no longer) allowed: the server said
  });

  function follow(stream, seq) {
    if (!stream || stream in seqs) return;
    seqs[stream] = seq || 0;
    catchUp.ask("join", stream);
  }

  // The poll closed (its event, or its closing time passing): results shown "after close" may
  // show now; the page's words for an open poll no longer hold.
  function pollClosed() {
    if (closed) return;
    closed = true;
    document.querySelectorAll("[data-poll] .poll-head .badge").forEach((badge) => {
      badge.textContent = strings.status_closed;
      badge.className = "badge badge-closed";
    });
    const form = document.querySelector(`form[data-poll-vote="${pollId}"]`);
    if (form) {  // as the server words it: a voter "voted", anyone else finds it closed
      const voted = document.querySelector("[data-poll]")?.dataset.voted === "yes";
      const note = document.createElement("p");
      if (voted) {
        const strong = document.createElement("strong");
        strong.textContent = strings.voted;
        note.append(strong);
      } else {
        note.className = "muted";
        note.textContent = strings.closed;
      }
      // "You can change your vote until the poll closes" no longer holds.
      form.closest("[data-poll-vote-panel]")?.querySelectorAll(":scope > p.hint").forEach((p) => p.remove());
      form.replaceWith(note);
    }
    follow(`poll:${pollId}`, 0);  // the server decides whether this reader may now
    fetchResults();
  }

  function placeEvent(event) {
    if (event.stream !== config.place_stream || !event.data || event.data.poll_id !== pollId) return;
    if (event.type === "poll.closed") pollClosed();
    if (event.type === "poll.updated" && event.data.breakdown_published) {
      follow(`poll:${pollId}:breakdown`, 0);
      config.breakdown_stream = `poll:${pollId}:breakdown`;
      fetchResults();
    }
  }

  let reconnecting = false;
  // Whether votes go over the socket now (the form's own POST otherwise): on the vote form,
  // for styles and for the browser tests to wait on.
  const votingLive = (connected) => {
    const voteForm = document.querySelector(`form[data-poll-vote="${pollId}"]`);
    if (voteForm) voteForm.dataset.socket = connected ? "connected" : "disconnected";
  };
  socket.on("disconnect", () => votingLive(false));
  socket.on("connect", () => {
    votingLive(true);
    catchUp.ask("join", config.place_stream);  // its poll events from now on
    // Back after a disconnection: what closed meanwhile is not caught up on the place's stream
    // (joined without catch-up); the results stream is tried instead (the server decides).
    if (reconnecting) follow(`poll:${pollId}`, 0);
    reconnecting = true;
    Object.keys(seqs).forEach((stream) => catchUp.ask("join", stream));
  });
  socket.on("event", (event) => { if (event.stream in seqs) receive(event); else placeEvent(event); });
  socket.on("rejoin", (data) => { if (data.stream in seqs || data.stream === config.place_stream) catchUp.ask("join", data.stream); });
  window.setInterval(() => {
    if (socket.connected) Object.keys(seqs).forEach((stream) => catchUp.ask("sync", stream));
  }, 60000);
  if (config.closes_at && !closed) {
    const left = Date.parse(config.closes_at) - Date.now();
    if (left < 2 ** 31 - 1) window.setTimeout(pollClosed, Math.max(0, left) + 1000);
  }

  // --- Voting over the socket -------------------------------------------------------------

  const form = document.querySelector(`form[data-poll-vote="${pollId}"]`);
  if (!form) return;
  const statusLine = form.querySelector("[data-form-status]");
  let sending = false;

  function fields() {
    const data = {};
    new FormData(form).forEach((value, name) => {
      if (name === "csrf_token" || typeof value !== "string") return;
      (data[name] = data[name] || []).push(value);
    });
    return data;
  }

  function showError(error) {
    const field = error.field && form.querySelector(`[name="${CSS.escape(error.field)}"]`);
    const p = document.createElement("p");
    p.className = "error live-error";
    p.setAttribute("role", "alert");
    p.textContent = error.message;
    const where = field ? field.closest("fieldset.poll-score, .field, li") || field : null;
    if (where && where !== form) where.append(p); else form.querySelector("fieldset").prepend(p);
    if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
  }

  form.addEventListener("submit", (submit) => {
    if (!socket.connected) return;  // the form's own POST
    submit.preventDefault();
    if (sending) return;
    sending = true;
    form.querySelectorAll(".live-error").forEach((el) => el.remove());
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    statusLine.textContent = strings.sending;
    socket.timeout(10000).emit("vote", { poll_id: pollId, fields: fields() }, (err, ack) => {
      sending = false;
      // No answer in time: the form's POST, with the same ballot. If the socket's vote was
      // stored after all, the server takes the same ballot again as it stands (no "already
      // voted" refusal), changeable or not.
      if (err) { form.submit(); return; }
      statusLine.textContent = "";
      if (!ack.ok) { showError(ack.error); return; }
      statusLine.textContent = strings.saved;
      document.querySelector("[data-poll]")?.setAttribute("data-voted", "yes");
      if (config.votes_changeable) {
        form.querySelector('button[type="submit"]').textContent = strings.change;
      } else {
        const done = document.createElement("p");
        const strong = document.createElement("strong");
        strong.textContent = strings.voted;
        done.append(strong, " ", strings.saved);
        done.setAttribute("role", "status");
        form.replaceWith(done);
      }
      // The results counting this ballot are published by a job on the server, within a
      // second or so: they arrive on the results stream, which the voter may now follow.
      if (ack.can_see_results) follow(`poll:${pollId}`, 0);
      if (ack.can_see_breakdown) {
        config.breakdown_stream = `poll:${pollId}:breakdown`;
        follow(config.breakdown_stream, 0);
      }
    });
  });
}

// --- A room's page: its polls' cards --------------------------------------------------------

function roomPolls(config) {
  const panel = document.querySelector("[data-polls]");
  const announcer = document.querySelector("[data-live-announcer]");
  if (!panel) return;

  function placeCard(html, opened, question) {
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    const card = holder.content.firstElementChild;
    if (window.plenaryFormatTimes) window.plenaryFormatTimes(card);
    const existing = document.getElementById(card.id);
    if (existing) { existing.replaceWith(card); return; }
    let list = panel.querySelector(".poll-list");
    if (!list) {
      list = document.createElement("ul");
      list.className = "poll-list";
      const empty = panel.querySelector(":scope > p.muted");
      if (empty) empty.replaceWith(list); else panel.querySelector("h2").after(list);
    }
    list.prepend(card);  // a room's polls: newest first
    panel.hidden = false;
    if (opened && announcer) {
      announcer.textContent = "";
      window.setTimeout(() => { announcer.textContent = config.strings.opened.replace("{question}", question); }, 50);
    }
  }

  document.addEventListener("plenary:room-event", (e) => {
    const event = e.detail;
    if (!event.type.startsWith("poll.") || !event.data) return;
    const opened = event.type === "poll.opened";
    // Everyone in the room asks at once: spread over a second.
    window.setTimeout(() => {
      fetch(config.card_url.replace("/0/", `/${event.data.poll_id}/`), { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : null))
        .then((html) => { if (html !== null) placeCard(html, opened, event.data.question); })
        .catch(() => {});
    }, Math.random() * 1000);
  });
}

const pageConfig = document.getElementById("poll-live");
if (pageConfig && typeof window.io === "function") pollPage(JSON.parse(pageConfig.textContent));
const roomConfig = document.getElementById("poll-live-room");
if (roomConfig) roomPolls(JSON.parse(roomConfig.textContent));
