"""forum.services.accounts: registration, sign-in, password changes and resets, roles."""
from __future__ import annotations

from dataclasses import replace

import itsdangerous.timed
import pytest

import forum.mail
from forum.models import User
from forum.services import accounts
from forum.services.errors import PermissionDenied, ValidationError

PASSWORD = "a long enough password"


def profile(**changes) -> accounts.Profile:
    return replace(accounts.Profile(display_name="Ada Lovelace", organisation="Analytical Engines",
                                    organisation_type="research", country="IT",
                                    preferred_language="it", timezone="Europe/Rome"), **changes)


def user_count(db) -> int:
    return db.session.scalar(db.select(db.func.count(User.id)))


# --- register -----------------------------------------------------------------------

def test_register_stores_the_account_with_a_normalised_email(db):
    user = accounts.register("Ada.Lovelace@Example.ORG", PASSWORD, profile())

    assert user.id is not None
    assert user.email == "ada.lovelace@example.org"
    assert user.display_name == "Ada Lovelace"
    assert (user.organisation, user.organisation_type, user.country) == ("Analytical Engines", "research", "IT")
    assert (user.preferred_language, user.timezone) == ("it", "Europe/Rome")
    assert not user.is_admin and not user.is_organiser
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD.upper())


def test_register_collapses_whitespace_in_names(db):
    user = accounts.register("ada@example.org", PASSWORD, profile(display_name="  Ada \t  Lovelace \n"))
    assert user.display_name == "Ada Lovelace"


@pytest.mark.parametrize("email", ["", "not-an-email", "ada@", "@example.org", "ada@@example.org",
                                   "ada@example", "ada lovelace@example.org", "ada@example.org\x00"])
def test_register_refuses_an_invalid_email(db, email):
    with pytest.raises(ValidationError) as error:
        accounts.register(email, PASSWORD, profile())
    assert error.value.field == "email"
    assert user_count(db) == 0


@pytest.mark.parametrize("second", ["ada@example.org", "ADA@EXAMPLE.ORG", " Ada@Example.org "])
def test_register_refuses_an_email_already_used_whatever_its_case(db, second):
    accounts.register("Ada@example.org", PASSWORD, profile())
    with pytest.raises(ValidationError) as error:
        accounts.register(second, PASSWORD, profile(display_name="Someone else"))
    assert error.value.field == "email"
    assert user_count(db) == 1


def test_register_refuses_a_short_password_and_accepts_the_minimum(db):
    with pytest.raises(ValidationError) as error:
        accounts.register("ada@example.org", "x" * (accounts.PASSWORD_MIN - 1), profile())
    assert error.value.field == "password"
    assert user_count(db) == 0

    accounts.register("ada@example.org", "x" * accounts.PASSWORD_MIN, profile())
    assert user_count(db) == 1


def test_register_refuses_an_overlong_password_and_a_nul_byte_in_it(db):
    for password in ("x" * (accounts.PASSWORD_MAX + 1), "long enough\x00password"):
        with pytest.raises(ValidationError) as error:
            accounts.register("ada@example.org", password, profile())
        assert error.value.field == "password"
    assert user_count(db) == 0


@pytest.mark.parametrize(("field", "value"), [
    ("country", "XX"),
    ("country", ""),
    ("country", "it"),   # codes are upper case
    ("country", "EU"),   # not a country
    ("organisation_type", "secret_society"),
    ("organisation_type", ""),
    ("preferred_language", "fr"),
    ("timezone", "Mars/Olympus_Mons"),
    ("timezone", ""),
    ("display_name", ""),
    ("display_name", "   "),
    ("display_name", "x" * 81),
])
def test_register_refuses_values_not_in_the_lists(db, field, value):
    with pytest.raises(ValidationError) as error:
        accounts.register("ada@example.org", PASSWORD, profile(**{field: value}))
    assert error.value.field == field
    assert user_count(db) == 0


@pytest.mark.parametrize("field", ["display_name", "organisation", "role_title"])
@pytest.mark.parametrize("bad", ["\x00", "\ufffd", "\x1b[31m", "\x7f"])
def test_register_refuses_nul_bytes_invalid_utf8_and_control_characters(db, field, bad):
    with pytest.raises(ValidationError) as error:
        accounts.register("ada@example.org", PASSWORD, profile(**{field: f"Ada{bad}Lovelace"}))
    assert error.value.field == field
    assert "invalid characters" in str(error.value.message)
    assert user_count(db) == 0


def test_register_honours_a_configured_list_of_organisation_types(app, db):
    app.config["ORGANISATION_TYPES"] = ["ngo", "research", "not_a_type"]
    assert accounts.organisation_type_codes() == ["ngo", "research"]
    with pytest.raises(ValidationError):
        accounts.register("ada@example.org", PASSWORD, profile(organisation_type="private_company"))
    assert accounts.register("ada@example.org", PASSWORD, profile(organisation_type="ngo")).id


def test_country_codes_list_the_eu_first_and_no_pseudo_territories(app):
    codes = accounts.country_codes()
    assert codes[:27] == accounts.EU_COUNTRIES
    assert {"US", "NO", "UA", "TR"} <= set(codes[27:])
    assert not {"ZZ", "EU", "EZ", "UN", "QO"} & set(codes)
    assert len(codes) == len(set(codes))


# --- authenticate -------------------------------------------------------------------

def test_authenticate_with_the_right_password_whatever_the_email_case(db, make_user):
    user = make_user(email="ada@example.org", password=PASSWORD)
    assert user.last_login_at is None

    assert accounts.authenticate("ADA@example.org ", PASSWORD) is user
    assert user.last_login_at is not None


@pytest.mark.parametrize(("email", "password"), [
    ("ada@example.org", "a long enough passworD"),
    ("ada@example.org", ""),
    ("nobody@example.org", PASSWORD),
])
def test_authenticate_refuses_a_wrong_password_or_unknown_email(db, make_user, email, password):
    user = make_user(email="ada@example.org", password=PASSWORD)
    assert accounts.authenticate(email, password) is None
    assert user.last_login_at is None


def test_an_email_with_a_nul_byte_finds_no_account(app, db, make_user, monkeypatch):
    user = make_user(email="ada@example.org")
    sent = []
    monkeypatch.setattr(forum.mail, "send", sent.append)
    assert accounts.authenticate("ada@example.org\x00", user.test_password) is None
    accounts.request_password_reset("ada\x00@example.org")
    db.session.commit()  # the mail would go from a job, after the commit
    assert sent == []


# --- profile and password -----------------------------------------------------------

def test_update_profile_by_the_user_and_by_an_admin_but_not_by_others(db, make_user):
    user, other, admin = make_user(), make_user(), make_user("admin")

    accounts.update_profile(user, user, profile(display_name="New name"))
    assert user.display_name == "New name"
    accounts.update_profile(admin, user, profile(display_name="Fixed by admin"))
    assert user.display_name == "Fixed by admin"
    with pytest.raises(PermissionDenied):
        accounts.update_profile(other, user, profile(display_name="Hijacked"))
    assert user.display_name == "Fixed by admin"


def test_set_language_accepts_only_configured_languages(db, make_user):
    user = make_user()
    accounts.set_language(user, "it")
    assert user.preferred_language == "it"
    with pytest.raises(ValidationError):
        accounts.set_language(user, "xx")
    assert user.preferred_language == "it"


def test_change_password_rotates_the_session_token(db, make_user):
    user = make_user(password=PASSWORD)
    old_token, old_id = user.session_token, user.get_id()

    accounts.change_password(user, PASSWORD, "another long password")

    assert user.check_password("another long password")
    assert not user.check_password(PASSWORD)
    assert user.session_token != old_token
    assert user.get_id() != old_id


def test_change_password_needs_the_current_password_and_a_valid_new_one(db, make_user):
    user = make_user(password=PASSWORD)
    token = user.session_token

    with pytest.raises(ValidationError) as error:
        accounts.change_password(user, "wrong password!", "another long password")
    assert error.value.field == "current_password"
    with pytest.raises(ValidationError) as error:
        accounts.change_password(user, PASSWORD, "short")
    assert error.value.field == "password"

    assert user.check_password(PASSWORD)
    assert user.session_token == token


# --- password reset -----------------------------------------------------------------

def test_reset_token_changes_the_password_once(db, make_user):
    user = make_user(password=PASSWORD)
    token = accounts.make_reset_token(user)
    session_token = user.session_token

    assert accounts.user_for_reset_token(token) is user
    assert accounts.reset_password(token, "a brand new password") is user
    assert user.check_password("a brand new password")
    assert user.session_token != session_token

    with pytest.raises(ValidationError, match="already been used"):
        accounts.reset_password(token, "yet another password")
    assert user.check_password("a brand new password")


def test_reset_token_stops_working_after_any_password_change(db, make_user):
    user = make_user(password=PASSWORD)
    token = accounts.make_reset_token(user)
    accounts.change_password(user, PASSWORD, "changed meanwhile")
    with pytest.raises(ValidationError, match="already been used"):
        accounts.user_for_reset_token(token)


def test_reset_token_expires(app, db, make_user, monkeypatch):
    user = make_user()
    token = accounts.make_reset_token(user)
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    issued = itsdangerous.timed.time.time()

    class Clock:
        now = issued + max_age - 5

        @classmethod
        def time(cls):
            return cls.now

    monkeypatch.setattr(itsdangerous.timed, "time", Clock)
    assert accounts.user_for_reset_token(token) is user  # still valid just before

    Clock.now = issued + max_age + 5
    with pytest.raises(ValidationError, match="expired"):
        accounts.user_for_reset_token(token)
    with pytest.raises(ValidationError, match="expired"):
        accounts.reset_password(token, "a brand new password")
    assert user.check_password(user.test_password)


@pytest.mark.parametrize("token", ["", "garbage", "eyJ1aWQiOjF9.forged.signature"])
def test_reset_token_must_be_genuine(db, make_user, token):
    make_user()
    with pytest.raises(ValidationError, match="not valid"):
        accounts.user_for_reset_token(token)


def test_reset_token_signed_with_another_key_is_refused(app, db, make_user):
    user = make_user()
    forged = itsdangerous.URLSafeTimedSerializer("another key", salt="password-reset").dumps(
        {"uid": user.id, "pw": user.password_hash[-16:]})
    with pytest.raises(ValidationError, match="not valid"):
        accounts.user_for_reset_token(forged)


def test_reset_refuses_a_short_new_password_and_keeps_the_token_usable(db, make_user):
    user = make_user()
    token = accounts.make_reset_token(user)
    with pytest.raises(ValidationError) as error:
        accounts.reset_password(token, "short")
    assert error.value.field == "password"
    assert accounts.reset_password(token, "a brand new password") is user


def test_request_password_reset_mails_a_working_link_to_known_addresses_only(app, db, make_user, monkeypatch):
    sent = []
    monkeypatch.setattr(forum.mail, "send", sent.append)
    user = make_user(email="ada@example.org", preferred_language="en")

    accounts.request_password_reset("nobody@example.org")
    db.session.commit()
    assert sent == []
    accounts.request_password_reset("ADA@example.org")
    assert sent == []  # not inside the transaction: from a job, once it commits
    db.session.commit()

    assert len(sent) == 1
    email = sent[0]
    assert email.to == "ada@example.org"
    assert "/reset-password/" in email.text
    token = email.text.split("/reset-password/", 1)[1].split()[0]
    assert accounts.user_for_reset_token(token) is user


# --- roles --------------------------------------------------------------------------

def test_set_roles_by_an_admin(db, make_user):
    admin, user = make_user("admin"), make_user()

    accounts.set_roles(admin, user, organiser=True)
    assert (user.is_organiser, user.is_admin) == (True, False)
    accounts.set_roles(admin, user, admin=True)
    assert (user.is_organiser, user.is_admin) == (True, True)
    accounts.set_roles(admin, user, organiser=False, admin=False)
    assert (user.is_organiser, user.is_admin) == (False, False)


@pytest.mark.parametrize("role", ["participant", "organiser"])
def test_set_roles_refused_to_non_admins(db, make_user, role):
    actor, user = make_user(role), make_user()
    with pytest.raises(PermissionDenied):
        accounts.set_roles(actor, user, organiser=True)
    with pytest.raises(PermissionDenied):
        accounts.set_roles(actor, actor, admin=True)
    assert not user.is_organiser and not actor.is_admin


def test_an_admin_cannot_remove_their_own_admin_role(db, make_user):
    admin = make_user("admin")
    with pytest.raises(ValidationError):
        accounts.set_roles(admin, admin, admin=False)
    assert admin.is_admin


def test_the_command_line_may_set_any_role(db, make_user):
    user = make_user()
    accounts.set_roles(None, user, admin=True, organiser=True)
    assert user.is_admin and user.is_organiser
    accounts.set_roles(None, user, admin=False)
    assert not user.is_admin and user.is_organiser


def test_an_admin_who_loses_the_role_loses_the_streams_it_gave(db, make_user, monkeypatch):
    """Streams are authorised as a socket joins them (an event's control room: its organisers
    and admins); a former admin's sockets are closed, to join again as what they now are."""
    from forum.services import events

    closed = []
    monkeypatch.setattr(events, "disconnect_user_after_commit", closed.append)
    admin, other = make_user("admin"), make_user("admin")
    accounts.set_roles(admin, other, organiser=True)
    accounts.set_roles(admin, other, admin=True)
    assert closed == []
    accounts.set_roles(admin, other, admin=False)
    assert closed == [other.id]
