"""The opinion map of a consultation's statements board in the exports: a section of the
summary report (Markdown, HTML, PDF), the `opinion_map` of the JSON export, and a CSV file of
the board's statements with their vote counts.

Everything is read from the board's last computed map (`OpinionBoard.map`, see
forum/services/opinion_map.py and docs/opinion-map.md) and its statements. What may be passed
on: statement texts only of published statements (a statement hidden or refused since appears
in the JSON without its text and is left out of the report); no participant's position (the
map's points are not exported); a group's make-up by country or organisation type pools the
codes with fewer than MIN_CELL participants of the group, so a group's opinions cannot be
pinned on one or two identifiable people.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape
from sqlalchemy import select

from forum.exports.scope import Scope
from forum.extensions import db
from forum.i18n import label
from forum.models.opinion import BoardStatus, OpinionBoard, Statement, StatementStatus
from forum.services import opinion as board_service

MIN_CELL = board_service.MAP_MIN_GROUP  # a country or organisation type with fewer participants in a group is pooled
# Okabe-Ito's colour-blind-safe hues, darkened to at least 3:1 against white (WCAG 1.4.11);
# each group also has its own marker shape, and the map's figures are in a table.
GROUP_COLOURS = ("#0072B2", "#B84A00", "#00795A", "#A3487E", "#6B6400")
GROUP_SHAPES = ("circle", "square", "triangle", "diamond", "cross")


# --- The report section ----------------------------------------------------------------------

@dataclass
class MakeUp:
    rows: list[tuple[str, int]]  # (name, participants), most first; last the pooled ones, if any


@dataclass
class Representative:
    text: str
    direction: str  # "agree" or "disagree"
    share: float    # of the group who voted on it, agreeing (or disagreeing)
    votes: int


@dataclass
class OpinionGroup:
    id: int
    label: str
    size: int
    share: float
    countries: MakeUp
    organisation_types: MakeUp
    representative: list[Representative]


@dataclass
class StatementShares:
    text: str
    score: float
    agree: list[float | None]  # per group, in group order


@dataclass
class OpinionSection:
    prompt: str
    computed_at: str
    participants: int
    statements: int
    votes: int
    groups: list[OpinionGroup]
    consensus: list[StatementShares]
    rejected: list[StatementShares]
    divisive: list[StatementShares]
    points: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def svg(self) -> Markup:
        return map_svg(self)


def board_of(scope: Scope) -> OpinionBoard | None:
    """The board of a whole consultation's export, if it has one that readers of this export
    may see: any board in the moderators' view, an opened one in the public summary."""
    if scope.kind != "consultation" or scope.consultation is None:
        return None
    board = db.session.scalar(select(OpinionBoard).where(OpinionBoard.consultation_id == scope.consultation.id))
    if board is None or (not scope.moderators_view and board.status == BoardStatus.DRAFT):
        return None
    return board


def _texts(board: OpinionBoard) -> dict[int, str]:
    """Statement id -> text, for published statements only."""
    rows = db.session.execute(select(Statement.id, Statement.text).where(
        Statement.board_id == board.id, Statement.status == StatementStatus.PUBLISHED))
    return {sid: text for sid, text in rows}


def build_section(scope: Scope, zone: ZoneInfo) -> OpinionSection | None:
    """The report's opinion map section, or None when the export has no board to show."""
    from forum.exports.report import format_when  # report.py imports this module

    board = board_of(scope)
    if board is None:
        return None
    found = board_service.readable(board.map) or {}
    texts = _texts(board)
    groups_data = found.get("groups") or []
    placed = found.get("participants", 0)
    groups = [OpinionGroup(
        id=g["id"], label=g["label"], size=g["size"], share=g["size"] / placed if placed else 0.0,
        countries=_make_up(g.get("countries") or {}, "country", g.get("countries_pooled", 0)),
        organisation_types=_make_up(g.get("organisation_types") or {}, "organisation_type",
                                    g.get("organisation_types_pooled", 0)),
        representative=[Representative(texts[r["statement_id"]], r["direction"],
                                       (r["agree"] if r["direction"] == "agree" else r["disagree"]) or 0.0,
                                       r["votes"])
                        for r in g.get("representative") or () if r["statement_id"] in texts],
    ) for g in groups_data]

    def shares(items) -> list[StatementShares]:
        return [StatementShares(texts[i["statement_id"]], i["score"],
                                [i["agree_by_group"].get(str(g.id)) for g in groups])
                for i in items or () if i["statement_id"] in texts]

    return OpinionSection(
        prompt=board.prompt,
        computed_at=format_when(board.map_computed_at, zone) if board.map_computed_at else "",
        participants=placed, statements=found.get("statements", 0), votes=found.get("votes", 0),
        groups=groups, consensus=shares(found.get("consensus")),
        rejected=shares(found.get("consensus_disagree")), divisive=shares(found.get("divisive")),
        points=[(p["x"], p["y"], p["group"]) for p in found.get("points") or ()],
    )


def _make_up(counts: Mapping[str, int], kind: str, pooled: int = 0) -> MakeUp:
    """A group's make-up as the stored map has it (opinion.readable: codes under 5 pooled)."""
    rows = [(label(kind, code) if code else _("Not stated"), n) for code, n in counts.items()]
    if pooled:
        rows.append((_("Others (fewer than %(min)d each)", min=MIN_CELL), pooled))
    return MakeUp(rows)


def summary(section: OpinionSection) -> str:
    votes = ngettext("%(num)d vote", "%(num)d votes", section.votes)
    statements = ngettext("%(num)d statement", "%(num)d statements", section.statements)
    people = ngettext("%(num)d participant", "%(num)d participants", section.participants)
    groups = ngettext("%(num)d opinion group", "%(num)d opinion groups", len(section.groups))
    text = _("Computed from %(votes)s on %(statements)s. %(people)s voted often enough to be placed on the map, "
             "in %(groups)s.", votes=votes, statements=statements, people=people, groups=groups)
    if section.computed_at:
        text += " " + _("Last computed: %(when)s.", when=section.computed_at)
    return text


def method_note() -> str:
    return _("Participants who voted on at least 7 statements are placed by principal component analysis of "
             "their votes and grouped by k-means (2 to 5 groups, whichever fits best). Consensus statements "
             "are agreed by a majority of every group, ranked by the product of the groups' agree shares; "
             "divisive statements are those on which the groups' agree shares differ most.")


def representative_line(item: Representative, share_text: str) -> str:
    if item.direction == "agree":
        return _("%(share)s of the group agreed (%(votes)s)", share=share_text,
                 votes=ngettext("%(num)d vote", "%(num)d votes", item.votes))
    return _("%(share)s of the group disagreed (%(votes)s)", share=share_text,
             votes=ngettext("%(num)d vote", "%(num)d votes", item.votes))


def group_title(group: OpinionGroup) -> str:
    return _("Group %(label)s", label=group.label)


def statement_tables(section: OpinionSection) -> list[tuple[str, str, list[StatementShares]]]:
    """(id, heading, statements) of the three statement lists, in report order."""
    return [
        ("consensus", _("Consensus: statements a majority of every group agrees with"), section.consensus),
        ("rejected", _("Statements a majority of every group disagrees with"), section.rejected),
        ("divisive", _("Divisive statements: where the groups differ most"), section.divisive),
    ]


def markdown(section: OpinionSection | None) -> list[str]:
    """The section's Markdown lines (nothing when there is no section)."""
    from forum.exports.report import _md_table, md, number, percent

    if section is None:
        return []
    out = [f"## {md(_('Opinion map'))}", ""]
    if section.prompt:
        out += [md(section.prompt), ""]
    if not section.groups:
        return out + [md(_("Too few votes yet for an opinion map.")), ""]
    out += [md(summary(section)), "", md(method_note()), ""]
    out += [f"### {md(_('Opinion groups'))}", ""]
    out += _md_table([_("Group"), _("Participants"), _("Share")],
                     [[md(group_title(g)), number(g.size), percent(g.share)] for g in section.groups])
    for group in section.groups:
        out += [f"### {md(group_title(group))}", ""]
        out += [md(ngettext("%(num)d participant.", "%(num)d participants.", group.size)), ""]
        for heading, make_up in ((_("Country"), group.countries),
                                 (_("Type of organisation"), group.organisation_types)):
            if make_up.rows:
                out += _md_table([heading, _("Participants")], [[md(name), number(n)] for name, n in make_up.rows])
        if group.representative:
            out += [f"**{md(_('What sets this group apart'))}**", ""]
            out += [f"- “{md(r.text)}” — {md(representative_line(r, percent(r.share)))}"
                    for r in group.representative] + [""]
    for _id, heading, items in statement_tables(section):
        if not items:
            continue
        out += [f"### {md(heading)}", ""]
        out += _md_table([_("Statement")] + [_("Agree in group %(label)s", label=g.label) for g in section.groups],
                         [[md(i.text)] + [percent(s) if s is not None else "–" for s in i.agree] for i in items])
    return out


# --- The map as an SVG -----------------------------------------------------------------------

def _marker(shape: str, x: float, y: float, colour: str, r: float = 3.2) -> str:
    if shape == "circle":
        return f'<circle cx="{x}" cy="{y}" r="{r}" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{colour}"/>'
    if shape == "triangle":
        return (f'<polygon points="{x:.1f},{y - r - 0.6:.1f} {x - r:.1f},{y + r:.1f} {x + r:.1f},{y + r:.1f}" '
                f'fill="{colour}"/>')
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - r - 0.6:.1f} {x + r + 0.6:.1f},{y:.1f} {x:.1f},{y + r + 0.6:.1f} '
                f'{x - r - 0.6:.1f},{y:.1f}" fill="{colour}"/>')
    return (f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}L{x + r:.1f},'
            f'{y - r:.1f}" stroke="{colour}" stroke-width="1.8"/>')


def map_svg(section: OpinionSection) -> Markup:
    """The participants on the map, one marker each (colour and shape by group), the group
    letters at their centres, and a legend; the same figures are in the groups' table."""
    from forum.exports.report import FONT, TEXT_COLOUR

    size, pad, legend = 420, 16, 26
    plot = size - 2 * pad
    height = size + legend * len(section.groups)

    def at(x: float, y: float) -> tuple[float, float]:  # y up on the map, down in SVG
        return round(pad + (x + 1) / 2 * plot, 1), round(pad + (1 - y) / 2 * plot, 1)

    title = _("Opinion map")
    description = _("Each mark is a participant, placed by their votes; marks close together voted alike. "
                    "Colour and shape show the opinion group; the groups' sizes are in the table below.")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart opinion-map" role="img" '
             f'aria-labelledby="chart-opinion-map-title chart-opinion-map-desc" viewBox="0 0 {size} {height}" '
             f'width="{size}" height="{height}" {FONT}>'
             f'<title id="chart-opinion-map-title">{escape(title)}</title>'
             f'<desc id="chart-opinion-map-desc">{escape(description)}</desc>'
             f'<rect x="{pad}" y="{pad}" width="{plot}" height="{plot}" fill="none" stroke="#bbb"/>'
             f'<line x1="{size / 2}" y1="{pad}" x2="{size / 2}" y2="{size - pad}" stroke="#e2e2e2"/>'
             f'<line x1="{pad}" y1="{size / 2}" x2="{size - pad}" y2="{size / 2}" stroke="#e2e2e2"/>']
    for x, y, g in section.points:
        sx, sy = at(x, y)
        if g is None:  # placed, in no group (a map computed before groups had at least 5 people)
            parts.append(f'<circle cx="{sx}" cy="{sy}" r="2.4" fill="#6b6b6b"/>')
            continue
        parts.append(_marker(GROUP_SHAPES[g % len(GROUP_SHAPES)], sx, sy, GROUP_COLOURS[g % len(GROUP_COLOURS)]))
    for group in section.groups:
        members = [(x, y) for x, y, g in section.points if g == group.id]
        if not members:
            continue
        cx, cy = at(sum(x for x, _y in members) / len(members), sum(y for _x, y in members) / len(members))
        parts.append(f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" font-size="18" font-weight="bold" '
                     f'fill="{TEXT_COLOUR}" stroke="#fff" stroke-width="4" paint-order="stroke">'
                     f'{escape(group.label)}</text>')
    for i, group in enumerate(section.groups):
        y = size + i * legend + legend / 2
        colour = GROUP_COLOURS[group.id % len(GROUP_COLOURS)]
        parts.append(_marker(GROUP_SHAPES[group.id % len(GROUP_SHAPES)], pad + 6, y, colour, r=5))
        text = _("Group %(label)s: %(participants)s", label=group.label,
                 participants=ngettext("%(num)d participant", "%(num)d participants", group.size))
        parts.append(f'<text x="{pad + 18}" y="{y + 4}" fill="{TEXT_COLOUR}">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --- The JSON export's "opinion_map" ---------------------------------------------------------

def map_json(scope: Scope) -> dict | None:
    """The board and its last map for the JSON export (docs/exports.md), or None without a
    board. Statements carry their text only while published."""
    from forum.exports.data import _iso  # data.py imports this module

    board = board_of(scope)
    if board is None:
        return None
    texts = _texts(board)
    found = board_service.readable(board.map) or {}

    def statement(item: dict, **extra) -> dict:
        sid = item["statement_id"]
        return {"statement_id": sid, "text": texts.get(sid), **extra}

    def listed(items) -> list[dict]:
        return [statement(i, score=i["score"], agree_by_group=i["agree_by_group"]) for i in items or ()]

    groups = []
    for g in found.get("groups") or ():
        groups.append({
            "id": g["id"], "label": g["label"], "size": g["size"],
            "countries": g.get("countries") or {}, "countries_pooled": g.get("countries_pooled", 0),
            "organisation_types": g.get("organisation_types") or {},
            "organisation_types_pooled": g.get("organisation_types_pooled", 0),
            "representative": [statement(r, direction=r["direction"], agree=r["agree"], disagree=r["disagree"],
                                         votes=r["votes"], repness=r["repness"])
                               for r in g.get("representative") or ()],
        })
    return {
        "board": {"id": board.id, "prompt": board.prompt, "status": board.status.value,
                  "computed_at": _iso(board.map_computed_at)},
        "participants": found.get("participants", 0),
        "statements": found.get("statements", 0),
        "votes": found.get("votes", 0),
        "k": found.get("k", 0),
        "silhouette": found.get("silhouette"),
        "groups": groups,
        "consensus": listed(found.get("consensus")),
        "consensus_disagree": listed(found.get("consensus_disagree")),
        "divisive": listed(found.get("divisive")),
    }


# --- The statements CSV ----------------------------------------------------------------------

STATEMENT_COLUMNS = ("statement_id", "created_at", "status", "seed", "text", "agree", "disagree", "pass", "votes")


def statements_csv_chunks(scope: Scope, *, bom: bool = False) -> Iterator[str]:
    """The board's statements as CSV (as data.csv_chunks writes: RFC 4180, CRLF, formula-safe
    cells), one row per statement, oldest first, with its vote counts; the text only of
    published statements. Only a header without a board."""
    from forum.exports.data import _chunks, _csv_cell, _iso, _Line  # data.py imports this module

    def lines() -> Iterator[str]:
        line = _Line()
        writer = csv.writer(line, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(STATEMENT_COLUMNS)
        yield ("\ufeff" if bom else "") + line.text
        board = board_of(scope)
        if board is None:
            return
        rows = db.session.execute(select(
            Statement.id, Statement.created_at, Statement.status, Statement.seed, Statement.text,
            Statement.agree_count, Statement.disagree_count, Statement.pass_count,
        ).where(Statement.board_id == board.id).order_by(Statement.created_at, Statement.id))
        for row in rows:
            published = row.status == StatementStatus.PUBLISHED
            writer.writerow([_csv_cell(v) for v in (
                row.id, _iso(row.created_at), row.status.value, row.seed, row.text if published else "",
                row.agree_count, row.disagree_count, row.pass_count,
                row.agree_count + row.disagree_count + row.pass_count)])
            yield line.text

    return _chunks(lines())
