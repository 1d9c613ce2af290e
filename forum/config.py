"""Configuration: one class per environment; environment variables override the defaults."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Hosting platforms still hand out postgres:// URLs; psycopg 3 is our driver.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    INSTANCE_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'plenary.db'}"


class Config:
    SECRET_KEY: str = ""
    SQLALCHEMY_DATABASE_URI: str = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    # Strict-Transport-Security: seconds browsers keep to HTTPS once they have seen the site
    # over it (0: never sent). Sent only on HTTPS responses: behind a proxy, set
    # TRUSTED_PROXIES so that the app sees the client's scheme.
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", "0"))
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Internationalisation
    LANGUAGES = {"en": "English", "it": "Italiano"}
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/Brussels")
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent / "translations")

    # Content limits. Request bodies: a post is at most 20,000 characters (up to 80 KB of
    # UTF-8, percent-encoded up to three times that); 1 MiB leaves room and stops abuse.
    MAX_CONTENT_LENGTH = 1024 * 1024
    POST_BODY_MAX = 20_000
    POST_SUBJECT_MAX = 200
    QUESTION_BODY_MAX = 500  # a question to the plenary's speakers (one or two sentences)
    RESPONSES_PER_PAGE = 20

    # Rate limits (Flask-Limiter notation); storage is Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis is unreachable, count in memory for a while rather than refuse every form.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_LOGIN_PER_ADDRESS = os.environ.get("RATELIMIT_LOGIN_PER_ADDRESS", "20 per 10 minutes")
    RATELIMIT_LOGIN_PER_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_PER_ACCOUNT", "5 per 10 minutes")
    RATELIMIT_REGISTER_PER_ADDRESS = os.environ.get("RATELIMIT_REGISTER_PER_ADDRESS", "10 per hour")
    RATELIMIT_RESET_PER_ADDRESS = os.environ.get("RATELIMIT_RESET_PER_ADDRESS", "10 per hour")
    RATELIMIT_RESET_PER_ACCOUNT = os.environ.get("RATELIMIT_RESET_PER_ACCOUNT", "3 per hour")
    # Every write a participant can repeat (posts, messages, edits, agreeing, hands, ...) shares
    # one allowance: a person chatting in a room and agreeing as they read stays well inside 30
    # a minute; a script editing 40 times in 15 s does not. Many people may share an address (an
    # office, a venue's Wi-Fi): its bucket only bounds many accounts driven from one place.
    RATELIMIT_POST_PER_ACCOUNT = os.environ.get("RATELIMIT_POST_PER_ACCOUNT", "30 per minute")
    RATELIMIT_POST_PER_ADDRESS = os.environ.get("RATELIMIT_POST_PER_ADDRESS", "600 per minute")
    # Socket `join` and `sync` (each may carry a page of catch-up), per connection and per
    # address. A page reconnecting joins one or two streams and pages through at most
    # CATCH_UP_RELOAD_AFTER / CATCH_UP_PAGE_SIZE pages; a venue where hundreds of people
    # share one address needs a higher per-address figure.
    RATELIMIT_CATCH_UP_PER_CONNECTION = os.environ.get("RATELIMIT_CATCH_UP_PER_CONNECTION", "30 per minute")
    RATELIMIT_CATCH_UP_PER_ADDRESS = os.environ.get("RATELIMIT_CATCH_UP_PER_ADDRESS", "600 per minute")
    # The people a composer suggests after "@" (GET /people/mentionable), per account: the
    # script asks at most once per pause in typing, so a fast typist stays far below it.
    RATELIMIT_MENTIONABLE_PER_ACCOUNT = os.environ.get("RATELIMIT_MENTIONABLE_PER_ACCOUNT", "120 per minute")

    # Real time. Browsers may open sockets only from these origins (comma-separated; the
    # site's own origin when unset). With REDIS_URL, Redis is the Socket.IO message queue
    # shared by every server process.
    SOCKETIO_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split(",")
                                if o.strip()]
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("REDIS_URL") or None
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "plenary-socketio")
    # gevent in production and development (see README); tests use "threading".
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or None
    # permessage-deflate on the Socket.IO WebSockets: off, since it compresses every broadcast
    # once per socket (forum/realtime/websocket.py, docs/realtime.md#websocket-compression).
    SOCKETIO_WEBSOCKET_COMPRESSION = _env_bool("SOCKETIO_WEBSOCKET_COMPRESSION", False)
    TYPING_INTERVAL = 3.0
    # A room's page shows its newest ROOM_PAGE_SIZE messages; "Load earlier" fetches as many
    # again (forum.services.rooms.list_messages, forum.web.rooms.earlier).
    ROOM_PAGE_SIZE = int(os.environ.get("ROOM_PAGE_SIZE", "50"))
    # Who is here: announced to a stream's readers at most once per PRESENCE_INTERVAL seconds
    # (changes in between are folded into the next announcement); above PRESENCE_LIST_LIMIT
    # signed-in people only that many are named, the rest counted. With Redis, the readers
    # of a server process that died stop being counted PRESENCE_TTL seconds after its last
    # heartbeat.
    PRESENCE_INTERVAL = float(os.environ.get("PRESENCE_INTERVAL", "1.0"))
    PRESENCE_LIST_LIMIT = int(os.environ.get("PRESENCE_LIST_LIMIT", "50"))
    PRESENCE_TTL = float(os.environ.get("PRESENCE_TTL", "60"))
    # Catching up after a reconnect: missed events are sent this many at a time, from what was
    # stored when they were broadcast; a client that missed more than CATCH_UP_RELOAD_AFTER is
    # told to reload its page (paginated, and cheaper than replaying them all).
    CATCH_UP_PAGE_SIZE = int(os.environ.get("CATCH_UP_PAGE_SIZE", "50"))
    CATCH_UP_RELOAD_AFTER = int(os.environ.get("CATCH_UP_RELOAD_AFTER", "300"))
    # A catch-up page is kept this long by the process that read it, for the readers that ask
    # for the same one (a reconnection storm); 0: read every time.
    CATCH_UP_CACHE_SECONDS = float(os.environ.get("CATCH_UP_CACHE_SECONDS", "2"))
    # The server process's garbage collector (wsgi.py, forum.realtime.tune_garbage_collector):
    # Python's thresholds, "gen0,gen1,gen2". A full collection walks every object, and a
    # process holding 2,000 sockets holds half a million: with Python's defaults (700,10,10)
    # it paused ten times in 10 s of posting, 200-300 ms each (docs/deploy.md). "default"
    # keeps Python's.
    GC_THRESHOLDS = os.environ.get("GC_THRESHOLDS", "50000,20,20")

    # The job queue (forum/jobs.py): RQ in Redis when REDIS_URL is set, run by `flask worker`;
    # without it jobs run in the process, after the commit that asked for them. Its keys start
    # with JOBS_KEY_PREFIX (deployments sharing a Redis keep apart by prefix); a job running
    # longer than JOBS_TIMEOUT seconds is stopped.
    JOBS_REDIS_URL = os.environ.get("REDIS_URL") or None
    JOBS_KEY_PREFIX = os.environ.get("JOBS_KEY_PREFIX", "plenary:jobs:")
    JOBS_TIMEOUT = int(os.environ.get("JOBS_TIMEOUT", "300"))
    # A statements board's opinion map is recomputed at most this often (seconds), on the job
    # queue, after votes and moderation (forum/services/opinion.py).
    OPINION_MAP_DEBOUNCE_SECONDS = float(os.environ.get("OPINION_MAP_DEBOUNCE_SECONDS", "5"))
    # A poll's results are counted and published at most this often (seconds) while votes
    # arrive, on the job queue, never in a vote's transaction (forum/services/poll_events.py);
    # opening, closing and publishing a breakdown publish at once.
    POLL_RESULTS_DEBOUNCE_SECONDS = float(os.environ.get("POLL_RESULTS_DEBOUNCE_SECONDS", "1"))
    # The organisers' control room (forum/services/control_room.py): its figures are
    # published at most this often (seconds) while its rooms change, on the job queue; while
    # a room had messages in the last five minutes they are published again every
    # CONTROL_ROOM_DECAY_SECONDS without activity, so that "last 5 minutes" falls (0: never).
    CONTROL_ROOM_DEBOUNCE_SECONDS = float(os.environ.get("CONTROL_ROOM_DEBOUNCE_SECONDS", "1"))
    CONTROL_ROOM_DECAY_SECONDS = float(os.environ.get("CONTROL_ROOM_DECAY_SECONDS", "30"))

    # Notifications (forum/services/notifications.py, docs/notifications.md): reminders are made
    # by `create_due_reminders`, run by a timer: "closing soon" for consultations closing
    # within NOTIFY_CLOSING_SOON_HOURS; for events, "the day before" (starting within
    # NOTIFY_EVENT_REMINDER_HOURS) and "starting soon" (within NOTIFY_EVENT_STARTING_MINUTES:
    # the "15 minutes" reminder; 20 so that a timer running every 15 minutes always catches
    # an event before it starts). The notifications page shows this many a page.
    NOTIFY_CLOSING_SOON_HOURS = float(os.environ.get("NOTIFY_CLOSING_SOON_HOURS", "48"))
    NOTIFY_EVENT_REMINDER_HOURS = float(os.environ.get("NOTIFY_EVENT_REMINDER_HOURS", "24"))
    NOTIFY_EVENT_STARTING_MINUTES = float(os.environ.get("NOTIFY_EVENT_STARTING_MINUTES", "20"))
    NOTIFICATIONS_PER_PAGE = int(os.environ.get("NOTIFICATIONS_PER_PAGE", "30"))

    # Password reset links are valid this long (seconds).
    PASSWORD_RESET_MAX_AGE = 60 * 60 * 2

    # Mail (forum/mail.py, Flask-Mail over SMTP; docs/mail.md): without MAIL_SERVER, messages
    # are written to the log. MAIL_USE_TLS: STARTTLS on a submission port (587); MAIL_USE_SSL:
    # TLS from the first byte (465). The sender is MAIL_DEFAULT_SENDER, else MAIL_FROM (the
    # older name). MAIL_TIMEOUT: seconds before a silent SMTP server counts as failed.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Plenary <no-reply@localhost>")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER") or MAIL_FROM
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "30"))
    # The accessibility statement's feedback contact (/accessibility): an e-mail address of the
    # people who run this site; without one the statement says to write to its administrators.
    ACCESSIBILITY_CONTACT = os.environ.get("ACCESSIBILITY_CONTACT", "")
    # The site's address as people reach it, for the links in e-mails, which jobs and the
    # command line write outside any request (scheme, host, optional port and path prefix).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    # E-mail verification links are valid this long (seconds); asking for a new one is
    # limited per account (it sends mail to an address the person typed).
    EMAIL_VERIFY_MAX_AGE = int(os.environ.get("EMAIL_VERIFY_MAX_AGE", str(60 * 60 * 24 * 7)))
    RATELIMIT_VERIFY_RESEND_PER_ACCOUNT = os.environ.get("RATELIMIT_VERIFY_RESEND_PER_ACCOUNT", "3 per hour")
    # Digests (forum/services/notification_mail.py): due at DIGEST_HOUR o'clock in each
    # person's own time zone, every day or, weekly, on DIGEST_WEEKDAY (0 Monday .. 6 Sunday);
    # `flask notifications send-digests` on a timer sends those due (docs/deploy.md).
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "8"))
    DIGEST_WEEKDAY = int(os.environ.get("DIGEST_WEEKDAY", "0"))
    # A digest lists at most this many notices (the newest); the rest are counted.
    DIGEST_MAX_ITEMS = int(os.environ.get("DIGEST_MAX_ITEMS", "50"))

    # Report files (forum/services/reports.py): built by a job, stored under REPORTS_DIR (by
    # default instance/reports; the web and worker processes must share it), kept
    # REPORTS_KEEP_DAYS days (`flask reports clean`, also run by `flask notifications
    # send-digests`), at most REPORTS_MAX_BYTES each (a larger one fails, nothing kept); a
    # person may have REPORTS_MAX_PENDING reports waiting or being built at once.
    REPORTS_DIR = os.environ.get("REPORTS_DIR") or str(INSTANCE_DIR / "reports")
    REPORTS_KEEP_DAYS = int(os.environ.get("REPORTS_KEEP_DAYS", "7"))
    REPORTS_MAX_BYTES = int(os.environ.get("REPORTS_MAX_BYTES", str(50 * 1024 * 1024)))
    REPORTS_MAX_PENDING = int(os.environ.get("REPORTS_MAX_PENDING", "3"))
    # A person's copy of their own data (forum/services/personal_data.py, docs/data-rights.md):
    # a ZIP file built like a report, under REPORTS_DIR, kept PERSONAL_DATA_KEEP_DAYS days
    # after it was asked for (its link refuses after that); a person may ask again
    # PERSONAL_DATA_INTERVAL_MINUTES after their last request that did not fail.
    PERSONAL_DATA_KEEP_DAYS = int(os.environ.get("PERSONAL_DATA_KEEP_DAYS", "7"))
    PERSONAL_DATA_INTERVAL_MINUTES = int(os.environ.get("PERSONAL_DATA_INTERVAL_MINUTES", "60"))
    # A public consultation's summary page shows the last one built; one older than this is
    # built again by a job while the page shows it.
    SUMMARY_REFRESH_SECONDS = int(os.environ.get("SUMMARY_REFRESH_SECONDS", "300"))

    # Personal data kept for a time (docs/data-rights.md, "Retention"): a login record's
    # address is blanked after PRIVACY_IP_RETENTION_DAYS days and the record deleted after
    # PRIVACY_LOGIN_RETENTION_DAYS, by `flask privacy purge` on a timer (docs/deploy.md).
    PRIVACY_IP_RETENTION_DAYS = int(os.environ.get("PRIVACY_IP_RETENTION_DAYS", "30"))
    PRIVACY_LOGIN_RETENTION_DAYS = int(os.environ.get("PRIVACY_LOGIN_RETENTION_DAYS", "180"))

    # Organisation types offered in profiles. Override with a comma-separated list of
    # codes from forum.models.users.ORGANISATION_TYPES to narrow the list for a deployment.
    ORGANISATION_TYPES = [
        code.strip()
        for code in os.environ.get("ORGANISATION_TYPES", "").split(",")
        if code.strip()
    ]


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", str(365 * 24 * 60 * 60)))


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SOCKETIO_MESSAGE_QUEUE = None
    SOCKETIO_ASYNC_MODE = "threading"
    JOBS_REDIS_URL = None  # jobs run inline; tests/test_jobs.py sets its own Redis and prefix
    OPINION_MAP_DEBOUNCE_SECONDS = 0  # the map is recomputed as each test's write commits
    POLL_RESULTS_DEBOUNCE_SECONDS = 0  # a vote's results are published as its commit ends
    CONTROL_ROOM_DEBOUNCE_SECONDS = 0  # the control room's figures follow each commit at once
    CONTROL_ROOM_DECAY_SECONDS = 0  # no timer outlives a test
    MAIL_SERVER = ""  # mail goes to the log unless a test starts its SMTP server (tests/mail.py)
    REPORTS_DIR = str(Path(tempfile.gettempdir()) / f"plenary-test-reports-{os.getpid()}")  # not instance/
    PUBLIC_URL = "http://localhost"  # the test client's own host: links in mails can be followed


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def load_config(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("PLENARY_ENV", "development")
    cls = CONFIGS[name]
    if not cls.SECRET_KEY:
        cls.SECRET_KEY = _secret_key()
    if not cls.SQLALCHEMY_DATABASE_URI:
        cls.SQLALCHEMY_DATABASE_URI = _database_url()
    return cls
