"""HTTP layer: blueprints that parse requests, call services and render pages."""
from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from forum import permissions
from forum.extensions import db, login_manager
from forum.i18n import label, plural_forms, time_tag
from forum.models.base import utcnow
from forum.models.posts import Stance
from forum.services.errors import (
    BUSY_MESSAGE,
    LoginRequired,
    PermissionDenied,
    RoomRefused,
    ServiceError,
    ValidationError,
    database_busy,
)


def init_app(app: Flask) -> None:
    from forum.web import (
        account_closure,
        admin,
        api_tokens,
        auth,
        cards,
        consultations,
        events,
        exports,
        feedback,
        main,
        moderation,
        my_data,
        notifications,
        opinion,
        people,
        polls,
        posts,
        preevent,
        rooms,
        search,
    )
    from forum.web.requests import IdConverter, PlenaryRequest

    app.request_class = PlenaryRequest
    app.url_map.converters["int"] = IdConverter  # before the blueprints' rules are made
    for module in (main, auth, consultations, posts, events, rooms, moderation, exports, admin, polls, opinion,
                   notifications, people, search, feedback, preevent, my_data, api_tokens, account_closure):
        app.register_blueprint(module.bp)
    notifications.init_app(app)
    from forum.web import poll_live  # polls' live layer: the card route, the results template

    app.register_blueprint(poll_live.bp)

    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)

    app.after_request(_commit_point)
    app.after_request(_security_headers)
    for exception, handler in ((ServiceError, _service_error), (LoginRequired, _login_required),
                               (RoomRefused, _room_refused), (CSRFError, _csrf_error),
                               (RateLimitExceeded, _rate_limited), (HTTPException, _http_error),
                               (OperationalError, _database_error)):
        app.register_error_handler(exception, _json_under_api(handler))

    app.jinja_env.globals.update(permissions=permissions, languages=app.config["LANGUAGES"],
                                 get_locale=get_locale, label=label, plural_forms=plural_forms,
                                 card_template=cards.card_template, card_words=cards.card_words,
                                 question_template=cards.question_template, question_words=cards.question_words,
                                 all_stances=list(Stance), mention_attrs=people.mention_attrs)
    app.jinja_env.filters["time"] = time_tag
    app.context_processor(lambda: {"now": utcnow()})
    app.jinja_env.add_extension("jinja2.ext.i18n")


def _json_under_api(handler):
    """A page for a browser; under /api/ the same refusal as JSON (forum/api/errors.py)."""
    @functools.wraps(handler)
    def either(error):
        from forum.api import errors, is_api_request

        if not is_api_request():
            return handler(error)
        db.session.rollback()
        if isinstance(error, OperationalError) and not database_busy(error):
            raise error
        return errors.respond(error)
    return either


def _commit_point(response):
    """The one commit of a request: write what the services flushed, or drop it all."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


# Our pages load only their own scripts and styles; nothing may frame them.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data:",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


# Browser features no page of ours uses: no script, ours or injected, may ask for them.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb"))


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    # Browsers ignore HSTS over plain HTTP, and a development server must never pin itself to
    # HTTPS, so it goes only on HTTPS responses and only where configured (production).
    max_age = current_app.config["HSTS_MAX_AGE"]
    if max_age > 0 and request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def safe_next(target: str | None, default: str = "main.home") -> str:
    """A local path to go back to after logging in; never another site."""
    if target:
        parts = urlsplit(target)
        # Browsers read "/\\host" as "//host": no backslash, no control character.
        unsafe = "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target)
        if not unsafe and not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for(default)


def _unauthorized():
    flash(login_manager.login_message, "info")
    # After a POST the page to return to is the one the form was on, not the POST target.
    back = request.full_path.rstrip("?") if request.method == "GET" else same_site_referrer()
    return redirect(url_for("auth.login", next=safe_next(back)))


def same_site_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def flash_refusal(error: ServiceError, category: str = "error") -> None:
    """A refused button: say why on the page the browser goes back to. A page's script that
    sent the form in the background (header X-Plenary-Async) gets the 4xx answer instead, and
    sends the form normally, so that its reader sees the reason too."""
    if request.headers.get("X-Plenary-Async"):
        raise error
    flash(str(error.message), category)


def room_url(room, **kwargs) -> str:
    """A room's page (the plenary's or a breakout room's)."""
    return url_for("rooms.show", event_id=room.event_id, room_id=room.id, **kwargs)


def post_url(post, **kwargs) -> str:
    """Where a post is read: its room's page, or its thread in its consultation; at the post."""
    if post.room_id is not None:
        return room_url(post.room, _anchor=f"post-{post.id}", **kwargs)
    return url_for("posts.show", consultation_id=post.consultation_id, post_id=post.thread_id,
                   _anchor=f"post-{post.id}", **kwargs)


def editable_event(event_id: int):
    """An event its organiser is setting up or running (403 for anyone else)."""
    event = permissions.access_event(current_user, event_id)
    if not permissions.can_edit_event(current_user, event):
        raise PermissionDenied()
    return event


def room_in(event, room_id: int):
    """One of the event's rooms (404 for another event's)."""
    room = next((r for r in event.rooms if r.id == room_id), None)
    if room is None:
        abort(404)
    return room


def refuse_back(error: ServiceError, category: str = "error") -> None:
    """A refused control: undo anything half-done, say why on the page the browser goes back
    to (`flash_refusal`)."""
    db.session.rollback()
    flash_refusal(error, category)


def checked(form=None) -> None:
    """A button's form: only its CSRF token is checked here (400 otherwise)."""
    from forum.web.forms import ActionForm

    if not (form or ActionForm()).validate_on_submit():
        abort(400)


def whole_number(value: str) -> int | None:
    """A whole number typed in a form, or None. Only ASCII digits, at most nine of them:
    `str.isdigit` accepts "²" (which `int` refuses) and `int` any length."""
    value = value.strip()
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None


def back_to(default: str) -> str:
    """Where a control sends the browser back: the form's local `next` (the page it was on:
    a room, its queue, the event's control room), else `default`."""
    target = request.values.get("next")
    if target and safe_next(target) == target:
        return target
    return default


def apply_service_error(form, error: ValidationError) -> None:
    """Show a service's validation error next to the field it concerns (or above the form)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def _service_error(error: ServiceError):
    response = make_response(render_template(
        "errors/error.html", status=error.status_code, message=str(error.message), typed=_typed_text()),
        error.status_code)
    if getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _login_required(error: LoginRequired):
    """A visitor opened a page for signed-in people: to the login page, and back after.
    The answer is a redirect, which the commit point would commit: drop anything written."""
    db.session.rollback()
    return _unauthorized()


def _room_refused(error: RoomRefused):
    """A room link opened by someone signed in who belongs elsewhere: a 403 page that says
    why and links to where they can go (their room, the plenary, the event's page to
    register or choose a room). A page rather than a silent redirect, so that whoever
    followed a shared link sees that it was not theirs."""
    event, room = error.event, error.room
    links = []
    if error.reason == RoomRefused.OTHER_ROOM:
        links.append((url_for("rooms.show", event_id=event.id, room_id=room.id),
                      _("Go to your room: %(room)s", room=room.title)))
    elif error.reason == RoomRefused.NOT_PLACED:
        links.append((url_for("rooms.show", event_id=event.id, room_id=room.id), _("Go to the plenary")))
    event_link = _("Register on the event's page") if error.reason == RoomRefused.REGISTER \
        else _("Go to the event's page")
    links.append((url_for("events.show", event_id=event.id), event_link))
    # str(): a lazy string counts as safe HTML in a template, and this one holds a room's title.
    return render_template("errors/error.html", status=403, message=str(error.message), links=links,
                           typed=_typed_text()), 403


def _typed_text() -> list[str]:
    """The long texts of a refused form, shown again on the error page so nothing is lost."""
    return [value for key, value in request.form.items(multi=True)
            if key in {"body", "brief", "description", "guiding_questions"} and value.strip()]


def _csrf_error(error: CSRFError):
    message = _("This form has expired or was sent from another page. "
                "Go back, reload the page and send it again.")
    return render_template("errors/error.html", status=400, message=message, typed=_typed_text()), 400


def _rate_limited(error: RateLimitExceeded):
    message = _("You are doing this too often. Please wait a little and try again.")
    return render_template("errors/error.html", status=429, message=message, typed=_typed_text()), 429


def _database_error(error: OperationalError):
    """SQLite busy with another write (forum.services.errors.database_busy): 503, try again;
    anything else is a failure of ours."""
    db.session.rollback()
    if not database_busy(error):
        raise error
    current_app.logger.warning("a write was refused: the database was busy (%s)", error.orig)
    page = render_template("errors/error.html", status=503, message=BUSY_MESSAGE, typed=_typed_text())
    return page, 503, {"Retry-After": "2"}


def _http_error(error: HTTPException):
    messages = {
        400: _l("This request could not be understood."),
        403: _l("You are not allowed to do this."),
        404: _l("This page does not exist or you cannot see it."),
        405: _l("This address does not accept this kind of request."),
        413: _l("What you sent is too large."),
        500: _l("Something went wrong on our side. Please try again."),
    }
    message = messages.get(error.code, error.description)
    return render_template("errors/error.html", status=error.code, message=message), error.code
