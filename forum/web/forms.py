"""Forms: they describe the fields and carry the CSRF token. The rules live in services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Optional
from wtforms.widgets import HiddenInput


def _code(value) -> str:
    """A code as sent, or an enum member's (a form filled from a model)."""
    return getattr(value, "value", value)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[InputRequired()])
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name shown to others"), validators=[InputRequired()])
    organisation = StringField(_l("Organisation"))
    organisation_type = SelectField(_l("Type of organisation"), validate_choice=False)
    country = SelectField(_l("Country"), validate_choice=False)
    role_title = StringField(_l("Role or job title (optional)"))
    preferred_language = SelectField(_l("Preferred language"), validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    named_in_reports = BooleanField(
        _l("Name me in reports and exports"), default=True,
        description=_l("Organisers write reports from the discussion. Untick this and they show you as "
                       "\"Participant (country, type of organisation)\" instead of your name."))


class EditProfileForm(ProfileForm):
    """The profile page's form: the registration fields and the handle (made at registration)."""
    handle = StringField(_l("Handle"), description=_l(
        "People mention you by writing @ and your handle. Letters a to z, digits, dots, hyphens and "
        "underscores; earlier mentions keep pointing to you when you change it."))


class RegisterForm(ProfileForm):
    email = EmailField(_l("Email address"), validators=[InputRequired()])
    password = PasswordField(_l("Password"), validators=[InputRequired()],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The two passwords do not match."))])
    accept_privacy = BooleanField(_l("I have read the privacy notice and agree that my name, "
                                     "organisation and country are shown with my posts."),
                                  validators=[
                                      InputRequired(message=_l("Please accept the privacy notice to register."))])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[InputRequired()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired()],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The two passwords do not match."))])


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()])


class ConsultationForm(FlaskForm):
    title = StringField(_l("Question"), validators=[InputRequired()])
    brief = TextAreaField(_l("Brief (Markdown)"))
    tags = StringField(_l("Tags"), description=_l("Separate tags with spaces, for example: #Integration #Employment"))
    visibility = SelectField(_l("Who can read it"), choices=[
        SelectChoice("public", _l("Everyone, including visitors who are not logged in")),
        SelectChoice("members", _l("Only logged-in members")),
    ], validate_choice=False)
    opens_at = DateTimeLocalField(_l("Opens at (optional)"), validators=[Optional()],
                                  format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    closes_at = DateTimeLocalField(_l("Closes at (optional)"), validators=[Optional()],
                                   format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


class TopicForm(FlaskForm):
    title = StringField(_l("Topic title"), validators=[InputRequired()])
    description = TextAreaField(_l("Short description (optional)"))
    guiding_questions = TextAreaField(_l("Guiding questions"),
                                      description=_l("One question per line, in the order they should appear."))
    is_proposal = BooleanField(
        _l("This topic is a proposal: each response says whether it is in favour, neutral or against"),
        description=_l("Responses then show their stance, and the page counts them per stance and per "
                       "stakeholder group. Turning this off later keeps the stances already given but hides "
                       "them; turning it on again shows them again."))


class HostForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired()])
    role = StringField(_l("Role"))
    organisation = StringField(_l("Organisation"))
    account_email = EmailField(_l("Email of their Plenary account (optional)"),
                               description=_l("Links the host to an account, so their posts are marked as a host's."))


class PostForm(FlaskForm):
    topic_id = SelectField(_l("Topic"), coerce=int, validate_choice=False,
                           validators=[InputRequired(message=_l("Choose one of this consultation's topics."))])
    subject = StringField(_l("Subject (optional)"))
    body = TextAreaField(_l("Your response"), validators=[InputRequired(message=_l("Write your response first."))],
                         description=_l("You can use Markdown: **bold**, *italic*, lists, > quotes and links."))
    on_behalf_of_organisation = BooleanField(_l("I am posting on behalf of my organisation"))
    # Required by the service for a response to a proposal topic (services/stances.py).
    stance = RadioField(_l("Your stance on the proposal"), validate_choice=False, validators=[Optional()],
                        coerce=_code)
    # Set by the page's script; the same key sent twice (double click, resend) makes one post.
    client_key = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[InputRequired(message=_l("Write your reply first."))],
                         description=_l("You can use Markdown: **bold**, *italic*, lists, > quotes and links."))
    on_behalf_of_organisation = BooleanField(_l("I am posting on behalf of my organisation"))
    quote = BooleanField(_l("Quote this post above my reply"))
    client_key = HiddenField()


class EditPostForm(FlaskForm):
    subject = StringField(_l("Subject (optional)"))
    body = TextAreaField(_l("Text"), validators=[InputRequired(message=_l("The text cannot be empty."))])
    stance = RadioField(_l("Your stance on the proposal"), validate_choice=False, validators=[Optional()],
                        coerce=_code)


class RolesForm(FlaskForm):
    is_organiser = BooleanField(_l("Organiser"))
    is_admin = BooleanField(_l("Platform admin"))


class RoomMessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[InputRequired(message=_l("Write your message first."))],
                         description=_l("You can use Markdown: **bold**, *italic*, lists, > quotes and links."))
    parent_id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    quote = BooleanField(_l("Quote the message above mine"))
    client_key = HiddenField()


# --- Events (forum/web/events.py) ---------------------------------------------------

class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired()])
    description = TextAreaField(_l("Description (Markdown)"))
    agenda = TextAreaField(_l("Agenda (Markdown)"))
    speakers = TextAreaField(_l("Speakers"), description=_l(
        "One per line, for example: Dr Ana Ruiz, Ministry of Labour (Spain) – keynote"))
    timezone = SelectField(_l("Time zone of the event"), validate_choice=False,
                           description=_l("The start and end below are in this time zone."))
    starts_at = DateTimeLocalField(_l("Starts at"), validators=[InputRequired()],
                                   format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    ends_at = DateTimeLocalField(_l("Ends at"), validators=[InputRequired()],
                                 format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    assignment_mode = SelectField(_l("How participants get their breakout room"), validate_choice=False)


class EventRoomForm(FlaskForm):
    title = StringField(_l("Topic"), validators=[InputRequired()])
    description = TextAreaField(_l("Description (optional)"))
    capacity = IntegerField(_l("Capacity (optional)"), validators=[Optional()],
                            description=_l("The most participants the room takes; leave empty for no limit."))


class ModeratorForm(FlaskForm):
    email = EmailField(_l("Email of their Plenary account"), validators=[InputRequired()])


class BroadcastForm(FlaskForm):
    body = TextAreaField(_l("Message to every room"),
                         validators=[InputRequired(message=_l("Write your message first."))],
                         description=_l("You can use Markdown: **bold**, *italic*, lists, > quotes and links."))


class RecallForm(FlaskForm):
    message = StringField(_l("Message (optional)"),
                          description=_l("For example: Please come back to the plenary for the report-back."))


class TakeawayForm(FlaskForm):
    body = TextAreaField(_l("Key takeaway"))
    source_post_id = IntegerField(widget=HiddenInput(), validators=[Optional()])


# --- Moderation (forum/web/moderation.py) ---------------------------------------------

class HidePostForm(FlaskForm):
    reason = TextAreaField(_l("Why is it hidden?"), validators=[InputRequired(message=_l("Give a reason."))],
                           description=_l("Its author sees this reason; others see that a moderator hid it."))
    next = HiddenField()


class RejectPostForm(HidePostForm):
    reason = TextAreaField(_l("Why is it not published?"), validators=[InputRequired(message=_l("Give a reason."))],
                           description=_l("Its author sees this reason."))


class FlagPostForm(HidePostForm):
    reason = TextAreaField(_l("What is wrong with this post?"),
                           validators=[InputRequired(message=_l("Tell the moderators why you report it."))],
                           description=_l("Only the moderators see your report."))


class MovePostForm(FlaskForm):
    destination = SelectField(_l("Move to"), coerce=int, validate_choice=False,
                              validators=[InputRequired(message=_l("Choose where to move it."))])
    next = HiddenField()


class RoomSettingsForm(FlaskForm):
    """Any of the three settings; a field left out of the request keeps its value."""
    locked = StringField()
    slow_mode_seconds = StringField(_l("Slow mode"))
    premoderated = StringField()
    next = HiddenField()


class MuteForm(FlaskForm):
    user_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    minutes = IntegerField(_l("For how many minutes"), default=10, validators=[InputRequired()])
    reason = StringField(_l("Reason (optional)"))
    next = HiddenField()


class BoardForm(FlaskForm):
    """A statements board's settings (forum/web/opinion.py)."""
    prompt = TextAreaField(_l("Question or prompt shown above the statements"), validators=[InputRequired()],
                           description=_l("For example: What should the new labour-market rules achieve?"))
    premoderated = BooleanField(_l("Moderators approve participants' statements before they are shown"))


class StatementForm(FlaskForm):
    text = TextAreaField(_l("Your statement"), validators=[InputRequired()],
                         description=_l("One short, clear opinion others can agree or disagree with "
                                        "(at most 280 characters)."))


class ModerateStatementForm(FlaskForm):
    action = StringField()  # the button pressed: approve, reject or hide (not a hidden field of its own)
    reason = StringField(_l("Reason (shown to the author)"))


# --- Polls (forum/web/polls.py) -------------------------------------------------------

class PollForm(FlaskForm):
    kind = SelectField(_l("Kind of poll"), validate_choice=False)
    question = StringField(_l("Question"), validators=[InputRequired(message=_l("Write the question first."))])
    description = TextAreaField(_l("Description (optional, Markdown)"))
    topic_id = SelectField(_l("About"), coerce=int, validate_choice=False, default=0)
    options = TextAreaField(
        _l("Options"), validators=[InputRequired(message=_l("Write the options, one per line."))],
        description=_l("One option per line. A short description may follow the option after a dash: "
                       "“Small grants schemes — simpler access for small organisations”."))
    max_choices = IntegerField(_l("At most this many choices (optional)"), validators=[Optional()],
                               description=_l("Leave empty to let voters choose any number of options."))
    scale_min = IntegerField(_l("Scale from"), default=1, validators=[Optional()])
    scale_max = IntegerField(_l("Scale to"), default=5, validators=[Optional()])
    scale_labels = TextAreaField(
        _l("Words for values of the scale (optional)"),
        description=_l("One per line, the value then “=”: “1 = Not at all”, “5 = Fully”."))
    points = IntegerField(_l("Points each voter spreads"), default=10, validators=[Optional()])
    opens_at = DateTimeLocalField(_l("Opens at (optional)"), validators=[Optional()],
                                  format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                  description=_l("Leave empty to take votes as soon as you open it."))
    closes_at = DateTimeLocalField(_l("Closes at (optional)"), validators=[Optional()],
                                   format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   description=_l("Leave empty to close it by hand."))
    results_shown = SelectField(_l("Show the results"), validate_choice=False)
    votes_changeable = BooleanField(_l("Voters may change their vote until the poll closes"), default=True)
    anonymous = BooleanField(
        _l("Anonymous: nobody, organisers included, sees who voted what"),
        description=_l("If the results are shown live, each new vote shows in them as it arrives, so someone "
                       "watching when a person votes can tell how they voted. For a sensitive anonymous "
                       "question, show the results after the poll closes."))


# --- Plenary questions (forum/web/rooms.py) ---------------------------------------------

class QuestionForm(FlaskForm):
    body = TextAreaField(_l("Your question to the speakers"),
                         validators=[InputRequired(message=_l("Write your question first."))])
    anonymous = BooleanField(_l("Ask anonymously"),
                             description=_l("Only the moderators will see your name."))


# --- Reports (forum/web/exports.py) ---------------------------------------------------

class ReportCoverForm(FlaskForm):
    summary = TextAreaField(_l("Executive summary (Markdown)"),
                            description=_l("The first section of the report, after its cover."))
    next_steps = TextAreaField(_l("Next steps and recommendations (Markdown)"),
                               description=_l("What will happen with the results, and what you recommend."))
    logo = FileField(_l("Logo for the cover (optional)"),
                     description=_l("A PNG or JPEG image of at most 512 KB; it is resized to fit 600 × 240 pixels."))
    remove_logo = BooleanField(_l("Remove the logo"))


# --- Personal access tokens (forum/web/api_tokens.py) -------------------------------------

def _whole_days(value) -> int:
    """A lifetime as sent; anything but a whole number is 0, which the service refuses."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else 0


class ApiTokenForm(FlaskForm):
    """Only shapes: the service checks the name, the scope and the lifetime."""
    name = StringField(_l("Name"), description=_l("What the token is for, e.g. “analysis notebook”."))
    scope = RadioField(_l("It may"), validate_choice=False, default="read")
    days = SelectField(_l("It works for"), coerce=_whole_days, validate_choice=False, default=30)
class CloseAccountForm(FlaskForm):
    """Closing an account (the profile's, or an admin's on the person's request): what becomes
    of the contributions, and the password of whoever confirms."""
    mode = RadioField(_l("What becomes of what was written"), choices=[
        SelectChoice("keep", _l("Keep the contributions, shown as by a “Former participant”")),
        SelectChoice("erase", _l("Erase the contributions too"))],
        validators=[InputRequired(message=_l("Choose whether the contributions are kept or erased."))])
    password = PasswordField(_l("Your password"), validators=[InputRequired(message=_l("Enter your password."))])

    def __init__(self, *args, **kwargs):
        # Its fields' ids must not meet the profile's password form's ("password").
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)
