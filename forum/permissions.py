"""Who may do what. The one place that decides; templates may ask, services enforce.

Roles: anonymous, participant (any signed-in account), host (an account linked to a host
of the consultation), organiser (the consultation's owner) and platform admin.
`access_*` functions load and authorise in one step and answer "not found" both for what
does not exist and for what the user may not see, so that ids cannot be probed.
"""
from __future__ import annotations

from flask_login import AnonymousUserMixin

from forum.extensions import db
from forum.models import Consultation, Post, User
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus, Visibility
from forum.services.errors import NotFound

Actor = User | AnonymousUserMixin | None


def _signed_in(user: Actor) -> bool:
    return user is not None and bool(user.is_authenticated)


def _is_admin(user: Actor) -> bool:
    return _signed_in(user) and user.is_admin


def is_organiser_of(user: Actor, consultation: Consultation) -> bool:
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    return consultation.owner_id == user.id


def is_host_of(user: Actor, consultation: Consultation) -> bool:
    return _signed_in(user) and consultation.is_host(user)


# --- Platform -----------------------------------------------------------------------

def can_manage_users(user: Actor) -> bool:
    return _is_admin(user)


def can_create_consultation(user: Actor) -> bool:
    if not _signed_in(user):
        return False
    return user.is_organiser or user.is_admin


# --- Consultations ------------------------------------------------------------------

def can_view_consultation(user: Actor, consultation: Consultation) -> bool:
    if consultation.status is ConsultationStatus.DRAFT:
        return is_organiser_of(user, consultation) or is_host_of(user, consultation)
    if consultation.visibility is Visibility.MEMBERS:
        return _signed_in(user)
    return True


def can_edit_consultation(user: Actor, consultation: Consultation) -> bool:
    return is_organiser_of(user, consultation)


def can_post(user: Actor, consultation: Consultation) -> bool:
    if not _signed_in(user):
        return False
    if not can_view_consultation(user, consultation):
        return False
    return consultation.accepts_posts(utcnow())


# --- Posts --------------------------------------------------------------------------

def can_reply(user: Actor, post: Post) -> bool:
    if post.is_deleted:
        return False
    return can_post(user, post.consultation)


def can_edit_post(user: Actor, post: Post) -> bool:
    if not _signed_in(user):
        return False
    if post.is_deleted:
        return False
    if post.author_id != user.id:
        return False
    return can_post(user, post.consultation)


def can_delete_post(user: Actor, post: Post) -> bool:
    """Authors may withdraw their own words at any time, even after closing (GDPR erasure);
    the consultation's organiser and admins may remove any post."""
    if not _signed_in(user):
        return False
    if post.is_deleted:
        return False
    if not can_view_consultation(user, post.consultation):
        return False
    if post.author_id == user.id:
        return True
    return is_organiser_of(user, post.consultation)


def can_endorse(user: Actor, post: Post) -> bool:
    if not _signed_in(user):
        return False
    if post.is_deleted:
        return False
    if post.author_id == user.id:
        return False
    return can_post(user, post.consultation)


# --- Load and authorise -------------------------------------------------------------

# Ids are 32-bit integers in the database; anything else names nothing.
MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def access_consultation(user: Actor, consultation_id: int) -> Consultation:
    if not valid_id(consultation_id):
        raise NotFound()
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound()
    if not can_view_consultation(user, consultation):
        raise NotFound()
    return consultation


def access_post(user: Actor, post_id: int, consultation_id: int | None = None) -> Post:
    if not valid_id(post_id):
        raise NotFound()
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound()
    if consultation_id is not None and post.consultation_id != consultation_id:
        raise NotFound()
    if not can_view_consultation(user, post.consultation):
        raise NotFound()
    return post
