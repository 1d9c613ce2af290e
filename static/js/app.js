// Plenary: small enhancements on top of pages that work without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Show times in the reader's own time zone and language when the browser knows them
  // (also used by live.js for posts that arrive later).
  var lang = document.documentElement.lang || undefined;
  var format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch (e) { format = null; }
  window.plenaryFormatTimes = function (root) {
    if (!format) return;
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) {
        el.title = el.textContent.trim();
        el.textContent = format.format(date);
      }
    });
  };
  window.plenaryFormatTimes(document);

  // A post's card, built from a live event the way the server renders it on page load: the
  // page carries the card's own template (`source`, a <script type="text/html">:
  // forum/web/cards.py), rendered in its language with
  // every part that depends on the post in a <template data-if="facts">, kept when all the
  // facts hold ("!name": when it does not), and every value of the post as a slot, ⟦name⟧,
  // in text or in an attribute (⟦?facts:text⟧ in an attribute: `text` when the facts hold).
  // Slots are filled as text, never parsed; the ones named *_html take the post's HTML as
  // the server sanitised it (forum/rendering.py). `facts` and `values` are plain objects.
  // An element marked data-drop-empty="selector" goes when nothing in it matches.
  var SLOT = /⟦(\?([^:⟧]*):)?([^⟦⟧]*)⟧/g;
  window.plenaryFillCard = function (source, facts, values) {
    var template = document.createElement("template");
    template.innerHTML = source.textContent.trim();
    function holds(condition) {
      return condition.split(" ").every(function (fact) {
        var negated = fact.charAt(0) === "!";
        var name = negated ? fact.slice(1) : fact;
        if (!(name in facts)) throw new Error("plenaryFillCard: no fact " + name);
        return negated ? !facts[name] : !!facts[name];
      });
    }
    function value(name) {
      if (!(name in values)) throw new Error("plenaryFillCard: no value " + name);
      return values[name] === null || values[name] === undefined ? "" : String(values[name]);
    }
    function fillText(text) {
      return text.replace(SLOT, function (_all, _cond, condition, rest) {
        return condition !== undefined ? (holds(condition) ? rest : "") : value(rest);
      });
    }
    function resolve(fragment) {
      fragment.querySelectorAll("template[data-if]").forEach(function (part) {
        if (holds(part.dataset.if)) part.replaceWith(resolve(part.content)); else part.remove();
      });
      return fragment;
    }
    var card = resolve(template.content);
    var walker = document.createTreeWalker(card, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) {
        var html = /^⟦(\w+_html)⟧$/.exec(node.data.trim());
        if (html) {
          var trusted = document.createElement("template");
          trusted.innerHTML = value(html[1]);  // sanitised by the server (bleach), never user text as is
          node.replaceWith(trusted.content);
        } else if (node.data.indexOf("⟦") !== -1) {
          node.data = fillText(node.data);
        }
        return;
      }
      Array.prototype.forEach.call(node.attributes, function (attribute) {
        if (attribute.value.indexOf("⟦") !== -1) attribute.value = fillText(attribute.value);
      });
    });
    Array.prototype.slice.call(card.querySelectorAll("[data-drop-empty]")).reverse().forEach(function (el) {
      if (!el.querySelector(el.dataset.dropEmpty)) el.remove(); else el.removeAttribute("data-drop-empty");
    });
    var element = card.firstElementChild;
    window.plenaryFormatTimes(element);  // as on page load
    return element;
  };

  // The facts and values of plenaryFillCard that a consultation's post and a room's message
  // share, from an event's post; `words` is the page's card-words (country names, ...).
  window.plenaryCardData = function (post, words) {
    var author = post.author || {};
    var quote = post.quote || {};
    var parent = post.parent || {};
    return {
      facts: {
        deleted: post.deleted, hidden: post.hidden, pinned: post.pinned, organisation: !!author.organisation,
        parent: !!post.parent, parent_deleted: !!parent.deleted, quote: !!post.quote,
        quote_deleted: quote.state === "deleted", quote_gone: quote.state !== "shown"
      },
      values: {
        id: post.id, parent_id: post.parent_id, author_id: post.author_id, created_at: post.created_at,
        body_html: post.body_html, author_name: author.name, organisation: author.organisation,
        country: author.country, country_name: words.countries[author.country] || author.country,
        parent_name: parent.name, quoted_id: quote.id, quote_name: quote.name, quote_html: quote.body_html,
        endorsement_count: post.endorsement_count
      }
    };
  };

  // What this page's reader may do with a post: the server's answer for their kind of reader,
  // sent with it (forum/permissions.py actions_by_reader: bit masks over words.actions, at the
  // index reader_index gives); `reader`: {role, writes, me}, from the page.
  window.plenaryActions = function (post, words, reader) {
    var own = reader.me !== null && post.author_id === reader.me;
    var index = (words.reader_roles.indexOf(reader.role) * 2 + (reader.writes ? 1 : 0)) * 2 + (own ? 1 : 0);
    var mask = (post.acts || [])[index] || 0;
    var facts = {};
    words.actions.forEach(function (name, bit) { facts[name] = (mask & (1 << bit)) !== 0; });
    return facts;
  };

  // Every posting form carries a key of its own: sent twice (a double click, a resend after
  // a lost answer), it still makes one post.
  window.plenaryNewKey = function () {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2);
  };
  document.querySelectorAll('input[name="client_key"]').forEach(function (input) {
    if (!input.value) input.value = window.plenaryNewKey();
  });

  // A counted text in the page's language: `forms` maps each plural category of the language
  // ("one", "other"...) to its text with {n} for the number, as the server sends it
  // (forum.i18n.plural_forms); the browser knows which category a number falls in.
  window.plenaryPlural = function (forms, n) {
    var category = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
    return (forms[category] || forms.other).split("{n}").join(String(n));
  };

  // Who is here now, on a live page (live.js and room.js): "N here now" and the names. A
  // large audience comes as a number: only the first names are sent (maybe none), and
  // `more` counts the other signed-in people, shown as "+N" after the names.
  window.plenaryShowPresence = function (panel, data, countText) {
    if (!panel) return;
    panel.hidden = false;
    panel.querySelector("[data-presence-count]").textContent = countText;
    var list = panel.querySelector("[data-presence-list]");
    var items = (data.users || []).map(function (user) {
      var li = document.createElement("li");
      li.textContent = user.name;
      return li;
    });
    if (data.more > 0) {
      var more = document.createElement("li");
      more.textContent = "+" + data.more;
      items.push(more);
    }
    list.replaceChildren.apply(list, items);
  };

  // Catching up (docs/realtime.md), for live.js and room.js alike: one join or sync at a time
  // on a connection, since the server refuses a second while it answers the first; what is
  // asked meanwhile is queued (once per stream; a join covers a sync). Missed events come a
  // page at a time (`more`: the next page is asked for); a refusal for asking too often (429)
  // is retried after the `retry_after` it gives, a timeout or a server failure after 5 s (a
  // join or a sync alike: a lost `more` page must not wait for the minute's sync).
  // `page` says where the page is and takes the answers: lastSeq(stream), stale(),
  // answered(kind, stream, ack), reload(), retrying(stream), refused(stream) (a 4xx join).
  // The server's `sync` notice (its message queue was down) is followed within this long.
  var SYNC_NOTICE_SPREAD_MS = 3000;
  window.plenaryCatchUp = function (socket, page) {
    var asking = false;
    var queue = [];         // [{kind: "join" | "sync", stream}], to ask in this order
    var waiting = null;     // the timer of a retry the server asked us to wait for
    var generation = 0;     // answers from before a disconnection are ignored

    function ask(kind, stream) {
      var queued = queue.filter(function (item) { return item.stream === stream; })[0];
      if (queued) { if (kind === "join") queued.kind = "join"; } else queue.push({ kind: kind, stream: stream });
      next();
    }

    function next() {
      if (page.stale() || asking || waiting || !queue.length || !socket.connected) return;
      var item = queue.shift();
      var mine = generation;
      asking = true;
      socket.timeout(10000).emit(item.kind, { stream: item.stream, last_seq: page.lastSeq(item.stream) },
                                 function (err, ack) {
        if (mine !== generation) return;
        try {
          if (err || !ack || !ack.ok) {
            refused(item, err, ack && ack.error);
          } else if (ack.reload) {
            page.reload();
          } else {
            page.answered(item.kind, item.stream, ack);
            if (ack.more) ask("sync", item.stream);
          }
        } finally {  // a failure in applying one answer must not stop catching up for good
          asking = false;
          next();
        }
      });
    }

    function refused(item, err, error) {
      if (error && error.code === 429) {
        // A little randomness, so that many pages refused together do not come back together.
        retryIn(1000 * (error.retry_after || 1) + Math.random() * 1000, item);
      } else if (err || !error || error.code >= 500) {
        retryIn(5000, item);  // a timeout or a server-side failure may pass
      } else if (item.kind === "join") {
        page.refused(item.stream);  // being refused (4xx) will not
      }
    }

    function retryIn(ms, item) {
      if (item.kind === "join") page.retrying(item.stream);
      // First in line again, merged with whatever was asked for its stream meanwhile.
      var meanwhile = queue.filter(function (other) { return other.stream === item.stream; })[0];
      if (meanwhile && meanwhile.kind === "join") item.kind = "join";
      queue = [item].concat(queue.filter(function (other) { return other.stream !== item.stream; }));
      window.clearTimeout(waiting);
      waiting = window.setTimeout(function () { waiting = null; next(); }, ms);
    }

    // The server says events may have been lost on their way here (its message queue was
    // down): ask for them, after a random delay, so that its readers do not all ask at once.
    socket.on("sync", function (data) {
      window.setTimeout(function () { ask("sync", data.stream); }, Math.random() * SYNC_NOTICE_SPREAD_MS);
    });

    socket.on("disconnect", function () {
      generation += 1;  // what was asked before is answered never, or to no one
      asking = false;
      queue = [];
      window.clearTimeout(waiting);
      waiting = null;
    });
    return { ask: ask };
  };

  // Events in the order of their numbers (docs/realtime.md, client rule 2), for live.js and
  // room.js alike. With several server processes each publishes what it commits on its own, so
  // event 8 may arrive just before 7: an event that is early is held until the gap fills, and
  // only a gap still open REORDER_WINDOW_MS later (or more than REORDER_HOLD_MAX events held)
  // costs a catch-up. One second: the missing event is late by the difference between the two
  // processes' delays from commit to publish, which stay within their delivery latency (p95
  // 0.2 to 1 s with 200 to 2,000 readers, bench/README.md); a longer wait would only delay
  // what follows an event really lost. A gap that a `sync` did not fill is asked about again,
  // less and less often.
  // `lastSeqs` maps each stream to the number the page starts from; `page` takes the events:
  // apply(event) (in order, once each; catch-up's "superseded" ones are only counted),
  // sync(stream), stale() (the page is being reloaded: nothing more is applied).
  // Live events and catch-up answers alike go to `receive(event)`; `last(stream)` is the
  // number of the last event applied.
  var REORDER_WINDOW_MS = 1000;
  var REORDER_HOLD_MAX = 50;  // one catch-up page: a sync brings in one answer what was held
  window.plenaryInOrder = function (lastSeqs, page) {
    var streams = {};
    Object.keys(lastSeqs).forEach(function (stream) {
      streams[stream] = { last: lastSeqs[stream], held: {}, count: 0, timer: null, wait: REORDER_WINDOW_MS,
                          askedFull: false };
    });

    function receive(event) {
      var s = streams[event.stream];
      if (!s || page.stale() || typeof event.seq !== "number" || event.seq <= s.last || s.held[event.seq]) {
        return;  // not ours, or seen
      }
      if (event.seq > s.last + 1) { hold(event.stream, s, event); return; }
      var failure = null;
      for (var next = event; next; next = s.held[s.last + 1]) {
        if (next !== event) { delete s.held[next.seq]; s.count -= 1; }
        s.last = next.seq;
        if (next.type === "superseded") continue;  // catch-up: a later event shows it as it is now
        try { page.apply(next); } catch (e) { failure = failure || e; }  // the next ones still apply
      }
      // Progress: a gap that remains is a new one, and has its own window.
      window.clearTimeout(s.timer);
      s.timer = null;
      s.wait = REORDER_WINDOW_MS;
      s.askedFull = false;
      if (s.count) wait(event.stream, s);
      if (failure) throw failure;
    }

    function hold(stream, s, event) {
      if (s.count >= REORDER_HOLD_MAX) {  // more than reordering: catch up now; these come again
        if (!s.askedFull) { s.askedFull = true; page.sync(stream); }
        return;
      }
      s.held[event.seq] = event;
      s.count += 1;
      if (!s.timer) wait(stream, s);
    }

    function wait(stream, s) {
      s.timer = window.setTimeout(function () {
        s.timer = null;
        if (!s.count || page.stale()) return;
        page.sync(stream);
        s.wait = Math.min(s.wait * 2, 60000);  // still open after the answer: ask again, later
        wait(stream, s);
      }, s.wait);
    }

    return {
      receive: receive,
      last: function (stream) { return streams[stream].last; }
    };
  };
  window.plenaryInOrder.WINDOW_MS = REORDER_WINDOW_MS;
  window.plenaryInOrder.HOLD_MAX = REORDER_HOLD_MAX;

  // So much was missed that the page itself (rendered by the server) is the cheaper way to
  // catch up. What the reader is typing is not thrown away for it, and a page that was
  // reloaded for this a minute ago asks rather than reloads again: `ask(button)` then shows
  // a button (labelled `label`) that reloads.
  window.plenaryReloadPage = function (label, ask) {
    var typing = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"),
                                           function (el) { return el.value.trim() !== ""; });
    var key = "plenary-reloaded:" + window.location.pathname;
    var recently = false;
    try {
      recently = Date.now() - (parseInt(window.sessionStorage.getItem(key), 10) || 0) < 60000;
      if (!typing && !recently) window.sessionStorage.setItem(key, String(Date.now()));
    } catch (e) { /* no session storage: reload anyway */ }
    if (!typing && !recently) { window.location.reload(); return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small";
    button.textContent = label;
    button.addEventListener("click", function () { window.location.reload(); });
    ask(button);
  };

  // Who is typing, on a live page (live.js and room.js). `watchTyping` shows the socket's
  // "typing" notices for one stream in `element` ("{names}" in `template`), each for five
  // seconds; `sendTyping` tells the stream, at most every three seconds, that this reader types.
  window.plenaryWatchTyping = function (socket, stream, element, template) {
    if (!element) return;
    var typers = {};  // name -> time of their last notice
    var timer = null;
    function show() {
      var now = Date.now();
      var names = Object.keys(typers).filter(function (name) { return now - typers[name] < 5000; });
      element.textContent = names.length ? template.replace("{names}", names.join(", ")) : "";
      timer = names.length ? window.setTimeout(show, 1000) : null;
    }
    socket.on("typing", function (data) {
      if (data.stream !== stream) return;
      typers[data.user.name] = Date.now();
      if (timer) window.clearTimeout(timer);
      show();
    });
  };
  window.plenarySendTyping = function (socket, stream, field) {
    var last = 0;
    field.addEventListener("input", function () {
      if (socket.connected && Date.now() - last > 3000) {
        last = Date.now();
        socket.emit("typing", { stream: stream });
      }
    });
  };

  // A live count of the characters left in long text fields.
  document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    var counter = document.createElement("p");
    counter.className = "hint char-count";
    counter.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", counter);
    function update() {
      var left = area.maxLength - area.value.length;
      counter.textContent = left < 1000 ? left + " / " + area.maxLength : "";
    }
    area.addEventListener("input", update);
    update();
  });
})();
