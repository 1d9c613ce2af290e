"""The card templates that live pages fill from compact events.

A live event carries a post's data once, for every language (forum.services.events,
`payload`); the page, which knows its reader's language, builds the card. So that a card
built in the browser is the one the server renders on page load, the page embeds the card's
own Jinja template (posts/_post.html, rooms/_message.html) rendered in its language for a
stand-in post (`card_template`): every part is kept, marked with the facts it needs
(templates/partials/card.html), and every value of the post is a slot, `⟦name⟧`. The page's
script (`plenaryFillCard` in static/js/app.js) keeps the parts that hold for a post and fills
the slots, as text (or, for the already-sanitised `*_html` slots, as that HTML).

The words that depend on the post come from the page too (`card_words`): organisation types,
countries, topics, and the counted texts in the page's plural forms.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

from flask import render_template
from flask_login import current_user
from markupsafe import Markup

from forum import permissions
from forum.i18n import label, plural_forms, vocabularies
from forum.models.posts import Stance
from forum.models.questions import QuestionStatus
from forum.models.users import FORMER_PARTICIPANT
from forum.services.accounts import country_codes

# Numbers that stand for the post's ids in the card template (links carry them): each
# becomes its slot once the template is rendered. Ten digits: no other number on a card.
_NUMBERS = {"id": 7390000001, "thread_id": 7390000002, "parent_id": 7390000003, "topic_id": 7390000004,
            "author_id": 7390000005, "quoted_id": 7390000006, "topic_number": 7390000007,
            "endorsement_count": 7390000008}
_WHEN = datetime(2000, 1, 1, tzinfo=UTC)
_TIME = re.compile(r'<time datetime="2000-01-01T00:00:00\+00:00">[^<]*</time>')


def _slot(name: str) -> str:
    return f"⟦{name}⟧"


def _stand_in(*, consultation, room, backchannel: bool) -> SimpleNamespace:
    """A post whose every value is a slot (or a number that becomes one)."""
    n = _NUMBERS
    author = SimpleNamespace(display_name=_slot("author_name"), organisation=_slot("organisation"),
                             organisation_type_label=_slot("organisation_type"), country=_slot("country"))
    quoted = SimpleNamespace(id=n["quoted_id"], room_id=room.id if room else None, backchannel=backchannel,
                             is_deleted=False, is_hidden=False, is_published=True,
                             author=SimpleNamespace(display_name=_slot("quote_name")),
                             body_html=Markup(_slot("quote_html")))
    parent = SimpleNamespace(is_deleted=False, author=SimpleNamespace(display_name=_slot("parent_name")))
    return SimpleNamespace(
        id=n["id"], thread_id=n["thread_id"], parent_id=n["parent_id"], topic_id=n["topic_id"],
        author_id=n["author_id"], quoted_post_id=n["quoted_id"], quoted_post=quoted, parent=parent,
        consultation=consultation, consultation_id=consultation.id if consultation else None,
        room=room, room_id=room.id if room else None, backchannel=backchannel,
        topic=SimpleNamespace(position=n["topic_number"], title=_slot("topic_title"), is_proposal=True),
        stance=None,  # every stance's badge is kept, each marked "stance_<code>"
        author=author, subject=_slot("subject"), body_html=Markup(_slot("body_html")),
        on_behalf_of_organisation=True, organisation_name=_slot("on_behalf"),
        hidden_reason="", rejected_reason=_slot("rejected_reason"),
        status=SimpleNamespace(value="published"), announcement=False,
        created_at=_WHEN, edited_at=_WHEN, pinned_at=None, locked_at=None,
        is_deleted=False, is_hidden=False, is_published=True, endorsement_count=n["endorsement_count"],
    )


def card_template(kind: str, *, consultation=None, room=None) -> Markup:
    """`<script type="text/html" data-card="kind">`: the card of a consultation's response ("response") or
    reply ("reply"), or of a room's message ("message"), or of one in its moderators'
    back-channel ("backchannel")."""
    post = _stand_in(consultation=consultation, room=room, backchannel=kind == "backchannel")
    if kind in ("message", "backchannel"):
        html = render_template("rooms/_message.html", message=post, skeleton=True)
    else:
        html = render_template("posts/_post.html", node=SimpleNamespace(post=post, children=[]),
                               depth=1 if kind == "reply" else 0, skeleton=True)
    for name, number in _NUMBERS.items():
        html = html.replace(str(number), _slot(name))
    html = _TIME.sub('<time datetime="⟦created_at⟧">⟦created_at⟧</time>', html)
    if "</script" in html.lower():  # it holds no user data, so this cannot be: never end the script early
        raise ValueError("a card template may not hold </script")
    # Carried as text (as the page's other data for scripts is), not as a <template>: the
    # page's own markup holds only what it shows, and the script parses the card when it fills it.
    return Markup('<script type="text/html" data-card="{}">{}</script>').format(kind, Markup(html.strip()))


# The plenary's questions (docs/questions.md): the question's id in the item's template.
_QUESTION_ID = 7390000021


def question_template(room, questions, action_form) -> Markup:
    """`<script type="text/html" data-card="question">`: a plenary question as this page's
    reader would see it, for one that arrives live (static/js/questions.js): rooms/_question.html
    rendered for a stand-in published question, its parts marked with the facts they need
    ("vote", "anonymous", "published", "answered", "moderate") and its values as slots (`id`,
    `status`, `votes`, `created`, `created_at`, `body`, `body_short`, `author_name`,
    `upvote_label`, `votes_label`)."""
    stand_in = SimpleNamespace(id=_QUESTION_ID, room=room, room_id=room.id, author_id=0, anonymous=False,
                               status=QuestionStatus.PUBLISHED, vote_count=0, created_at=_WHEN,
                               body=_slot("body"), author=SimpleNamespace(display_name=_slot("author_name")))
    moderates = permissions.can_moderate_questions(current_user, room)
    html = render_template("rooms/_question.html", q=stand_in, questions=questions, room=room, event=room.event,
                           action_form=action_form, skeleton=True, moderates_q=moderates)
    html = html.replace(str(_QUESTION_ID), _slot("id"))
    html = _TIME.sub('<time datetime="⟦created_at⟧">⟦created_at⟧</time>', html)
    if "</script" in html.lower():  # it holds no user data, so this cannot be
        raise ValueError("a card template may not hold </script")
    return Markup('<script type="text/html" data-card="question">{}</script>').format(Markup(html.strip()))


def question_words(room) -> dict:
    """What questions.js needs besides the template, in the page's language: what its reader
    may do (permissions.question_reader) and the counted texts."""
    return {"reader": permissions.question_reader(current_user, room),
            "upvote": plural_forms("Upvote (%(num)d vote)", "Upvote (%(num)d votes)"),
            "votes": plural_forms("%(num)d vote", "%(num)d votes"),
            "former_participant": str(FORMER_PARTICIPANT)}


def card_words(consultation=None) -> dict:
    """The words a card takes from its page, in the page's language: names of organisation
    types and countries, a consultation's topics, the counted texts (plural forms)."""
    words = {
        "organisation_types": {code: str(name) for code, name in vocabularies()["organisation_type"].items()},
        "countries": {code: label("country", code) for code in country_codes()},
        "endorsements": plural_forms("%(num)d endorsement", "%(num)d endorsements"),
        "agreements": plural_forms("%(num)d agrees", "%(num)d agree"),
        # The codes whose badge a card may show (its facts "stance_<code>"); the names are the card's.
        "stances": [s.value for s in Stance],
        # How a live message's `acts` are read (permissions.actions_by_reader).
        "actions": list(permissions.POST_ACTIONS), "reader_roles": list(permissions.READER_ROLES),
        # How a closed account's posts name their author (forum/services/account_closure.py).
        "former_participant": str(FORMER_PARTICIPANT),
    }
    if consultation is not None:
        words["topics"] = {str(t.id): {"number": t.position, "title": t.title} for t in consultation.topics}
    return words

