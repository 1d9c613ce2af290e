"""Command-line tools: `flask create-admin`, `flask set-roles`, `flask demo`, `flask export`,
`flask worker`, `flask search reindex`, `flask notifications send-digests`, `flask privacy purge`."""
from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy import select

from forum.extensions import db
from forum.models import OpinionBoard, Poll
from forum.models.users import find_user_by_email
from forum.services import accounts
from forum.services.errors import ValidationError


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(set_roles)
    app.cli.add_command(demo)
    app.cli.add_command(export)
    app.cli.add_command(worker)
    app.cli.add_command(search)
    app.cli.add_command(notifications_group)
    app.cli.add_command(reports_group)
    app.cli.add_command(privacy_group)


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Display name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--country", default="BE", show_default=True, help="ISO 3166 alpha-2 code")
@with_appcontext
def create_admin(email: str, display_name: str, password: str, country: str) -> None:
    """Create a platform admin account (or make an existing account admin)."""
    user = find_user_by_email(email)
    try:
        if user is None:
            user = accounts.register(email, password, accounts.Profile(
                display_name=display_name, organisation="", organisation_type="other", country=country))
        accounts.set_roles(None, user, admin=True, organiser=True)
    except ValidationError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"{user.email} is a platform admin.")


@click.command("set-roles")
@click.argument("email")
@click.option("--organiser/--no-organiser", default=None)
@click.option("--admin/--no-admin", default=None)
@with_appcontext
def set_roles(email: str, organiser: bool | None, admin: bool | None) -> None:
    """Give or take the organiser and admin roles of an account."""
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account uses {email}.")
    accounts.set_roles(None, user, organiser=organiser, admin=admin)
    db.session.commit()
    click.echo(f"{user.email}: organiser={user.is_organiser} admin={user.is_admin}")


def site_url(host: str, port: int) -> str:
    """The address to open in a browser for a server bound to host:port (a server listening
    on every interface is reached on this machine at 127.0.0.1)."""
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST",
              help="Host the server listens on, for the links printed (make run passes HOST).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), envvar="PORT",
              help="Port the server listens on, for the links printed (make run passes PORT).")
@with_appcontext
def demo(host: str, port: int) -> None:
    """Load the demo consultation when the database is empty, and print its logins."""
    from forum.demo import load_demo
    from forum.i18n import label

    # A process that ends once the demo is stored: its polls' results (and the control room's
    # figures, which nobody watches here) are published as the commit ends
    # (forum/services/poll_events.py, control_room.py), not on a timer it would not live to
    # run: a timer left waiting kept the SQLite file's last writes in its WAL at exit.
    current_app.config["POLL_RESULTS_DEBOUNCE_SECONDS"] = 0
    current_app.config["CONTROL_ROOM_DEBOUNCE_SECONDS"] = 0
    logins = load_demo()
    if logins is None:
        click.echo("The database already holds data; the demo was not loaded.")
        return
    db.session.commit()
    base = site_url(host, port)
    with current_app.test_request_context():  # the site's paths, as its pages link them
        room_path = functools.partial(url_for, "rooms.show", event_id=logins.event.event_id)
        poll_paths = [(poll.question, url_for("polls.show", poll_id=poll.id))
                      for poll in db.session.scalars(select(Poll).order_by(Poll.id))]
        board_paths = [(board.prompt, url_for("opinion.show", consultation_id=board.consultation_id))
                       for board in db.session.scalars(select(OpinionBoard).order_by(OpinionBoard.id))]
        plenary_path, room_paths = room_path(room_id=logins.event.plenary_id), {
            room.room_id: room_path(room_id=room.room_id) for room in logins.event.rooms}
        ended_id, upcoming_id = logins.ended.event_id, logins.upcoming.event_id
        ended_paths = [("Event page", url_for("events.show", event_id=ended_id)),
                       ("Feedback results (organiser)", url_for("feedback.results", event_id=ended_id)),
                       ("Report and exports (organiser)", url_for("exports.choose", kind="event", object_id=ended_id))]
        upcoming_paths = [("Event page", url_for("events.show", event_id=upcoming_id)),
                          ("Pre-event input", url_for("preevent.index", event_id=upcoming_id))]
    click.echo(f"Demo loaded. Log in at {base}/login with:")
    for role, email, password in logins.accounts:
        click.echo(f"  {role:<12} {email}  /  {password}")
    event = logins.event
    click.echo("")
    click.echo(f"Live event: {event.title}")
    click.echo(f"  Plenary: {base}{plenary_path}")
    click.echo(f"  {'Organiser':<12} {event.organiser[0]}  /  {event.organiser[1]}")
    for room in event.rooms:
        phase = label("room_phase", room.phase)
        click.echo(f"  Room {room.position}: {room.title} ({phase}) {base}{room_paths[room.room_id]}")
        for name, email in room.moderators:
            click.echo(f"    {'Moderator':<12} {email}  /  {event.moderator_password}  ({name})")
        if room.participant is not None:
            name, email = room.participant
            click.echo(f"    {'Participant':<12} {email}  /  {event.participant_password}  ({name})")
    for heading, other, paths in (("Past event (ended)", logins.ended, ended_paths),
                                  ("Upcoming event (pre-event input open)", logins.upcoming, upcoming_paths)):
        click.echo("")
        click.echo(f"{heading}: {other.title}")
        for name, path in paths:
            click.echo(f"  {name}: {base}{path}")
        name, email = other.participant
        click.echo(f"  {'Participant':<12} {email}  /  {event.participant_password}  ({name}: {other.note})")
    click.echo("")
    click.echo("Polls and the opinion map:")
    for question, path in poll_paths:
        click.echo(f"  Poll: {question} {base}{path}")
    for prompt, path in board_paths:
        click.echo(f"  Statements board: {prompt} {base}{path}")
    click.echo("Use a separate browser (or private window) for each login to try them side by side.")


# Libraries that log their progress at INFO (WeasyPrint every step and page, fontTools its
# font subsetting): the command line shows only their errors.
CHATTY_LOGGERS = ("weasyprint", "fontTools")


@contextmanager
def errors_only(names=CHATTY_LOGGERS) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@click.command("export")
@click.argument("kind", type=click.Choice(["thread", "topic", "room", "consultation", "event"]))
@click.argument("object_id", type=int)
@click.option("--format", "fmt", required=True,
              type=click.Choice(["md", "pdf", "csv", "json", "html", "votes.csv", "statements.csv"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True), required=True,
              help="File to write ('-' for standard output).")
@click.option("--bom", is_flag=True, help="CSV: start with a byte order mark, for Excel.")
@click.option("--as", "as_email", help="Export as this account (default: the organiser who owns it).")
@click.option("--language", default=None, help="Language of the report (default: the account's).")
@with_appcontext
def export(kind: str, object_id: int, fmt: str, output: str, bom: bool, as_email: str | None,
           language: str | None) -> None:
    """Export a thread, topic, room, consultation or event, as the web page's Export does."""
    from flask import current_app
    from flask_babel import force_locale

    from forum.exports import data, report
    from forum.exports.scope import owner_of, resolve
    from forum.services.errors import ServiceError

    actor = find_user_by_email(as_email) if as_email else owner_of(kind, object_id)
    if actor is None:
        raise click.ClickException(f"No {kind} {object_id}." if not as_email else f"No account uses {as_email}.")
    with current_app.test_request_context(), force_locale(language or actor.preferred_language):
        try:
            scope = resolve(actor, kind, object_id)
        except ServiceError:
            raise click.ClickException(f"{actor.email} may not export {kind} {object_id}, or it does not exist.") \
                from None
        if fmt in ("votes.csv", "statements.csv"):  # the polls' votes, the board's statements: small
            from forum.exports.opinion import statements_csv_chunks
            from forum.exports.polls import vote_csv_chunks

            chunks = vote_csv_chunks(scope, bom=bom) if fmt == "votes.csv" else statements_csv_chunks(scope, bom=bom)
            with click.open_file(output, "wb") as out:
                for chunk in chunks:
                    out.write(chunk.encode("utf-8"))
            if output != "-":
                click.echo(f"Wrote {output}.", err=True)
            return
        if fmt in ("csv", "json"):
            total = data.count_posts(scope)
            # Bytes, so that the CSV's CRLF line ends reach the file as written (a text file
            # would translate them on Windows; click.open_file takes no `newline`).
            with click.open_file(output, "wb") as out, \
                    click.progressbar(length=total, label=f"{total} posts", file=sys.stderr) as bar:
                progress = bar.update
                chunks = data.csv_chunks(scope, bom=bom, progress=progress) if fmt == "csv" \
                    else data.json_chunks(scope, progress=progress)
                for chunk in chunks:
                    out.write(chunk.encode("utf-8"))
            if output != "-":
                click.echo(f"Wrote {output}.", err=True)
            return
        built = report.build_report(scope, timezone=actor.timezone)
        if fmt == "pdf":
            with errors_only():
                pdf = report.render_pdf(built)
            with click.open_file(output, "wb") as out:
                out.write(pdf)
        else:
            text = report.render_markdown(built) if fmt == "md" else str(report.render_html(built, standalone=True))
            with click.open_file(output, "w", encoding="utf-8") as out:
                out.write(text)
        if output != "-":
            click.echo(f"Wrote {output}.", err=True)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run the job queue's worker (RQ, with its scheduler for delayed jobs) with the app.
    Needs REDIS_URL; without it jobs run in the web process and no worker is needed."""
    from flask import current_app

    from forum import jobs

    if not jobs.redis_url():
        raise click.ClickException("REDIS_URL is not set: jobs run in the web process, no worker is needed.")
    jobs.run_worker(current_app._get_current_object(), burst=burst)


@click.group("search")
def search() -> None:
    """The search index (docs/search.md)."""


@search.command("reindex")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Objects read and written at a time.")
@with_appcontext
def reindex(batch: int) -> None:
    """Write every row of the search index again (consultations, topics, events, posts) and
    remove rows of what is gone; safe to run at any time, as often as wanted. One transaction:
    searches see the old rows until it commits."""
    from forum.services import search_index

    total = search_index.objects_to_index(db.session)
    with click.progressbar(length=total, label=f"Indexing {total} objects", file=sys.stderr) as bar:
        written = search_index.rebuild(db.session, progress=bar.update, batch=batch)
    db.session.commit()
    click.echo(f"{written} rows in the search index.")


@click.group("notifications")
def notifications_group() -> None:
    """Notifications: reminders and e-mail digests (for a timer, docs/deploy.md)."""


@notifications_group.command("send-digests")
@with_appcontext
def send_digests() -> None:
    """Create the reminders now due (closing soon, starting soon), then mail every digest
    due (daily or weekly, at each person's hour). Safe to run as often as you like: nothing
    is sent twice."""
    from forum.models.base import utcnow
    from forum.services import notification_mail, notifications

    now = utcnow()
    notifications.create_due_reminders(now)
    db.session.commit()
    try:
        sent = notification_mail.send_digests(now)
    except notification_mail.DigestsInterrupted as interrupted:
        raise click.ClickException(
            f"{interrupted.sent} digest(s) sent, then the mail server failed: {interrupted.error}. "
            "The rest are sent by the next run.") from None
    click.echo(f"{sent} digest(s) sent.")
    _clean_reports()


def _clean_reports() -> None:
    from forum.services import reports

    removed = reports.clean()
    db.session.commit()
    click.echo(f"{removed} old report(s) removed.")


@click.group("reports")
def reports_group() -> None:
    """Report files built by the job queue (docs/exports.md)."""


@reports_group.command("clean")
@with_appcontext
def clean_reports() -> None:
    """Remove the report files older than REPORTS_KEEP_DAYS and copies of personal data
    older than PERSONAL_DATA_KEEP_DAYS (also run by `flask notifications send-digests`)."""
    _clean_reports()


@click.group("privacy")
def privacy_group() -> None:
    """Personal data kept for a time (docs/data-rights.md, "Retention")."""


@privacy_group.command("purge")
@with_appcontext
def purge_personal_data() -> None:
    """Blank login records' addresses older than PRIVACY_IP_RETENTION_DAYS and delete login
    records older than PRIVACY_LOGIN_RETENTION_DAYS (run it daily on a timer; safe to run as
    often as you like)."""
    from forum.services import retention

    purged = retention.purge()
    db.session.commit()
    click.echo(f"{purged.addresses_blanked} login address(es) blanked, {purged.logins_deleted} login record(s) "
               "deleted.")
