"""The editorial workflow: every transition, its record, the four-eyes rule and scheduling."""

import datetime
import threading
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from reports import workflow
from reports.admin import workflow_forms
from reports.models import PublishedVersion, Report, Transition, Verdict
from tests.conftest import make_report, publish_now

pytestmark = pytest.mark.django_db

Status = Report.Status


def later(minutes=60):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def reload(report):
    return Report.objects.get(pk=report.pk)


# Submitting and returning


def test_submitting_a_draft_puts_it_in_review_and_records_who_and_when(writer):
    report = make_report(author=writer)
    before = timezone.now()

    record = workflow.submit(report, by=writer, comment="Ready for a look.")

    assert reload(report).status == Status.IN_REVIEW
    assert report.status == Status.IN_REVIEW  # the caller's instance follows
    assert (record.from_status, record.to_status) == (Status.DRAFT, Status.IN_REVIEW)
    assert record.by == writer
    assert record.comment == "Ready for a look."
    assert record.at >= before


def test_a_curator_cannot_submit_reports(curator, report):
    with pytest.raises(PermissionDenied):
        workflow.submit(report, by=curator)

    assert reload(report).status == Status.DRAFT
    assert not Transition.objects.exists()


def test_a_live_report_without_changes_cannot_be_submitted_again(report):
    publish_now(report)

    with pytest.raises(workflow.TransitionRefused, match="has not changed"):
        workflow.submit(report, by=None)


def test_returning_needs_a_comment_and_sends_the_report_back_to_draft(reviewer, writer):
    report = make_report(author=writer)
    workflow.submit(report, by=writer)

    with pytest.raises(workflow.TransitionRefused, match="needs a comment"):
        workflow.return_to_editor(report, by=reviewer, comment="  ")
    record = workflow.return_to_editor(report, by=reviewer, comment="Source 2 is a blog.")

    assert reload(report).status == Status.DRAFT
    assert (record.from_status, record.to_status, record.by) == (
        Status.IN_REVIEW,
        Status.DRAFT,
        reviewer,
    )
    assert record.comment == "Source 2 is a blog."


def test_an_editor_cannot_return_or_publish(writer, report):
    workflow.submit(report, by=writer)

    with pytest.raises(PermissionDenied):
        workflow.return_to_editor(report, by=writer, comment="No.")
    with pytest.raises(PermissionDenied):
        workflow.publish(report, by=writer)
    assert reload(report).status == Status.IN_REVIEW


def test_a_draft_cannot_be_published_without_review(reviewer, report):
    with pytest.raises(workflow.TransitionRefused, match="Only a report in review"):
        workflow.publish(report, by=reviewer)

    assert not PublishedVersion.objects.exists()


# Publishing and the four-eyes rule


def test_a_reviewer_publishes_a_report_in_review_and_the_step_is_recorded(writer, reviewer):
    report = make_report(author=writer, last_edited_by=writer)
    workflow.submit(report, by=writer)

    version = workflow.publish(report, by=reviewer)

    report = reload(report)
    assert report.status == Status.PUBLISHED
    assert report.is_live
    assert version.published_by == reviewer
    steps = list(report.transitions.order_by("at", "pk").values_list("to_status", "by__username"))
    assert steps == [(Status.IN_REVIEW, "writer"), (Status.PUBLISHED, "reviewer")]


@pytest.mark.parametrize("relation", ["author", "created_by"])
def test_four_eyes_rule_stops_a_reviewer_publishing_their_own_work(reviewer, relation):
    report = make_report(**{relation: reviewer})
    workflow.submit(report, by=reviewer)

    with pytest.raises(workflow.TransitionRefused, match="Four-eyes rule"):
        workflow.publish(report, by=reviewer)
    with pytest.raises(workflow.TransitionRefused, match="Four-eyes rule"):
        workflow.schedule(report, by=reviewer, at=later())

    assert reload(report).status == Status.IN_REVIEW
    assert not PublishedVersion.objects.exists()


def test_four_eyes_rule_lets_a_second_reviewer_publish(reviewer, second_reviewer):
    report = make_report(author=reviewer, last_edited_by=reviewer)
    workflow.submit(report, by=reviewer)

    workflow.publish(report, by=second_reviewer)

    assert reload(report).status == Status.PUBLISHED


def test_a_one_person_newsroom_can_turn_the_four_eyes_rule_off(settings, reviewer):
    settings.FACTUALLY_FOUR_EYES = False
    report = make_report(author=reviewer, last_edited_by=reviewer)
    workflow.submit(report, by=reviewer)

    workflow.publish(report, by=reviewer)

    assert reload(report).status == Status.PUBLISHED


def test_republishing_needs_a_change_note_and_its_kind(reviewer):
    report = make_report()
    publish_now(report)
    report.claim = "A sharper claim."
    report.save()
    workflow.submit(report, by=None)

    with pytest.raises(workflow.TransitionRefused, match="change note"):
        workflow.publish(report, by=reviewer)
    with pytest.raises(workflow.TransitionRefused, match="kind of change"):
        workflow.publish(report, by=reviewer, note="Sharper.", kind="rewrite")
    version = workflow.publish(report, by=reviewer, note="Sharper.", kind="clarification")

    assert (version.number, version.change_note, version.change_kind) == (
        2,
        "Sharper.",
        "clarification",
    )
    assert not version.verdict_changed


def test_a_correction_that_changes_the_verdict_is_marked(reviewer):
    report = make_report(verdict=Verdict.objects.get(slug="mostly-false"))
    publish_now(report)
    report.verdict = Verdict.objects.get(slug="false")
    report.save()
    workflow.submit(report, by=None)

    version = workflow.publish(report, by=reviewer, note="New evidence.", kind="correction")

    assert version.verdict_changed


def test_edits_to_a_live_report_stay_private_through_review(client, reviewer):
    report = make_report(claim="The live wording.")
    publish_now(report)
    report.claim = "The reviewed wording."
    report.save()
    workflow.submit(report, by=None)

    assert reload(report).has_unpublished_changes
    assert "The live wording." in client.get(f"/reports/{report.slug}/").content.decode()
    workflow.publish(report, by=reviewer, note="Reworded.", kind="update")
    assert "The reviewed wording." in client.get(f"/reports/{report.slug}/").content.decode()


# Withdrawing and unpublishing


def test_withdrawing_needs_a_reason_and_takes_the_report_off_the_site(reviewer, report):
    publish_now(report)

    with pytest.raises(workflow.TransitionRefused, match="reason"):
        workflow.withdraw(report, by=reviewer, reason="")
    workflow.withdraw(report, by=reviewer, reason="The quoted study was retracted.")

    report = reload(report)
    assert report.status == Status.WITHDRAWN
    assert not report.is_live
    assert report.withdrawal_reason == "The quoted study was retracted."
    assert report.withdrawn_at is not None
    assert not PublishedVersion.objects.live().exists()
    assert PublishedVersion.objects.filter(report=report).count() == 1  # history kept
    assert report.transitions.first().to_status == Status.WITHDRAWN


def test_an_editor_cannot_withdraw(writer, report):
    publish_now(report)

    with pytest.raises(PermissionDenied):
        workflow.withdraw(report, by=writer, reason="Oops.")
    assert reload(report).is_live


def test_unpublishing_turns_a_live_report_back_into_a_draft(reviewer, client, report):
    publish_now(report)

    workflow.unpublish(report, by=reviewer, comment="Published by mistake.")

    report = reload(report)
    assert report.status == Status.DRAFT
    assert not report.is_live
    assert not report.withdrawn_at
    assert client.get(f"/reports/{report.slug}/").status_code == 404


def test_a_withdrawn_report_can_go_through_review_and_be_published_again(reviewer, report):
    publish_now(report)
    workflow.withdraw(report, by=reviewer, reason="Under investigation.")

    workflow.submit(report, by=None)
    version = workflow.publish(report, by=reviewer, note="Reinstated.", kind="update")

    report = reload(report)
    assert version.number == 2
    assert report.is_live
    assert report.withdrawn_at is None


def test_available_steps_follow_role_and_state(writer, reviewer, curator, report):
    assert workflow.available(report, writer) == ["submit"]
    assert workflow.available(report, curator) == []
    workflow.submit(report, by=writer)
    assert workflow.available(report, writer) == []
    assert workflow.available(report, reviewer) == ["return_to_editor", "publish", "schedule"]
    workflow.publish(report, by=reviewer)
    assert workflow.available(report, reviewer) == ["withdraw", "unpublish"]


def test_one_table_says_what_each_step_needs_for_the_workflow_and_the_admin_forms():
    assert set(workflow.STEPS) == set(workflow_forms.FORMS) == set(workflow_forms.LABELS)
    assert all(callable(getattr(workflow, name)) for name in workflow.STEPS)
    assert {
        name: step.permission for name, step in workflow.STEPS.items()
    } == workflow_forms.PERMISSIONS


# Scheduled publishing


def test_a_scheduled_report_goes_live_only_when_due(reviewer, client, report):
    workflow.submit(report, by=None)
    go_live = later(30)
    workflow.schedule(report, by=reviewer, at=go_live)

    assert reload(report).status == Status.SCHEDULED
    assert workflow.publish_due(now=go_live - datetime.timedelta(seconds=1)) == []
    assert client.get(f"/reports/{report.slug}/").status_code == 404

    outcomes = workflow.publish_due(now=go_live)

    assert [r.pk for r, _ in outcomes] == [report.pk]
    report = reload(report)
    assert report.status == Status.PUBLISHED
    assert report.publish_at is None
    assert PublishedVersion.objects.live().get(report=report).published_by == reviewer
    assert client.get(f"/reports/{report.slug}/").status_code == 200


def test_scheduling_in_the_past_is_refused(reviewer, report):
    workflow.submit(report, by=None)

    with pytest.raises(workflow.TransitionRefused, match="passed"):
        workflow.schedule(report, by=reviewer, at=timezone.now() - datetime.timedelta(minutes=1))


def test_a_scheduled_report_edited_after_approval_goes_back_to_review(reviewer, report):
    workflow.submit(report, by=None)
    go_live = later()
    workflow.schedule(report, by=reviewer, at=go_live)
    report.claim = "Changed after the reviewer approved it."
    report.save()

    outcomes = workflow.publish_due(now=go_live)

    assert "edited after it was approved" in outcomes[0][1]
    report = reload(report)
    assert report.status == Status.IN_REVIEW
    assert not PublishedVersion.objects.exists()
    assert "edited after it was approved" in report.transitions.first().comment


def test_returning_a_scheduled_report_cancels_the_schedule(reviewer, report):
    workflow.submit(report, by=None)
    workflow.schedule(report, by=reviewer, at=later())

    workflow.return_to_editor(report, by=reviewer, comment="Hold it: new facts.")

    report = reload(report)
    assert report.status == Status.DRAFT
    assert report.publish_at is None
    assert workflow.publish_due(now=later(120)) == []


def test_publish_scheduled_command_publishes_due_reports_and_says_so(reviewer, report):
    workflow.submit(report, by=None)
    workflow.schedule(report, by=reviewer, at=later(1))
    Report.objects.filter(pk=report.pk).update(publish_at=timezone.now())
    out = StringIO()

    call_command("publish_scheduled", stdout=out)

    assert f"{report.slug}: Published version 1." in out.getvalue()
    assert "1 published, 0 sent back to review." in out.getvalue()
    call_command("publish_scheduled", stdout=StringIO())
    assert PublishedVersion.objects.filter(report=report).count() == 1


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks (SKIP LOCKED) are what make concurrent runs safe; SQLite has none.",
)


def _schedule_due(count, reviewer):
    reports = [make_report() for _ in range(count)]
    for report in reports:
        workflow.submit(report, by=None)
        workflow.schedule(report, by=reviewer, at=later(1))
    Report.objects.update(publish_at=timezone.now())
    return reports


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_publish_each_due_report_exactly_once(reviewer):
    reports = _schedule_due(8, reviewer)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            workflow.publish_due()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    for report in reports:
        assert PublishedVersion.objects.filter(report=report).count() == 1
        assert report.transitions.filter(to_status=Status.PUBLISHED).count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_skips_a_report_another_run_holds_instead_of_waiting(reviewer):
    held, free = _schedule_due(2, reviewer)
    locked = threading.Event()
    release = threading.Event()

    def hold():
        with transaction.atomic():
            Report.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(timeout=30)
        connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(timeout=10)
    try:
        outcomes = workflow.publish_due()
    finally:
        release.set()
        holder.join(timeout=30)

    assert [report.pk for report, _ in outcomes] == [free.pk]
    assert reload(held).status == Status.SCHEDULED


# No single bad report stops the others


def _clash_with_a_live_address(report):
    """Give `report` the address another report's live page was published under."""
    live = make_report()
    publish_now(live)
    Report.objects.filter(pk=live.pk).update(slug=f"{live.slug}-renamed")
    Report.objects.filter(pk=report.pk).update(slug=live.slug)
    report.slug = live.slug
    return live


def test_one_clashing_scheduled_report_does_not_stop_the_next(reviewer):
    first, second = _schedule_due(2, reviewer)
    Report.objects.filter(pk=first.pk).update(publish_at=timezone.now() - datetime.timedelta(1))
    _clash_with_a_live_address(first)
    out = StringIO()

    call_command("publish_scheduled", stdout=out)

    assert reload(second).status == Status.PUBLISHED
    assert reload(first).status == Status.IN_REVIEW
    assert "is taken by the live report" in first.transitions.first().comment
    assert "1 published, 1 sent back to review." in out.getvalue()


def test_a_scheduled_report_that_fails_to_publish_goes_back_to_review_and_others_go_live(
    reviewer, monkeypatch, caplog
):
    first, second = _schedule_due(2, reviewer)
    Report.objects.filter(pk=first.pk).update(publish_at=timezone.now() - datetime.timedelta(1))
    freeze = workflow.publishing.freeze

    def failing_for_the_first(report):
        if report.pk == first.pk:
            # What a live address taken between the check and the insert raises.
            raise IntegrityError('duplicate key value violates "live_slug_unique"')
        return freeze(report)

    monkeypatch.setattr(workflow.publishing, "freeze", failing_for_the_first)

    outcomes = {r.pk: outcome for r, outcome in workflow.publish_due()}

    assert reload(second).status == Status.PUBLISHED
    assert reload(first).status == Status.IN_REVIEW
    assert not first.versions.exists()
    assert "live_slug_unique" in outcomes[first.pk]
    assert "live_slug_unique" in first.transitions.first().comment
    assert "Scheduled publication of report" in caplog.text
