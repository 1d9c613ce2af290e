"""Rate limits: values read from configuration at request time (so deployments and tests
can set them), and the keys that count per account rather than per address."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user


def configured(setting: str):
    return lambda: current_app.config[setting]


def account_key() -> str:
    """The signed-in account (posting is counted per account as well as per address)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


def email_key() -> str:
    """The account a log-in or reset attempt is aimed at, whoever sends it."""
    return "email:" + request.form.get("email", "").strip().lower()
