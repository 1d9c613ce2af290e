"""What a page needs to show polls live (static/js/polls.js; protocol: docs/realtime.md, *Polls*).

- `poll_live(poll)`: for a poll's page, the results streams this reader may follow now
  (decided here, by forum.permissions: the script only joins what it is given) with the number
  the page was rendered at, its place's stream, and the results template.
- The results template: a poll's results (templates/polls/_results.html, the page's own
  partial) rendered in the page's language for stand-in results in which every figure is a
  slot, `⟦name⟧`, as forum/web/cards.py does for posts. The script fills the slots from a
  `poll.results` message (plenaryFillCard), so what it shows is what the server renders:
  per option `o<id>_votes`, `o<id>_share`, `o<id>_bar`, `o<id>_points`, `o<id>_mean`,
  `o<id>_ratings`, `o<id>_d<value>`; `voters_text`, `points_given_text` (counted texts, from
  the page's plural forms). Results whose shape varies with the ballots (a ranked poll's
  rounds) and breakdowns have no template: the page asks the server for them (`fetch`).
- `GET /polls/<id>/card`: a poll's card in its place's list, for this reader (a room's page
  adds it when the poll opens).
- `GET /polls/<id>/results/live`: the results partial as the page shows it, from the latest
  stored results messages (no tally: what the messages carried), for what the template cannot
  build. Every reader of a poll asks for it after each message (at most every two seconds):
  the rendering is kept per poll, message numbers, language and view, so a thousand readers
  cost one rendering and a thousand look-ups.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from forum import permissions
from forum.extensions import db
from forum.i18n import plural_forms
from forum.models.base import utcnow
from forum.models.polls import PollKind
from forum.models.streams import StreamEvent
from forum.services import events
from forum.services.errors import PermissionDenied
from forum.services.poll_events import breakdown_stream, place_stream, results_stream

bp = Blueprint("poll_live", __name__)

_BASE = 7391000000  # stand-in whole numbers: ten digits, unlike anything else on the page


@bp.get("/polls/<int:poll_id>/card")
def card(poll_id: int):
    """The poll's card (templates/polls/_card.html) as its place's page shows it to this reader."""
    poll = permissions.access_poll(current_user, poll_id)
    return render_template("polls/_card.html", poll=poll)


FRAGMENTS = "plenary.poll_result_fragments"
FRAGMENTS_KEPT = 256


@bp.get("/polls/<int:poll_id>/results/live")
def live_results(poll_id: int):
    """The results partial (templates/polls/_results.html) for this reader, from the latest
    stored `poll.results` (and, for who may see them, `poll.breakdown`) message."""
    from forum.web.polls import figures, result_context

    poll = permissions.access_poll(current_user, poll_id)
    if not permissions.can_see_results(current_user, poll):
        raise PermissionDenied(_("The results of this poll are not shown to you yet."))
    sees_breakdown = permissions.can_see_breakdown(current_user, poll)
    results = _latest_data(results_stream(poll))
    breakdowns = _latest_data(breakdown_stream(poll)) if sees_breakdown else ((), None)
    if results[1] is None or (sees_breakdown and breakdowns[1] is None):  # none recorded yet: count
        return render_template("polls/_results.html", poll=poll, **result_context(poll), **figures())
    key = (poll.id, results[0], breakdowns[0], str(get_locale()), sees_breakdown, poll.phase(utcnow()).value,
           poll.breakdown_published)
    kept = current_app.extensions.setdefault(FRAGMENTS, {})
    if key not in kept:
        if len(kept) >= FRAGMENTS_KEPT:
            kept.clear()
        kept[key] = render_template("polls/_results.html", poll=poll, results=results[1]["results"],
                                    breakdowns=breakdowns[1]["breakdowns"] if sees_breakdown else None,
                                    **figures())
    return kept[key]


def _latest_data(stream_key: str) -> tuple[tuple, dict | None]:
    """A snapshot stream's latest message: ((seq, when it was stored), its data), or ((), None).
    Its time is part of what the rendering is kept by: a number alone may come again (SQLite
    reuses the ids of rolled-back rows, and with them a stream's key)."""
    latest = db.session.execute(
        select(StreamEvent.seq, StreamEvent.created_at, StreamEvent.payload)
        .where(StreamEvent.stream_key == stream_key).order_by(StreamEvent.seq.desc()).limit(1)).first()
    if latest is None or latest.payload is None:
        return (), None
    return (latest.seq, latest.created_at.isoformat()), latest.payload["data"]


@bp.app_template_global()
def poll_live(poll) -> dict:
    """The data attributes and scripts' data of a poll's page (templates/polls/_live.html)."""
    sees_results = permissions.can_see_results(current_user, poll)
    sees_breakdown = permissions.can_see_breakdown(current_user, poll)
    return {
        "poll_id": poll.id,
        "place_stream": place_stream(poll),
        "results_stream": results_stream(poll) if sees_results else "",
        "results_seq": events.latest_seq(results_stream(poll)) if sees_results else 0,
        "breakdown_stream": breakdown_stream(poll) if sees_breakdown else "",
        "breakdown_seq": events.latest_seq(breakdown_stream(poll)) if sees_breakdown else 0,
        "closes_at": poll.closes_at.isoformat() if poll.closes_at else "",
        "results_url": url_for("poll_live.live_results", poll_id=poll.id),
        "template": results_template(poll),
        "words": {"voters": plural_forms("%(num)d voter", "%(num)d voters"),
                  "points_given": plural_forms("Points per option (%(num)d point given)",
                                               "Points per option (%(num)d points given)")},
    }


def _stand_in(poll) -> tuple[dict, dict[str, str], dict[float, str], dict[str, str]]:
    """(results, {rendered number: slot}, {figure: slot} for the formatters, {bar width: slot})."""
    numbers: dict[str, str] = {}
    figures: dict[float, str] = {}
    bars: dict[str, str] = {}
    counter = iter(range(1, 10_000))

    def number(slot: str) -> int:
        value = _BASE + next(counter)
        numbers[str(value)] = f"⟦{slot}⟧"
        return value

    kind = poll.kind
    span = poll.scale_max - poll.scale_min
    rows = []
    for index, option in enumerate(poll.options):
        fraction = (index + 1) / 1000  # a bar of 0.10, 0.20, ... (distinct, never a real width here)
        bars['width="%.2f"' % (fraction * 100)] = f'width="⟦o{option.id}_bar⟧"'
        if kind is PollKind.SCORE:
            mean = poll.scale_min + fraction * span
            figures[mean] = f"⟦o{option.id}_mean⟧"
            rows.append({"id": option.id, "mean": mean, "ratings": number(f"o{option.id}_ratings"),
                         "distribution": {str(v): number(f"o{option.id}_d{v}")
                                          for v in range(poll.scale_min, poll.scale_max + 1)}})
        else:
            figures[fraction] = f"⟦o{option.id}_share⟧"
            rows.append({"id": option.id, "share": fraction, "votes": number(f"o{option.id}_votes"),
                         "points": number(f"o{option.id}_points")})
    results = {"kind": kind.value, "voters": number("voters"), "options": rows}
    if kind is PollKind.DOTS:
        results["points_given"] = number("points_given")
    return results, numbers, figures, bars


def results_template(poll) -> Markup:
    """`<script type="text/html" data-poll-results-template="ID">`, or nothing where the results'
    shape varies with the ballots (ranked choice: its rounds)."""
    if poll.kind is PollKind.RANKED:
        return Markup("")
    results, numbers, figures, bars = _stand_in(poll)

    def figure(value):
        return figures[value]
    html = render_template("polls/_results.html", poll=poll, results=results, breakdowns=None,
                           percent=figure, decimal=figure)
    # Counted texts first (they hold their number), then the numbers alone.
    html = html.replace(ngettext("%(num)d voter", "%(num)d voters", results["voters"]), "⟦voters_text⟧")
    if "points_given" in results:
        html = html.replace(ngettext("Points per option (%(num)d point given)",
                                     "Points per option (%(num)d points given)", results["points_given"]),
                            "⟦points_given_text⟧")
    html = re.sub(r"\b%d\d{6}\b" % (_BASE // 1_000_000), lambda m: numbers.get(m.group(0), m.group(0)), html)
    for width, slot in bars.items():
        html = html.replace(width, slot)
    if "</script" in html.lower():  # it holds no user data but the options' labels, escaped
        raise ValueError("a results template may not hold </script")
    return Markup('<script type="text/html" data-poll-results-template="{}">{}</script>').format(
        poll.id, Markup(html.strip()))
