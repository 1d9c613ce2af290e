"""A real SMTP server for the mail tests (aiosmtpd, on a thread of its own) and helpers to read
back what it received with the standard library's email package.

`smtp` (a fixture, in tests/conftest.py) points the app's MAIL_SERVER and MAIL_PORT at the
session's server and empties its inbox; every mail a job sends during the test is then in
`smtp.messages`, parsed (`email.message.EmailMessage`). Jobs run inline after the commit in
tests (no Redis), and the server has answered 250 before `sendmail` returns, so a message is
in the inbox as soon as the request or the commit that asked for it is done: no waiting.
"""
from __future__ import annotations

import re
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: keeps every message it accepts, with its envelope."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self._received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                   or envelope.content))
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self._lock:
            return [(sender, recipients) for sender, recipients, _ in self._received]

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = [content for _, _, content in self._received]
        return [message_from_bytes(content, policy=policy.default) for content in raw]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self, controller: Controller, inbox: Inbox) -> None:
        self.controller = controller
        self.inbox = inbox
        self.port = controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def one(self) -> EmailMessage:
        """The one message received (fails if there are none or several)."""
        messages = self.messages
        assert len(messages) == 1, f"expected one mail, got {len(messages)}: {[m['Subject'] for m in messages]}"
        return messages[0]

    def clear(self) -> None:
        self.inbox.clear()


@pytest.fixture(scope="session")
def _smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp(app, _smtp_server) -> SmtpServer:
    """The session's SMTP server, inbox empty, the app sending to it (plain SMTP, no login)."""
    _smtp_server.clear()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_smtp_server.port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_USERNAME="", MAIL_PASSWORD="", MAIL_TIMEOUT=10,
                      MAIL_DEFAULT_SENDER="Plenary <no-reply@plenary.example>")
    yield _smtp_server
    _smtp_server.clear()


# --- Reading a message back -------------------------------------------------------------

def part(message: EmailMessage, subtype: str) -> str:
    """The text of the message's text/<subtype> part (decoded)."""
    found = [p for p in message.walk() if p.get_content_type() == f"text/{subtype}"]
    assert len(found) == 1, f"expected one text/{subtype} part, found {len(found)}"
    return found[0].get_content()


LINK = re.compile(r"https?://[^\s<>\"']+")


def links(text: str) -> list[str]:
    return [link.rstrip(".,)") for link in LINK.findall(text)]


def path_of(url: str) -> str:
    """What the test client opens for an absolute link in a mail (PUBLIC_URL is the test
    client's own host in TestingConfig)."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "localhost", url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def unsubscribe_link(message: EmailMessage) -> str:
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<(https?://[^>]+)>", str(header).strip())
    assert match, header
    return match.group(1)
