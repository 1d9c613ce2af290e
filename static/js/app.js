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
    // A closed account's name is the page's "Former participant", in its reader's language.
    function name(who) { return who.former ? words.former_participant : who.name; }
    return {
      facts: {
        deleted: post.deleted, hidden: post.hidden, pinned: post.pinned, organisation: !!author.organisation,
        erased: !!post.erased,
        parent: !!post.parent, parent_deleted: !!parent.deleted, quote: !!post.quote,
        quote_deleted: quote.state === "deleted" || quote.state === "erased", quote_erased: quote.state === "erased",
        quote_gone: quote.state !== "shown"
      },
      values: {
        id: post.id, parent_id: post.parent_id, author_id: post.author_id, created_at: post.created_at,
        body_html: post.body_html, author_name: name(author), organisation: author.organisation,
        country: author.country, country_name: words.countries[author.country] || author.country || "",
        parent_name: name(parent), quoted_id: quote.id, quote_name: name(quote), quote_html: quote.body_html,
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
