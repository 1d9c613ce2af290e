"""Pre-event input in an export (docs/pre-event.md): the report's "Pre-event input" section and
`pre_event_input` in the JSON export. For an event or one of its rooms, never a thread.

Per board (the plenary's holds the event-wide questions, each breakout room's its own): how
many people answered, by type of organisation, counted in SQL; the most endorsed answers with
their authors named as authors of posts are (scope.author_label)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.exports.scope import Scope, author_label
from forum.extensions import db
from forum.i18n import label
from forum.models import Room, User
from forum.models.preevent import PreEventAnswer, PreEventQuestion

TOP = 5  # answers listed per board


@dataclass
class TopInput:
    question: str
    body: str
    author: str
    organisation_type: str  # its name in the reader's language
    endorsements: int


@dataclass
class Board:
    title: str
    contributors: int
    answers: int
    by_organisation_type: list[tuple[str, int]]  # (name, contributors), most first
    top: list[TopInput] = field(default_factory=list)


@dataclass
class PreEventSection:
    boards: list[Board]
    contributors: int


def _filter(room: Room):
    if room.is_plenary:
        return (PreEventQuestion.event_id == room.event_id, PreEventQuestion.room_id.is_(None))
    return (PreEventQuestion.room_id == room.id,)


def _board(room: Room) -> Board | None:
    where = _filter(room)
    answers = db.session.scalar(select(func.count(PreEventAnswer.id)).join(PreEventQuestion).where(*where))
    if not answers:
        return None
    by_type = db.session.execute(
        select(User.organisation_type, func.count(func.distinct(PreEventAnswer.author_id)))
        .select_from(PreEventAnswer).join(PreEventQuestion).join(User, User.id == PreEventAnswer.author_id)
        .where(*where).group_by(User.organisation_type)).all()
    top = db.session.scalars(
        select(PreEventAnswer).options(joinedload(PreEventAnswer.author), joinedload(PreEventAnswer.question))
        .join(PreEventQuestion).where(*where)
        .order_by(PreEventAnswer.endorsement_count.desc(), PreEventAnswer.created_at, PreEventAnswer.id).limit(TOP))
    return Board(
        title=_("The whole event") if room.is_plenary else room.title,
        contributors=db.session.scalar(select(func.count(func.distinct(PreEventAnswer.author_id)))
                                       .join(PreEventQuestion).where(*where)),
        answers=answers,
        by_organisation_type=sorted(((label("organisation_type", code), n) for code, n in by_type),
                                    key=lambda row: (-row[1], row[0])),
        top=[TopInput(a.question.label, a.body, author_label(a.author), a.author.organisation_type_label,
                      a.endorsement_count) for a in top])


def section(scope: Scope) -> PreEventSection | None:
    """None for a thread, a consultation, or when nobody answered."""
    if not scope.is_event or scope.thread is not None:
        return None
    rooms = [room for room in scope.sections if isinstance(room, Room)]
    boards = [board for board in (_board(room) for room in rooms) if board is not None]
    if not boards:
        return None
    contributors = db.session.scalar(
        select(func.count(func.distinct(PreEventAnswer.author_id))).join(PreEventQuestion)
        .where(PreEventQuestion.event_id == scope.event.id,
               PreEventQuestion.room_id.is_(None) | PreEventQuestion.room_id.in_([r.id for r in rooms])))
    return PreEventSection(boards, contributors)


def summary(board: Board) -> str:
    return " ".join((ngettext("%(num)d person answered", "%(num)d people answered", board.contributors) + ",",
                     ngettext("%(num)d answer.", "%(num)d answers.", board.answers)))


def markdown(data: PreEventSection | None) -> list[str]:
    from forum.exports import report as reports

    if data is None:
        return []
    md = reports.md
    out = [f"## {md(_('Pre-event input'))}", "",
           md(ngettext("%(num)d person answered the pre-event questions.",
                       "%(num)d people answered the pre-event questions.", data.contributors)), ""]
    for board in data.boards:
        out += [f"### {md(board.title)}", "", md(summary(board)), ""]
        out += reports._md_table([_("Type of organisation"), _("People")],
                                 [[md(name), reports.number(n)] for name, n in board.by_organisation_type])
        out += [f"#### {md(_('Most endorsed input'))}", ""]
        for i, item in enumerate(board.top, start=1):
            count = ngettext("%(num)d endorsement", "%(num)d endorsements", item.endorsements)
            out.append(f"{i}. “{md(' '.join(item.body.split()))}” — {md(item.author)}, "
                       f"{md(item.organisation_type)} ({md(count)}; {md(item.question)})")
        out.append("")
    return out


def json_section(scope: Scope) -> dict[str, Any] | None:
    data = section(scope)
    if data is None:
        return None
    return {"contributors": data.contributors, "boards": [
        {"title": b.title, "contributors": b.contributors, "answers": b.answers,
         "contributors_by_organisation_type": [{"organisation_type": name, "people": n}
                                               for name, n in b.by_organisation_type],
         "most_endorsed": [{"question": t.question, "body": t.body, "author": t.author,
                            "organisation_type": t.organisation_type, "endorsements": t.endorsements}
                           for t in b.top]} for b in data.boards]}
