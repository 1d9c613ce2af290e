"""A consultation's statements board: organisers set it up and open it, participants submit
short statements and vote agree / disagree / pass on them, one at a time; the opinion map
(forum/services/opinion_map.py) is recomputed from the vote matrix on the job queue.

Every vote, approval and hiding (what changes the matrix) bumps `board.matrix_version` (an SQL
increment) and asks for a debounced recompute (`forum.jobs.enqueue`, key "opinion-map:<id>",
OPINION_MAP_DEBOUNCE_SECONDS). The recompute (`recompute_map`) reads the published
statements' votes, stores the map only if it was read from a newer matrix than the stored
one, and records "opinion.map" on the consultation's stream, so open pages fetch it again.

Participants appear in the map under a per-board pseudonym (`participant_key`): an HMAC of
the app's secret key, the board and the account, so that neither the map's JSON nor the
page reveals account ids, and the same person has unrelated keys on two boards.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from forum import jobs, permissions
from forum.extensions import db
from forum.models import (
    BoardStatus,
    Consultation,
    OpinionBoard,
    Statement,
    StatementStatus,
    StatementVote,
    User,
)
from forum.models.base import utcnow
from forum.services import audit, events
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.services.text import clean_text

STATEMENT_MAX = 280
PROMPT_MAX = 300
REASON_MAX = 300
MIN_VOTES = 7  # a participant is placed on the map from this many votes (opinion_map.compute)
MAP_MIN_GROUP = 5  # opinion_map.MIN_GROUP: the fewest people in an opinion group or a make-up's cell
VALUES = {"agree": 1, "disagree": -1, "pass": 0}
VALUE_NAMES = {value: name for name, value in VALUES.items()}


# --- Reading ---------------------------------------------------------------------------

def board_of(consultation: Consultation) -> OpinionBoard | None:
    return db.session.scalar(select(OpinionBoard).where(OpinionBoard.consultation_id == consultation.id))


def participant_key(board: OpinionBoard | int, user_id: int) -> int:
    """The pseudonym of an account on a board's map: 48 bits of an HMAC (a whole number that
    JavaScript holds exactly), not reversible without the secret key."""
    board_id = board if isinstance(board, int) else board.id
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"opinion-map:{board_id}:{user_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:6], "big")


def published(board: OpinionBoard) -> list[Statement]:
    return list(db.session.scalars(select(Statement).where(
        Statement.board_id == board.id, Statement.status == StatementStatus.PUBLISHED).order_by(Statement.id)))


def pending(actor: User, board: OpinionBoard) -> list[Statement]:
    """The moderators' queue: statements waiting for approval, oldest first."""
    if not permissions.can_moderate_statements(actor, board):
        raise PermissionDenied()
    return list(db.session.scalars(select(Statement).where(
        Statement.board_id == board.id, Statement.status == StatementStatus.PENDING).order_by(Statement.id)))


def own_statements(actor: User, board: OpinionBoard) -> list[Statement]:
    """What the reader submitted that others do not see (pending, rejected, hidden)."""
    if not (actor and actor.is_authenticated):
        return []
    return list(db.session.scalars(select(Statement).where(
        Statement.board_id == board.id, Statement.author_id == actor.id,
        Statement.status != StatementStatus.PUBLISHED).order_by(Statement.id)))


def votes_of(actor: User, board: OpinionBoard) -> dict[int, int]:
    """{statement id: value} of the reader's votes on this board."""
    if not (actor and actor.is_authenticated):
        return {}
    return dict(db.session.execute(select(StatementVote.statement_id, StatementVote.value).where(
        StatementVote.board_id == board.id, StatementVote.user_id == actor.id)).all())


def voting_order(actor: User, board: OpinionBoard, statements: list[Statement] | None = None) -> list[Statement]:
    """The published statements the reader has not voted on, in the order to show them:
    the organisers' seed statements first, then opinion_map.statement_order (few votes
    first, then those that best separate opinions)."""
    from forum.services import opinion_map

    statements = published(board) if statements is None else statements
    seen = set(votes_of(actor, board))
    counts = {s.id: s.agree_count + s.disagree_count + s.pass_count for s in statements}
    order = opinion_map.statement_order(counts, board.map, seen)
    by_id = {s.id: s for s in statements}
    ordered = [by_id[i] for i in order if i in by_id and i not in seen]
    return [s for s in ordered if s.seed] + [s for s in ordered if not s.seed]


def next_statement(actor: User, board: OpinionBoard) -> Statement | None:
    if not permissions.can_submit_statement(actor, board):
        return None
    order = voting_order(actor, board)
    return order[0] if order else None


# --- Setting up --------------------------------------------------------------------------

def _require_manager(actor: User, consultation: Consultation) -> None:
    if not permissions.can_manage_board(actor, consultation):
        raise PermissionDenied()


def save_board(actor: User, consultation: Consultation, *, prompt: str, premoderated: bool) -> OpinionBoard:
    """Create the consultation's board (as a draft) or change its prompt and pre-moderation."""
    _require_manager(actor, consultation)
    prompt = clean_text(prompt, field="prompt", max_length=PROMPT_MAX, required=True)
    board = board_of(consultation)
    if board is None:
        board = OpinionBoard(consultation=consultation, created_by=actor, status=BoardStatus.DRAFT)
        db.session.add(board)
    board.prompt = prompt
    board.premoderated = bool(premoderated)
    db.session.flush()
    return board


def set_board_status(actor: User, board: OpinionBoard, status: str) -> OpinionBoard:
    """Open the board (from draft or closed) or close it. The map stays after closing."""
    _require_manager(actor, board.consultation)
    try:
        wanted = BoardStatus(status)
    except ValueError:
        raise ValidationError(_l("Choose to open or to close the board."), field="status") from None
    if wanted is BoardStatus.DRAFT:
        raise ValidationError(_l("Choose to open or to close the board."), field="status")
    if wanted is board.status:
        raise Conflict(_l("The board is already in this state."))
    if wanted is BoardStatus.CLOSED and board.status is BoardStatus.DRAFT:
        raise ValidationError(_l("A draft board cannot be closed: open it first."), field="status")
    board.status = wanted
    db.session.flush()
    return board


# --- Statements --------------------------------------------------------------------------

def _normalised(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?…")


def _clean_statement(board: OpinionBoard, text: str, author: User) -> str:
    """The statement's text, cleaned; refused if the board shows it already. Compared only
    with what its author may read (published statements, and their own not rejected): the
    refusal must not tell anyone that someone else's statement waits for approval or was
    hidden."""
    text = clean_text(text, field="text", max_length=STATEMENT_MAX, required=True)
    wanted = _normalised(text)
    others = db.session.scalars(select(Statement.text).where(
        Statement.board_id == board.id,
        or_(Statement.status == StatementStatus.PUBLISHED,
            (Statement.author_id == author.id) & (Statement.status != StatementStatus.REJECTED))))
    if any(_normalised(other) == wanted for other in others):
        raise ValidationError(_l("This statement is already on the board."), field="text")
    return text


def add_seed_statement(actor: User, board: OpinionBoard, text: str) -> Statement:
    """An organiser's statement: published at once, shown first to everyone."""
    _require_manager(actor, board.consultation)
    if board.status is BoardStatus.CLOSED:
        raise PermissionDenied(_l("This board is closed."))
    statement = Statement(board=board, author=actor, text=_clean_statement(board, text, actor), seed=True,
                          status=StatementStatus.PUBLISHED)
    db.session.add(statement)
    db.session.flush()
    return statement


def submit_statement(actor: User, board: OpinionBoard, text: str) -> Statement:
    """A participant's statement: waits for a moderator on a pre-moderated board (unless its
    author moderates it), else published at once."""
    if not permissions.can_submit_statement(actor, board):
        if board.status is not BoardStatus.OPEN:
            raise PermissionDenied(_l("This board is not taking statements at the moment."))
        raise PermissionDenied()
    text = _clean_statement(board, text, actor)
    moderator = permissions.can_moderate_statements(actor, board)
    status = StatementStatus.PENDING if board.premoderated and not moderator else StatementStatus.PUBLISHED
    statement = Statement(board=board, author=actor, text=text, status=status)
    db.session.add(statement)
    db.session.flush()
    return statement


def _require_moderator(actor: User, statement: Statement) -> None:
    if not permissions.can_moderate_statement(actor, statement):
        raise PermissionDenied()


def _reason(value: str | None, required: bool) -> str:
    return clean_text(value, field="reason", max_length=REASON_MAX, required=required)


def approve_statement(actor: User, statement: Statement) -> Statement:
    _require_moderator(actor, statement)
    if statement.status is not StatementStatus.PENDING:
        raise Conflict(_l("This statement is not waiting for approval."))
    _moderated(actor, statement, StatementStatus.PUBLISHED, "statement.approved", "")
    _matrix_changed(statement.board)  # one more statement on the map (and in its counts)
    return statement


def reject_statement(actor: User, statement: Statement, reason: str) -> Statement:
    _require_moderator(actor, statement)
    if statement.status is not StatementStatus.PENDING:
        raise Conflict(_l("This statement is not waiting for approval."))
    _moderated(actor, statement, StatementStatus.REJECTED, "statement.rejected", _reason(reason, True))
    return statement


def hide_statement(actor: User, statement: Statement, reason: str) -> Statement:
    """Take a published statement down: its votes leave the map at the next recompute."""
    _require_moderator(actor, statement)
    if statement.status is not StatementStatus.PUBLISHED:
        raise Conflict(_l("Only a published statement can be hidden."))
    _moderated(actor, statement, StatementStatus.HIDDEN, "statement.hidden", _reason(reason, True))
    _matrix_changed(statement.board)
    return statement


def _moderated(actor: User, statement: Statement, status: StatementStatus, action: str, reason: str) -> None:
    statement.status = status
    statement.moderated_at = utcnow()
    statement.moderated_by_id = actor.id
    statement.rejected_reason = reason
    db.session.flush()
    audit.log(actor, action, consultation=statement.board.consultation, target_user=statement.author,
              reason=reason, statement_id=statement.id)


# --- Votes -------------------------------------------------------------------------------

def parse_value(value: Any) -> int:
    """"agree" / "disagree" / "pass" (or 1 / -1 / 0) -> the stored value."""
    if isinstance(value, str) and value in VALUES:
        return VALUES[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in VALUE_NAMES:
        return value
    raise ValidationError(_l("Choose agree, disagree or pass."), field="value")


_COUNT_COLUMNS = {1: "agree_count", -1: "disagree_count", 0: "pass_count"}


def vote(actor: User, statement: Statement, value: Any) -> StatementVote:
    """Agree, disagree or pass; voting again changes the vote while the board is open. The
    statement's counts follow in the same transaction (SQL increments)."""
    value = parse_value(value)
    if not permissions.can_vote_statement(actor, statement):
        if statement.board.status is not BoardStatus.OPEN:
            raise PermissionDenied(_l("This board is not taking votes at the moment."))
        raise PermissionDenied()
    existing = db.session.scalar(select(StatementVote).where(
        StatementVote.statement_id == statement.id, StatementVote.user_id == actor.id))
    if existing is None:
        existing = StatementVote(board_id=statement.board_id, statement_id=statement.id, user_id=actor.id,
                                 value=value)
        try:
            with db.session.begin_nested():
                db.session.add(existing)
        except IntegrityError:  # the same person's vote, sent twice at the same moment
            existing = db.session.scalar(select(StatementVote).where(
                StatementVote.statement_id == statement.id, StatementVote.user_id == actor.id))
            return _change(existing, statement, value)
        _count(statement, value, +1)
    else:
        return _change(existing, statement, value)
    _matrix_changed(statement.board)
    return existing


CHANGE_ATTEMPTS = 5  # a vote changed by another request meanwhile is read again this many times


def _change(existing: StatementVote, statement: Statement, value: int) -> StatementVote:
    """Change a vote and move one count from its old value to the new. The change is a
    compare-and-swap (UPDATE ... WHERE value = the value read): when the same person's other
    request changed the vote in between (two clicks at once), nothing is written, the vote is
    read again, and the counts move from the value actually stored, so they never drift."""
    for _attempt in range(CHANGE_ATTEMPTS):
        old = existing.value
        if old == value:
            return existing  # the same vote again: nothing changes
        swapped = db.session.execute(
            update(StatementVote).where(StatementVote.id == existing.id, StatementVote.value == old)
            .values(value=value).execution_options(synchronize_session=False)).rowcount
        db.session.expire(existing, ["value"])
        if swapped:
            _count(statement, old, -1)
            _count(statement, value, +1)
            _matrix_changed(statement.board)
            return existing
    raise Conflict(_l("Your vote was changed at the same moment. Please vote again."))


def _count(statement: Statement, value: int, delta: int) -> None:
    column = _COUNT_COLUMNS[value]
    db.session.execute(update(Statement).where(Statement.id == statement.id)
                       .values({column: getattr(Statement, column) + delta})
                       .execution_options(synchronize_session=False))
    db.session.expire(statement, [column])


# --- The map -----------------------------------------------------------------------------

MAP_JOB_KEY = "opinion-map:{board_id}"


def _matrix_changed(board: OpinionBoard) -> None:
    db.session.execute(update(OpinionBoard).where(OpinionBoard.id == board.id)
                       .values(matrix_version=OpinionBoard.matrix_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(board, ["matrix_version"])
    request_recompute(board)


def request_recompute(board: OpinionBoard) -> None:
    """Ask for the board's map to be computed again (debounced, after this commit)."""
    jobs.enqueue(recompute_map, board.id, key=MAP_JOB_KEY.format(board_id=board.id),
                 debounce_seconds=current_app.config["OPINION_MAP_DEBOUNCE_SECONDS"])


def matrix(board: OpinionBoard) -> tuple[list[tuple[int, int, int]], dict[int, tuple[str, str]]]:
    """The votes on the board's published statements as (participant key, statement id,
    value), and each participant's (country, organisation type). Plain rows from the
    connection (no ORM row processing: 180,000 votes are most of the job's reading), and the
    voters' profiles once each rather than joined to every vote."""
    connection = db.session.connection()
    # The board's votes in one scan of its index, kept for published statements here: a join
    # let PostgreSQL, before statistics caught up with a busy board, probe the votes once per
    # statement (1.7 s for 180,000 votes instead of 0.1 s).
    published = set(connection.execute(select(Statement.id).where(
        Statement.board_id == board.id, Statement.status == StatementStatus.PUBLISHED)).scalars())
    rows = [row for row in connection.execute(
        select(StatementVote.user_id, StatementVote.statement_id, StatementVote.value)
        .where(StatementVote.board_id == board.id)) if row[1] in published]
    voters = {user_id for user_id, _statement_id, _value in rows}
    keys = {user_id: participant_key(board, user_id) for user_id in voters}
    groups_of = {keys[user_id]: (country or "", organisation_type or "")
                 for user_id, country, organisation_type in connection.execute(
                     select(User.id, User.country, User.organisation_type).where(User.id.in_(voters)))} \
        if voters else {}
    return [(keys[user_id], statement_id, value) for user_id, statement_id, value in rows], groups_of


def recompute_map(board_id: int) -> bool:
    """The job: compute the map from the matrix as it is now and store it, unless a map of
    the same or a newer matrix is stored already (a slower, older run never overwrites a
    newer one). Returns whether it stored a map. Records "opinion.map" when it does."""
    from forum.services import opinion_map

    board = db.session.get(OpinionBoard, board_id)
    if board is None:
        return False
    version = board.matrix_version  # read before the votes: the map holds at least this version
    votes, groups_of = matrix(board)
    result = opinion_map.compute(votes, groups_of, min_votes=MIN_VOTES)
    stored = db.session.execute(
        update(OpinionBoard).where(OpinionBoard.id == board.id,
                                   or_(OpinionBoard.map_version < version, OpinionBoard.map_computed_at.is_(None)))
        .values(map=result, map_version=version, map_computed_at=utcnow(), map_votes=len(votes))
        .execution_options(synchronize_session=False)).rowcount
    if not stored:
        return False
    db.session.expire(board)
    events.record_data(events.consultation_stream(board.consultation_id), "opinion.map", map_message(board.id, version,
                                                                                                      result))
    return True


def map_message(board_id: int, version: int, result: dict[str, Any]) -> dict[str, Any]:
    """What "opinion.map" carries: small; pages fetch the map itself (GET .../board/map)."""
    return {"board_id": board_id, "version": version, "participants": result.get("participants", 0),
            "groups": [{"label": g["label"], "size": g["size"]} for g in result.get("groups", [])]}


# --- What readers may see of a map ----------------------------------------------------------

def readable(stored: dict | None) -> dict | None:
    """A stored map as readers may see it, whenever it was computed: no opinion group of fewer
    than MAP_MIN_GROUP people (a map computed before the rule had them: such a group leaves the
    groups and the agree shares, and its members stay on the map without a group), and each
    group's make-up pooled below MAP_MIN_GROUP. A map computed now is returned as it is."""
    if not stored:
        return stored
    groups = stored.get("groups") or []
    if all(g.get("size", 0) >= MAP_MIN_GROUP and "countries_pooled" in g for g in groups):
        return stored
    kept = [g for g in groups if g.get("size", 0) >= MAP_MIN_GROUP]
    ids = {str(g["id"]) for g in kept}
    out = dict(stored)
    from forum.services import opinion_map  # numpy and scikit-learn: only for such a map

    out["groups"] = []
    for g in kept:
        countries, countries_pooled = opinion_map.pooled(g.get("countries") or {})
        types, types_pooled = opinion_map.pooled(g.get("organisation_types") or {})
        out["groups"].append({**g, "countries": countries,
                              "countries_pooled": countries_pooled + g.get("countries_pooled", 0),
                              "organisation_types": types,
                              "organisation_types_pooled": types_pooled + g.get("organisation_types_pooled", 0)})
    out["k"] = len(kept)
    out["points"] = [{**p, "group": p.get("group") if str(p.get("group")) in ids else None}
                     for p in stored.get("points") or ()]
    for name in ("consensus", "consensus_disagree", "divisive"):
        out[name] = [{**item, "agree_by_group": {g: v for g, v in (item.get("agree_by_group") or {}).items()
                                                 if g in ids}}
                     for item in stored.get(name) or ()]
    return out



# --- What the page shows -----------------------------------------------------------------

@dataclass
class MapView:
    """The stored map, ready for the page: statements by id, each group's share of agreement."""
    map: dict[str, Any] | None
    statements: dict[int, Statement] = field(default_factory=dict)
    me: int | None = None  # the reader's pseudonym, to highlight their point
    min_group: int = MAP_MIN_GROUP  # make-ups pool the countries and types below it

    @property
    def groups(self) -> list[dict[str, Any]]:
        return (self.map or {}).get("groups", [])

    @property
    def my_point(self) -> dict[str, Any] | None:
        if self.me is None:
            return None
        return next((p for p in (self.map or {}).get("points", []) if p["p"] == self.me), None)

    @property
    def points(self) -> list[dict[str, Any]]:
        return (self.map or {}).get("points", [])

    def label_of(self, group_id: Any) -> str:
        return next((g["label"] for g in self.groups if str(g["id"]) == str(group_id)), "?")

    def index_of(self, group_id: Any) -> int:
        """The group's place in the list (its colour and shape on the map)."""
        return next((i for i, g in enumerate(self.groups) if str(g["id"]) == str(group_id)), 0)

    def centres(self) -> dict[str, tuple[float, float]]:
        """Each group's mean position (where its letter is drawn), by group id as text."""
        sums: dict[str, list[float]] = {}
        for point in self.points:
            if point.get("group") is None:  # placed, in no group (docs/opinion-map.md)
                continue
            total = sums.setdefault(str(point["group"]), [0.0, 0.0, 0])
            total[0] += point["x"]
            total[1] += point["y"]
            total[2] += 1
        return {g: (x / n, y / n) for g, (x, y, n) in sums.items()}

    def ranked(self, name: str, limit: int = 5) -> list[dict[str, Any]]:
        """Consensus or divisive statements still published, with agreement per group label."""
        labels = {str(g["id"]): g["label"] for g in self.groups}
        out = []
        for item in (self.map or {}).get(name, []):
            statement = self.statements.get(item["statement_id"])
            if statement is None:
                continue
            shares = {labels.get(str(g), str(g)): share for g, share in item.get("agree_by_group", {}).items()}
            out.append({"statement": statement, "score": item.get("score"), "agree_by_group": shares})
            if len(out) >= limit:
                break
        return out

    def representative(self, group: dict[str, Any], limit: int = 3) -> list[dict[str, Any]]:
        out = []
        for item in group.get("representative", []):
            statement = self.statements.get(item["statement_id"])
            if statement is not None:
                out.append({**item, "statement": statement})
            if len(out) >= limit:
                break
        return out


def map_view(actor: User, board: OpinionBoard, statements: list[Statement] | None = None) -> MapView:
    statements = published(board) if statements is None else statements
    me = participant_key(board, actor.id) if actor is not None and actor.is_authenticated else None
    return MapView(map=readable(board.map), statements={s.id: s for s in statements}, me=me)


def voters(board: OpinionBoard) -> int:
    return db.session.scalar(select(func.count(func.distinct(StatementVote.user_id)))
                             .where(StatementVote.board_id == board.id)) or 0


def composition(counts: dict[str, int]) -> list[tuple[str, int]]:
    """A group's make-up, largest first ('' for not stated last)."""
    return sorted(Counter(counts).items(), key=lambda item: (item[0] == "", -item[1], item[0]))
