"""Newsroom roles: the groups the migration keeps, and what each role may do in the admin."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from reports import roles, workflow
from reports.models import PublishedVersion, Report
from reports.roles import sync_roles
from tests.conftest import make_report, make_source, make_user, publish_now

pytestmark = pytest.mark.django_db


def codenames(group_name):
    group = Group.objects.get(name=group_name)
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_the_migration_creates_each_role_with_exactly_its_permissions():
    for name, by_app in roles.ROLES.items():
        expected = {(app, codename) for app, names in by_app.items() for codename in names}
        assert codenames(name) == expected


def test_syncing_repairs_a_group_whose_permissions_drifted():
    reviewers = Group.objects.get(name=roles.REVIEWER)
    reviewers.permissions.remove(Permission.objects.get(codename="publish_report"))
    reviewers.permissions.add(Permission.objects.get(codename="delete_source"))

    sync_roles()

    assert ("reports", "publish_report") in codenames(roles.REVIEWER)
    assert ("sources", "delete_source") not in codenames(roles.REVIEWER)


def test_a_source_curator_holds_no_report_permissions():
    assert {app for app, _ in codenames(roles.SOURCE_CURATOR)} == {"sources"}


# The permission matrix: every role against every admin view and workflow step.

ANONYMOUS, READER, EDITOR, REVIEWER, CURATOR, SUPERUSER = (
    "anonymous",
    "reader",
    "editor",
    "reviewer",
    "curator",
    "superuser",
)
LOGIN = "login"  # sent to the admin login page


@pytest.fixture
def clients(client, django_user_model):
    """A logged-in test client per role (a new client each, sharing nothing)."""
    users = {
        READER: make_user("a-reader", is_staff=False),
        EDITOR: make_user("an-editor", roles.EDITOR),
        REVIEWER: make_user("a-reviewer", roles.REVIEWER),
        CURATOR: make_user("a-curator", roles.SOURCE_CURATOR),
        SUPERUSER: django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"),
    }
    result = {ANONYMOUS: Client()}
    for role, user in users.items():
        result[role] = Client()
        result[role].force_login(user)
    return result


def _urls(report, live, source):
    transition = "admin:reports_report_transition"
    return {
        "report list": reverse("admin:reports_report_changelist"),
        "report add": reverse("admin:reports_report_add"),
        "report change": reverse("admin:reports_report_change", args=[report.pk]),
        "report delete": reverse("admin:reports_report_delete", args=[report.pk]),
        "report history": reverse("admin:reports_report_history", args=[report.pk]),
        "report preview": reverse("admin:reports_report_preview", args=[report.pk]),
        "submit": reverse(transition, args=[report.pk, "submit"]),
        "return": reverse(transition, args=[report.pk, "return_to_editor"]),
        "publish": reverse(transition, args=[report.pk, "publish"]),
        "schedule": reverse(transition, args=[report.pk, "schedule"]),
        "withdraw": reverse(transition, args=[live.pk, "withdraw"]),
        "unpublish": reverse(transition, args=[live.pk, "unpublish"]),
        "version list": reverse("admin:reports_publishedversion_changelist"),
        "verdict list": reverse("admin:reports_verdict_changelist"),
        "verdict add": reverse("admin:reports_verdict_add"),
        "source list": reverse("admin:sources_source_changelist"),
        "source add": reverse("admin:sources_source_add"),
        "source change": reverse("admin:sources_source_change", args=[source.pk]),
        "source delete": reverse("admin:sources_source_delete", args=[source.pk]),
        "publisher add": reverse("admin:sources_publisher_add"),
        "user list": reverse("admin:auth_user_changelist"),
    }


# Expected status for editor, reviewer, curator; anonymous and non-staff readers always
# go to the login page, the superuser always gets 200.
MATRIX = {
    "report list": (200, 200, 403),
    "report add": (200, 200, 403),
    "report change": (200, 200, 403),
    "report delete": (403, 200, 403),
    "report history": (200, 200, 403),
    "report preview": (200, 200, 403),
    "submit": (200, 200, 403),
    "return": (403, 200, 403),
    "publish": (403, 200, 403),
    "schedule": (403, 200, 403),
    "withdraw": (403, 200, 403),
    "unpublish": (403, 200, 403),
    "version list": (200, 200, 403),
    "verdict list": (200, 200, 403),
    "verdict add": (403, 403, 403),
    "source list": (200, 200, 200),
    "source add": (200, 200, 200),
    "source change": (200, 200, 200),
    "source delete": (403, 403, 200),
    "publisher add": (200, 200, 200),
    "user list": (403, 403, 403),
}


@pytest.mark.parametrize("view", sorted(MATRIX))
def test_each_role_gets_exactly_the_admin_views_it_needs(clients, view):
    report = make_report(claim="A draft under review.")
    live = make_report(claim="A live report.")
    publish_now(live)
    source = make_source()
    url = _urls(report, live, source)[view]
    editor, reviewer, curator = MATRIX[view]
    expected = {
        ANONYMOUS: LOGIN,
        READER: LOGIN,
        EDITOR: editor,
        REVIEWER: reviewer,
        CURATOR: curator,
        SUPERUSER: 200,
    }

    for role, client in clients.items():
        response = client.get(url)
        if expected[role] == LOGIN:
            assert response.status_code == 302, role
            assert response["Location"].startswith(reverse("admin:login")), role
        else:
            assert response.status_code == expected[role], (role, view)
        if response.status_code == 403:
            # Refused pages show no report or source data.
            content = response.content.decode()
            assert "A draft under review." not in content
            assert source.title not in content


@pytest.mark.parametrize("step", ["publish", "withdraw", "unpublish", "return_to_editor"])
def test_an_editor_posting_a_reviewer_step_is_refused_and_nothing_changes(clients, step):
    report = make_report()
    if step in {"withdraw", "unpublish"}:
        publish_now(report)
    else:
        workflow.submit(report, by=None)
    before = Report.objects.get(pk=report.pk).status
    url = reverse("admin:reports_report_transition", args=[report.pk, step])

    response = clients[EDITOR].post(url, {"comment": "x", "reason": "x"})

    assert response.status_code == 403
    assert Report.objects.get(pk=report.pk).status == before


def test_an_editor_cannot_use_the_bulk_publish_action(clients):
    report = make_report()
    workflow.submit(report, by=None)

    clients[EDITOR].post(
        reverse("admin:reports_report_changelist"),
        {"action": "publish_selected", "_selected_action": [report.pk]},
    )

    assert not PublishedVersion.objects.exists()


def test_a_reviewer_can_use_the_bulk_publish_action(clients):
    report = make_report()
    workflow.submit(report, by=None)

    clients[REVIEWER].post(
        reverse("admin:reports_report_changelist"),
        {"action": "publish_selected", "_selected_action": [report.pk]},
    )

    assert PublishedVersion.objects.live().filter(report=report).exists()
