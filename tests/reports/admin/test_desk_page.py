"""The report editor as a page: reading order, the workflow header, the live-with-changes
banner and its diff page, admin-only fields, and the newsroom's name on the admin."""

import pytest
from django.test import Client
from django.urls import reverse

from reports import roles
from tests.conftest import make_report, make_topic, make_user, publish_now
from tests.reports.admin.test_admin import change_url, page_text

pytestmark = pytest.mark.django_db


def changes_url(report):
    return reverse("admin:reports_report_changes", args=[report.pk])


@pytest.fixture
def newsroom_editor_client(client):
    client.force_login(make_user("ana", roles.EDITOR))
    return client


def test_the_editor_follows_the_reading_order_of_the_published_page(editor_client):
    report = make_report()
    make_topic()  # a checkbox to find

    content = editor_client.get(change_url(report)).content.decode()

    marks = [
        'name="claim"',
        'name="verdict"',
        'name="checked_on"',
        'name="claimant"',
        'name="summary"',
        'name="sections-0-heading"',
        'name="conclusion_heading"',
        'name="conclusion"',
        'name="questions-0-question"',
        'name="references-0-number"',
        'name="topics"',
        'name="slug"',
    ]
    places = [content.index(mark) for mark in marks]
    assert places == sorted(places), dict(zip(marks, places, strict=True))
    # No block of read-only workflow fields any more: the header says it.
    assert "field-published_at" not in content
    assert "field-withdrawal_reason" not in content


def test_every_field_of_a_reference_or_question_row_is_labelled_with_its_row(editor_client):
    report = make_report(references=2, questions=1)
    make_topic(name="Health")

    content = editor_client.get(change_url(report)).content.decode()

    assert '<label for="id_references-1-source"' in content
    for label in ["Reference 2: Source", "Reference 2: Pinpoint", "Follow-up question 1: Question"]:
        assert f"{label}</label>" in content
    # The row added by "Add another" says it is new; the JavaScript numbers its ids.
    assert '<label for="id_references-__prefix__-number"' in content
    assert "New reference: Number</label>" in content
    # Topics: checkboxes under a legend, not the two-list chooser whose icons axe flags.
    assert 'type="checkbox" name="topics"' in content
    assert "<legend" in content[content.index('class="form-row field-topics') :]


def test_claim_details_are_collapsed_while_empty_and_open_once_filled(editor_client):
    empty = make_report()
    filled = make_report(claimant="The mayor")

    def claim_details(report):
        content = editor_client.get(change_url(report)).content.decode()
        heading = content.index(">Claim details<")
        return content[content.rindex("<fieldset", 0, heading) : heading]

    assert "<details>" in claim_details(empty)
    assert "<details>" not in claim_details(filled)


def test_the_demo_flag_is_shown_to_superusers_only(editor, newsroom_editor_client):
    report = make_report(is_demo=True)
    superuser = Client()
    superuser.force_login(editor)

    assert 'name="is_demo"' in superuser.get(change_url(report)).content.decode()
    editor_page = newsroom_editor_client.get(change_url(report)).content.decode()
    assert 'name="is_demo"' not in editor_page
    assert "Demo content" not in editor_page


def test_an_editor_saving_the_form_keeps_the_demo_flag_they_cannot_see(newsroom_editor_client):
    from tests.conftest import change_form_data

    report = make_report(is_demo=True)
    data = change_form_data(report) | {"summary": "Edited [1] [2]."}

    response = newsroom_editor_client.post(change_url(report), data)

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.summary == "Edited [1] [2]."
    assert report.is_demo is True


def test_the_header_of_a_draft_says_its_status_and_who_edited_it_last(editor_client, editor):
    report = make_report(last_edited_by=editor)

    text = page_text(editor_client.get(change_url(report)))

    assert "Status Draft" in text
    assert "Last edited by editor," in text
    assert "Readers see" not in text
    assert "changes readers do not see yet" not in text


def test_a_live_report_without_edits_says_which_version_is_live(editor_client):
    report = make_report()
    publish_now(report)

    response = editor_client.get(change_url(report))

    text = page_text(response)
    assert "Status Live (version 1)" in text
    assert "changes readers do not see yet" not in text
    assert f'<a href="/reports/{report.slug}/">the public page</a>' in response.content.decode()
    assert "Passes every publish check" in text
    assert "Ready to publish" not in text


def test_a_live_report_with_edits_says_so_with_a_banner_linking_to_the_diff(editor_client):
    report = make_report()
    publish_now(report)
    report.summary = "A new summary readers do not see [1] [2]."
    report.save()

    response = editor_client.get(change_url(report))

    text = page_text(response)
    assert "Status Live (version 1) — with changes readers do not see yet" in text
    assert "Published" not in text.split("Status", 1)[1].split("Last edited", 1)[0]
    assert "Readers see version 1: this working copy has changes they do not see yet" in text
    assert f'<a href="{changes_url(report)}">See what changed</a>' in response.content.decode()
    assert "Ready to publish" not in text


def test_the_diff_page_shows_what_readers_do_not_see_yet(editor_client):
    report = make_report()
    publish_now(report)
    report.summary = "A new summary readers do not see [1] [2]."
    report.save()

    response = editor_client.get(changes_url(report))

    assert response.status_code == 200
    text = page_text(response)
    assert "Changes since the live version (version 1)" in text
    assert "Executive summary: changed" in text
    assert "readers do not see" in text
    assert "Publish" not in text.split("Changes since", 1)[1]  # read-only: no step offered


def test_the_diff_page_of_a_report_that_is_not_live_is_not_found(editor_client):
    assert editor_client.get(changes_url(make_report())).status_code == 404


def test_the_checklist_says_ready_to_publish_only_for_a_report_in_review(editor_client):
    from reports import workflow

    report = make_report()
    workflow.submit(report, by=None)

    assert "Ready to publish" in page_text(editor_client.get(change_url(report)))


def test_the_admin_is_the_factually_newsroom_with_new_and_import_buttons(newsroom_editor_client):
    response = newsroom_editor_client.get(reverse("admin:index"))

    content = response.content.decode()
    assert "<title>Newsroom | Factually newsroom</title>" in content
    assert "Factually newsroom" in page_text(response)
    assert "Django administration" not in content
    assert f'href="{reverse("admin:reports_report_add")}">New fact-check</a>' in content
    assert f'href="{reverse("admin:reports_report_import_text")}">Import from text</a>' in content


def test_the_dashboard_offers_no_new_fact_check_to_those_who_may_not_add_reports(client):
    client.force_login(make_user("cy", roles.SOURCE_CURATOR))

    content = client.get(reverse("admin:index")).content.decode()

    assert "New fact-check" not in content
    assert "Import from text" not in content
