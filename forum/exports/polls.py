"""The polls of an export's scope: a section per poll in the summary report, `polls` in the
JSON export, and the votes file (CSV, one row per vote).

Which polls: those of the scope's place (a consultation's, consultation-wide and of its topics;
a topic's; an event's rooms'; a room's; a thread has none), drafts left out. What each shows:

- results: in the moderators' view, always for those who manage the poll (the consultation's
  organisers; the event's organisers and the room's co-moderators), else as a reader of the
  poll would see them (`results_shown`: live, after voting, after close); in the public
  summary as every reader sees them, whoever looks (the page may be cached);
- breakdowns (by country and organisation type, small groups suppressed: tally.breakdown):
  for those who manage the poll, and for everyone allowed the results once published;
- the votes file: only polls the exporter manages. An anonymous poll's rows carry the ballot
  and nothing of the voter (no name, reference, country, organisation type or time) and are
  sorted by ballot, so that their order says nothing either; a named poll's voters are named
  as authors are (scope.author_label).

The figures all come from forum.services.tally, as on the poll's page. docs/exports.md
describes the formats.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forum import permissions
from forum.exports import data
from forum.exports import report as reports
from forum.exports.scope import Scope, author_label, organisation_label
from forum.extensions import db
from forum.i18n import label
from forum.models import User
from forum.models.base import utcnow
from forum.models.polls import (
    POLL_KIND_LABELS,
    POLL_STATUS_LABELS,
    RESULTS_SHOWN_LABELS,
    Poll,
    PollKind,
    PollStatus,
    PollVote,
    ResultsShown,
)
from forum.services import polls as poll_service
from forum.services import tally

# The votes file's header (docs/exports.md explains each column). An anonymous poll's rows
# leave every VOTER_COLUMNS cell empty.
POLL_COLUMNS = ("poll_id", "poll_question", "poll_kind", "place_kind", "place_id", "place_title", "anonymous")
VOTER_COLUMNS = ("voter_ref", "voter", "organisation", "organisation_type", "organisation_type_label", "country",
                 "voted_at", "changed_at")
VOTE_COLUMNS = POLL_COLUMNS + VOTER_COLUMNS + ("choice", "choice_text")
BAR_CHARS = 24  # the longest bar of a Markdown text chart


# --- Which polls, and what of them -----------------------------------------------------------

def scope_polls(scope: Scope) -> list[Poll]:
    """The polls of the scope, drafts aside, in the order of their places: a consultation's by
    position, an event's by room (plenary first), then as they were created. The public
    summary leaves out those that have not opened yet."""
    if scope.thread is not None:
        return []
    query = select(Poll).where(Poll.status != PollStatus.DRAFT).options(selectinload(Poll.options))
    if scope.is_event:
        rooms = {room.id: index for index, room in enumerate(scope.sections)}
        query = query.where(Poll.room_id.in_(list(rooms)))
        order = lambda poll: (rooms[poll.room_id], poll.created_at, poll.id)  # noqa: E731
    else:
        if scope.kind == "topic":
            query = query.where(Poll.topic_id == scope.id)
        else:
            query = query.where(Poll.consultation_id == scope.consultation.id)
        order = lambda poll: (poll.position, poll.created_at, poll.id)  # noqa: E731
    polls = sorted(db.session.scalars(query), key=order)
    if not scope.moderators_view:
        now = utcnow()
        polls = [poll for poll in polls if poll.opens_at is None or poll.opens_at <= now]
    return polls


def manages(scope: Scope, poll: Poll) -> bool:
    """Whether the exporter manages the poll (moderators' view only)."""
    return scope.moderators_view and scope.viewer is not None and permissions.can_manage_poll(scope.viewer, poll)


def shows_results(scope: Scope, poll: Poll) -> bool:
    """The moderators' view shows what its exporter may see on the poll's page; a public
    summary what every reader sees."""
    if scope.moderators_view and scope.viewer is not None:
        return permissions.can_see_results(scope.viewer, poll)
    return poll.results_shown is ResultsShown.LIVE or poll.phase(utcnow()) is PollStatus.CLOSED


def shows_breakdown(scope: Scope, poll: Poll) -> bool:
    if scope.moderators_view and scope.viewer is not None:
        return permissions.can_see_breakdown(scope.viewer, poll)
    return poll.breakdown_published and shows_results(scope, poll)


def figures(poll: Poll) -> tuple[dict, dict[str, dict]]:
    """The poll's results and its breakdowns by country and by organisation type, as its page
    shows them."""
    counted = poll_service.ballots(poll)
    return poll_service.poll_results(poll, counted), poll_service.poll_breakdowns(poll, counted)


def place_of(poll: Poll) -> tuple[str, int | None, str]:
    """(kind, id, title) of where the poll is: a topic, a room, or the whole consultation."""
    if poll.room_id is not None:
        return "room", poll.room_id, poll.room.title
    if poll.topic_id is not None:
        return "topic", poll.topic_id, data._place_title(poll.topic)
    return "consultation", poll.consultation_id, poll.consultation.title


def group_label(by: str, code: str) -> str:
    if not code:
        return _("Not stated")
    return label(by, code)


# --- The report ------------------------------------------------------------------------------

@dataclass
class Bar:
    label: str
    length: float  # 0..1 of the chart's width
    text: str  # the figure written after the bar


@dataclass
class Bars:
    """A horizontal bar chart (inline SVG); a Table of the same figures goes with it."""
    id: str
    title: str
    bars: list[Bar]

    @property
    def svg(self) -> Markup:
        return bars_svg(self)


@dataclass
class TableRow:
    heading: str
    cells: list[str]
    withheld: str = ""  # a suppressed group: said once in place of its figures


@dataclass
class Table:
    caption: str
    headings: list[str]  # the first heads the rows' headings
    rows: list[TableRow]
    note: str = ""


@dataclass
class PollReport:
    id: int
    question: str
    kind_label: str
    place: str  # the topic or room; "" for a consultation-wide poll
    description: str
    facts: list[str]
    shown: bool  # whether its results are in the report
    withheld: str  # why not, when they are not
    chart: Bars | None = None
    tables: list[Table] = field(default_factory=list)
    outcome: str = ""  # ranked choice: the instant-runoff's end
    breakdowns: list[Table] = field(default_factory=list)


def report_polls(scope: Scope, zone: ZoneInfo) -> list[PollReport]:
    """A section per poll of the scope, its words in the current locale, times in `zone`."""
    now = utcnow()
    sections = []
    for poll in scope_polls(scope):
        shown = shows_results(scope, poll)
        place = "" if poll.topic_id is None and poll.room_id is None else place_of(poll)[2]
        section = PollReport(
            id=poll.id, question=poll.question, kind_label=str(POLL_KIND_LABELS[poll.kind]), place=place,
            description=poll.description, facts=_facts(poll, zone, now), shown=shown,
            withheld="" if shown else _withheld(poll))
        if shown:
            results, breakdowns = figures(poll)
            labels = {option.id: option.label for option in poll.options}
            section.facts.append(ngettext("%(num)d voter.", "%(num)d voters.", results["voters"]))
            section.chart, section.tables, section.outcome = _figures(poll, results, labels)
            if shows_breakdown(scope, poll):
                section.breakdowns = [_breakdown_table(poll, breakdowns[by], labels) for by in tally.BREAKDOWN_BY]
        sections.append(section)
    return sections


def _withheld(poll: Poll) -> str:
    if poll.results_shown is ResultsShown.AFTER_VOTE:
        return _("Its results are shown to those who voted until the poll closes, then to everyone.")
    return _("Its results are shown when the poll closes.")


def _facts(poll: Poll, zone: ZoneInfo, now: datetime) -> list[str]:
    facts = [_("Status: %(status)s.", status=POLL_STATUS_LABELS[poll.phase(now)])]
    for heading, moment in ((_("Opens"), poll.opens_at), (_("Closes"), poll.closed_at or poll.closes_at)):
        if moment is not None:
            facts.append(f"{heading}: {reports.format_when(moment, zone)}.")
    kind = poll.kind
    if kind is PollKind.SINGLE:
        facts.append(_("One option per voter."))
    elif kind is PollKind.MULTIPLE:
        facts.append(ngettext("Up to %(num)d option per voter.", "Up to %(num)d options per voter.",
                              poll.max_choices) if poll.max_choices else _("Any number of options per voter."))
    elif kind is PollKind.SCORE:
        facts.append(_("Each option is rated from %(min)d to %(max)d.", min=poll.scale_min, max=poll.scale_max))
        words = _scale_words(poll)
        if words:
            facts.append(_("Scale: %(words)s.", words="; ".join(f"{value} = {text}" for value, text in words)))
    elif kind is PollKind.RANKED:
        facts.append(_("Options are ranked in order of preference, and counted by Borda points and by "
                       "instant-runoff."))
    else:
        facts.append(ngettext("Each voter spreads %(num)d point over the options.",
                              "Each voter spreads %(num)d points over the options.", poll.points or 0))
    facts.append(_("Anonymous: nobody, the organisers included, sees who voted what.") if poll.anonymous
                 else _("Named: the organisers see who voted what."))
    facts.append(_("Votes can be changed until the poll closes.") if poll.votes_changeable
                 else _("Votes cannot be changed."))
    facts.append(_("Results shown: %(when)s.", when=RESULTS_SHOWN_LABELS[poll.results_shown]))
    return facts


def _scale_words(poll: Poll) -> list[tuple[int, str]]:
    words = []
    for value in range(poll.scale_min, poll.scale_max + 1):
        text = (poll.scale_labels or {}).get(str(value), "")
        if text:
            words.append((value, text))
    return words


def decimal(value: float | None) -> str:
    return "" if value is None else format_decimal(round(value, 2), format="0.0#", locale=get_locale())


def _length(value: float, top: float) -> float:
    return value / top if top > 0 else 0.0


def _figures(poll: Poll, results: dict, labels: dict[int, str]) -> tuple[Bars, list[Table], str]:
    chart_id = f"poll-{poll.id}"
    options = results.get("options", [])
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        top = max((o["votes"] for o in options), default=0)
        text = {o["id"]: f'{reports.number(o["votes"])} ({reports.percent(o["share"])})' for o in options}
        chart = Bars(chart_id, _("Votes per option"),
                     [Bar(labels[o["id"]], _length(o["votes"], top), text[o["id"]]) for o in options])
        table = Table(_("Votes per option"), [_("Option"), _("Votes"), _("Share of voters")],
                      [TableRow(labels[o["id"]], [reports.number(o["votes"]), reports.percent(o["share"])])
                       for o in options])
        return chart, [table], ""
    if poll.kind is PollKind.SCORE:
        span = poll.scale_max - poll.scale_min
        chart = Bars(chart_id, _("Mean score per option"), [
            Bar(labels[o["id"]], 0.0 if o["mean"] is None else _length(o["mean"] - poll.scale_min, span),
                _("%(mean)s (%(ratings)s)", mean=decimal(o["mean"]),
                  ratings=ngettext("%(num)d rating", "%(num)d ratings", o["ratings"])) if o["ratings"]
                else _("no rating")) for o in options])
        words = dict(_scale_words(poll))
        scale = [str(value) + (f" ({words[value]})" if value in words else "")
                 for value in range(poll.scale_min, poll.scale_max + 1)]
        table = Table(_("Scores per option"), [_("Option"), _("Ratings"), _("Mean")] + scale, [
            TableRow(labels[o["id"]], [reports.number(o["ratings"]), decimal(o["mean"])]
                     + [reports.number(n) for n in o["distribution"].values()]) for o in options],
            note=_("The columns after the mean count the ratings of each value."))
        return chart, [table], ""
    if poll.kind is PollKind.DOTS:
        top = max((o["points"] for o in options), default=0)
        chart = Bars(chart_id, _("Points per option"), [
            Bar(labels[o["id"]], _length(o["points"], top),
                f'{reports.number(o["points"])} ({reports.percent(o["share"])})') for o in options])
        table = Table(_("Points per option"), [_("Option"), _("Points"), _("Share of points")],
                      [TableRow(labels[o["id"]], [reports.number(o["points"]), reports.percent(o["share"])])
                       for o in options],
                      note=ngettext("%(num)d point given in all.", "%(num)d points given in all.",
                                    results["points_given"]))
        return chart, [table], ""
    return _ranked(chart_id, results, labels)


def _ranked(chart_id: str, results: dict, labels: dict[int, str]) -> tuple[Bars, list[Table], str]:
    borda, rounds = results["borda"], results["rounds"]
    top = max((b["points"] for b in borda), default=0)
    chart = Bars(chart_id, _("Borda points per option"),
                 [Bar(labels[b["id"]], _length(b["points"], top), reports.number(b["points"])) for b in borda])
    first = rounds[0]["counts"] if rounds else {}
    table = Table(_("Borda points per option"), [_("Option"), _("Borda points"), _("First preferences")],
                  [TableRow(labels[b["id"]], [reports.number(b["points"]), reports.number(first.get(str(b["id"]), 0))])
                   for b in borda],
                  note=_("With n options, a ballot gives n − 1 points to its first choice, n − 2 to its second, "
                         "and so on; options it leaves unranked get none."))
    tables = [table]
    if rounds:
        rows = []
        for option_id in labels:
            cells = []
            for round_ in rounds:
                count = round_["counts"].get(str(option_id))
                if count is None:
                    cells.append("")
                elif option_id in round_["eliminated"]:
                    cells.append(_("%(num)s, eliminated", num=reports.number(count)))
                elif option_id == results["winner"] and round_ is rounds[-1]:
                    cells.append(_("%(num)s, elected", num=reports.number(count)))
                else:
                    cells.append(reports.number(count))
            rows.append(TableRow(labels[option_id], cells))
        rows.append(TableRow(_("Exhausted ballots"), [reports.number(r["exhausted"]) for r in rounds]))
        tables.append(Table(_("Instant-runoff rounds"),
                            [_("Option")] + [_("Round %(num)d", num=i) for i in range(1, len(rounds) + 1)], rows))
    if results["winner"] is not None:
        outcome = _("Instant-runoff winner: %(option)s, with a majority of the ballots still in the count in "
                    "round %(round)d.", option=labels[results["winner"]], round=len(rounds))
    elif results["tied"]:
        outcome = _("Instant-runoff: no winner. %(options)s are tied, and no rule separates them.",
                    options=", ".join(labels[option_id] for option_id in results["tied"]))
    elif rounds:
        outcome = _("Instant-runoff: no winner, every ballot is exhausted.")
    else:
        outcome = _("No votes yet.")
    return chart, tables, outcome


def _breakdown_table(poll: Poll, result: dict, labels: dict[int, str]) -> Table:
    by = result["by"]
    caption = _("By country") if by == "country" else _("By type of organisation")
    option_headings = [labels[option_id] for option_id in labels]
    if poll.kind is PollKind.RANKED:
        headings = [_("Country") if by == "country" else _("Type of organisation"), _("Voters")] + [
            _("%(option)s (Borda)", option=heading) for heading in option_headings] + [_("Instant-runoff winner")]
    else:
        headings = [_("Country") if by == "country" else _("Type of organisation"), _("Voters")] + option_headings
    rows = []
    for group in result["groups"]:
        name = group_label(by, group["code"])
        if group["suppressed"]:  # no figure, and not its number of voters either
            rows.append(TableRow(name, [], withheld=_(
                "Not shown: fewer than %(num)d voters, or hidden with smaller groups so that none can be worked out.",
                num=result["min_group"])))
        else:
            rows.append(TableRow(name, [reports.number(group["voters"])]
                                 + _group_cells(poll, group["results"], labels)))
    note = {
        PollKind.SINGLE: _("Share of the group's voters choosing each option."),
        PollKind.MULTIPLE: _("Share of the group's voters choosing each option."),
        PollKind.SCORE: _("Mean score of each option in the group."),
        PollKind.RANKED: _("Borda points of each option in the group, and the group's instant-runoff winner."),
        PollKind.DOTS: _("Share of the group's points given to each option."),
    }[poll.kind]
    note += " " + ngettext(
        "Groups of fewer than %(num)d voter are not shown, nor how many voters they have; the next smallest "
        "groups are hidden with them until the hidden voters number at least %(num)d, so that no group can be "
        "worked out from the others.",
        "Groups of fewer than %(num)d voters are not shown, nor how many voters they have; the next smallest "
        "groups are hidden with them until the hidden voters number at least %(num)d, so that no group can be "
        "worked out from the others.", result["min_group"])
    return Table(caption, headings, rows, note=note)


def _group_cells(poll: Poll, results: dict, labels: dict[int, str]) -> list[str]:
    if poll.kind is PollKind.SCORE:
        return [decimal(o["mean"]) for o in results["options"]]
    if poll.kind is PollKind.RANKED:
        winner = results["winner"]
        outcome = labels[winner] if winner is not None else _("tie") if results["tied"] else ""
        return [reports.number(b["points"]) for b in results["borda"]] + [outcome]
    return [reports.percent(o["share"]) for o in results["options"]]


# --- Writing the report's sections -----------------------------------------------------------

def bars_svg(chart: Bars) -> Markup:
    """Horizontal bars as long as each figure's share of the chart's width, the figure after."""
    width, label_width, value_width, row = 640, 240, 130, 24
    height = max(1, len(chart.bars)) * row + 8
    area = width - label_width - value_width
    parts = [reports._svg_open(chart, width, height, _("Bar chart; the same figures are in the table below."))]
    for i, bar in enumerate(chart.bars):
        y = 4 + i * row
        length = round(max(0.0, min(1.0, bar.length)) * area, 1)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" fill="{reports.TEXT_COLOUR}">'
            f'{escape(reports._truncate(bar.label, 34))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="16" fill="{reports.BAR_COLOUR}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 16}" fill="{reports.TEXT_COLOUR}">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _text_chart(chart: Bars) -> list[str]:
    """The chart as text bars in a code block (inert: no Markdown or HTML is read inside)."""
    def clean(text: str) -> str:
        return " ".join(str(text).split()).replace("`", "'")

    names = [reports._truncate(clean(bar.label), 34) for bar in chart.bars]
    width = max((len(name) for name in names), default=0)
    lines = ["```text"]
    for name, bar in zip(names, chart.bars, strict=True):
        blocks = "█" * round(max(0.0, min(1.0, bar.length)) * BAR_CHARS)
        lines.append(f"{name.ljust(width)}  {blocks.ljust(BAR_CHARS)}  {clean(bar.text)}")
    return lines + ["```", ""]


def _md_table(table: Table) -> list[str]:
    out = [f"**{reports.md(table.caption)}**", ""]
    rows = []
    for row in table.rows:
        cells = [reports.md(cell) for cell in row.cells]
        if row.withheld:
            cells += [reports.md(row.withheld)] + [""] * (len(table.headings) - len(cells) - 2)
        rows.append([reports.md(row.heading)] + cells)
    out += reports._md_table(table.headings, rows)
    if table.note:
        out += [reports.md(table.note), ""]
    return out


def markdown(polls: list[PollReport]) -> list[str]:
    """The report's "Polls" part as Markdown lines (none when the scope has no polls)."""
    if not polls:
        return []
    out = [f"## {reports.md(_('Polls'))}", ""]
    for poll in polls:
        out += [f"### {reports.md(poll.question)}", ""]
        out += [reports.md(" · ".join(part for part in (poll.place, poll.kind_label) if part)), ""]
        if poll.description:
            out += [reports.md(poll.description), ""]
        out += [f"- {reports.md(fact)}" for fact in poll.facts] + [""]
        if not poll.shown:
            out += [reports.md(poll.withheld), ""]
            continue
        out += [f"#### {reports.md(poll.chart.title)}", ""] + _text_chart(poll.chart)
        for table in poll.tables:
            out += _md_table(table)
        if poll.outcome:
            out += [reports.md(poll.outcome), ""]
        if poll.breakdowns:
            out += [f"#### {reports.md(_('Breakdown'))}", ""]
            for table in poll.breakdowns:
                out += _md_table(table)
    return out


# --- JSON ------------------------------------------------------------------------------------

def json_polls(scope: Scope) -> list[dict[str, Any]]:
    """The `polls` member of the JSON export (docs/exports.md)."""
    now = utcnow()
    out = []
    for poll in scope_polls(scope):
        kind, place_id, place_title = place_of(poll)
        record = {
            "id": poll.id,
            "place_kind": kind,
            "place_id": place_id,
            "place_title": place_title,
            "position": poll.position,
            "kind": poll.kind.value,
            "question": poll.question,
            "description_markdown": poll.description,
            "status": poll.phase(now).value,
            "opens_at": data._iso(poll.opens_at),
            "closes_at": data._iso(poll.closes_at),
            "closed_at": data._iso(poll.closed_at),
            "settings": {
                "max_choices": poll.max_choices,
                "scale_min": poll.scale_min if poll.kind is PollKind.SCORE else None,
                "scale_max": poll.scale_max if poll.kind is PollKind.SCORE else None,
                "scale_labels": dict(poll.scale_labels or {}) if poll.kind is PollKind.SCORE else {},
                "points": poll.points,
                "anonymous": poll.anonymous,
                "votes_changeable": poll.votes_changeable,
                "results_shown": poll.results_shown.value,
                "breakdown_published": poll.breakdown_published,
            },
            "options": [{"id": o.id, "position": o.position, "label": o.label, "description": o.description}
                        for o in poll.options],
            "results": None,
            "breakdowns": None,
        }
        if shows_results(scope, poll):
            results, breakdowns = figures(poll)
            record["results"] = results
            if shows_breakdown(scope, poll):
                record["breakdowns"] = {by: _labelled(breakdowns[by]) for by in tally.BREAKDOWN_BY}
        out.append(record)
    return out


def _labelled(result: dict) -> dict:
    groups = [{**group, "label": group_label(result["by"], group["code"])} for group in result["groups"]]
    return {**result, "groups": groups}


# --- The votes file (CSV) --------------------------------------------------------------------

def choice_text(poll: Poll, choice, labels: dict[int, str]) -> str:
    """A ballot in words: "Option A; Option B", "Option A: 4; ...", "1. A; 2. B"."""
    spec = tally.spec_of(poll)
    if poll.kind in (PollKind.SCORE, PollKind.DOTS):
        values = tally.stored_values(spec, choice)
        return "; ".join(f"{labels[option_id]}: {values[option_id]}" for option_id in spec.option_ids
                         if option_id in values)
    ids = tally.stored_ids(spec, choice)
    if poll.kind is PollKind.RANKED:
        return "; ".join(f"{place}. {labels[option_id]}" for place, option_id in enumerate(ids, start=1))
    return "; ".join(labels[option_id] for option_id in ids)


def vote_records(scope: Scope) -> Iterator[dict[str, Any]]:
    """One record per vote (keys: VOTE_COLUMNS) of the polls the exporter manages."""
    authors = None
    for poll in scope_polls(scope):
        if not manages(scope, poll):
            continue
        kind, place_id, place_title = place_of(poll)
        labels = {option.id: option.label for option in poll.options}
        base = {"poll_id": poll.id, "poll_question": poll.question, "poll_kind": poll.kind.value,
                "place_kind": kind, "place_id": place_id, "place_title": place_title, "anonymous": poll.anonymous}
        if poll.anonymous:
            choices = db.session.scalars(select(PollVote.choice).where(PollVote.poll_id == poll.id)).all()
            for choice in sorted(choices, key=_canonical):
                yield base | dict.fromkeys(VOTER_COLUMNS) | {
                    "choice": _canonical(choice), "choice_text": choice_text(poll, choice, labels)}
            continue
        if authors is None:  # the posts' authors keep their author_ref; other voters follow on
            authors = data._authors(scope)
        query = (select(PollVote.user_id, PollVote.choice, PollVote.country, PollVote.organisation_type,
                        PollVote.created_at, PollVote.updated_at)
                 .where(PollVote.poll_id == poll.id).order_by(PollVote.id).execution_options(yield_per=data.BATCH))
        for batch in db.session.execute(query).partitions():
            _add_voters(authors, [row.user_id for row in batch])
            for row in batch:
                voter = authors[row.user_id]
                changed = row.updated_at if row.updated_at and row.updated_at != row.created_at else None
                yield base | {
                    "voter_ref": voter.ref,
                    "voter": voter.label,
                    "organisation": organisation_label(voter.user),
                    "organisation_type": row.organisation_type,
                    "organisation_type_label": label("organisation_type", row.organisation_type)
                    if row.organisation_type else "",
                    "country": row.country,
                    "voted_at": data._iso(row.created_at),
                    "changed_at": data._iso(changed),
                    "choice": _canonical(row.choice),
                    "choice_text": choice_text(poll, row.choice, labels),
                }


def _canonical(choice) -> str:
    return json.dumps(choice, ensure_ascii=False, separators=(",", ":"))


def _add_voters(authors: dict, user_ids: list[int]) -> None:
    missing = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in authors]
    if not missing:
        return
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(missing)))}
    for user_id in missing:
        user = users[user_id]
        authors[user_id] = data._Author(len(authors) + 1, user, author_label(user), user.organisation_type_label, 0)


def _vote_lines(scope: Scope, bom: bool) -> Iterator[str]:
    line = data._Line()
    writer = csv.writer(line, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(VOTE_COLUMNS)
    yield ("\ufeff" if bom else "") + line.text
    for record in vote_records(scope):
        writer.writerow([data._csv_cell(record[column]) for column in VOTE_COLUMNS])
        yield line.text


def vote_csv_chunks(scope: Scope, *, bom: bool = False) -> Iterator[str]:
    """The votes file: CSV as data.csv_chunks writes it (same quoting, CRLF, formula guard)."""
    return data._chunks(_vote_lines(scope, bom))

