"""Password guessing and account enumeration at the admin login (django-axes).

Five failed logins for one username from one address lock that pair out for 15 minutes:
the sixth attempt, even with the right password, gets the lockout page (429). Whether the
username exists makes no difference to any response, and there is no password-reset form
that would tell.
"""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.conftest import make_user
from tests.security.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
LIMIT = 5
INVALID = "Please enter the correct username and password for a staff account."


@pytest.fixture
def member(db):
    return make_user("ana@example.com", "Editor")


def _client(address="198.51.100.7", **headers) -> Client:
    return Client(REMOTE_ADDR=address, **headers)


def _log_in(client, username, password="wrong password"):
    return client.post(LOGIN, {"username": username, "password": password})


def _normalised(response, username: str) -> str:
    """The page without what differs per response anyway: tokens, nonces, the typed name."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'nonce="[^"]*"', "", text)
    return text.replace(username, "USERNAME")


def test_the_settings_lock_a_username_and_address_pair_for_fifteen_minutes():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    # Counted in the database, which every app server shares.
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_five_failures_lock_the_account_out_from_that_address_even_with_the_right_password(
    member,
):
    client = _client()
    for _ in range(LIMIT - 1):
        response = _log_in(client, member.username)
        assert response.status_code == 200
        assert INVALID in response.content.decode()

    locked = _log_in(client, member.username)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Too many failed logins" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    assert locked["Content-Type"].startswith("text/html")

    right_password = _log_in(client, member.username, STAFF_PASSWORD)
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to log in


def test_the_lockout_is_for_that_username_from_that_address_only(member):
    other = make_user("bo@example.com", "Editor")
    attacker = _client("198.51.100.7")
    for _ in range(LIMIT):
        _log_in(attacker, member.username)
    assert _log_in(attacker, member.username, STAFF_PASSWORD).status_code == 429

    # The member, from their own address, logs in as usual.
    assert _log_in(_client("203.0.113.9"), member.username, STAFF_PASSWORD).status_code == 302
    # Another account from the attacker's address is not locked.
    assert _log_in(_client("198.51.100.7"), other.username, STAFF_PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(member):
    client = _client()
    for _ in range(LIMIT):
        _log_in(client, member.username)
    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 302


def test_a_successful_login_resets_the_count(member):
    client = _client()
    for _ in range(LIMIT - 1):
        _log_in(client, member.username)
    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 302
    client.post("/admin/logout/")
    for _ in range(LIMIT - 1):
        assert _log_in(client, member.username).status_code == 200
    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_count(member, settings):
    """With no trusted proxy, X-Forwarded-For is the client's say: it is ignored."""
    settings.FACTUALLY_TRUSTED_PROXY_COUNT = 0
    for n in range(LIMIT):
        _log_in(_client(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"), member.username)
    response = _log_in(_client(HTTP_X_FORWARDED_FOR="10.0.0.99"), member.username, STAFF_PASSWORD)
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_client_address_is_the_one_the_proxy_saw(member, settings):
    """One proxy: the last X-Forwarded-For entry is the client; entries before it are forged."""
    settings.FACTUALLY_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for n in range(LIMIT):
        forged = f"192.0.2.{n}, 203.0.113.50"
        _log_in(_client(proxy, HTTP_X_FORWARDED_FOR=forged), member.username)
    attacker = _client(proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.50")
    assert _log_in(attacker, member.username, STAFF_PASSWORD).status_code == 429
    member_client = _client(proxy, HTTP_X_FORWARDED_FOR="203.0.113.60")
    assert _log_in(member_client, member.username, STAFF_PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.50"}


def test_ipv6_clients_are_counted_by_their_network(member):
    for n in range(LIMIT):
        _log_in(_client(f"2001:db8:1:2::{n + 1}"), member.username)
    assert _log_in(_client("2001:db8:1:2::ff"), member.username, STAFF_PASSWORD).status_code == 429
    assert _log_in(_client("2001:db8:9:9::1"), member.username, STAFF_PASSWORD).status_code == 302


# No user enumeration -------------------------------------------------------------------------


def test_an_unknown_username_and_a_wrong_password_get_the_same_responses(member):
    """Each failure, and the lockout after five, look the same whether the account exists."""
    unknown = "nobody@example.com"
    known_client, unknown_client = _client("198.51.100.7"), _client("198.51.100.8")
    for attempt in range(LIMIT + 2):
        known = _log_in(known_client, member.username)
        missing = _log_in(unknown_client, unknown)
        assert known.status_code == missing.status_code, attempt
        assert _normalised(known, member.username) == _normalised(missing, unknown), attempt
        assert sorted(known.headers) == sorted(missing.headers), attempt
    assert known.status_code == 429


@pytest.mark.parametrize("kind", ["not staff", "inactive"])
def test_the_right_password_of_an_account_that_may_not_log_in_says_nothing_more(member, kind):
    fields = {"is_staff": False} if kind == "not staff" else {"is_active": False}
    make_user("cy@example.com", **fields)

    right = _log_in(_client("198.51.100.7"), "cy@example.com", STAFF_PASSWORD)
    wrong = _log_in(_client("198.51.100.8"), "cy@example.com")

    assert right.status_code == wrong.status_code == 200
    assert _normalised(right, "cy@example.com") == _normalised(wrong, "cy@example.com")
    assert INVALID in right.content.decode()


def test_there_is_no_password_reset_form():
    """Only the set-password links `createuser --link` prints exist: no form asks for an
    email address (which would tell who has an account), and the login page offers none."""
    from django.contrib.auth import views as auth_views

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                yield getattr(pattern.callback, "view_class", pattern.callback)
            else:
                yield from views(pattern.url_patterns)

    found = set(views(get_resolver().url_patterns))
    assert auth_views.PasswordResetView not in found
    assert auth_views.PasswordResetDoneView not in found
    for name in ["password_reset", "admin_password_reset", "password_reset_done"]:
        with pytest.raises(NoReverseMatch):
            reverse(name)
    login_page = Client().get(LOGIN).content.decode()
    assert "password_reset" not in login_page
    assert "Forgotten your password" not in login_page
    for url in ["/accounts/password_reset/", "/password_reset/", "/accounts/password/reset/"]:
        assert Client().get(url).status_code == 404, url


def test_a_set_password_link_says_the_same_for_an_unknown_and_a_known_account(member):
    unknown_id = urlsafe_base64_encode(force_bytes(member.pk + 1000))
    known_id = urlsafe_base64_encode(force_bytes(member.pk))
    unknown = Client().get(f"/accounts/reset/{unknown_id}/bad-token/", follow=True)
    known = Client().get(f"/accounts/reset/{known_id}/bad-token/", follow=True)
    assert unknown.status_code == known.status_code == 200
    assert not unknown.context["validlink"]
    assert not known.context["validlink"]
    assert _normalised(unknown, unknown_id) == _normalised(known, known_id)


def _locked_out(member) -> Client:
    client = _client()
    for _ in range(LIMIT):
        _log_in(client, member.username)
    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 429
    return client


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        ("axes_reset_username", "ana@example.com"),
        ("axes_reset_ip", "198.51.100.7"),
        ("axes_reset_ip_username", "198.51.100.7 ana@example.com"),
    ],
)
def test_an_administrator_lifts_a_lockout_with_the_documented_command(member, command, argument):
    client = _locked_out(member)

    call_command(command, *argument.split(), stdout=StringIO())

    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_superuser_lifts_a_lockout_in_the_admin(member):
    client = _locked_out(member)
    admin_user = make_user("root@example.com", is_superuser=True)
    administrator = _client("203.0.113.9")
    administrator.force_login(admin_user)
    attempt = AccessAttempt.objects.get(username=member.username)
    listing = administrator.get("/admin/axes/accessattempt/")
    assert member.username in listing.content.decode()

    administrator.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert _log_in(client, member.username, STAFF_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "refused", ["https://evil.example/", "//evil.example", "/\\evil.example", "http:evil.example"]
)
def test_logging_in_with_a_refused_next_lands_on_the_admin_home(member, refused):
    client = _client()
    response = client.post(
        f"/admin/login/?next={refused}",
        {"username": member.username, "password": STAFF_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/admin/", 302)]
    assert response.status_code == 200
    assert "Factually newsroom" in response.content.decode()
