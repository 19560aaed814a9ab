"""Four eyes cannot be laundered: whoever wrote a report's content may not publish it.

(And a slug cannot take another report's live address: a clear refusal, never a 500.)

Each attack is made as a reviewer would make it, with real accounts over HTTP through the
admin: writing or editing the report, then having an editor save it unchanged or naming
an editor as its author, before publishing or scheduling it themselves.
"""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports import roles, workflow
from reports.models import PublishedVersion, Report, Transition, Verdict
from tests.conftest import (
    change_form_data,
    make_report,
    make_source,
    make_user,
    publish_now,
    shown_approval,
)

pytestmark = pytest.mark.django_db

Status = Report.Status


@pytest.fixture
def newsroom():
    """An editor, the reviewer who attacks, and a reviewer who never touches the report."""
    return (
        make_user("ed", roles.EDITOR),
        make_user("rita", roles.REVIEWER),
        make_user("other-reviewer", roles.REVIEWER),
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(report: Report) -> dict:
    # As the page shows it now, not as this test's copy of the report remembers it.
    return change_form_data(Report.objects.get(pk=report.pk))


def save_form(client: Client, report: Report, **changes) -> None:
    data = form_data(report) | changes
    response = client.post(reverse("admin:reports_report_change", args=[report.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors


def step(client: Client, report: Report, name: str, **data):
    url = reverse("admin:reports_report_transition", args=[report.pk, name])
    if name in {"publish", "schedule"}:
        # As a reviewer does: open the page, then post what it showed.
        data = shown_approval(client.get(url)) | data
    return client.post(url, data)


def submit(client: Client, report: Report) -> None:
    assert step(client, report, "submit", comment="Ready.").status_code == 302
    assert Report.objects.get(pk=report.pk).status == Status.IN_REVIEW


def try_publish(client: Client, report: Report):
    return step(client, report, "publish")


def refused(response, report: Report) -> bool:
    return (
        response.status_code == 200
        and "Four-eyes rule" in response.content.decode()
        and not PublishedVersion.objects.filter(report=report).exists()
    )


def in_the_future(minutes=60) -> str:
    at = timezone.localtime(timezone.now() + datetime.timedelta(minutes=minutes))
    return at.strftime("%Y-%m-%dT%H:%M")


def test_a_reviewer_who_wrote_a_report_and_named_an_editor_its_author_cannot_publish(newsroom):
    editor, rita, _ = newsroom
    rita_client = logged_in(rita)
    source = make_source()
    response = rita_client.post(
        reverse("admin:reports_report_add"),
        {
            "claim": "Rita's own claim.",
            "slug": "ritas-own-claim",
            "verdict": Verdict.objects.get(slug="false").pk,
            "checked_on": "2026-01-27",
            "author": editor.pk,
            "summary": "Summary [1].",
            "conclusion_heading": "Conclusion",
            "conclusion": "Done [1].",
            "sections-TOTAL_FORMS": "1",
            "sections-INITIAL_FORMS": "0",
            "sections-0-position": "1",
            "sections-0-heading": "First",
            "sections-0-body": "One [1].",
            "references-TOTAL_FORMS": "1",
            "references-INITIAL_FORMS": "0",
            "references-0-number": "1",
            "references-0-source": source.pk,
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    report = Report.objects.get(slug="ritas-own-claim")
    assert report.author == editor
    save_form(logged_in(editor), report)  # the editor saves it unchanged: the laundering
    submit(rita_client, report)

    assert refused(try_publish(rita_client, report), report)


def test_a_reviewer_who_edited_a_section_cannot_publish_even_after_the_editor_saves(newsroom):
    editor, rita, _ = newsroom
    report = make_report(author=editor, last_edited_by=editor)
    rita_client = logged_in(rita)
    save_form(rita_client, report, **{"sections-0-body": "Rita's rewrite [1] [2]."})
    save_form(logged_in(editor), report)  # unchanged: writing nothing
    submit(logged_in(editor), report)

    assert refused(try_publish(rita_client, report), report)
    page = rita_client.get(reverse("admin:reports_report_change", args=[report.pk]))
    assert "transition-publish" not in page.content.decode()  # no button that would fail
    assert "rita wrote or changed it since it last went live" in page.content.decode()


def test_a_reviewer_who_only_changed_the_author_field_cannot_publish(newsroom):
    editor, rita, _ = newsroom
    second_editor = make_user("ed2", roles.EDITOR)
    report = make_report(author=editor, last_edited_by=editor)
    save_form(logged_in(rita), report, author=second_editor.pk)
    save_form(logged_in(second_editor), report)
    submit(logged_in(second_editor), report)

    assert refused(try_publish(logged_in(rita), report), report)


def test_a_reviewer_who_never_touched_the_report_publishes_it(newsroom):
    editor, rita, other = newsroom
    report = make_report(author=editor, last_edited_by=editor)
    save_form(logged_in(rita), report, **{"sections-0-body": "Rita's rewrite [1] [2]."})
    save_form(logged_in(editor), report)
    submit(logged_in(editor), report)

    response = try_publish(logged_in(other), report)

    assert response.status_code == 302
    assert PublishedVersion.objects.get(report=report).published_by == other


def test_a_republished_report_counts_only_changes_since_it_last_went_live(newsroom):
    editor, rita, other = newsroom
    report = make_report(author=editor, last_edited_by=editor)
    save_form(logged_in(rita), report, **{"sections-0-body": "Rita's rewrite [1] [2]."})
    submit(logged_in(editor), report)
    assert try_publish(logged_in(other), report).status_code == 302
    save_form(logged_in(editor), report, summary="An update [1] [2].")
    submit(logged_in(editor), report)

    response = step(logged_in(rita), report, "publish", note="Updated.", kind="update")

    assert response.status_code == 302
    assert PublishedVersion.objects.filter(report=report).count() == 2


def test_a_reviewer_who_edited_cannot_schedule_it(newsroom):
    editor, rita, _ = newsroom
    report = make_report(author=editor, last_edited_by=editor)
    rita_client = logged_in(rita)
    save_form(rita_client, report, summary="Rita's summary [1] [2].")
    save_form(logged_in(editor), report)
    submit(logged_in(editor), report)

    response = step(rita_client, report, "schedule", at=in_the_future())

    assert response.status_code == 200
    assert "Four-eyes rule" in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == Status.IN_REVIEW


def test_publish_report_by_a_reviewer_who_edited_is_refused(newsroom):
    editor, rita, _ = newsroom
    report = make_report(author=editor, last_edited_by=editor)
    save_form(logged_in(rita), report, summary="Rita's summary [1] [2].")
    save_form(logged_in(editor), report)
    submit(logged_in(editor), report)

    with pytest.raises(CommandError, match="Four-eyes rule"):
        call_command("publish_report", report.slug, by="rita", stdout=StringIO())
    assert not PublishedVersion.objects.filter(report=report).exists()


def test_a_report_scheduled_by_a_reviewer_who_wrote_it_does_not_go_live(newsroom):
    editor, rita, _ = newsroom
    report = make_report(author=editor, last_edited_by=editor)
    save_form(logged_in(rita), report, summary="Rita's summary [1] [2].")
    save_form(logged_in(editor), report)
    submit(logged_in(editor), report)
    # Approved by Rita under the old rule (before this upgrade), and now due.
    now = timezone.now()
    Transition.objects.create(
        report=report, from_status=Status.IN_REVIEW, to_status=Status.SCHEDULED, by=rita, at=now
    )
    Report.objects.filter(pk=report.pk).update(
        status=Status.SCHEDULED, publish_at=now, scheduled_by=rita
    )
    out = StringIO()

    call_command("publish_scheduled", stdout=out)

    report = Report.objects.get(pk=report.pk)
    assert report.status == Status.IN_REVIEW
    assert not PublishedVersion.objects.filter(report=report).exists()
    assert "Four-eyes rule: rita" in report.transitions.first().comment
    assert "0 published, 1 sent back to review." in out.getvalue()


def test_scheduling_and_then_editing_keeps_the_report_from_going_live(newsroom):
    editor, rita, _ = newsroom
    report = make_report(author=editor, last_edited_by=editor, questions=1)
    submit(logged_in(editor), report)
    rita_client = logged_in(rita)
    assert step(rita_client, report, "schedule", at=in_the_future(1)).status_code == 302
    question = report.questions.get()
    # Rita changes the scheduled report's content: its question now links to a new draft.
    rita_client.post(reverse("admin:reports_report_draft_question", args=[report.pk, question.pk]))
    assert Report.objects.filter(claim=question.question).exists()

    outcomes = workflow.publish_due(now=timezone.now() + datetime.timedelta(minutes=5))

    assert [r.pk for r, _ in outcomes] == [report.pk]
    assert Report.objects.get(pk=report.pk).status == Status.IN_REVIEW
    assert "Four-eyes rule: rita" in outcomes[0][1]


# A live address is never taken twice: a clear refusal, never a server error.


def _clash_with_a_live_address(report):
    """Give `report` the address another report's live page was published under."""
    live = make_report()
    publish_now(live)
    Report.objects.filter(pk=live.pk).update(slug=f"{live.slug}-renamed")
    Report.objects.filter(pk=report.pk).update(slug=live.slug)
    report.slug = live.slug
    return live


def test_a_slug_taken_by_another_live_page_is_refused_in_the_form(newsroom):
    _, reviewer, _ = newsroom
    live = make_report()
    publish_now(live)
    Report.objects.filter(pk=live.pk).update(slug=f"{live.slug}-renamed")
    report = make_report()

    response = logged_in(reviewer).post(
        reverse("admin:reports_report_change", args=[report.pk]),
        form_data(report) | {"slug": live.slug},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "is taken by the live report" in errors["slug"][0]
    assert Report.objects.get(pk=report.pk).slug != live.slug


def test_publishing_onto_another_live_address_lists_a_problem_not_a_crash(newsroom):
    _, reviewer, _ = newsroom
    report = make_report()
    _clash_with_a_live_address(report)
    workflow.submit(report, by=None)

    response = logged_in(reviewer).post(
        reverse("admin:reports_report_transition", args=[report.pk, "publish"])
    )

    assert response.status_code == 200
    assert "is taken by the live report" in response.content.decode()
    assert not report.versions.exists()
    with pytest.raises(workflow.PublishRefused, match="choose another slug"):
        workflow.publish(report, by=reviewer)
