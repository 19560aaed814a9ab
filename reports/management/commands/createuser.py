"""`manage.py createuser --role ROLE EMAIL`: add a newsroom member (staff, in their role groups)."""

import getpass
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from reports.roles import ROLE_CHOICES

PASSWORD_ATTEMPTS = 3


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Create a newsroom member who logs in to the admin with their email address: a staff "
        "user in the groups of the given roles (--role editor, reviewer or curator; repeat it "
        "for several). On a terminal it asks for their password twice and checks it against "
        "the password rules. With --link (or when there is no terminal, or with --no-input) "
        "no password is set; --link prints a one-time link where they choose their own. "
        "Passwords are never printed. Nothing is created if anything is wrong."
    )
    # `stdin` lets tests stand in for a terminal, as with Django's createsuperuser.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("email", help="Their email address; also their username.")
        parser.add_argument(
            "--role",
            dest="roles",
            action="append",
            required=True,
            choices=list(ROLE_CHOICES),
            help="A newsroom role: "
            + ", ".join(f"{role} (group “{group}”)" for role, group in ROLE_CHOICES.items())
            + ". Give --role more than once for several roles.",
        )
        parser.add_argument("--name", default="", help='Their name, e.g. "Ana Silva".')
        parser.add_argument(
            "--link",
            action="store_true",
            help="Set no password; print a one-time link where they set their own.",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the site is served, for --link (default: %(default)s).",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Ask nothing: the user gets no password (use --link to give them one).",
        )

    def execute(self, *args, **options):
        self.stdin = options.get("stdin", sys.stdin)
        return super().execute(*args, **options)

    def handle(self, *args, email, roles, name, link, base_url, interactive, **options):
        User = get_user_model()
        email = User.objects.normalize_email(email.strip())
        user = User(username=email, email=email, is_staff=True)
        user.first_name, _, user.last_name = " ".join(name.split()).partition(" ")
        self._check_user(user)
        groups = self._groups(roles)
        base_url = self._check_base_url(base_url) if link else ""

        password = None
        can_prompt = interactive and not link and getattr(self.stdin, "isatty", lambda: False)()
        if can_prompt:
            password = self._ask_password(user)

        try:
            with transaction.atomic():
                # Checked again inside the transaction: someone may have been quicker.
                self._refuse_duplicate(User, email)
                if password is None:
                    user.set_unusable_password()
                else:
                    user.set_password(password)
                user.save()
                user.groups.set(groups)
        except IntegrityError as error:
            raise CommandError(f"Nothing created: {email} could not be saved ({error}).") from None

        role_names = ", ".join(group.name for group in groups)
        self.stdout.write(
            self.style.SUCCESS(f"Created {email} ({role_names}); they can use the admin.")
        )
        if link:
            self._write_link(user, base_url)
        elif password is None:
            self.stdout.write(
                self.style.WARNING(
                    f"{email} has no password and cannot log in yet "
                    f"({'no terminal to ask for one' if interactive else '--no-input'}). "
                    "Use --link next time to print a "
                    f"one-time set-password link; for this user, run "
                    f"`python manage.py changepassword {email}` on a terminal."
                )
            )

    def _check_user(self, user) -> None:
        """Refuse a bad email, a name that does not fit, or someone who already exists."""
        try:
            validate_email(user.email)
        except ValidationError:
            raise CommandError(f"“{user.email}” is not a valid email address.") from None
        try:
            user.clean_fields(exclude=["password"])
        except ValidationError as error:
            problems = "; ".join(
                f"{field.replace('_', ' ')}: {' '.join(messages)}"
                for field, messages in error.message_dict.items()
            )
            raise CommandError(f"Cannot use “{user.email}”: {problems}") from None
        self._refuse_duplicate(type(user), user.email)

    def _refuse_duplicate(self, User, email: str) -> None:
        clash = User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).first()
        if clash is not None:
            raise CommandError(
                f"A user with this email already exists: {clash.get_username()}. Nothing created."
            )

    def _groups(self, roles: list[str]) -> list[Group]:
        names = list(dict.fromkeys(ROLE_CHOICES[role] for role in roles))
        groups = {group.name: group for group in Group.objects.filter(name__in=names)}
        missing = [name for name in names if name not in groups]
        if missing:
            raise CommandError(
                f"No group “{'”, “'.join(missing)}”: run `python manage.py migrate` to create "
                "the newsroom roles. Nothing created."
            )
        return [groups[name] for name in names]

    def _check_base_url(self, base_url: str) -> str:
        base_url = base_url.strip().rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise CommandError(
                f"--base-url “{base_url}” is not an http(s) URL, e.g. https://factually.example. "
                "Nothing created."
            ) from None
        return base_url

    def _ask_password(self, user) -> str:
        """Ask twice until the two match and pass the password validators, or give up."""
        try:
            for attempt in range(1, PASSWORD_ATTEMPTS + 1):
                password = getpass.getpass(f"Password for {user.email}: ")
                again = getpass.getpass("Password (again): ")
                if password != again:
                    self.stderr.write("The two passwords differ.")
                elif not password.strip():
                    self.stderr.write("The password may not be blank.")
                else:
                    try:
                        validate_password(password, user)
                    except ValidationError as error:
                        for message in error.messages:
                            self.stderr.write(message)
                    else:
                        return password
                if attempt < PASSWORD_ATTEMPTS:
                    self.stderr.write("Please try again.")
        except (KeyboardInterrupt, EOFError):
            self.stderr.write("")
            raise CommandError("Cancelled. Nothing created.") from None
        raise CommandError(
            f"No acceptable password after {PASSWORD_ATTEMPTS} attempts. Nothing created; "
            "use --link to let them choose their own."
        )

    def _write_link(self, user, base_url: str) -> None:
        path = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        days = settings.PASSWORD_RESET_TIMEOUT / 86400
        lifetime = f"{days:g} day{'s' if days != 1 else ''}"
        self.stdout.write(
            f"Send them this link to set their password. It works once, for {lifetime}; "
            "treat it like a password:"
        )
        self.stdout.write(f"{base_url}{path}")
