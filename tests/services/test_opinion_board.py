"""The statements board service (forum/services/opinion.py): setting up, statements and their
moderation, votes and their counts, and the recompute of the map (inline: no Redis here)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from forum.models import BoardStatus, ModerationAction, StatementStatus, StatementVote, StreamEvent
from forum.services import events
from forum.services import opinion as service
from forum.services.errors import Conflict, PermissionDenied, ValidationError


@pytest.fixture
def board_of(make_consultation):
    def _board(*, premoderated=False, status="open", consultation=None):
        consultation = consultation or make_consultation()
        board = service.save_board(consultation.owner, consultation, prompt="What should change?",
                                   premoderated=premoderated)
        if status != "draft":
            service.set_board_status(consultation.owner, board, "open")
        if status == "closed":
            service.set_board_status(consultation.owner, board, "closed")
        return board
    return _board


def seeds(board, n):
    return [service.add_seed_statement(board.consultation.owner, board, f"Statement number {i}") for i in range(n)]


def test_an_organiser_sets_up_opens_and_closes_a_board(db, make_consultation, make_user):
    consultation = make_consultation()
    with pytest.raises(PermissionDenied):
        service.save_board(make_user(), consultation, prompt="Hijack", premoderated=False)
    with pytest.raises(ValidationError):
        service.save_board(consultation.owner, consultation, prompt="  ", premoderated=False)
    board = service.save_board(consultation.owner, consultation, prompt="What should change?", premoderated=True)
    assert board.status is BoardStatus.DRAFT and board.premoderated
    assert service.save_board(consultation.owner, consultation, prompt="Changed", premoderated=False) is board
    assert board.prompt == "Changed" and not board.premoderated
    with pytest.raises(ValidationError):
        service.set_board_status(consultation.owner, board, "closed")  # a draft opens first
    with pytest.raises(ValidationError):
        service.set_board_status(consultation.owner, board, "nonsense")
    service.set_board_status(consultation.owner, board, "open")
    with pytest.raises(Conflict):
        service.set_board_status(consultation.owner, board, "open")
    service.set_board_status(consultation.owner, board, "closed")
    assert board.status is BoardStatus.CLOSED


def test_statements_are_short_clean_and_not_duplicated(db, make_user, board_of):
    board = board_of()
    user = make_user()
    statement = service.submit_statement(user, board, "  Rules   should be simpler. ")
    assert statement.text == "Rules should be simpler." and statement.status is StatementStatus.PUBLISHED
    with pytest.raises(ValidationError) as duplicate:
        service.submit_statement(make_user(), board, "rules should be SIMPLER")
    assert duplicate.value.field == "text"
    with pytest.raises(ValidationError):
        service.submit_statement(user, board, "x" * 281)
    with pytest.raises(ValidationError):
        service.submit_statement(user, board, "bad \x00 byte")
    with pytest.raises(ValidationError):
        service.submit_statement(user, board, "   ")
    assert len(service.published(board)) == 1


def test_the_duplicate_check_does_not_reveal_others_unpublished_statements(db, make_user, board_of):
    board = board_of(premoderated=True)
    author, other = make_user(), make_user()
    waiting = service.submit_statement(author, board, "Apprenticeships need funding")
    hidden = service.submit_statement(author, board, "Close the old factory")
    service.approve_statement(board.consultation.owner, hidden)
    service.hide_statement(board.consultation.owner, hidden, "Off topic")
    assert waiting.status is StatementStatus.PENDING
    # Someone else may submit the same words: refusing would tell them a statement of that
    # text waits for a moderator (or was hidden).
    assert service.submit_statement(other, board, "apprenticeships need funding!").status is StatementStatus.PENDING
    assert service.submit_statement(other, board, "Close the old factory").status is StatementStatus.PENDING
    # Its author is told: it is their own.
    with pytest.raises(ValidationError):
        service.submit_statement(author, board, "Apprenticeships need funding")
    # And a published statement is on the board for everyone.
    published = service.submit_statement(board.consultation.owner, board, "Fund the schools")
    assert published.status is StatementStatus.PUBLISHED
    with pytest.raises(ValidationError):
        service.submit_statement(other, board, "fund the schools")


def test_counts_follow_the_stored_vote_when_two_changes_race(db, make_user, board_of):
    """The same person's two changes at once: the second was read before the first was
    stored. It moves the counts from the value the first stored, not from the one it read."""
    from forum.models import Statement

    board = board_of()
    statement, = seeds(board, 1)
    alice = make_user()
    stored_vote = service.vote(alice, statement, "agree")
    db.session.flush()
    # The other request: agree -> disagree, stored behind this session's back (its copy of
    # the vote still says agree).
    db.session.execute(update(StatementVote).where(StatementVote.id == stored_vote.id).values(value=-1)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Statement).where(Statement.id == statement.id).values(
        agree_count=Statement.agree_count - 1, disagree_count=Statement.disagree_count + 1)
        .execution_options(synchronize_session=False))
    assert stored_vote.value == 1  # stale
    service.vote(alice, statement, "pass")
    db.session.expire_all()
    assert (statement.agree_count, statement.disagree_count, statement.pass_count) == (0, 0, 1)
    assert stored_vote.value == 0


def test_a_premoderated_statement_waits_for_a_moderator(db, make_user, board_of):
    board = board_of(premoderated=True)
    author, other = make_user(), make_user()
    statement = service.submit_statement(author, board, "Apprenticeships need funding")
    assert statement.status is StatementStatus.PENDING
    assert service.published(board) == []
    with pytest.raises(PermissionDenied):
        service.approve_statement(other, statement)
    with pytest.raises(PermissionDenied):
        service.pending(other, board)
    owner = board.consultation.owner
    assert service.pending(owner, board) == [statement]
    with pytest.raises(PermissionDenied):
        service.vote(other, statement, "agree")  # not published yet
    service.approve_statement(owner, statement)
    assert statement.status is StatementStatus.PUBLISHED
    with pytest.raises(Conflict):
        service.approve_statement(owner, statement)

    rejected = service.submit_statement(author, board, "Something off-topic")
    with pytest.raises(ValidationError):
        service.reject_statement(owner, rejected, "")  # a reason is required
    service.reject_statement(owner, rejected, "Off topic")
    assert rejected.status is StatementStatus.REJECTED and rejected.rejected_reason == "Off topic"
    assert service.own_statements(author, board) == [rejected]
    actions = db.session.scalars(select(ModerationAction.action).where(
        ModerationAction.consultation_id == board.consultation_id).order_by(ModerationAction.id)).all()
    assert actions == ["statement.approved", "statement.rejected"]


def test_an_organisers_statement_is_published_at_once_on_a_premoderated_board(db, board_of):
    board = board_of(premoderated=True)
    statement = service.submit_statement(board.consultation.owner, board, "Organisers skip the queue")
    assert statement.status is StatementStatus.PUBLISHED


def test_votes_change_and_counts_follow(db, make_user, board_of):
    board = board_of()
    statement, = seeds(board, 1)
    alice, bob = make_user(), make_user()
    version = board.matrix_version
    service.vote(alice, statement, "agree")
    service.vote(bob, statement, "disagree")
    db.session.refresh(statement)
    assert (statement.agree_count, statement.disagree_count, statement.pass_count) == (1, 1, 0)
    service.vote(alice, statement, "pass")
    service.vote(alice, statement, "pass")  # the same vote again changes nothing
    db.session.refresh(statement)
    assert (statement.agree_count, statement.disagree_count, statement.pass_count) == (0, 1, 1)
    assert db.session.scalar(select(func.count(StatementVote.id))) == 2
    db.session.refresh(board)
    assert board.matrix_version == version + 3
    with pytest.raises(ValidationError):
        service.vote(alice, statement, "maybe")
    with pytest.raises(ValidationError):
        service.vote(alice, statement, 2)


def test_no_votes_or_statements_once_closed_nor_from_visitors(db, make_user, board_of):
    from flask_login import AnonymousUserMixin

    board = board_of()
    statement, = seeds(board, 1)
    with pytest.raises(PermissionDenied):
        service.vote(AnonymousUserMixin(), statement, "agree")
    service.set_board_status(board.consultation.owner, board, "closed")
    with pytest.raises(PermissionDenied):
        service.vote(make_user(), statement, "agree")
    with pytest.raises(PermissionDenied):
        service.submit_statement(make_user(), board, "Too late")


def test_the_voting_order_shows_seeds_first_and_skips_what_was_voted(db, make_user, board_of):
    board = board_of()
    participant = make_user()
    mine = service.submit_statement(make_user(), board, "A participant's statement")
    first, second = seeds(board, 2)
    order = service.voting_order(participant, board)
    assert order[:2] == [first, second] and order[2] == mine
    service.vote(participant, first, "agree")
    assert service.next_statement(participant, board) == second


def vote_pattern(board, statements, people, pattern):
    for person, row in zip(people, pattern, strict=True):
        for statement, value in zip(statements, row, strict=True):
            service.vote(person, statement, value)


def test_the_map_is_recomputed_after_commit_and_announced(db, make_user, board_of):
    board = board_of()
    statements = seeds(board, 8)
    people = [make_user(country=c) for c in ("DE", "DE", "IT", "IT", "FR", "FR")]
    vote_pattern(board, statements, people, [[1] * 8, [1] * 8, [-1] * 8, [-1] * 8, [1, -1] * 4, [1, -1] * 4])
    assert board.map is None  # not inside the transaction
    db.session.commit()
    db.session.expire_all()
    assert board.map is not None
    assert board.map_version == board.matrix_version
    assert board.map_votes == 48
    assert board.map["participants"] == 6
    # Pseudonyms, not account ids; the reader finds their own point.
    keys = {p["p"] for p in board.map["points"]}
    assert keys == {service.participant_key(board, person.id) for person in people}
    assert not keys & {person.id for person in people}
    assert service.map_view(people[0], board).my_point is not None
    # Six people are one opinion group (two groups would need 5 each), whose make-up pools
    # the countries of fewer than 5 of its people: 2 each here.
    [group] = board.map["groups"]
    assert group["size"] == 6 and group["countries"] == {} and group["countries_pooled"] == 6
    announced = db.session.scalars(select(StreamEvent).where(
        StreamEvent.stream_key == events.consultation_stream(board.consultation_id),
        StreamEvent.kind == "opinion.map")).all()
    assert len(announced) == 1
    data = announced[0].payload["data"]
    assert data["version"] == board.map_version and data["participants"] == 6
    assert "points" not in data  # small: pages fetch the map


def test_an_older_matrix_never_overwrites_a_newer_map(db, make_user, board_of):
    board = board_of()
    statements = seeds(board, 7)
    person = make_user()
    vote_pattern(board, statements, [person], [[1] * 7])
    db.session.commit()
    db.session.expire_all()
    stored = board.map_version
    assert service.recompute_map(board.id) is False  # nothing newer to compute
    db.session.expire_all()
    assert board.map_version == stored


def test_hiding_a_statement_takes_its_votes_off_the_map(db, make_user, board_of):
    board = board_of()
    statements = seeds(board, 8)
    person = make_user()
    vote_pattern(board, statements, [person], [[1] * 8])
    db.session.commit()
    db.session.expire_all()
    assert board.map_votes == 8
    with pytest.raises(ValidationError):
        service.hide_statement(board.consultation.owner, statements[0], "")
    with pytest.raises(PermissionDenied):
        service.hide_statement(person, statements[0], "Spam")
    service.hide_statement(board.consultation.owner, statements[0], "Spam")
    db.session.commit()
    db.session.expire_all()
    assert board.map_votes == 7
    assert statements[0].status is StatementStatus.HIDDEN
