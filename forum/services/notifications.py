"""STUB on the `mail` branch — REPLACE WITH HELPER B's forum/services/notifications.py AT MERGE
(take B's file whole; nothing here is to be kept).

Only the two names the e-mail work calls (docs/notifications.md, the spec of issue 13):
`describe(notification) -> Described` and `create_due_reminders(now)`, so that
forum/services/notification_mail.py and its tests run before B's module is merged. The tests
of the mails (tests/services/test_notification_mail.py, tests/web/test_mail.py) compare what a
mail says with `describe(...)` itself, not with this stub's words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from forum import permissions
from forum.extensions import db
from forum.models import Post
from forum.models.notifications import NOTIFICATION_KIND_LABELS, Notification


@dataclass
class Described:
    text: str
    url: str
    excerpt: str
    visible: bool


def describe(notification: Notification) -> Described:  # STUB: B's replaces it
    from forum.web import post_url

    post = db.session.get(Post, notification.post_id) if notification.post_id else None
    if post is not None:
        visible = permissions.can_read_post(notification.user, post) and post.is_published
        excerpt = (post.body or "")[:200] if visible else ""
        return Described(text=str(NOTIFICATION_KIND_LABELS[notification.kind]), url=post_url(post),
                         excerpt=excerpt, visible=visible)
    return Described(text=str(NOTIFICATION_KIND_LABELS[notification.kind]), url="/", excerpt="", visible=True)


def create_due_reminders(now: datetime) -> int:  # STUB: B's replaces it
    return 0
