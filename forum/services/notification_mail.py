"""E-mail for notifications. A placeholder on the notifications branch: the mail helper's
module (immediate mails, digests) replaces it; its interface is `send_immediate`."""
from __future__ import annotations

import logging

log = logging.getLogger("forum.notification_mail")


def send_immediate(notification_id: int) -> None:
    """Mail one notice at once (a mention, a moderator's action), if its recipient wants it."""
    log.info("notification %s: an immediate e-mail is due", notification_id)
