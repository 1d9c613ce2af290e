"""Outgoing mail. Without MAIL_SERVER configured, messages are written to the log instead,
so a development machine or a demo still shows password-reset links."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("forum.mail")


def send_mail(to: str, subject: str, body: str) -> None:
    config = current_app.config
    if not config["MAIL_SERVER"]:
        log.warning("Mail (no MAIL_SERVER configured) to %s: %s\n%s", to, subject, body)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
