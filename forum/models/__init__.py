"""Domain models. Modules here import nothing of ours above forum.extensions."""
from forum.models.consultations import Consultation, Host, Tag, Topic, consultation_tags
from forum.models.posts import Endorsement, Post, PostRevision
from forum.models.streams import Stream, StreamEvent
from forum.models.users import User

__all__ = [
    "Consultation",
    "Endorsement",
    "Host",
    "Post",
    "PostRevision",
    "Stream",
    "StreamEvent",
    "Tag",
    "Topic",
    "User",
    "consultation_tags",
]
