"""Domain models. Modules here import nothing of ours above forum.extensions."""
from forum.models.api_tokens import ApiToken, TokenScope
from forum.models.consultations import Consultation, Host, Tag, Topic, consultation_tags
from forum.models.events import AssignmentMode, Event, EventMember, EventStatus, MemberRole, Moderator, Room, RoomPhase
from forum.models.feedback import FeedbackAnswer, FeedbackForm, FeedbackSubmission
from forum.models.moderation import Flag, HandRaise, ModerationAction, Mute, Takeaway, TakeawayRevision
from forum.models.notifications import DigestFrequency, Follow, Notification, NotificationKind, NotificationSetting
from forum.models.opinion import BoardStatus, OpinionBoard, Statement, StatementStatus, StatementVote
from forum.models.polls import Poll, PollKind, PollOption, PollStatus, PollVote, ResultsShown
from forum.models.posts import Endorsement, Post, PostRevision, PostStatus, Stance
from forum.models.preevent import PreEventAnswer, PreEventEndorsement, PreEventKind, PreEventQuestion
from forum.models.questions import Question, QuestionStatus, QuestionVote
from forum.models.reports import ReportCover, ReportFile, ReportStatus
from forum.models.search import SearchDocument
from forum.models.streams import Stream, StreamEvent
from forum.models.users import LoginRecord, User

__all__ = [
    "ApiToken",
    "AssignmentMode",
    "BoardStatus",
    "Consultation",
    "DigestFrequency",
    "Endorsement",
    "Event",
    "FeedbackAnswer",
    "FeedbackForm",
    "FeedbackSubmission",
    "EventMember",
    "EventStatus",
    "Flag",
    "Follow",
    "HandRaise",
    "Host",
    "MemberRole",
    "LoginRecord",
    "ModerationAction",
    "Moderator",
    "Mute",
    "Notification",
    "NotificationKind",
    "NotificationSetting",
    "OpinionBoard",
    "Poll",
    "PollKind",
    "PollOption",
    "PollStatus",
    "PollVote",
    "Post",
    "PreEventAnswer",
    "PreEventEndorsement",
    "PreEventKind",
    "PreEventQuestion",
    "PostRevision",
    "PostStatus",
    "Question",
    "QuestionStatus",
    "QuestionVote",
    "ReportCover",
    "ReportFile",
    "ReportStatus",
    "ResultsShown",
    "SearchDocument",
    "Room",
    "RoomPhase",
    "Takeaway",
    "TakeawayRevision",
    "Stance",
    "Statement",
    "StatementStatus",
    "StatementVote",
    "Stream",
    "StreamEvent",
    "Tag",
    "TokenScope",
    "Topic",
    "User",
    "consultation_tags",
]
