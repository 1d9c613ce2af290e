"""Domain models. Modules here import nothing of ours above forum.extensions."""
from forum.models.consultations import Consultation, Host, Tag, Topic, consultation_tags
from forum.models.events import AssignmentMode, Event, EventMember, EventStatus, MemberRole, Moderator, Room, RoomPhase
from forum.models.moderation import Flag, HandRaise, ModerationAction, Mute, Takeaway, TakeawayRevision
from forum.models.posts import Endorsement, Post, PostRevision, PostStatus
from forum.models.streams import Stream, StreamEvent
from forum.models.users import User

__all__ = [
    "AssignmentMode",
    "Consultation",
    "Endorsement",
    "Event",
    "EventMember",
    "EventStatus",
    "Flag",
    "HandRaise",
    "Host",
    "MemberRole",
    "ModerationAction",
    "Moderator",
    "Mute",
    "Post",
    "PostRevision",
    "PostStatus",
    "Room",
    "RoomPhase",
    "Takeaway",
    "TakeawayRevision",
    "Stream",
    "StreamEvent",
    "Tag",
    "Topic",
    "User",
    "consultation_tags",
]
