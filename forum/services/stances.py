"""Stances on proposals: a Topic marked `is_proposal` asks its responses (not replies) to say
whether they are in favour, neutral or against. This module holds the rules the posts service
applies (`checked_stance`), which stance a post shows (`shown_stance`) and the counts per
topic, per stance and per stakeholder group (country, organisation type).

A topic that stops being a proposal keeps its responses' stances stored but shows, counts and
exports none of them; they are back if it becomes a proposal again. A deleted response loses
its stance with its text; hidden and deleted responses are never counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Post, Topic, User
from forum.models.posts import Stance
from forum.services.errors import ValidationError

CODES = tuple(s.value for s in Stance)
GROUP_KINDS = ("country", "organisation_type")


def parse(raw, *, field_name: str = "stance") -> Stance | None:
    """A stance code as sent by a form or a socket ("in_favour", ...); empty or None: none.
    Anything else is refused (400) with the choices named."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, Stance):
        return raw
    if isinstance(raw, str) and raw in CODES:
        return Stance(raw)
    raise ValidationError(_l("Choose your stance: in favour, neutral or against."), field=field_name)


def checked_stance(topic: Topic | None, parent: Post | None, raw) -> Stance | None:
    """The stance a new response takes, by the rules: a response to a proposal must take one,
    a reply or a response to another topic none."""
    stance = parse(raw)
    if parent is not None:
        if stance is not None:
            raise ValidationError(_l("A reply takes no stance: only responses to a proposal do."), field="stance")
        return None
    if topic is None or not topic.is_proposal:
        if stance is not None:
            raise ValidationError(_l("This topic is not a proposal: responses to it take no stance."),
                                  field="stance")
        return None
    if stance is None:
        raise ValidationError(_l("This topic is a proposal: choose whether you are in favour, neutral or against."),
                              field="stance")
    return stance


def edited_stance(post: Post, raw) -> Stance | None:
    """The stance of an edited post: for a response to a proposal, the one sent (None keeps
    the one it has; a response without one must choose); for other posts none may be sent and
    the stored one (of a topic that was a proposal) is kept."""
    stance = parse(raw)
    if post.parent_id is not None or post.topic is None or not post.topic.is_proposal:
        if stance is not None:
            raise ValidationError(_l("This post takes no stance: only responses to a proposal do."), field="stance")
        return post.stance
    if stance is None and post.stance is None:
        raise ValidationError(_l("This topic is a proposal: choose whether you are in favour, neutral or against."),
                              field="stance")
    return stance or post.stance


def shown_stance(post) -> Stance | None:
    """The stance a post shows: a response's, while its topic is a proposal."""
    if post.parent_id is not None or post.stance is None or post.topic is None or not post.topic.is_proposal:
        return None
    return post.stance


def _counted(consultation_id: int):
    """Responses that count: top-level, on a proposal topic, with a stance, neither hidden nor
    deleted."""
    return (Post.consultation_id == consultation_id, Post.parent_id.is_(None), Post.stance.is_not(None),
            Post.hidden_at.is_(None), Post.deleted_at.is_(None), Topic.is_proposal.is_(True))


def _zero() -> dict[str, int]:
    return dict.fromkeys(CODES, 0)


def stance_counts(consultation) -> dict[int, dict[str, int]]:
    """{topic id: {stance code: responses}} for every proposal topic of the consultation
    (every code present, zeros included). One query."""
    counts = {t.id: _zero() for t in consultation.topics if t.is_proposal}
    if not counts:
        return counts
    rows = db.session.execute(
        select(Post.topic_id, Post.stance, func.count(Post.id)).join(Topic, Topic.id == Post.topic_id)
        .where(*_counted(consultation.id)).group_by(Post.topic_id, Post.stance))
    for topic_id, stance, n in rows:
        if topic_id in counts:
            counts[topic_id][stance.value] = n
    return counts


def stance_totals(counts: dict[int, dict[str, int]]) -> dict[str, int]:
    """Responses per stance over every proposal topic (of `stance_counts`)."""
    totals = _zero()
    for per_topic in counts.values():
        for code, n in per_topic.items():
            totals[code] += n
    return totals


@dataclass
class GroupRow:
    code: str  # a country or organisation-type code; "" when not stated
    counts: dict[str, int] = field(default_factory=_zero)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class StanceTable:
    """One proposal topic's stances: per stance, and per stakeholder group (largest first)."""
    topic_id: int
    counts: dict[str, int]
    by: dict[str, list[GroupRow]]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def stance_tables(consultation, topic_ids: list[int] | None = None) -> dict[int, StanceTable]:
    """{topic id: StanceTable} for the consultation's proposal topics (or those of
    `topic_ids`), counted by the authors' country and organisation type as they are now.
    One query."""
    topics = [t.id for t in consultation.topics if t.is_proposal and (topic_ids is None or t.id in topic_ids)]
    if not topics:
        return {}
    groups: dict[int, dict[str, dict[str, GroupRow]]] = {t: {kind: {} for kind in GROUP_KINDS} for t in topics}
    counts = {t: _zero() for t in topics}
    rows = db.session.execute(
        select(Post.topic_id, Post.stance, User.country, User.organisation_type, func.count(Post.id))
        .join(Topic, Topic.id == Post.topic_id).join(User, User.id == Post.author_id)
        .where(*_counted(consultation.id), Post.topic_id.in_(topics))
        .group_by(Post.topic_id, Post.stance, User.country, User.organisation_type))
    for topic_id, stance, country, organisation_type, n in rows:
        counts[topic_id][stance.value] += n
        for kind, code in (("country", country or ""), ("organisation_type", organisation_type or "")):
            row = groups[topic_id][kind].setdefault(code, GroupRow(code))
            row.counts[stance.value] += n
    return {t: StanceTable(t, counts[t], {kind: sorted(groups[t][kind].values(), key=lambda r: (-r.total, r.code))
                                          for kind in GROUP_KINDS})
            for t in topics}


def live_counts(consultation) -> dict:
    """What a consultation's counted events carry about stances: {"topics": {"<topic id>":
    {code: n}}, "all": {code: n}}; empty when no topic is a proposal."""
    counts = stance_counts(consultation)
    if not counts:
        return {}
    return {"topics": {str(t): c for t, c in counts.items()}, "all": stance_totals(counts)}


def count_text(code: str, n: int) -> str:
    """"12 in favour", in the reader's language (its plural forms)."""
    from flask_babel import ngettext
    if code == Stance.IN_FAVOUR.value:
        return ngettext("%(num)d in favour", "%(num)d in favour", n)
    if code == Stance.NEUTRAL.value:
        return ngettext("%(num)d neutral", "%(num)d neutral", n)
    return ngettext("%(num)d against", "%(num)d against", n)


def count_forms() -> dict[str, dict[str, str]]:
    """The same counted texts for the page's script, every plural form (forum.i18n.plural_forms)."""
    from forum.i18n import plural_forms
    return {Stance.IN_FAVOUR.value: plural_forms("%(num)d in favour", "%(num)d in favour"),
            Stance.NEUTRAL.value: plural_forms("%(num)d neutral", "%(num)d neutral"),
            Stance.AGAINST.value: plural_forms("%(num)d against", "%(num)d against")}
