"""Feedback in an event's export (docs/feedback.md): the report's "Feedback" section
(Markdown, HTML and so the PDF) and `feedback` in the JSON export. For a whole event only
(exported by its organisers, who see the results); comments name their authors only where
the author chose to show their name."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from forum.exports.scope import Scope
from forum.services import feedback as service


def section(scope: Scope) -> service.Results | None:
    """None for anything but an event's export, or an event nobody gave feedback on."""
    if scope.kind != "event" or scope.event is None:
        return None
    results = service.build_results(scope.event)
    return results if results.answers else None


def summary(results: service.Results) -> str:
    overall = results.overall
    return ngettext("%(num)d person answered the feedback form; overall rating %(mean)s out of 5.",
                    "%(num)d people answered the feedback form; overall rating %(mean)s out of 5.",
                    results.answers, mean=f"{overall.mean:.1f}")


def _rows(dist: service.Distribution) -> list[list[str]]:
    return [[str(service.RATING_LABELS[r]), str(dist.counts[r]), f"{dist.share(r) * 100:.0f} %",
             "█" * round(dist.share(r) * 20)] for r in reversed(service.RATINGS)]


def _mean(dist: service.Distribution) -> str:
    if not dist.count:
        return _("No ratings yet.")
    return ngettext("Mean %(mean)s from %(num)d answer.", "Mean %(mean)s from %(num)d answers.",
                    dist.count, mean=f"{dist.mean:.1f}")


def markdown(results: service.Results | None) -> list[str]:
    if results is None:
        return []
    from forum.exports import report as reports

    headings = [_("Rating"), _("Answers"), _("Share"), _("Bar")]
    out = [f"## {reports.md(_('Feedback'))}", "", reports.md(summary(results)), ""]
    out += [f"### {reports.md(_('Overall rating'))}", ""]
    out += reports._md_table(headings, _rows(results.overall), numeric_from=1)
    out += [reports.md(_mean(results.overall)), ""]
    if results.rate_room:
        for room in results.rooms:
            if room.ratings.count:
                out += [f"### {reports.md(_('Rating of “%(room)s”', room=room.title))}", ""]
                out += reports._md_table(headings, _rows(room.ratings), numeric_from=1)
                out += [reports.md(_mean(room.ratings)), ""]
    for question in results.questions:
        out += [f"### {reports.md(question.question)}", ""]
        if question.comments:
            out += [f"- {reports.md(' '.join(c.text.split()))}" + (f" — {reports.md(c.author)}" if c.author else "")
                    for c in question.comments] + [""]
        else:
            out += [reports.md(_("No answers to this question yet.")), ""]
    return out


def _json_dist(dist: service.Distribution) -> dict[str, Any]:
    return {"counts": {str(r): dist.counts[r] for r in service.RATINGS}, "count": dist.count,
            "mean": round(dist.mean, 3) if dist.mean is not None else None}


def json_section(scope: Scope) -> dict[str, Any] | None:
    results = section(scope)
    if results is None:
        return None
    return {"answers": results.answers, "overall": _json_dist(results.overall),
            "rooms": [{"title": room.title, **_json_dist(room.ratings)} for room in results.rooms]
            if results.rate_room else [],
            "questions": [{"question": q.question,
                           "comments": [{"text": c.text, "author": c.author} for c in q.comments]}
                          for q in results.questions]}
