"""The plenary's Q&A in an export (docs/questions.md): the report's "Questions to the plenary"
section and `plenary_questions` in the JSON export. For an event or its plenary (the scope's
sections hold the plenary), never a thread.

What counts: questions asked (everything but those still waiting for approval, dismissed
ones included), answered, dismissed, the votes given; the top questions by votes among the
published and answered ones (a dismissed question's text never shows). Authors are named as
authors of posts are (scope.author_label); an anonymous question's author is never named."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.exports import report as reports
from forum.exports.scope import Scope, author_label
from forum.extensions import db
from forum.models import Question, QuestionStatus, Room

TOP = 10  # questions listed by votes


@dataclass
class TopQuestion:
    body: str
    author: str
    votes: int
    answered: bool


@dataclass
class QuestionsSection:
    asked: int
    answered: int
    dismissed: int
    votes: int
    top: list[TopQuestion] = field(default_factory=list)


def _plenary(scope: Scope) -> Room | None:
    if not scope.is_event or scope.thread is not None:
        return None
    return next((room for room in scope.sections if isinstance(room, Room) and room.is_plenary), None)


def build_section(scope: Scope) -> QuestionsSection | None:
    """None when the scope has no plenary or its plenary no questions."""
    plenary = _plenary(scope)
    if plenary is None:
        return None
    counts = dict(db.session.execute(select(Question.status, func.count(Question.id)).where(
        Question.room_id == plenary.id).group_by(Question.status)).all())
    asked = sum(n for status, n in counts.items() if status is not QuestionStatus.PENDING)
    if not asked:
        return None
    votes = db.session.scalar(select(func.coalesce(func.sum(Question.vote_count), 0)).where(
        Question.room_id == plenary.id, Question.status != QuestionStatus.PENDING))
    top = db.session.scalars(
        select(Question).options(joinedload(Question.author))
        .where(Question.room_id == plenary.id,
               Question.status.in_((QuestionStatus.PUBLISHED, QuestionStatus.ANSWERED)))
        .order_by(Question.vote_count.desc(), Question.created_at, Question.id).limit(TOP))
    return QuestionsSection(
        asked=asked, answered=counts.get(QuestionStatus.ANSWERED, 0),
        dismissed=counts.get(QuestionStatus.DISMISSED, 0), votes=votes,
        top=[TopQuestion(q.body, _("Anonymous") if q.anonymous else author_label(q.author), q.vote_count,
                         q.status is QuestionStatus.ANSWERED) for q in top])


def summary(section: QuestionsSection) -> str:
    return " ".join((
        ngettext("%(num)d question was asked,", "%(num)d questions were asked,", section.asked),
        ngettext("%(num)d answered", "%(num)d answered", section.answered) + ";",
        ngettext("%(num)d vote.", "%(num)d votes.", section.votes),
    ))


def answered_label(question: TopQuestion) -> str:
    return _("Answered") if question.answered else _("Not answered")


def markdown(section: QuestionsSection | None) -> list[str]:
    if section is None:
        return []
    out = [f"## {reports.md(_('Questions to the plenary'))}", "", reports.md(summary(section)), ""]
    if section.dismissed:
        out += [reports.md(ngettext("%(num)d question was dismissed by the moderators.",
                                    "%(num)d questions were dismissed by the moderators.", section.dismissed)), ""]
    if section.top:
        out += [f"### {reports.md(_('Top questions by votes'))}", ""]
        out += reports._md_table(
            ["#", _("Question"), _("Asked by"), _("Answered"), _("Votes")],
            [[str(i), reports.md(q.body.replace("\n", " ")), reports.md(q.author), reports.md(answered_label(q)),
              reports.number(q.votes)] for i, q in enumerate(section.top, start=1)], numeric_from=4)
    return out


def json_section(scope: Scope) -> dict[str, Any] | None:
    section = build_section(scope)
    if section is None:
        return None
    return {"asked": section.asked, "answered": section.answered, "dismissed": section.dismissed,
            "votes": section.votes,
            "top": [{"body": q.body, "author": q.author, "votes": q.votes, "answered": q.answered}
                    for q in section.top]}
