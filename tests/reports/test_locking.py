"""No lost work: a form opened before someone else's save is refused, with their input kept."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from reports.models import Report
from tests.conftest import change_form_data, make_report, make_user

pytestmark = pytest.mark.django_db


def change_url(report):
    return reverse("admin:reports_report_change", args=[report.pk])


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(db):
    return make_user("alice", is_superuser=True)


@pytest.fixture
def bob(db):
    return make_user("bob", is_superuser=True)


def test_the_second_of_two_edits_from_the_same_version_is_refused(alice, bob):
    report = make_report(claim="Original claim.")
    opened = change_form_data(report)  # both open the form at the same version

    first = dict(opened, claim="Alice's claim.")
    second = dict(opened, claim="Bob's claim.")
    assert client_for(alice).post(change_url(report), first).status_code == 302
    response = client_for(bob).post(change_url(report), second)

    assert response.status_code == 200
    content = response.content.decode()
    assert "alice changed this report on" in content
    assert "Bob&#x27;s claim." in content  # Bob's input is still in the form
    assert Report.objects.get(pk=report.pk).claim == "Alice's claim."


def test_an_edit_only_to_a_section_is_refused_too(alice, bob):
    report = make_report()
    opened = change_form_data(report)
    assert client_for(alice).post(change_url(report), dict(opened, claim="Changed.")).status_code

    bobs_edit = dict(opened, **{"sections-0-body": "Bob rewrote this [1] [2]."})
    response = client_for(bob).post(change_url(report), bobs_edit)

    assert response.status_code == 200
    assert "Bob rewrote this" in response.content.decode()
    assert report.sections.get(position=1).body == "Body of section 1 [1] [2]."


def test_a_save_from_the_latest_version_goes_through_and_moves_the_version_on(alice):
    report = make_report()
    before = report.edit_version

    response = client_for(alice).post(change_url(report), dict(change_form_data(report)))

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.edit_version == before + 1
    assert report.last_edited_by == alice


def test_a_form_posted_without_its_version_is_refused(alice):
    report = make_report(claim="Untouched.")
    data = change_form_data(report)
    del data["seen_version"]

    response = client_for(alice).post(change_url(report), dict(data, claim="Blind overwrite."))

    assert response.status_code == 200
    assert Report.objects.get(pk=report.pk).claim == "Untouched."


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Two saves at the same instant need row locks; SQLite serialises whole writes.",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_saves_at_the_same_moment_let_exactly_one_through(alice, bob):
    report = make_report(claim="Original claim.")
    opened = change_form_data(report)
    barrier = threading.Barrier(2)
    statuses = {}

    def save(user, claim):
        try:
            client = client_for(user)
            barrier.wait()
            statuses[user.username] = client.post(
                change_url(report), dict(opened, claim=claim)
            ).status_code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(alice, "Alice's claim.")),
        threading.Thread(target=save, args=(bob, "Bob's claim.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses.values()) == [200, 302]
    winner = next(name for name, status in statuses.items() if status == 302)
    assert Report.objects.get(pk=report.pk).claim.startswith(winner.capitalize())
