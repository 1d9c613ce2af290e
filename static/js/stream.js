// Plenary's live stream in the browser: ONE Socket.IO connection per page, shared by every
// script of the page (an ES module: each importer gets this same instance). The protocol is
// docs/realtime.md; this is its client side ("The browser side" there). The official client
// (static/vendor/socket.io/socket.io.min.js, a classic deferred script defining window.io)
// loads before the page's modules. No other script calls io() or sends join / sync: a test
// (tests/test_static.py) greps for it.
//
//   connect() -> socket | null
//       The page's socket, made on the first call (null without the Socket.IO client). Use
//       it to send writes ("post", "vote", "typing") and for one-to-one messages ("notice");
//       joining, catching up and syncing are this module's.
//   follow(stream, lastSeq, onEvent, options) -> {stream, last(), leave()} | null
//       Joins `stream` (now if connected, and again on every reconnect and on the server's
//       `rejoin`) with the number of the last event the page shows (`lastSeq`: the page's
//       data-seq), catches up page by page (`more`) and calls onEvent(event) once per event,
//       in the order of their numbers, live events and caught-up ones alike; a sync once a
//       minute and on the server's `sync` notice. Following a stream already followed gives
//       the same handle (and asks again if its join was refused). Options, all optional:
//         snapshot: true   each message is the whole state (a poll's results, the control
//                          room): the latest wins, gaps and all (no holding, no reload).
//         catchUp: false   events from now on only (join with last_seq null, never synced).
//         status: true     this stream's join drives the status element (showStatus).
//         onJoin(ack)      the join's answer (room state, server_time...), before its events.
//         onPresence(data) who is here: from the join's answer and every `presence` message.
//         onRefused()      the join was refused (4xx): not, or no longer, allowed.
//         onReload()       too much was missed: instead of reloading the page (the default:
//                          reloadPage, with the status element's words "reload" and "stale").
//   showStatus(element, words)
//       The page's connection status element: "live", "reconnecting", "offline" or "stale"
//       (data-state), in the page's words (words.live, ..., words.reload for the button).
//   announce(text, many)
//       Says `text` politely (an aria-live region: the page's [data-live-announcer], else one
//       made here). A burst is said together: the first at once, what follows within
//       ANNOUNCE_GATHER_MS in one go; more than ANNOUNCE_MAX texts are cut to the latest, and
//       texts given the same `many(n)` function are said as many(n) ("5 new messages").
//   watchTyping(stream, element, template), sendTyping(stream, field)
//       "… is typing" for a stream; this reader's typing, at most every three seconds.
//   showPresence(panel, data, countText)
//       Who is here now, in the page's presence panel.
//   inOrder(lastSeqs, page), ORDER_WINDOW_MS, ORDER_HOLD_MAX
//       The in-order applier follow() uses (exported for the browser tests).

const SYNC_INTERVAL_MS = 60000;        // client rule 4: a quiet stream is asked once a minute
const SYNC_NOTICE_SPREAD_MS = 3000;    // the server's `sync` notice is followed within this long
export const ORDER_WINDOW_MS = 1000;   // an early event waits this long for the gap to fill
export const ORDER_HOLD_MAX = 50;      // one catch-up page: a sync brings in one answer what was held
const ANNOUNCE_GATHER_MS = 1500;
const ANNOUNCE_MAX = 3;

let socket = null;
let queue = null;          // the connection's catch-up queue (catchUpQueue)
let stale = false;         // too much was missed: the page is (to be) reloaded
const followers = new Map();  // stream -> its follower

// --- The connection ---------------------------------------------------------------------

export function connect() {
  if (socket) return socket;
  if (typeof window.io !== "function") return null;
  socket = window.io({ transports: ["websocket", "polling"] });
  queue = catchUpQueue(socket);
  socket.on("connect", () => followers.forEach((follower) => follower.join()));
  socket.on("disconnect", () => setStatus("reconnecting"));
  socket.io.on("reconnect_failed", () => setStatus("offline"));
  socket.on("connect_error", () => setStatus(socket.active ? "reconnecting" : "offline"));
  socket.on("event", (event) => { followers.get(event.stream)?.receive(event); });
  // Who may read the stream changed: join again, which checks this reader anew.
  socket.on("rejoin", (data) => { followers.get(data.stream)?.join(); });
  socket.on("presence", (data) => { followers.get(data.stream)?.options.onPresence?.(data); });
  // An event lost on its way (say, while the server's message queue restarted) is noticed at
  // the next event; a quiet page asks once a minute, so nothing stays missing for long.
  window.setInterval(() => {
    if (socket.connected) followers.forEach((follower) => follower.sync());
  }, SYNC_INTERVAL_MS);
  return socket;
}

export function follow(stream, lastSeq, onEvent, options = {}) {
  if (!connect()) return null;
  const known = followers.get(stream);
  if (known) {
    if (known.refused) { known.refused = false; known.join(); }
    return known.handle;
  }
  const follower = makeFollower(stream, lastSeq, onEvent, options);
  followers.set(stream, follower);
  if (socket.connected) follower.join();
  return follower.handle;
}

function makeFollower(stream, lastSeq, onEvent, options) {
  const ordered = options.catchUp !== false && !options.snapshot;
  let last = lastSeq || 0;  // snapshots: the number of the last message applied
  const order = ordered ? inOrder({ [stream]: lastSeq || 0 }, {
    apply: onEvent, sync: () => follower.sync(), stale: () => stale,
  }) : null;
  const follower = {
    options, refused: false,
    join() { queue.ask("join", stream); },
    sync() { if (options.catchUp !== false && !follower.refused) queue.ask("sync", stream); },
    lastSeq() { return options.catchUp === false ? null : ordered ? order.last(stream) : last; },
    receive(event) {
      if (ordered) { order.receive(event); return; }
      if (stale || typeof event.seq !== "number") return;
      if (options.snapshot) {
        if (event.seq <= last) return;
        last = event.seq;
      }
      onEvent(event);
    },
    joined(ack) {
      options.onJoin?.(ack);
      if (ack.presence) options.onPresence?.(ack.presence);
      if (options.status) setStatus("live");
    },
    handle: {
      stream,
      last: () => follower.lastSeq(),
      leave() {
        followers.delete(stream);
        if (socket.connected) socket.emit("leave", { stream });
      },
    },
  };
  return follower;
}

// Catching up (docs/realtime.md): one join or sync at a time on a connection, since the
// server refuses a second while it answers the first; what is asked meanwhile is queued (once
// per stream; a join covers a sync). Missed events come a page at a time (`more`: the next
// page is asked for); a refusal for asking too often (429) is retried after the `retry_after`
// it gives, a timeout or a server failure after 5 s (a join or a sync alike: a lost `more`
// page must not wait for the minute's sync).
function catchUpQueue(socket) {
  let asking = false;
  let items = [];         // [{kind: "join" | "sync", stream}], to ask in this order
  let waiting = null;     // the timer of a retry the server asked us to wait for
  let generation = 0;     // answers from before a disconnection are ignored

  function ask(kind, stream) {
    const queued = items.find((item) => item.stream === stream);
    if (queued) { if (kind === "join") queued.kind = "join"; } else items.push({ kind, stream });
    next();
  }

  function next() {
    if (stale || asking || waiting || !items.length || !socket.connected) return;
    const item = items.shift();
    const follower = followers.get(item.stream);
    if (!follower) { next(); return; }  // left meanwhile
    const mine = generation;
    asking = true;
    socket.timeout(10000).emit(item.kind, { stream: item.stream, last_seq: follower.lastSeq() }, (err, ack) => {
      if (mine !== generation) return;
      try {
        if (err || !ack || !ack.ok) {
          refused(item, follower, err, ack && ack.error);
        } else if (ack.reload) {
          reload(follower);
        } else {
          if (item.kind === "join") follower.joined(ack);
          (item.kind === "join" ? ack.missed : ack.events).forEach(follower.receive);
          if (ack.more) ask("sync", item.stream);
        }
      } finally {  // a failure in applying one answer must not stop catching up for good
        asking = false;
        next();
      }
    });
  }

  function refused(item, follower, err, error) {
    if (error && error.code === 429) {
      // A little randomness, so that many pages refused together do not come back together.
      retryIn(1000 * (error.retry_after || 1) + Math.random() * 1000, item, follower);
    } else if (err || !error || error.code >= 500) {
      retryIn(5000, item, follower);  // a timeout or a server-side failure may pass
    } else if (item.kind === "join") {
      follower.refused = true;  // being refused (4xx) will not
      if (follower.options.status) setStatus("offline");
      follower.options.onRefused?.();
    }
  }

  function retryIn(ms, item, follower) {
    if (item.kind === "join" && follower.options.status) setStatus("reconnecting");
    // First in line again, merged with whatever was asked for its stream meanwhile.
    const meanwhile = items.find((other) => other.stream === item.stream);
    if (meanwhile && meanwhile.kind === "join") item.kind = "join";
    items = [item].concat(items.filter((other) => other.stream !== item.stream));
    window.clearTimeout(waiting);
    waiting = window.setTimeout(() => { waiting = null; next(); }, ms);
  }

  // The server says events may have been lost on their way here (its message queue was
  // down): ask for them, after a random delay, so that its readers do not all ask at once.
  socket.on("sync", (data) => {
    window.setTimeout(() => { followers.get(data.stream)?.sync(); }, Math.random() * SYNC_NOTICE_SPREAD_MS);
  });

  socket.on("disconnect", () => {
    generation += 1;  // what was asked before is answered never, or to no one
    asking = false;
    items = [];
    window.clearTimeout(waiting);
    waiting = null;
  });
  return { ask };
}

// --- Events in order ----------------------------------------------------------------------

// Events in the order of their numbers (docs/realtime.md, client rule 2). With several server
// processes each publishes what it commits on its own, so event 8 may arrive just before 7: an
// event that is early is held until the gap fills, and only a gap still open ORDER_WINDOW_MS
// later (or more than ORDER_HOLD_MAX events held) costs a catch-up. One second: the missing
// event is late by the difference between the two processes' delays from commit to publish,
// which stay within their delivery latency (p95 0.2 to 1 s with 200 to 2,000 readers,
// bench/README.md); a longer wait would only delay what follows an event really lost. A gap
// that a `sync` did not fill is asked about again, less and less often.
// `lastSeqs` maps each stream to the number the page starts from; `page` takes the events:
// apply(event) (in order, once each; catch-up's "superseded" ones are only counted),
// sync(stream), stale() (the page is being reloaded: nothing more is applied).
// Live events and catch-up answers alike go to `receive(event)`; `last(stream)` is the
// number of the last event applied.
export function inOrder(lastSeqs, page) {
  const streams = {};
  Object.keys(lastSeqs).forEach((stream) => {
    streams[stream] = { last: lastSeqs[stream], held: {}, count: 0, timer: null, wait: ORDER_WINDOW_MS,
                        askedFull: false };
  });

  function receive(event) {
    const s = streams[event.stream];
    if (!s || page.stale() || typeof event.seq !== "number" || event.seq <= s.last || s.held[event.seq]) {
      return;  // not ours, or seen
    }
    if (event.seq > s.last + 1) { hold(event.stream, s, event); return; }
    let failure = null;
    for (let next = event; next; next = s.held[s.last + 1]) {
      if (next !== event) { delete s.held[next.seq]; s.count -= 1; }
      s.last = next.seq;
      if (next.type === "superseded") continue;  // catch-up: a later event shows it as it is now
      try { page.apply(next); } catch (e) { failure = failure || e; }  // the next ones still apply
    }
    // Progress: a gap that remains is a new one, and has its own window.
    window.clearTimeout(s.timer);
    s.timer = null;
    s.wait = ORDER_WINDOW_MS;
    s.askedFull = false;
    if (s.count) wait(event.stream, s);
    if (failure) throw failure;
  }

  function hold(stream, s, event) {
    if (s.count >= ORDER_HOLD_MAX) {  // more than reordering: catch up now; these come again
      if (!s.askedFull) { s.askedFull = true; page.sync(stream); }
      return;
    }
    s.held[event.seq] = event;
    s.count += 1;
    if (!s.timer) wait(stream, s);
  }

  function wait(stream, s) {
    s.timer = window.setTimeout(() => {
      s.timer = null;
      if (!s.count || page.stale()) return;
      page.sync(stream);
      s.wait = Math.min(s.wait * 2, 60000);  // still open after the answer: ask again, later
      wait(stream, s);
    }, s.wait);
  }

  return { receive, last: (stream) => streams[stream].last };
}

// --- Status and reloading -----------------------------------------------------------------

let statusElement = null;
let statusWords = {};

export function showStatus(element, words) {
  statusElement = element;
  statusWords = words || {};
}

function setStatus(state) {
  if (!statusElement || (stale && state !== "stale")) return;  // asked to reload: that stays said
  statusElement.hidden = false;
  statusElement.dataset.state = state;
  statusElement.textContent = statusWords[state];
}

function reload(follower) {
  if (follower.options.onReload) { follower.options.onReload(); return; }
  if (follower.options.snapshot) return;  // the next message is the whole state anyway
  stale = true;
  reloadPage(statusWords.reload, (button) => {
    setStatus("stale");
    if (statusElement) statusElement.append(" ", button);
  });
}

// So much was missed that the page itself (rendered by the server) is the cheaper way to
// catch up. What the reader is typing is not thrown away for it, and a page that was
// reloaded for this a minute ago asks rather than reloads again: `ask(button)` then shows
// a button (labelled `label`) that reloads.
export function reloadPage(label, ask) {
  const typing = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"),
                                           (el) => el.value.trim() !== "");
  const key = "plenary-reloaded:" + window.location.pathname;
  let recently = false;
  try {
    recently = Date.now() - (parseInt(window.sessionStorage.getItem(key), 10) || 0) < 60000;
    if (!typing && !recently) window.sessionStorage.setItem(key, String(Date.now()));
  } catch (e) { /* no session storage: reload anyway */ }
  if (!typing && !recently) { window.location.reload(); return; }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-small";
  button.textContent = label;
  button.addEventListener("click", () => { window.location.reload(); });
  ask(button);
}

// --- Saying what happened -----------------------------------------------------------------

let region = null;
let pending = [];          // [{text, many}] gathered for the next saying
let sayTimer = null;
let quietUntil = 0;        // until then, what comes is gathered

export function announce(text, many) {
  if (!text) return;
  pending.push({ text, many });
  if (sayTimer) return;
  sayTimer = window.setTimeout(say, Math.max(0, quietUntil - Date.now()));
}

function say() {
  sayTimer = null;
  const items = pending;
  pending = [];
  if (!items.length) return;
  quietUntil = Date.now() + ANNOUNCE_GATHER_MS;
  const counts = new Map();
  items.forEach((item) => { if (item.many) counts.set(item.many, (counts.get(item.many) || 0) + 1); });
  const texts = [];
  const summarised = new Set();
  items.forEach((item) => {
    const n = item.many ? counts.get(item.many) : 1;
    if (n === 1) texts.push(item.text);
    else if (!summarised.has(item.many)) { summarised.add(item.many); texts.push(item.many(n)); }  // where the first was
  });
  if (!region) {
    region = document.querySelector("[data-live-announcer]");
    if (!region) {
      region = document.createElement("div");
      region.className = "visually-hidden";
      region.setAttribute("aria-live", "polite");
      region.dataset.liveAnnouncer = "";
      document.body.append(region);
    }
  }
  // Emptied first, so that the same words said again are heard again.
  region.textContent = "";
  window.setTimeout(() => { region.textContent = texts.slice(-ANNOUNCE_MAX).join(" "); }, 50);
}

// --- Typing and presence --------------------------------------------------------------------

// "… is typing": the socket's "typing" notices for one stream in `element` ("{names}" in
// `template`), each for five seconds.
export function watchTyping(stream, element, template) {
  if (!element || !connect()) return;
  const typers = {};  // name -> time of their last notice
  let timer = null;
  function show() {
    const now = Date.now();
    const names = Object.keys(typers).filter((name) => now - typers[name] < 5000);
    element.textContent = names.length ? template.replace("{names}", names.join(", ")) : "";
    timer = names.length ? window.setTimeout(show, 1000) : null;
  }
  socket.on("typing", (data) => {
    if (data.stream !== stream) return;
    typers[data.user.name] = Date.now();
    if (timer) window.clearTimeout(timer);
    show();
  });
}

// Tells the stream, at most every three seconds, that this reader types in `field`.
export function sendTyping(stream, field) {
  if (!field || !connect()) return;
  let last = 0;
  field.addEventListener("input", () => {
    if (socket.connected && Date.now() - last > 3000) {
      last = Date.now();
      socket.emit("typing", { stream });
    }
  });
}

// Who is here now: "N here now" and the names. A large audience comes as a number: only the
// first names are sent (maybe none), and `more` counts the other signed-in people, shown as
// "+N" after the names.
export function showPresence(panel, data, countText) {
  if (!panel) return;
  panel.hidden = false;
  panel.querySelector("[data-presence-count]").textContent = countText;
  const list = panel.querySelector("[data-presence-list]");
  const items = (data.users || []).map((user) => {
    const li = document.createElement("li");
    li.textContent = user.name;
    return li;
  });
  if (data.more > 0) {
    const more = document.createElement("li");
    more.textContent = "+" + data.more;
    items.push(more);
  }
  list.replaceChildren(...items);
}
