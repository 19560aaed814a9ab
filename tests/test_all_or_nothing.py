"""Publishing, merging sources and every import happen whole or not at all.

Each test makes a function the operation calls late fail (after it has written rows),
then checks that the database is exactly as before: every row of every table, compared
field by field. `Injection.changed` proves the failure came halfway, with rows written.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import reversion
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.utils import timezone

from reports import workflow
from reports.content import ReportContent
from reports.formats import archive, archive_import, importing, json_import, jsonformat
from reports.formats.textformat import export_text
from reports.models import ChangeKind, Reference, Report
from sources import interchange, merging
from sources.models import Publisher, Source, SourceMerge
from tests.conftest import make_publisher, make_report, make_source, make_topic, publish_now

pytestmark = pytest.mark.django_db

SOURCE_FIXTURES = Path(__file__).parent / "sources" / "fixtures"


class Injected(Exception):
    """The failure a test injects halfway through an operation."""


def database_state() -> dict[str, list[dict]]:
    """Every row of every table, field by field: what "exactly as before" compares."""
    return {
        model._meta.db_table: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


@dataclass
class Injection:
    before: dict
    reached: bool = False
    changed: bool = False  # whether rows had been written when it failed


def fail_when_called(monkeypatch, target, name: str, *, after: int = 0) -> Injection:
    """Make `target.name` raise `Injected` from its call number `after + 1` on."""
    injection = Injection(before=database_state())
    original = getattr(target, name)
    calls = 0

    def failing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls <= after:
            return original(*args, **kwargs)
        injection.reached = True
        injection.changed = database_state() != injection.before
        raise Injected(f"injected failure in {name}")

    monkeypatch.setattr(target, name, failing)
    return injection


def assert_nothing_saved(injection: Injection) -> None:
    assert injection.reached, "the injected failure was never reached"
    assert injection.changed, "the operation had written nothing yet: not halfway"
    assert database_state() == injection.before


# Publishing


def test_a_first_publication_that_fails_halfway_leaves_no_trace(monkeypatch, writer, reviewer):
    report = make_report(author=writer)
    report.topics.add(make_topic())
    workflow.submit(report, by=writer)
    # The report's move to "published" is its last step, after the version is written.
    injection = fail_when_called(monkeypatch, workflow, "_move")

    with pytest.raises(Injected):
        workflow.publish(report, by=reviewer)

    assert_nothing_saved(injection)
    report.refresh_from_db()
    assert report.status == Report.Status.IN_REVIEW
    assert not report.versions.exists()


def test_a_republication_that_fails_halfway_keeps_the_old_version_live(
    monkeypatch, writer, reviewer
):
    report = make_report(author=writer)
    first = publish_now(report, by=reviewer)
    report.summary += " Corrected."
    report.save()
    workflow.submit(report, by=writer)
    injection = fail_when_called(monkeypatch, workflow, "_move")

    with pytest.raises(Injected):
        workflow.publish(report, by=reviewer, note="A date was wrong.", kind=ChangeKind.CORRECTION)

    assert_nothing_saved(injection)
    first.refresh_from_db()
    assert first.is_live
    assert report.versions.count() == 1


def test_a_scheduled_publication_that_fails_halfway_is_undone_and_sent_back_to_review(
    monkeypatch, reviewer
):
    report = make_report()
    workflow.submit(report, by=None)
    at = timezone.now() + datetime.timedelta(hours=1)
    workflow.schedule(report, by=reviewer, at=at)
    # The last step of going live, after the version and the transition are written.
    injection = fail_when_called(monkeypatch, workflow.caching, "publication_changed")

    outcomes = workflow.publish_due(now=at + datetime.timedelta(minutes=1))

    assert injection.reached
    assert injection.changed
    report.refresh_from_db()
    assert report.status == Report.Status.IN_REVIEW
    assert not report.versions.exists()
    assert "injected failure" in outcomes[0][1]
    assert [t.to_status for t in report.transitions.all()][:2] == [
        Report.Status.IN_REVIEW,
        Report.Status.SCHEDULED,
    ]


# Merging sources


def test_a_merge_that_fails_halfway_leaves_both_sources_and_every_citation(monkeypatch, curator):
    kept, duplicate = make_source(), make_source(doi="10.1000/dup", notes="Longer notes here.")
    older = make_source()
    merging.merge(duplicate, older, by=curator)  # the duplicate's own merge record moves too
    for source in (kept, duplicate):
        report = make_report(references=1, questions=0)
        report.references.update(source=source)
        publish_now(report)
    both = make_report(references=2, questions=0)
    Reference.objects.filter(report=both, number=1).update(source=kept)
    Reference.objects.filter(report=both, number=2).update(source=duplicate)
    publish_now(both)
    # The admin's history entry is written last, once everything else is done.
    injection = fail_when_called(monkeypatch, LogEntry.objects, "log_actions")

    with pytest.raises(Injected):
        merging.merge(kept, duplicate, by=curator)

    assert_nothing_saved(injection)
    assert Source.objects.filter(pk=duplicate.pk).exists()
    assert SourceMerge.objects.get(merged_id=older.pk).kept_id == duplicate.pk


# Imports


def test_a_text_import_that_fails_halfway_leaves_no_draft(monkeypatch, editor):
    text = export_text(ReportContent.from_report(make_report(references=3, questions=2)))
    # The revision's comment is set last, after the report and its parts are saved.
    injection = fail_when_called(monkeypatch, reversion, "set_comment")

    with pytest.raises(Injected):
        importing.import_text(text, filename="claim.txt", author=editor)

    assert_nothing_saved(injection)


def test_a_json_import_that_fails_halfway_creates_no_report_source_publisher_or_topic(
    monkeypatch, editor
):
    report = make_report(references=2)
    report.topics.add(make_topic())
    document = jsonformat.export_document(publish_now(report))
    document["slug"] = "an-imported-copy"
    document["topics"].append({"slug": "brand-new-topic", "name": "Brand new topic"})
    for number, reference in enumerate(document["references"], start=1):
        reference["source"]["url"] = f"https://elsewhere.example/new/{number}"
        reference["source"]["publisher"] = {"name": "Elsewhere", "domain": "elsewhere.example"}
    # References are saved after the sources, publisher, topic, report, sections, questions.
    injection = fail_when_called(monkeypatch, Reference.objects, "bulk_create")

    with pytest.raises(Injected):
        json_import.import_json(json.dumps(document), filename="copy.json", author=editor)

    assert_nothing_saved(injection)


def test_a_source_import_that_fails_halfway_saves_none_of_the_file(curator):
    make_publisher(name="The Guardian", domain="theguardian.com")
    text = (SOURCE_FIXTURES / "zotero.json").read_text(encoding="utf-8")
    plan = interchange.plan_file(text, "csl", "zotero.json")
    assert plan.ok
    assert plan.created > 3
    injection = Injection(before=database_state())

    def failing_after_three(entries, **kwargs):
        for number, entry in enumerate(entries, start=1):
            if number > 3:
                injection.reached = True
                injection.changed = database_state() != injection.before
                raise Injected("injected failure after three entries")
            yield entry

    with pytest.raises(Injected):
        plan.apply(by=curator, progress=failing_after_three)

    assert_nothing_saved(injection)


def test_a_source_import_whose_history_entry_fails_saves_nothing(monkeypatch, curator):
    text = (SOURCE_FIXTURES / "zotero.json").read_text(encoding="utf-8")
    plan = interchange.plan_file(text, "csl", "zotero.json")
    injection = fail_when_called(monkeypatch, LogEntry.objects, "log_actions")

    with pytest.raises(Injected):
        plan.apply(by=curator)

    assert_nothing_saved(injection)


def test_the_import_sources_command_saves_none_of_a_file_that_fails_halfway(monkeypatch):
    injection = fail_when_called(monkeypatch, Source.objects, "create", after=3)

    with pytest.raises(Injected):
        call_command("import_sources", str(SOURCE_FIXTURES / "zotero.json"), verbosity=0)

    assert_nothing_saved(injection)


def test_an_archive_import_that_fails_halfway_leaves_the_database_empty(monkeypatch):
    report = make_report()
    report.topics.add(make_topic())
    publish_now(report)
    text = archive.dumps(archive.export_archive())
    Report.objects.all().delete()
    SourceMerge.objects.all().delete()
    Source.objects.all().delete()
    Publisher.objects.all().delete()
    # Sequences are reset last, once every row is in.
    injection = fail_when_called(monkeypatch, archive_import, "_reset_sequences")

    with pytest.raises(Injected):
        archive_import.import_archive(text)

    assert_nothing_saved(injection)
