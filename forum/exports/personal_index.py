"""index.html of a person's copy of their data (forum/exports/personal_data.py): one page that
says what each JSON file holds, in the person's language (the caller's locale) and time zone,
with its figures and its latest rows in tables, and what is left out and why.

The page is built here as sections of paragraphs, figures and tables (every word translated
here), and written by one generic template (templates/account/data_index.html): self-contained
(its style inline, no script, no link outside the archive but to the JSON files beside it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from forum.exports.personal_data import LATEST, PostSummary, iso
from forum.i18n import format_when, label
from forum.models import User
from forum.models.notifications import DIGEST_FREQUENCY_LABELS, NOTIFICATION_KIND_LABELS, NotificationKind

EXCERPT = 140  # characters of a post shown in the table of latest posts


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Any]]
    row_headers: bool = False  # the first cell of each row names it (a two-column table)


@dataclass
class Section:
    id: str
    heading: str
    file: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


class _Page:
    """What every section needs: the zone to show times in."""

    def __init__(self, zone: str) -> None:
        self.zone = zone

    def when(self, value: str | None) -> Markup | str:
        """An ISO 8601 UTC time from the JSON files as a <time> in the person's zone."""
        if not value:
            return ""
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return Markup('<time datetime="{}">{}</time>').format(value, format_when(moment, "medium", zone=self.zone))


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def place_text(place: dict[str, Any] | None) -> str:
    """"Consultation › Topic 2: title" or "Event › Room"."""
    if not place:
        return ""
    if place["kind"] in ("room", "event"):
        parts = [place.get("event_title") or ""]
        if place["kind"] == "room":
            parts.append(place["room_title"] or "")
    else:
        parts = [place.get("consultation_title") or ""]
        if place["kind"] == "topic":
            parts.append(_("Topic %(number)d: %(title)s", number=place["topic_number"], title=place["topic_title"]))
    return " › ".join(part for part in parts if part)


def latest(rows: list, key: str) -> list:
    """The LATEST newest of a chronological list, newest first."""
    return sorted(rows, key=lambda row: row.get(key) or "", reverse=True)[:LATEST]


def more_note(total: int) -> list[str]:
    if total > LATEST:
        return [_("The table shows the latest %(shown)d of %(total)d; the file holds them all.",
                  shown=LATEST, total=total)]
    return []


def figures(caption: str, pairs: list[tuple[str, int]]) -> Table:
    return Table(caption, [_("What"), _("How many")], [[name, number] for name, number in pairs], row_headers=True)


# --- Sections ------------------------------------------------------------------------------

def _profile(page: _Page, profile: dict[str, Any]) -> Section:
    languages = current_app.config["LANGUAGES"]
    frequency = profile["digest_frequency"]
    rows = [
        [_("Name shown to others"), profile["display_name"]],
        [_("Handle"), "@" + profile["handle"]],
        [_("Email address"), profile["email"]],
        [_("Address confirmed"), page.when(profile["email_verified_at"]) or _("No")],
        [_("Organisation"), profile["organisation"]],
        [_("Type of organisation"), label("organisation_type", profile["organisation_type"])],
        [_("Country"), label("country", profile["country"])],
        [_("Role or job title (optional)"), profile["role_title"]],
        [_("Preferred language"), languages.get(profile["preferred_language"], profile["preferred_language"])],
        [_("Time zone"), profile["timezone"]],
        [_("Name me in reports and exports"), yes_no(profile["named_in_reports"])],
        [_("Organiser"), yes_no(profile["is_organiser"])],
        [_("Platform administrator"), yes_no(profile["is_admin"])],
        [_("E-mail me at once when I am mentioned or a moderator acts on my post"), yes_no(profile["email_immediate"])],
        [_("Digest of the rest"), str(DIGEST_FREQUENCY_LABELS.get(frequency, frequency))],
        [_("Account created"), page.when(profile["created_at"])],
        [_("Last login"), page.when(profile["last_login_at"])],
    ]
    return Section("profile", _("Your profile"), "profile.json",
                   [_("Every setting of your account. Your password is not in it: it is kept only as a "
                      "one-way hash, which tells nothing of the password.")],
                   [Table(_("Your profile"), [_("Setting"), _("Value")], rows, row_headers=True)])


POST_KINDS = {
    "response": lambda: _("Responses"),
    "reply": lambda: _("Replies"),
    "room_message": lambda: _("Messages in rooms"),
    "moderators_channel_message": lambda: _("Messages in moderators' channels"),
    "announcement": lambda: _("Messages to every room"),
}
POST_KIND = {  # one post's
    "response": lambda: _("Response"),
    "reply": lambda: _("Reply"),
    "room_message": lambda: _("Room message"),
    "moderators_channel_message": lambda: _("Moderators' channel message"),
    "announcement": lambda: _("Message to every room"),
}
POST_STATES = {
    "published": lambda: _("Published"),
    "pending": lambda: _("Waiting for approval"),
    "rejected": lambda: _("Not published"),
    "hidden": lambda: _("Hidden by a moderator"),
    "deleted": lambda: _("Deleted"),
}


def _excerpt(record: dict[str, Any]) -> str:
    text = " ".join(f"{record['subject']} {record['body_markdown']}".split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"


def _posts(page: _Page, posts: PostSummary) -> Section:
    counts = [(name(), posts.by_kind[kind]) for kind, name in POST_KINDS.items() if kind in posts.by_kind]
    counts += [(name(), posts.by_state[state]) for state, name in POST_STATES.items() if state in posts.by_state]
    counts.append((_("Earlier versions kept"), posts.versions))
    rows = [[page.when(r["created_at"]), place_text(r["place"]), POST_KIND[r["kind"]](), POST_STATES[r["state"]](),
             _excerpt(r)] for r in reversed(posts.latest)]
    return Section("posts", _("What you wrote"), "posts.json", [
        _("Every response, reply and room message you wrote, %(count)d in all, with where it is, its state, its "
          "stance and each earlier version of its text. Posts hidden by a moderator or waiting for approval are "
          "included with their state; deleted posts are listed without their words, as deleting a post erases "
          "its text and earlier versions.", count=posts.count),
        *more_note(posts.count)],
        [figures(_("Your posts in numbers"), counts),
         Table(_("Your latest posts"), [_("Written"), _("Where"), _("Kind"), _("State"), _("Text")], rows)])


def _endorsements(page: _Page, data: dict[str, Any]) -> Section:
    rows = [[page.when(r["created_at"]), place_text(r["place"]), r["post_id"]]
            for r in latest(data["endorsements"], "created_at")]
    return Section("endorsements", _("Your endorsements"), "endorsements.json",
                   [_("The posts you endorse: %(count)d.", count=len(data["endorsements"])),
                    *more_note(len(data["endorsements"]))],
                   [Table(_("Posts you endorse"), [_("When"), _("Where"), _("Post number")], rows)] if rows else [])


def _votes(page: _Page, data: dict[str, Any]) -> Section:
    counts = [
        (_("Poll votes"), len(data["poll_votes"])),
        (_("Statements you wrote on statements boards"), len(data["statements"])),
        (_("Your votes on statements"), len(data["statement_votes"])),
        (_("Your questions to the plenary"), len(data["plenary_questions"])),
        (_("Your votes for questions to the plenary"), len(data["plenary_question_votes"])),
        (_("Your pre-event answers"), len(data["pre_event_answers"])),
        (_("Pre-event answers you endorse"), len(data["pre_event_endorsements"])),
        (_("Feedback answers you gave with your name"), len(data["named_feedback_answers"])),
        (_("Events whose feedback form you answered"), len(data["feedback_forms_answered"])),
    ]
    rows = [[page.when(r["updated_at"]), r["question"], place_text(r["place"]),
             ", ".join(c["option"] + (f" ({c['value']})" if "value" in c else "") for c in r["choice_in_words"])]
            for r in latest(data["poll_votes"], "updated_at")]
    tables = [figures(_("Your votes and answers in numbers"), counts)]
    if rows:
        tables.append(Table(_("Your poll votes"), [_("When"), _("Poll"), _("Where"), _("Your choice")], rows))
    return Section("votes", _("Your votes, questions and answers"), "votes.json", [
        _("Your votes in polls (anonymous polls too: the votes are not shown to anyone, but they are stored "
          "with your account), your statements and votes on statements boards, your questions to the plenary "
          "and your votes for questions, your pre-event answers and endorsements, and the feedback you gave "
          "with your name."),
        _("Feedback you gave anonymously is not included: an anonymous answer is stored with no link to whoever "
          "gave it, so no one, not even the site's administrators, can tell which answers are yours. Only the "
          "fact that you answered an event's form is kept, and it is listed here.")], tables)


def _events(page: _Page, data: dict[str, Any]) -> Section:
    rows = [[place_text(r["place"]), page.when(r["starts_at"]), label("member_role", r["role"]),
             r["room_title"] or "", page.when(r["registered_at"]), page.when(r["attended_at"]) or _("No")]
            for r in latest(data["registrations"], "registered_at")]
    tables = []
    if rows:
        tables.append(Table(_("Events you registered for"), [_("Event"), _("Starts"), _("Registered as"),
                                                             _("Your room"), _("Registered"), _("Came")], rows))
    if data["co_moderation"]:
        tables.append(Table(_("Where you are a co-moderator"), [_("Where")],
                            [[place_text(r["place"])] for r in data["co_moderation"]]))
    tables.append(figures(_("In the rooms"), [
        (_("Raised hands"), len(data["raised_hands"])),
        (_("Key takeaways crediting you"), len(data["takeaways_crediting_you"])),
        (_("Key takeaways you wrote"), len(data["takeaways_written"])),
        (_("Earlier versions of key takeaways you replaced"), len(data["takeaway_versions_replaced"]))]))
    return Section("events", _("Events"), "events.json", [
        _("Your registrations (your room, when you registered and whether you came), where you co-moderate, "
          "your raised hands and the key takeaways that credit you or that you wrote."),
        *more_note(len(data["registrations"]))], tables)


def _organising(page: _Page, data: dict[str, Any]) -> Section:
    return Section("organising", _("What you organise"), "organising.json", [
        _("The consultations and events you own, those you host, the polls and statements boards you set up "
          "and the reports' summaries you last edited.")], [figures(_("What you organise"), [
            (_("Consultations"), len(data["consultations"])), (_("Consultations you host"), len(data["hosting"])),
            (_("Events"), len(data["events"])), (_("Polls"), len(data["polls_created"])),
            (_("Statements boards"), len(data["statement_boards_created"])),
            (_("Report summaries"), len(data["report_covers_last_edited"]))])])


def _notifications(page: _Page, data: dict[str, Any]) -> Section:
    settings = data["settings"]["kinds"]
    rows = [[str(NOTIFICATION_KIND_LABELS[NotificationKind(code)]), _("On") if on else _("Off")]
            for code, on in settings.items()]
    unread = sum(1 for n in data["notifications"] if n["read_at"] is None)
    return Section("notifications", _("Notifications and follows"), "notifications.json", [
        _("Every notice you were sent (what it is about, when it was read or e-mailed), what you follow and "
          "your notification settings.")], [
        figures(_("Notifications in numbers"), [
            (_("Notifications"), len(data["notifications"])), (_("Unread"), unread),
            (_("Things you follow"), sum(1 for f in data["follows"] if f["active"]))]),
        Table(_("Tell me about"), [_("Kind of notice"), _("Setting")], rows, row_headers=True)])


def _moderation(page: _Page, data: dict[str, Any]) -> Section:
    rows = [[page.when(r["created_at"]), label("moderation_action", r["action"]), r["reason"]]
            for r in latest(data["actions_about_you"], "created_at")]
    tables = [figures(_("Moderation in numbers"), [
        (_("Moderators' actions on you or your posts"), len(data["actions_about_you"])),
        (_("Posts you reported"), len(data["reports_you_made"])),
        (_("Times you were muted"), len(data["mutes_on_you"])),
        (_("Actions you took as a moderator or organiser"), len(data["actions_you_took"])),
        (_("Reports you resolved"), len(data["reports_you_resolved"])),
        (_("Mutes you gave"), len(data["mutes_you_gave"])),
        (_("Posts you hid"), len(data["posts_you_hid"])),
        (_("Statements you moderated"), len(data["statements_you_moderated"]))])]
    if rows:
        tables.append(Table(_("Moderators' actions on you or your posts"), [_("When"), _("What"), _("Reason")], rows))
    return Section("moderation", _("Moderation"), "moderation.json", [
        _("The lines of the moderation log about you or your posts (without naming the moderator, as on the "
          "site), the posts you reported, the times you were muted, and what you did as a moderator.")], tables)


def _logins(page: _Page, data: dict[str, Any]) -> Section:
    rows = [[page.when(r["at"]), r["ip_address"], r["user_agent"]] for r in latest(data["logins"], "at")]
    return Section("logins", _("Logins"), "login_records.json", [
        _("When you logged in, from which address and with which browser. Old addresses are blanked and old "
          "logins removed after a while."), *more_note(len(data["logins"]))],
        [Table(_("Your latest logins"), [_("When"), _("Address"), _("Browser")], rows)] if rows else [])


def _tokens(page: _Page, data: dict[str, Any]) -> Section:
    rows = [[r["name"], r["prefix"], r["scope"], page.when(r["created_at"]), page.when(r["expires_at"]),
             page.when(r["last_used_at"]), page.when(r["revoked_at"])] for r in data["api_tokens"]]
    return Section("api-tokens", _("API tokens"), "api_tokens.json", [
        _("Your personal access tokens: their names, how they start, what they allow and their dates. The "
          "tokens themselves are never stored, only a hash of each, which is not included.")],
        [Table(_("Your API tokens"), [_("Name"), _("Starts with"), _("Allows"), _("Created"), _("Expires"),
                                      _("Last used"), _("Revoked")], rows)] if rows else [])


def _files(page: _Page, data: dict[str, Any]) -> Section:
    rows = [[page.when(r["created_at"]), r["title"], r["format"].upper(), label("report_status", r["status"])]
            for r in latest(data["report_files"], "created_at")]
    return Section("files", _("Files you asked for"), "reports.json", [
        _("The reports and copies of your data you asked for: what, when and their state (not the files).")],
        [Table(_("Files you asked for"), [_("Asked"), _("What"), _("Format"), _("State")], rows)] if rows else [])


def _left_out() -> Section:
    return Section("left-out", _("What is not included, and why"), None, [
        _("Your password and the key of your login sessions: they are kept only in forms that are of no use "
          "outside this site."),
        _("Feedback you gave anonymously: it is stored with no link to you."),
        _("Notices sent to other people about something you did (a reply, an endorsement): they are theirs; "
          "what you did is in the files above."),
        _("The search index: a copy of the words of your posts, which are in posts.json.")])


def render(user: User, parts: dict[str, dict[str, Any]], posts: PostSummary, *, timezone_name: str,
           generated_at: datetime) -> str:
    page = _Page(timezone_name)
    sections = [
        _profile(page, parts["profile.json"]["profile"]),
        _posts(page, posts),
        _endorsements(page, parts["endorsements.json"]),
        _votes(page, parts["votes.json"]),
        _events(page, parts["events.json"]),
        _organising(page, parts["organising.json"]),
        _notifications(page, parts["notifications.json"]),
        _moderation(page, parts["moderation.json"]),
        _logins(page, parts["login_records.json"]),
        _tokens(page, parts["api_tokens.json"]),
        _files(page, parts["reports.json"]),
        _left_out(),
    ]
    locale = get_locale()
    return render_template("account/data_index.html", sections=sections, name=user.display_name,
                           generated=page.when(iso(generated_at)), zone=timezone_name,
                           language=locale.language if locale else "en")
