"""Command-line tools: `flask create-admin`, `flask set-roles`, `flask demo`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from forum.extensions import db
from forum.models.users import find_user_by_email
from forum.services import accounts
from forum.services.errors import ValidationError


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(set_roles)
    app.cli.add_command(demo)


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


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load the demo consultation when the database is empty, and print its logins."""
    from forum.demo import load_demo

    logins = load_demo()
    if logins is None:
        click.echo("The database already holds data; the demo was not loaded.")
        return
    db.session.commit()
    base = "http://127.0.0.1:5000"
    click.echo(f"Demo loaded. Log in at {base}/login with:")
    for role, email, password in logins.accounts:
        click.echo(f"  {role:<12} {email}  /  {password}")
    event = logins.event
    click.echo("")
    click.echo(f"Live event: {event.title}")
    click.echo(f"  Plenary: {base}{event.url}")
    click.echo(f"  {'Organiser':<12} {event.organiser[0]}  /  {event.organiser[1]}")
    for room in event.rooms:
        click.echo(f"  Room {room.position}: {room.title} ({room.phase}) {base}{room.url}")
        for name, email in room.moderators:
            click.echo(f"    {'Moderator':<12} {email}  /  {event.moderator_password}  ({name})")
        if room.participant is not None:
            name, email = room.participant
            click.echo(f"    {'Participant':<12} {email}  /  {event.participant_password}  ({name})")
    click.echo("Use a separate browser (or private window) for each login to try them side by side.")
