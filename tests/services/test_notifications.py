"""forum.services.notifications: who is told what, follows, settings, batches, reminders and
describe(). The jobs run inline once the test's session commits (tests' config: no Redis)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forum.models import EventMember
from forum.models.base import utcnow
from forum.models.events import MemberRole
from forum.models.notifications import Follow, Notification, NotificationKind, NotificationSetting
from forum.services import consultations as consultation_service
from forum.services import event_setup, moderation
from forum.services import notifications as service
from forum.services import polls as poll_service
from forum.services import posts as post_service
from forum.services.errors import PermissionDenied, ValidationError

K = NotificationKind


def notices(db, user=None, kind=None):
    """The stored notices (of a user, of a kind), oldest first, after committing the test's
    session so that the queued jobs have run."""
    db.session.commit()
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def kinds_by_user(db):
    db.session.commit()
    return {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}


@pytest.fixture
def people(make_user):
    """Ann writes, Bob replies, Cat follows."""
    return make_user(display_name="Ann Author"), make_user(display_name="Bob Replier"), \
        make_user(display_name="Cat Follower")


# --- Posts ----------------------------------------------------------------------------------

def test_a_reply_tells_the_parent_author_and_the_threads_followers_not_the_replier(db, people, make_post):
    ann, bob, cat = people
    response = make_post(author=ann)
    service.follow(cat, response)
    reply = make_post(author=bob, parent=response)

    assert kinds_by_user(db) == {(ann.id, K.REPLY), (cat.id, K.THREAD_REPLY)}
    (told,) = notices(db, ann)
    assert (told.post_id, told.actor_id, told.read_at) == (reply.id, bob.id, None)


def test_posting_follows_the_thread_unless_one_left_it(db, people, make_post):
    ann, bob, cat = people
    response = make_post(author=ann)
    make_post(author=bob, parent=response)  # Bob now follows the thread
    make_post(author=cat, parent=response)
    assert (bob.id, K.THREAD_REPLY) in kinds_by_user(db)

    service.unfollow(bob, response)
    make_post(author=bob, parent=response)  # posting again does not follow it again
    before = len(notices(db, bob))
    make_post(author=cat, parent=response)
    assert len(notices(db, bob)) == before
    assert db.session.scalar(select(Follow.active).where(Follow.user_id == bob.id,
                                                         Follow.thread_id == response.id)) is False


def test_a_response_tells_the_topics_followers(db, people, make_consultation, make_post):
    ann, _bob, cat = people
    consultation = make_consultation(topics=2)
    service.follow(cat, consultation.topics[1])
    make_post(author=ann, consultation=consultation, topic=consultation.topics[0])
    assert notices(db, cat) == []
    make_post(author=ann, consultation=consultation, topic=consultation.topics[1])
    assert [n.kind for n in notices(db, cat)] == [K.NEW_RESPONSE]


def test_one_notice_per_person_per_post_the_most_specific(db, people, make_post):
    """Ann is mentioned, quoted and replied to in one post: she is told of the mention only."""
    ann, bob, cat = people
    response = make_post(author=ann)
    service.follow(ann, response)
    post_service.create_post(bob, response.consultation, parent=response, quote=True,
                             body=f"@{ann.handle} and @{cat.handle}, see this.")
    assert [n.kind for n in notices(db, ann)] == [K.MENTION]
    assert [n.kind for n in notices(db, cat)] == [K.MENTION]


def test_a_quote_outranks_a_reply(db, people, make_post):
    ann, bob, _cat = people
    response = make_post(author=ann)
    post_service.create_post(bob, response.consultation, parent=response, quote=True, body="Indeed.")
    assert [n.kind for n in notices(db, ann)] == [K.QUOTE]


def test_a_kind_switched_off_falls_back_to_the_next_one_that_applies(db, people, make_post):
    ann, bob, _cat = people
    service.save_settings(ann, ann, enabled={k.value for k in K} - {"mention"}, email_immediate=True,
                          digest_frequency="daily")
    response = make_post(author=ann)
    make_post(author=bob, parent=response, body=f"@{ann.handle} here")
    assert [n.kind for n in notices(db, ann)] == [K.REPLY]


def test_settings_off_means_nothing(db, people, make_post):
    ann, bob, _cat = people
    service.save_settings(ann, ann, enabled=set(), email_immediate=False, digest_frequency="never")
    response = make_post(author=ann)
    make_post(author=bob, parent=response, body=f"@{ann.handle} hello")
    post_service.endorse(bob, response)
    moderation.hide_post(response.consultation.owner, response, "Off topic")
    assert notices(db, ann) == []


def test_settings_store_only_what_differs_from_the_defaults(db, people):
    ann, bob, _cat = people
    service.save_settings(ann, ann, enabled={k.value for k in K} - {"endorsement"}, email_immediate=False,
                          digest_frequency="weekly")
    rows = db.session.execute(select(NotificationSetting.kind, NotificationSetting.enabled)
                              .where(NotificationSetting.user_id == ann.id)).all()
    assert rows == [(K.ENDORSEMENT, False)]
    assert (ann.email_immediate, ann.digest_frequency) == (False, "weekly")
    assert service.settings_of(ann)[K.ENDORSEMENT] is False
    service.save_settings(ann, ann, enabled={k.value for k in K}, email_immediate=True, digest_frequency="daily")
    assert db.session.scalar(select(func.count(NotificationSetting.id))
                             .where(NotificationSetting.user_id == ann.id)) == 0
    with pytest.raises(ValidationError):
        service.save_settings(ann, ann, enabled={"nonsense"}, email_immediate=True, digest_frequency="daily")
    with pytest.raises(ValidationError):
        service.save_settings(ann, ann, enabled=set(), email_immediate=True, digest_frequency="hourly")
    with pytest.raises(PermissionDenied):
        service.save_settings(bob, ann, enabled=set(), email_immediate=True, digest_frequency="daily")


def test_an_edit_that_adds_a_mention_tells_only_the_newly_mentioned(db, people, make_post):
    ann, bob, cat = people
    post = make_post(author=ann, body=f"Hello @{bob.handle}")
    assert [n.kind for n in notices(db, bob)] == [K.MENTION]
    post_service.edit_post(ann, post, body=f"Hello @{bob.handle} and @{cat.handle}")
    assert [n.kind for n in notices(db, cat)] == [K.MENTION]
    assert len(notices(db, bob)) == 1  # not twice for one post
    post_service.edit_post(ann, post, body=f"Hello @{cat.handle} again")
    assert len(notices(db, cat)) == 1


def test_nobody_is_told_of_their_own_post(db, people, make_post):
    ann, _bob, _cat = people
    response = make_post(author=ann)
    make_post(author=ann, parent=response, body=f"Me, @{ann.handle}")
    service.follow(ann, response.topic)
    make_post(author=ann, consultation=response.consultation)
    assert notices(db, ann) == []


# --- Who may read the place -------------------------------------------------------------------

def test_a_mention_in_a_room_tells_only_people_who_may_read_the_room(db, make_event, make_user):
    event = make_event(participants=2)
    inside, elsewhere = event.test_participants  # rooms 1 and 2
    moderator = event.test_moderators[1][0]
    stranger = make_user()
    post_service.post_in_room(moderator, event.breakout_rooms[0],
                              body=f"@{inside.handle} @{elsewhere.handle} @{stranger.handle}")
    assert {n.user_id for n in notices(db, kind=K.MENTION)} == {inside.id}


def test_a_mention_in_the_backchannel_tells_only_its_moderators(db, make_event):
    event = make_event(participants=1)
    participant = event.test_participants[0]
    one, other = event.test_moderators[1]
    post_service.post_in_room(one, event.breakout_rooms[0], backchannel=True,
                              body=f"@{participant.handle} is quiet, @{other.handle}")
    assert {n.user_id for n in notices(db, kind=K.MENTION)} == {other.id}


def test_a_waiting_message_tells_no_one_until_approved(db, make_event):
    event = make_event(participants=2)
    room = event.breakout_rooms[0]
    room.premoderated = True
    author = event.test_participants[0]
    friend = event.test_moderators[1][1]
    post = post_service.post_in_room(author, room, body=f"@{friend.handle} hi")
    assert notices(db, friend) == []
    moderation.approve_post(event.test_moderators[1][0], post)
    assert [n.kind for n in notices(db, friend)] == [K.MENTION]
    assert [(n.kind, n.action) for n in notices(db, author)] == [(K.MODERATION, "post.approved")]


def test_delivery_checks_the_post_as_it_is_then(db, people, make_post):
    """A post hidden between its publication and its job's run tells no one."""
    ann, bob, _cat = people
    response = make_post(author=ann)
    db.session.commit()
    reply = post_service.create_post(bob, response.consultation, parent=response, body="Rude words")
    moderation.hide_post(response.consultation.owner, reply, "Rude")
    assert notices(db, ann) == []


def test_a_new_poll_reaches_only_followers_who_may_see_it(db, make_user, make_consultation):
    host, former_host = make_user(), make_user()
    consultation = make_consultation(status="draft", hosts=[host, former_host])
    consultation_service.delete_host(consultation.owner, consultation.hosts[1])  # still has a Follow row
    poll = poll_service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Which?"},
                                    ["One", "Two"])
    poll_service.open_poll(consultation.owner, poll)
    assert {n.user_id for n in notices(db, kind=K.NEW_POLL)} == {host.id}


def test_a_new_topic_tells_the_consultations_followers_not_its_author(db, make_user, make_consultation):
    follower = make_user()
    consultation = make_consultation()
    service.follow(follower, consultation)
    topic = consultation_service.add_topic(consultation.owner, consultation,
                                           consultation_service.TopicInput(title="Childcare"))
    (told,) = notices(db, kind=K.NEW_TOPIC)
    assert (told.user_id, told.topic_id, told.consultation_id) == (follower.id, topic.id, consultation.id)
    assert service.describe(told).text == f"New Topic in “{consultation.title}”: Childcare"


def test_organisers_and_linked_hosts_follow_their_consultation(db, make_user, make_consultation):
    host = make_user()
    consultation = make_consultation(hosts=[host, "An unlinked host"])
    followers = set(db.session.scalars(select(Follow.user_id).where(Follow.consultation_id == consultation.id)))
    assert followers == {consultation.owner_id, host.id}


# --- Endorsements -----------------------------------------------------------------------------

def test_endorsements_are_batched_in_one_unread_notice(db, make_user, make_post):
    post = make_post()
    first, second, third = make_user(display_name="First"), make_user(display_name="Second"), make_user(
        display_name="Third")
    for endorser in (first, second, third):
        post_service.endorse(endorser, post)
        db.session.commit()
    (batch,) = notices(db, post.author)
    assert (batch.kind, batch.count, batch.actor_id) == (K.ENDORSEMENT, 3, third.id)
    assert service.describe(batch).text.startswith("Third and 2 other people endorsed your post")

    service.mark_read(post.author, batch)
    post_service.endorse(make_user(display_name="Fourth"), post)
    later = notices(db, post.author)
    assert [(n.count, n.read_at is None) for n in later] == [(3, False), (1, True)]


def test_an_endorsement_withdrawn_before_delivery_tells_nothing(db, make_user, make_post):
    post = make_post()
    db.session.commit()
    endorser = make_user()
    post_service.endorse(endorser, post)
    post_service.withdraw_endorsement(endorser, post)
    assert notices(db, post.author) == []


# --- Moderation and placement -----------------------------------------------------------------

@pytest.mark.parametrize("action", ["hide", "delete", "move", "lock"])
def test_a_moderators_action_tells_the_author_with_the_reason(db, make_post, make_consultation, action):
    consultation = make_consultation(topics=2)
    post = make_post(consultation=consultation)
    organiser = consultation.owner
    if action == "hide":
        moderation.hide_post(organiser, post, "Personal attack")
    elif action == "delete":
        post_service.delete_post(organiser, post)
    elif action == "move":
        moderation.move_post(organiser, post, topic=consultation.topics[1])
    else:
        moderation.lock_thread(organiser, post)
    (told,) = notices(db, post.author)
    described = service.describe(told)
    assert told.kind is K.MODERATION
    if action == "hide":
        assert described.text == f"A moderator hid your post in “{consultation.title}”. Reason: Personal attack"
        assert described.visible  # the author still reads their hidden post
    elif action == "delete":
        assert (described.text, described.url, described.visible) == (
            "A moderator deleted one of your posts.", "", False)
    elif action == "move":  # where to: the Topic (the consultation's title would name where it was already)
        assert described.visible
        assert described.text == f"A moderator moved your thread to “{consultation.topics[1].title}”."
    else:
        assert described.visible and consultation.title in described.text


def test_a_pin_tells_no_one_and_an_authors_own_deletion_neither(db, make_post):
    post = make_post()
    moderation.pin_post(post.consultation.owner, post)
    post_service.delete_post(post.author, post)
    assert notices(db, post.author) == []


def test_placement_in_a_room_is_told_and_a_later_move_hides_the_first(db, make_event, make_user):
    event = make_event(participants=0, assignment_mode="manual")
    person = make_user()
    member = EventMember(event_id=event.id, user_id=person.id, role=MemberRole.PARTICIPANT)
    db.session.add(member)
    db.session.flush()
    room1, room2 = event.breakout_rooms
    event_setup.assign_member(event.owner, member, room1)
    db.session.commit()
    event_setup.assign_member(event.owner, member, room2)
    first, second = notices(db, person)
    assert (first.kind, first.room_id, second.room_id) == (K.PLACEMENT, room1.id, room2.id)
    assert service.describe(second).text == f"You were placed in “{room2.title}” at “{event.title}”."
    assert service.describe(first) == service.Described(
        "A room you were notified about is no longer available to you.", "", "", False)


def test_the_balanced_assignment_tells_everyone_it_places(db, make_event, make_user):
    event = make_event(participants=0)
    people = [make_user() for _ in range(4)]
    for person in people:
        db.session.add(EventMember(event_id=event.id, user_id=person.id, role=MemberRole.PARTICIPANT))
    db.session.flush()
    event_setup.run_balanced_assignment(event.owner, event)
    assert {n.user_id for n in notices(db, kind=K.PLACEMENT)} == {p.id for p in people}


# --- Reminders --------------------------------------------------------------------------------

def test_closing_soon_reminders_are_made_once(db, make_user, make_consultation):
    follower, topic_follower, other = make_user(), make_user(), make_user()
    soon = make_consultation(closes_at=utcnow() + timedelta(hours=10))
    later = make_consultation(closes_at=utcnow() + timedelta(days=10))
    service.follow(follower, soon)
    service.follow(topic_follower, soon.topics[0])
    service.follow(other, later)
    db.session.commit()

    made = service.create_due_reminders(utcnow())
    assert service.create_due_reminders(utcnow()) == 0  # again: nothing more
    reminded = notices(db, kind=K.CLOSING_SOON)
    assert {n.user_id for n in reminded} == {follower.id, topic_follower.id, soon.owner_id}
    assert made == 3
    # Extended and closing soon again later: a new reminder for the new time.
    soon.closes_at = utcnow() + timedelta(hours=20)
    assert service.create_due_reminders(utcnow()) == 3


def test_event_starting_reminders_for_registered_people(db, make_event, make_user):
    event = make_event(participants=2, moderators=0)
    event.starts_at = utcnow() + timedelta(minutes=15)
    far = make_event(participants=1, moderators=0)
    far.starts_at = utcnow() + timedelta(days=5)
    db.session.commit()
    assert service.create_due_reminders(utcnow()) == 2
    assert service.create_due_reminders(utcnow()) == 0
    reminded = notices(db, kind=K.EVENT_STARTING)
    assert {n.user_id for n in reminded} == {p.id for p in event.test_participants}
    assert service.describe(reminded[0]).text.startswith(f"“{event.title}” starts on ")
    assert "Your room: “Room " in service.describe(reminded[0]).text


# --- describe() never leaks -------------------------------------------------------------------

def test_describe_shows_no_word_of_a_post_hidden_or_deleted_since(db, people, make_post):
    ann, bob, _cat = people
    response = make_post(author=ann)
    reply = make_post(author=bob, parent=response, body="A secret opinion about budgets")
    (told,) = notices(db, ann)
    described = service.describe(told)
    assert described.visible and described.excerpt == "A secret opinion about budgets"
    assert described.url == f"/consultations/{response.consultation_id}/posts/{response.id}#post-{reply.id}"
    assert described.text == f"Bob Replier replied to your post in “{response.consultation.title}”."

    moderation.hide_post(response.consultation.owner, reply, "Off topic")
    db.session.commit()
    hidden = service.describe(told)
    assert hidden == service.Described("A post you were notified about is no longer available.", "", "", False)

    moderation.restore_post(response.consultation.owner, reply)
    post_service.delete_post(bob, reply)
    db.session.commit()
    assert service.describe(told) == hidden
    assert "secret" not in repr(service.describe(told))


def test_mark_all_read_frees_the_endorsement_batch(db, make_user, make_post):
    post = make_post()
    post_service.endorse(make_user(), post)
    make_post(parent=post)
    assert [n.kind for n in notices(db, post.author)] == [K.ENDORSEMENT, K.REPLY]
    assert service.unread_count(post.author) == 2
    assert service.mark_all_read(post.author) == 2
    db.session.commit()
    assert service.unread_count(post.author) == 0
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == K.ENDORSEMENT, Notification.dedup_key.is_not(None))) == 0


def test_a_post_tells_each_person_once_even_when_its_job_runs_twice(db, make_user, make_post):
    """Two jobs for one post at once (a creation and an edit adding a mention, on two
    workers): the second finds nothing it may add, whatever the first has committed."""
    post = make_post()
    reply = make_post(parent=post)
    db.session.commit()
    # The second job's "already told" check sees nothing (the first's row not yet visible).
    db.session.execute(update(Notification).where(Notification.post_id == reply.id).values(post_id=None))
    assert service.deliver_post(reply.id) == []
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == post.author_id, Notification.dedup_key == f"post:{reply.id}")) == 1
