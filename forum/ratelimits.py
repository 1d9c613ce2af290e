"""Rate limits: values read from configuration at request time (so deployments and tests
can set them), the keys that count per account rather than per address, and the posting
limits, counted in the same buckets whether a post comes as a form or over the socket."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user
from limits import parse as parse_limit

from forum.extensions import limiter

POSTING_PER_ACCOUNT = "posting-account"
POSTING_PER_ADDRESS = "posting-address"


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


def posting_limits():
    """The decorators that limit a posting view (responses and replies share the buckets)."""
    return [
        limiter.shared_limit(configured("RATELIMIT_POST_PER_ACCOUNT"), scope=POSTING_PER_ACCOUNT,
                             key_func=account_key, methods=["POST"]),
        limiter.shared_limit(configured("RATELIMIT_POST_PER_ADDRESS"), scope=POSTING_PER_ADDRESS,
                             methods=["POST"]),
    ]


def hit_posting_limits() -> bool:
    """Count a post that did not come through a limited view (a socket message) in the same
    buckets as the views. False when a limit is exceeded."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    config = current_app.config
    return all([
        limiter.limiter.hit(parse_limit(config["RATELIMIT_POST_PER_ACCOUNT"]), account_key(), POSTING_PER_ACCOUNT),
        limiter.limiter.hit(parse_limit(config["RATELIMIT_POST_PER_ADDRESS"]), request.remote_addr or "",
                            POSTING_PER_ADDRESS),
    ])
