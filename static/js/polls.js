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
// everyone in the room, from room.js's events. The connection, joining and catching up are the
// live stream module's (stream.js): one connection per page.
import { connect, follow, announce } from "./stream.js";

const lang = document.documentElement.lang || "en";

function plural(forms, n) { return window.plenaryPlural(forms, n); }

// --- A poll's page ------------------------------------------------------------------------

function pollPage(config) {
  const pollId = config.poll_id;
  const announcer = document.querySelector("[data-poll-announcer]");
  const template = document.querySelector(`script[data-poll-results-template="${pollId}"]`);
  const strings = config.strings;
  const socket = connect();
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
  function announceVoters(voters) {
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
          announceVoters(Number(fresh.dataset.voters));
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
    announceVoters(event.data.results.voters);
  }

  // A results stream's messages are snapshots: the latest wins, gaps and all (stream.js
  // applies a message numbered above the last one applied). Not (or no longer) allowed: the
  // server refuses the join, and following it again later asks again.
  function receive(event) {
    if (event.type === "poll.results" || event.type === "poll.breakdown") show(event);
  }

  function followResults(stream, seq) {
    if (stream) follow(stream, seq || 0, receive, { snapshot: true });
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
    followResults(`poll:${pollId}`, 0);  // the server decides whether this reader may now
    fetchResults();
  }

  function placeEvent(event) {
    if (event.stream !== config.place_stream || !event.data || event.data.poll_id !== pollId) return;
    if (event.type === "poll.closed") pollClosed();
    if (event.type === "poll.updated" && event.data.breakdown_published) {
      followResults(`poll:${pollId}:breakdown`, 0);
      config.breakdown_stream = `poll:${pollId}:breakdown`;
      fetchResults();
    }
  }

  // The place's stream for its poll events, from now on (no catch-up); then the results
  // streams the page was rendered allowed to follow.
  follow(config.place_stream, null, placeEvent, { catchUp: false });
  followResults(config.results_stream, config.results_seq);
  followResults(config.breakdown_stream, config.breakdown_seq);

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
    // Back after a disconnection: what closed meanwhile is not caught up on the place's stream
    // (joined without catch-up); the results stream is tried instead (the server decides).
    if (reconnecting) followResults(`poll:${pollId}`, 0);
    reconnecting = true;
  });
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
      if (ack.can_see_results) followResults(`poll:${pollId}`, 0);
      if (ack.can_see_breakdown) {
        config.breakdown_stream = `poll:${pollId}:breakdown`;
        followResults(config.breakdown_stream, 0);
      }
    });
  });
}

// --- A room's page: its polls' cards --------------------------------------------------------

function roomPolls(config) {
  const panel = document.querySelector("[data-polls]");
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
    if (opened) announce(config.strings.opened.replace("{question}", question));
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
if (pageConfig && connect()) pollPage(JSON.parse(pageConfig.textContent));
const roomConfig = document.getElementById("poll-live-room");
if (roomConfig) roomPolls(JSON.parse(roomConfig.textContent));
