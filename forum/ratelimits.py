"""Rate limits: values read from configuration at request time (so deployments and tests
can set them), the keys they count by, and the limits we count by hand rather than with
Flask-Limiter's decorators:

- the writing allowance: every write a participant can repeat (responses, replies, room
  messages, edits, deletions, endorsements, reports, raised hands, choosing a room, ...)
  is counted in one pair of buckets, per account and per address, whether it comes as a
  form (the `counts_as_write` decorator) or over the socket (`charge_write`);
- failed log-ins: only a wrong password counts, per account and per address (see
  `login_refusal` and `record_failed_login` for what each bucket may refuse);
- socket `join`s and `sync`s, per connection and per address (`charge_catch_up`).

Registrations and reset requests keep Flask-Limiter's decorators in forum/web/auth.py: there
every request counts.

A refusal is a `TooSoon` (429, with `retry_after`), which the web layer answers with the
error page and `Retry-After`, and the socket layer with an error acknowledgement."""
from __future__ import annotations

import functools
import logging
import math
import time

from flask import current_app, request
from flask_login import current_user
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from forum.extensions import limiter
from forum.models.users import normalise_email
from forum.services.errors import TooSoon

log = logging.getLogger("forum.ratelimits")

WRITES_PER_ACCOUNT = "posting-account"
WRITES_PER_ADDRESS = "posting-address"
LOGIN_FAILURES_PER_ACCOUNT = "login-failures-account"
LOGIN_FAILURES_PER_ADDRESS = "login-failures-address"
CATCH_UP_PER_CONNECTION = "catch-up-connection"
CATCH_UP_PER_ADDRESS = "catch-up-address"


def configured(setting: str):
    return lambda: current_app.config[setting]


def account_key() -> str:
    """The signed-in account (writes are counted per account as well as per address)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


def address_key() -> str:
    return request.remote_addr or ""


def email_key() -> str:
    """The account a log-in or reset attempt is aimed at, whoever sends it."""
    return "email:" + request.form.get("email", "").strip().lower()


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _wait(counter: RateLimiter, item, key: str, scope: str) -> int:
    """Whole seconds until the bucket has room again (at least one)."""
    reset_at = counter.get_window_stats(item, key, scope).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def _refusal(counter: RateLimiter, buckets: list[tuple[str, str, str]]) -> int | None:
    """Seconds to wait if one of these (setting, key, scope) buckets is full, else None."""
    for setting, key, scope in buckets:
        item = parse_limit(current_app.config[setting])
        if not counter.test(item, key, scope):
            return _wait(counter, item, key, scope)
    return None


def _hit(counter: RateLimiter, buckets: list[tuple[str, str, str]]) -> None:
    for setting, key, scope in buckets:
        counter.hit(parse_limit(current_app.config[setting]), key, scope)


# While the shared counters (Redis) cannot be reached, each process counts in its own memory,
# as Flask-Limiter does for its decorators (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED).
_fallback = FixedWindowRateLimiter(MemoryStorage())


def _counted(function):
    """Run `function(counter, ...)` with the limiter's counters, or this process's own if
    those fail; nothing is counted when rate limits are off."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not _enabled():
            return None
        try:
            return function(limiter.limiter, *args, **kwargs)
        except Exception as error:  # storage errors: redis.RedisError, connection errors
            log.warning("rate-limit counters unavailable, counting in memory (%s): %s", function.__name__, error)
            return function(_fallback, *args, **kwargs)
    return wrapper


# --- The writing allowance ---------------------------------------------------------------

def _write_buckets() -> list[tuple[str, str, str]]:
    return [("RATELIMIT_POST_PER_ACCOUNT", account_key(), WRITES_PER_ACCOUNT),
            ("RATELIMIT_POST_PER_ADDRESS", address_key(), WRITES_PER_ADDRESS)]


@_counted
def _charge(counter: RateLimiter, buckets: list[tuple[str, str, str]]) -> int | None:
    """Count one request in every bucket, or none: seconds to wait if one is full. A refused
    request does not count: hammering at one's own account's (or connection's) limit must not
    spend the allowance of everyone else behind the same address."""
    wait = _refusal(counter, buckets)
    if wait is None:
        _hit(counter, buckets)
    return wait


def charge_write() -> None:
    """Count one write against the current account's and address's allowance, or raise
    TooSoon (429) before anything is stored when either is spent."""
    wait = _charge(_write_buckets())
    if wait is not None:
        raise TooSoon(retry_after=wait)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def counts_as_write(view):
    """A view whose POST (or, in the JSON API, PUT, PATCH or DELETE) is a write a participant
    can repeat: it is counted in the writing allowance before the view runs. Put it below
    `login_required`, so that the account is known. tests/web/test_rate_limits.py fails for a
    writing route neither counted nor listed as exempt (organisers' and moderators' tools,
    log-in and the like)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in WRITE_METHODS:
            charge_write()
        return view(*args, **kwargs)
    wrapper.counts_as_write = True
    return wrapper


# --- Joining and catching up over the socket -----------------------------------------------

def _catch_up_buckets() -> list[tuple[str, str, str]]:
    return [("RATELIMIT_CATCH_UP_PER_CONNECTION", request.sid, CATCH_UP_PER_CONNECTION),
            ("RATELIMIT_CATCH_UP_PER_ADDRESS", address_key(), CATCH_UP_PER_ADDRESS)]


def charge_catch_up() -> None:
    """Count a socket `join` or `sync` (each may carry a page of missed events) against this
    connection's and this address's allowance, or raise TooSoon (429, with `retry_after`)."""
    wait = _charge(_catch_up_buckets())
    if wait is not None:
        raise TooSoon(retry_after=wait)


# --- Failed log-ins ---------------------------------------------------------------------
#
# Only wrong passwords count. The two buckets refuse different things:
#
# - Per account: once an account has had RATELIMIT_LOGIN_PER_ACCOUNT wrong passwords, every
#   attempt at it is refused until the window ends, the right password too, and before the
#   password is checked. This is what stops guessing one account's password: were the right
#   password let in, the answer to each guess would still say whether it was right.
# - Per address: once an address has sent RATELIMIT_LOGIN_PER_ADDRESS wrong passwords, its
#   wrong passwords are answered 429, but a right one is let in. Many people share one
#   address (an office, a venue's Wi-Fi, a mobile carrier's NAT), and their colleagues'
#   typing mistakes must not lock them out. The price: this bucket no longer slows one
#   address trying one password across many accounts (each account's own bucket still
#   bounds the guesses at it).

def _login_account_bucket(email: str) -> tuple[str, str, str]:
    return ("RATELIMIT_LOGIN_PER_ACCOUNT", "email:" + normalise_email(email), LOGIN_FAILURES_PER_ACCOUNT)


def _login_address_bucket() -> tuple[str, str, str]:
    return ("RATELIMIT_LOGIN_PER_ADDRESS", address_key(), LOGIN_FAILURES_PER_ADDRESS)


@_counted
def _login_refusal(counter: RateLimiter, email: str) -> int | None:
    return _refusal(counter, [_login_account_bucket(email)])


def login_refusal(email: str) -> None:
    """Before the password is checked: refuse any attempt at an account whose failures are
    spent (TooSoon)."""
    wait = _login_refusal(email)
    if wait is not None:
        raise TooSoon(retry_after=wait)


@_counted
def _record_failed_login(counter: RateLimiter, email: str) -> int | None:
    address = _login_address_bucket()
    wait = _refusal(counter, [address])
    _hit(counter, [_login_account_bucket(email)] + ([] if wait else [address]))
    return wait


@_counted
def clear_failed_logins(counter: RateLimiter, email: str) -> None:
    """The account's owner proved who they are (a completed password reset): its lock-out ends."""
    setting, key, scope = _login_account_bucket(email)
    counter.clear(parse_limit(current_app.config[setting]), key, scope)


def record_failed_login(email: str) -> None:
    """After a wrong password: count it for the account and the address; raise TooSoon when
    the address's failures were already spent."""
    wait = _record_failed_login(email)
    if wait is not None:
        raise TooSoon(retry_after=wait)
