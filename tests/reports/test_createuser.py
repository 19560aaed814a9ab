"""`manage.py createuser`: setting up newsroom members from the command line."""

import io
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from reports import roles
from reports.management.commands import createuser

pytestmark = pytest.mark.django_db

STRONG = "tidal-quince-harbour-42"
EMAIL = "ana.silva@example.com"


class TTY(io.StringIO):
    """Stands in for an operator's terminal."""

    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups, made here in case the data migration has not created them."""
    for name in roles.ROLE_CHOICES.values():
        Group.objects.get_or_create(name=name)


@pytest.fixture
def typed(monkeypatch):
    """Make getpass return these answers in turn; records every prompt it was asked."""
    prompts = []

    def answer(*passwords):
        remaining = iter(passwords)

        def fake_getpass(prompt=""):
            prompts.append(prompt)
            return next(remaining)

        monkeypatch.setattr(createuser.getpass, "getpass", fake_getpass)
        return prompts

    return answer


@pytest.fixture
def no_prompt(monkeypatch):
    def fail(prompt=""):
        raise AssertionError(f"prompted for a password: {prompt!r}")

    monkeypatch.setattr(createuser.getpass, "getpass", fail)


def run(*args, **options):
    """Run createuser; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("createuser", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def refused(*args, **options) -> str:
    with pytest.raises(CommandError) as error:
        run(*args, **options)
    return str(error.value)


# Who is created.


def test_creates_a_staff_user_named_by_their_email_in_the_role_group(typed):
    typed(STRONG, STRONG)

    out, _ = run("--role", "editor", "--name", "Ana  Maria Silva", EMAIL, stdin=TTY())

    user = User.objects.get()
    assert (user.username, user.email) == (EMAIL, EMAIL)
    assert (user.first_name, user.last_name) == ("Ana", "Maria Silva")
    assert user.is_staff
    assert user.is_active
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [roles.EDITOR]
    assert f"Created {EMAIL} (Editor)" in out


def test_role_may_be_given_more_than_once_for_several_groups(no_prompt):
    run("--role", "reviewer", "--role", "curator", "--role", "reviewer", EMAIL, "--no-input")

    user = User.objects.get()
    assert set(user.groups.values_list("name", flat=True)) == {roles.REVIEWER, roles.SOURCE_CURATOR}


def test_each_role_name_maps_to_its_newsroom_group(no_prompt):
    for role, group in roles.ROLE_CHOICES.items():
        run("--role", role, f"{role}@example.com", "--no-input")

        assert User.objects.get(username=f"{role}@example.com").groups.get().name == group


def test_the_domain_of_the_email_is_lowercased(no_prompt):
    run("--role", "editor", "Ana@Example.COM", "--no-input")

    assert User.objects.get().username == "Ana@example.com"


# What is refused, with nothing created.


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "ana silva@example.com", ""])
def test_refuses_an_invalid_email_and_creates_nothing(no_prompt, email):
    message = refused("--role", "editor", email, "--no-input")

    assert "not a valid email address" in message
    assert not User.objects.exists()


def test_refuses_an_email_that_cannot_be_a_username(no_prompt):
    message = refused("--role", "editor", "ana!silva@example.com", "--no-input")

    assert "username" in message
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("username", "email"),
    [
        ("ana.silva@example.com", "ana.silva@example.com"),
        ("ANA.SILVA@EXAMPLE.COM", ""),
        ("ana", "Ana.Silva@Example.com"),
    ],
)
def test_refuses_a_duplicate_email_whatever_its_case(no_prompt, username, email):
    User.objects.create_user(username=username, email=email)

    message = refused("--role", "editor", EMAIL, "--no-input")

    assert "already exists" in message
    assert User.objects.count() == 1


def test_refuses_an_unknown_role_and_creates_nothing(no_prompt):
    message = refused("--role", "publisher", EMAIL, "--no-input")

    assert "invalid choice: 'publisher'" in message
    assert not User.objects.exists()


def test_refuses_to_run_without_a_role(no_prompt):
    message = refused(EMAIL, "--no-input")

    assert "--role" in message
    assert not User.objects.exists()


def test_refuses_when_the_role_group_is_missing_and_creates_nothing(no_prompt):
    Group.objects.filter(name=roles.REVIEWER).delete()

    message = refused("--role", "editor", "--role", "reviewer", EMAIL, "--no-input")

    assert "No group “Reviewer”" in message
    assert "migrate" in message
    assert not User.objects.exists()


def test_a_failure_after_the_user_is_saved_rolls_everything_back(monkeypatch, no_prompt):
    # An unsaved group cannot be added: the failure comes after the user row is written.
    monkeypatch.setattr(createuser.Command, "_groups", lambda self, roles: [Group(name="Ghost")])

    with pytest.raises(ValueError, match="Ghost"):
        run("--role", "editor", EMAIL, "--no-input")

    assert not User.objects.exists()


# Passwords typed at a terminal.


def test_a_password_typed_twice_at_the_terminal_is_set_and_never_printed(typed):
    prompts = typed(STRONG, STRONG)

    out, err = run("--role", "editor", EMAIL, stdin=TTY())

    assert User.objects.get().check_password(STRONG)
    assert len(prompts) == 2
    assert STRONG not in out + err


def test_weak_passwords_are_rejected_with_the_validators_messages_then_asked_again(typed):
    prompts = typed("ana.silva", "ana.silva", "12345678", "12345678", STRONG, STRONG)

    _, err = run("--role", "editor", EMAIL, stdin=TTY())

    assert "too similar to the username" in err
    assert "too common" in err
    assert "entirely numeric" in err
    assert len(prompts) == 6
    assert User.objects.get().check_password(STRONG)


def test_passwords_that_differ_are_asked_again(typed):
    typed(STRONG, STRONG + "x", STRONG, STRONG)

    _, err = run("--role", "editor", EMAIL, stdin=TTY())

    assert "The two passwords differ." in err
    assert User.objects.get().check_password(STRONG)


def test_three_rejected_passwords_create_nothing(typed):
    prompts = typed("short", "short", "", "", STRONG, "other")

    message = refused("--role", "editor", EMAIL, stdin=TTY())

    assert "after 3 attempts" in message
    assert "--link" in message
    assert len(prompts) == 6
    assert not User.objects.exists()


def test_interrupting_the_password_prompt_creates_nothing(monkeypatch):
    def interrupt(prompt=""):
        raise KeyboardInterrupt

    monkeypatch.setattr(createuser.getpass, "getpass", interrupt)

    assert "Cancelled" in refused("--role", "editor", EMAIL, stdin=TTY())
    assert not User.objects.exists()


# No terminal: no password.


def test_without_a_terminal_the_user_gets_an_unusable_password_and_is_told_about_link(no_prompt):
    out, err = run("--role", "editor", EMAIL, stdin=io.StringIO(STRONG))

    user = User.objects.get()
    assert not user.has_usable_password()
    assert "--link" in out
    assert "password:" not in (out + err).lower()
    assert STRONG not in out + err


def test_no_input_does_not_prompt_even_at_a_terminal(no_prompt):
    out, _ = run("--role", "editor", EMAIL, "--no-input", stdin=TTY())

    assert not User.objects.get().has_usable_password()
    assert "--link" in out


# One-time set-password links.


def link_from(out: str) -> str:
    [link] = [line for line in out.splitlines() if "/accounts/reset/" in line]
    return link.strip()


def test_link_prints_a_one_time_link_under_the_base_url_and_prompts_for_nothing(no_prompt):
    out, _ = run(
        "--role", "editor", EMAIL, "--link", "--base-url", "https://news.example/", stdin=TTY()
    )

    assert not User.objects.get().has_usable_password()
    assert link_from(out).startswith("https://news.example/accounts/reset/")
    assert "works once" in out


def test_link_defaults_to_the_development_server():
    out, _ = run("--role", "editor", EMAIL, "--link")

    assert link_from(out).startswith("http://127.0.0.1:8000/accounts/reset/")


def test_link_refuses_a_base_url_that_is_not_http_and_creates_nothing():
    message = refused("--role", "editor", EMAIL, "--link", "--base-url", "news.example")

    assert "--base-url" in message
    assert not User.objects.exists()


def test_the_link_shows_the_set_password_form_sets_the_password_and_then_stops_working(client):
    out, _ = run("--role", "editor", EMAIL, "--link", "--base-url", "http://testserver")
    path = urlsplit(link_from(out)).path

    form = client.get(path, follow=True)
    assert form.status_code == 200
    assert "registration/password_reset_confirm.html" in [t.name for t in form.templates]
    assert form.context["validlink"]
    assert 'name="new_password1"' in form.text
    assert 'name="new_password2"' in form.text

    set_password_url = form.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": STRONG, "new_password2": STRONG}, follow=True
    )
    assert done.status_code == 200
    assert "registration/password_reset_complete.html" in [t.name for t in done.templates]
    assert User.objects.get().check_password(STRONG)
    # Through the admin's login form (login throttling needs the request).
    login = client.post("/admin/login/", {"username": EMAIL, "password": STRONG})
    assert login.status_code == 302
    client.logout()

    again = client.get(path, follow=True)
    assert again.status_code == 200
    assert not again.context["validlink"]
    assert "invalid" in again.text
    assert 'name="new_password1"' not in again.text


def test_the_link_form_applies_the_password_validators(client):
    out, _ = run("--role", "editor", EMAIL, "--link", "--base-url", "http://testserver")
    form = client.get(urlsplit(link_from(out)).path, follow=True)

    rejected = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )

    assert rejected.status_code == 200
    assert "too common" in rejected.text
    assert not User.objects.get().has_usable_password()
