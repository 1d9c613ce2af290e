"""Outgoing mail: Flask-Mail messages (plain text and HTML, extra headers) over SMTP.

Without MAIL_SERVER configured, messages are written to the log instead, so a development
machine or a demo still shows password-reset and verification links.

Mail is sent only from jobs (forum/jobs.py) and the command line, never inside a request's
transaction or a socket handler: a service asks for a mail with `jobs.enqueue(...)`, the job
renders it in the recipient's language and time zone (`for_recipient`, `render`) with links
to the public site (`site_context`, PUBLIC_URL) and sends it (`send`). docs/mail.md says what
is sent when.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_mail import Connection, Message

from forum.extensions import mail
from forum.i18n import format_when

log = logging.getLogger("forum.mail")


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Extra headers: Content-Language, List-Unsubscribe, List-Unsubscribe-Post, ...
    headers: dict[str, str] = field(default_factory=dict)
    # Files sent with it (the registration confirmation's calendar file).
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


def send_mail(to: str, subject: str, body: str, *, html: str | None = None,
              headers: dict[str, str] | None = None) -> None:
    send(Email(to=to, subject=subject, text=body, html=html, headers=dict(headers or {})))


# A closed account's address is replaced by one under this reserved domain (RFC 2606: ".invalid"
# never resolves), forum/services/account_closure.py: nothing is ever sent there.
PLACEHOLDER_DOMAIN = "closed.invalid"


def is_placeholder_address(address: str) -> bool:
    return parseaddr(address or "")[1].lower().endswith("@" + PLACEHOLDER_DOMAIN)


def send(email: Email) -> None:
    """Send one message now (from a job or the command line), or log it without MAIL_SERVER.
    Raises on an SMTP failure, so that the job rolls back what it marked as sent."""
    config = current_app.config
    if is_placeholder_address(email.to):
        log.info("Mail to a closed account's placeholder address not sent: %s", email.subject)
        return
    if not config["MAIL_SERVER"]:
        headers = "".join(f"{name}: {value}\n" for name, value in email.headers.items())
        files = "".join(f"[attached: {a.filename}, {a.content_type}]\n" for a in email.attachments)
        log.warning("Mail (no MAIL_SERVER configured) to %s: %s\n%s\n%s%s", email.to, email.subject, headers,
                    email.text, files and "\n" + files)
        return
    sender = config.get("MAIL_DEFAULT_SENDER") or config["MAIL_FROM"]
    message = Message(subject=email.subject, recipients=[email.to], body=email.text, html=email.html,
                      sender=sender, extra_headers=dict(email.headers) or None)
    for attachment in email.attachments:
        message.attach(attachment.filename, attachment.content_type, attachment.data)
    # Flask-Mail's default asks the resolver for this machine's name on every message.
    message.msgId = make_msgid(domain=_domain(sender))
    # The SMTP settings are read at each send (not once at start-up), as every other setting is.
    state = mail.init_mail({**config, "MAIL_DEFAULT_SENDER": sender, "MAIL_SUPPRESS_SEND": False},
                           debug=False, testing=False)
    with _Connection(state) as connection:
        connection.send(message)


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


class _Connection(Connection):
    """Flask-Mail's connection with a timeout: a silent server fails the job instead of
    holding a worker until the job's own limit."""

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        timeout = current_app.config["MAIL_TIMEOUT"]
        if state.use_ssl:
            host: smtplib.SMTP = smtplib.SMTP_SSL(state.server, state.port, timeout=timeout)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=timeout)
        if state.use_tls and not state.use_ssl:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


# --- Rendering: the recipient's language and time zone, links to the public site ------------

@contextmanager
def site_context() -> Iterator[None]:
    """A request context for the site at PUBLIC_URL, for jobs and the command line: `url_for`
    (and `url_for(..., _external=True)`) then give the addresses people open from a mail. Also
    inside a request (a job run inline after its commit): links never depend on the host
    name a request happened to use."""
    with current_app.test_request_context("/", base_url=current_app.config["PUBLIC_URL"] + "/"):
        yield


def public_url(path: str) -> str:
    """An absolute address for a path of the site (as url_for gives it, script root included)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    return f"{base.scheme}://{base.netloc}{path}"


def public_host() -> str:
    """The host name of PUBLIC_URL (calendar UIDs are made with it)."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


def external_url(endpoint: str, **values) -> str:
    with site_context():
        return url_for(endpoint, _external=True, **values)


def zone_of(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def language_of(user) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.preferred_language if user.preferred_language in languages \
        else current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def for_recipient(user) -> Iterator[str]:
    """Inside: gettext and dates in the recipient's language; yields the language code."""
    language = language_of(user)
    with force_locale(language):
        yield language


def render(template: str, user, **context) -> tuple[str, str]:
    """(plain text, HTML) of templates/mail/<template>.txt and .html for `user`, in their
    language and time zone (call inside `for_recipient(user)` and `site_context()`)."""
    language = language_of(user)
    zone = zone_of(user)

    def when(value: datetime, format: str = "medium") -> str:
        return format_when(value, format, zone=zone.key)

    context = {"recipient": user, "language": language, "when": when, "settings_url": None, **context}
    return (render_template(f"mail/{template}.txt", **context),
            render_template(f"mail/{template}.html", **context))


def compose(user, template: str, subject, *, headers: dict[str, str] | None = None, **context) -> Email:
    """A whole message for `user`: subject (a lazy string, or a callable giving one) and both
    parts rendered in their language, with Content-Language."""
    with for_recipient(user) as language, site_context():
        subject_text = str(subject() if callable(subject) else subject)
        text, html = render(template, user, subject=subject_text, **context)
    return Email(to=user.email, subject=subject_text, text=text, html=html,
                 headers={"Content-Language": language, **(headers or {})})

