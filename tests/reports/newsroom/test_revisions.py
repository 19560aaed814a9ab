"""Revisions: every admin save keeps the whole report, and an old text can be restored."""

import pytest
from django.urls import reverse
from reversion.models import Version

from reports.models import PublishedVersion, Report
from reports.newsroom import revisions
from tests.conftest import change_form_data, make_report, publish_now

pytestmark = pytest.mark.django_db


def change_url(report):
    return reverse("admin:reports_report_change", args=[report.pk])


def save_through_admin(client, report, **changes):
    report.refresh_from_db()
    response = client.post(change_url(report), dict(change_form_data(report), **changes))
    assert response.status_code == 302, response.content.decode()[:2000]


def report_versions(report):
    return Version.objects.get_for_object(report).order_by("pk")


def test_each_admin_save_keeps_a_revision_with_sections_references_and_questions(
    editor_client,
):
    report = make_report()

    save_through_admin(editor_client, report, claim="First wording.")
    save_through_admin(editor_client, report, claim="Second wording.")

    saved = report_versions(report)
    assert saved.count() == 2
    snapshot = revisions.snapshot(saved[0])
    assert snapshot["report"]["claim"] == "First wording."
    assert [s["heading"] for s in snapshot["sections"]] == ["Heading 1", "Heading 2"]
    assert [r["number"] for r in snapshot["references"]] == [1, 2]
    assert snapshot["questions"][0]["question"] == "What about question 1?"


def test_history_lists_revisions_and_a_revision_page_shows_the_old_text(editor_client):
    report = make_report()
    save_through_admin(editor_client, report, claim="The old wording.")
    save_through_admin(editor_client, report, claim="The new wording.")
    first = report_versions(report)[0]

    history = editor_client.get(reverse("admin:reports_report_history", args=[report.pk]))
    page = editor_client.get(reverse("admin:reports_report_revision", args=[report.pk, first.pk]))

    assert history.status_code == 200
    assert page.status_code == 200
    assert "The old wording." in page.content.decode()
    assert "Restore this revision" in page.content.decode()


def test_restoring_brings_back_the_old_text_and_parts_but_not_the_old_state(editor_client):
    report = make_report(claim="Published wording.")
    save_through_admin(editor_client, report)  # revision 1: two sections
    publish_now(report)
    data = change_form_data(Report.objects.get(pk=report.pk))
    data.update(
        {
            "claim": "Rewritten wording.",
            "sections-0-DELETE": "on",
            "sections-TOTAL_FORMS": "3",
            "sections-2-position": "3",
            "sections-2-heading": "A new section",
            "sections-2-body": "New text [1] [2].",
        }
    )
    assert editor_client.post(change_url(report), data).status_code == 302
    first = report_versions(report)[0]

    response = editor_client.post(
        reverse("admin:reports_report_revision", args=[report.pk, first.pk]), follow=True
    )

    assert "Restored the text saved on" in response.content.decode()
    report = Report.objects.get(pk=report.pk)
    assert report.claim == "Published wording."
    assert [s.heading for s in report.sections.all()] == ["Heading 1", "Heading 2"]
    assert report.status == Report.Status.PUBLISHED
    assert report.is_live
    assert report.has_unpublished_changes  # restoring is an edit: it goes through review
    assert PublishedVersion.objects.live().get(report=report).claim == "Published wording."
    assert report_versions(report).count() == 3  # the restore is a revision too


def test_restoring_does_not_undo_a_withdrawal(editor_client, editor):
    from reports import workflow

    report = make_report()
    save_through_admin(editor_client, report)
    publish_now(report)
    workflow.withdraw(report, by=editor, reason="Retracted source.")

    revisions.restore(report, report_versions(report)[0], by=editor)

    report = Report.objects.get(pk=report.pk)
    assert report.status == Report.Status.WITHDRAWN
    assert report.withdrawal_reason == "Retracted source."
    assert not report.is_live


def test_a_form_opened_before_a_restore_cannot_overwrite_it(editor_client, editor):
    report = make_report(claim="Wording A.")
    save_through_admin(editor_client, report)
    stale_form = change_form_data(Report.objects.get(pk=report.pk))
    save_through_admin(editor_client, report, claim="Wording B.")
    revisions.restore(report, report_versions(report)[0], by=editor)

    response = editor_client.post(change_url(report), dict(stale_form, claim="Wording C."))

    assert response.status_code == 200
    assert Report.objects.get(pk=report.pk).claim == "Wording A."


def test_staff_who_may_only_view_reports_cannot_restore(client, django_user_model, editor_client):
    from django.contrib.auth.models import Permission

    report = make_report(claim="Kept.")
    save_through_admin(editor_client, report)
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_report"))
    client.force_login(viewer)
    url = reverse("admin:reports_report_revision", args=[report.pk, report_versions(report)[0].pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


def test_a_revision_of_another_report_cannot_be_restored_here(editor_client, editor):
    one, other = make_report(), make_report()
    save_through_admin(editor_client, other)

    with pytest.raises(revisions.RestoreRefused):
        revisions.restore(one, report_versions(other)[0], by=editor)
