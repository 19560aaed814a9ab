"""The archive (factually.archive/1): everything out, back into an empty database, nothing lost."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports import workflow
from reports.formats import archive, archive_import
from reports.formats.errors import JsonFormatError
from reports.models import (
    ChangeKind,
    ClaimantType,
    FollowUpQuestion,
    PublishedVersion,
    Report,
    Topic,
    Transition,
    Verdict,
)
from sources import merging
from sources.models import Publisher, PublisherDomain, Source, SourceMerge
from tests.conftest import make_publisher, make_report, make_source, make_topic, publish_now

pytestmark = pytest.mark.django_db

EXPORTED_AT = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def newsroom(writer, reviewer, curator):
    """A library and reports in every state, with every field the archive must keep."""
    daily = make_publisher(name="The Daily", domain="daily.example")
    PublisherDomain.objects.create(publisher=daily, domain="daily.co.example")
    PublisherDomain.objects.create(publisher=daily, domain="dly.example")
    make_publisher(name="Lonely Press", domain="lonely.example")
    rich = make_source(
        title="A study with everything",
        url="https://daily.example/study",
        publisher=daily,
        authors="Ana Silva\nBo Chen",
        published_on=datetime.date(2020, 3, 1),
        accessed_on=datetime.date(2024, 5, 6),
        kind=Source.Kind.ACADEMIC_PAPER,
        language="pt-BR",
        doi="10.1000/xyz123",
        archive_url="https://web.archive.org/web/2024/https://daily.example/study",
        archive_date=datetime.date(2024, 5, 7),
        url_status=Source.UrlStatus.DEAD,
        notes="Publication date known to the month only: 2020-03.",
        link_checked_at=timezone.now(),
        link_status_code=404,
        link_final_url="https://daily.example/gone",
        link_error="Not found",
        link_failures=3,
        archive_checked_at=timezone.now(),
        archive_status_code=200,
    )
    retired = make_source(
        title="Retired", status=Source.Status.RETIRED, retired_reason="Unreliable.", is_demo=True
    )
    Source.objects.filter(pk=retired.pk).update(retired_at=timezone.now())
    duplicate = make_source(title="The same study, again")
    satire = Verdict.objects.create(
        name="Satire", slug="satire", definition="Not meant as fact.", order=9, colour="#123456"
    )
    health, climate = make_topic(name="Health"), make_topic(name="Climate", description="Hot.")

    answer = make_report(
        author=writer,
        claimant="A minister",
        claimant_type=ClaimantType.PERSON,
        claim_date=datetime.date(2025, 1, 2),
    )
    answer.topics.set([health])
    publish_now(answer, by=reviewer)

    corrected = make_report(
        author=writer,
        claimant="A senator",
        claim_url="https://social.example/post/1",
        conclusion_heading="So: false",
    )
    corrected.topics.set([health, climate])
    corrected.references.filter(number=1).update(source=rich, pinpoint="p. 12")
    corrected.references.filter(number=2).update(source=duplicate)
    FollowUpQuestion.objects.filter(report=corrected).update(answered_by=answer)
    publish_now(corrected, by=reviewer)
    corrected.summary += " Corrected."
    corrected.verdict = satire
    corrected.save()
    workflow.submit(corrected, by=writer, comment="Fixed the date.")
    workflow.publish(corrected, by=reviewer, note="The date was wrong.", kind=ChangeKind.CORRECTION)
    merging.merge(rich, duplicate, by=curator)

    withdrawn = make_report()
    publish_now(withdrawn)
    workflow.withdraw(withdrawn, by=reviewer, reason="It relied on a hoax.")

    draft = make_report(linked=False, is_demo=True)
    draft.references.filter(number=1).update(pinpoint="00:12:30")

    scheduled = make_report(author=writer)
    workflow.submit(scheduled, by=writer)
    workflow.schedule(
        scheduled,
        by=reviewer,
        at=timezone.now() + datetime.timedelta(days=1),
        note="",
        kind="",
    )
    return {
        "rich": rich,
        "duplicate_id": duplicate.pk,
        "corrected": corrected,
        "withdrawn": withdrawn,
        "draft": draft,
    }


def export() -> str:
    return archive.dumps(archive.export_archive(exported_at=EXPORTED_AT))


def empty_the_newsroom() -> None:
    """What import_archive needs: no report, source or publisher (verdicts stay, as after
    migrate; topics may go)."""
    Report.objects.all().delete()
    SourceMerge.objects.all().delete()
    Source.objects.all().delete()
    Publisher.objects.all().delete()
    Topic.objects.all().delete()
    Verdict.objects.filter(slug="satire").delete()


# The round trip


def test_export_then_import_into_an_empty_database_then_export_gives_the_same_archive(newsroom):
    sources = Source.objects.count()
    first = export()
    empty_the_newsroom()
    # A migrated database has the default verdicts, perhaps reworded: the archive's win.
    Verdict.objects.filter(slug="false").update(definition="Reworded here.", colour="#000000")
    assert not Report.objects.exists()

    summary = archive_import.import_archive(first)

    assert export() == first
    assert summary.counts["report"] == 5
    assert summary.counts["published version"] == 4
    assert summary.counts["source"] == sources
    assert not summary.missing_people


def test_the_archive_has_what_it_promises(newsroom):
    data = json.loads(export())
    corrected = newsroom["corrected"]

    assert data["schema"] == "factually.archive/1"
    assert data["exported_at"] == "2026-03-01T12:00:00+00:00"
    [document] = [r for r in data["reports"] if r["id"] == corrected.pk]
    assert document["author"] == "writer"
    assert document["verdict"] == "satire"
    assert document["topics"] == sorted(topic.slug for topic in corrected.topics.all())
    assert [v["number"] for v in document["versions"]] == [1, 2]
    first, second = document["versions"]
    assert first["is_live"] is False
    assert second["is_live"] is True
    assert second["change_kind"] == "correction"
    assert second["change_note"] == "The date was wrong."
    assert second["published_by"] == "reviewer"
    assert second["content"] == PublishedVersion.objects.get(pk=second["id"]).content
    assert second["sources"] == [newsroom["rich"].pk]  # the duplicate was merged into it
    assert [(t["from_status"], t["to_status"]) for t in document["transitions"]] == [
        ("draft", "in_review"),
        ("in_review", "published"),
        ("published", "in_review"),
        ("in_review", "published"),
    ]
    assert document["references"][0]["source"] == newsroom["rich"].pk
    assert document["references"][0]["pinpoint"] == "p. 12"
    [daily] = [p for p in data["publishers"] if p["domain"] == "daily.example"]
    assert daily["other_domains"] == ["daily.co.example", "dly.example"]
    [merge] = data["source_merges"]
    assert merge["merged_id"] == newsroom["duplicate_id"]
    assert merge["by"] == "curator"


@pytest.mark.parametrize("model", list(archive.MODELS), ids=lambda model: model.__name__)
def test_the_archive_keeps_every_field_of_every_model(model):
    """A field added to a model must be added to the archive too (or this test says so)."""
    fields = {f.name for f in model._meta.concrete_fields} | {
        f.name for f in model._meta.many_to_many
    }
    if model is PublisherDomain:
        fields.discard("id")  # a publisher's other domains are kept as a list of names
    assert fields == set(archive.MODELS[model])


def test_ids_are_kept_so_every_link_still_works(newsroom, client):
    rich, corrected = newsroom["rich"], newsroom["corrected"]
    saved = Report.objects.get(pk=corrected.pk)
    text = export()
    empty_the_newsroom()

    archive_import.import_archive(text)

    assert client.get(f"/sources/{rich.pk}/").status_code == 200
    merged = client.get(f"/sources/{newsroom['duplicate_id']}/")
    assert merged.status_code == 301
    assert merged["Location"] == f"/sources/{rich.pk}/"
    page = client.get(corrected.get_absolute_url())
    assert page.status_code == 200
    assert "The date was wrong." in page.content.decode()
    assert client.get(f"/reports/{corrected.slug}/versions/1/").status_code == 200
    assert client.get(newsroom["withdrawn"].get_absolute_url()).status_code == 410
    restored = Report.objects.get(pk=corrected.pk)
    assert (restored.edit_version, restored.created_at, restored.updated_at) == (
        saved.edit_version,
        saved.created_at,
        saved.updated_at,
    )
    assert restored.published_at == saved.published_at
    assert not restored.has_unpublished_changes


def test_new_records_after_an_import_get_new_ids(newsroom, reviewer):
    text = export()
    highest = max(Report.objects.order_by("-pk").first().pk, 0)
    empty_the_newsroom()
    archive_import.import_archive(text)

    report = make_report()
    version = publish_now(report, by=reviewer)

    assert report.pk > highest
    assert version.pk > max(v["id"] for r in json.loads(text)["reports"] for v in r["versions"])
    assert make_source().pk > newsroom["rich"].pk
    assert Transition.objects.filter(report=report).exists()


def test_people_missing_here_are_left_empty_and_named(newsroom, reviewer):
    text = export()
    empty_the_newsroom()
    reviewer.delete()

    summary = archive_import.import_archive(text)

    assert summary.missing_people == {"reviewer"}
    assert "reviewer" in str(summary)
    assert not PublishedVersion.objects.filter(published_by__isnull=False).exists()
    assert Report.objects.get(pk=newsroom["corrected"].pk).author.username == "writer"


# Refusals


def test_an_import_into_a_database_with_reports_or_sources_is_refused(newsroom):
    text = export()
    before = (Report.objects.count(), Source.objects.count())

    expected = f"not empty: it has 5 reports, {before[1]} sources, 2 publishers"
    with pytest.raises(archive_import.ArchiveRefused, match=expected):
        archive_import.import_archive(text)

    assert (Report.objects.count(), Source.objects.count()) == before


def test_a_single_source_is_enough_to_refuse():
    text = archive.dumps(archive.export_archive())
    make_source()

    with pytest.raises(archive_import.ArchiveRefused, match=r"it has 1 source\. "):
        archive_import.import_archive(text)


def broken(mutate) -> str:
    data = json.loads(export())
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (lambda d: d.update(schema="factually.archive/9"), "schema", "not an archive"),
        (lambda d: d["sources"][0].pop("title"), "sources[0].title", "missing"),
        (lambda d: d["sources"][0].update(colour="red"), "sources[0].colour", "not a field"),
        (
            lambda d: d["reports"][0]["references"][0].update(source=999999),
            "reports[0].references[0].source",
            "not in the archive",
        ),
        (
            lambda d: d["reports"][0].update(checked_on="1 March"),
            "reports[0].checked_on",
            "not valid",
        ),
        (
            lambda d: d["reports"][0]["versions"][0].update(published_at="2026-01-01T10:00:00"),
            "reports[0].versions[0].published_at",
            "UTC offset",
        ),
        (lambda d: d["reports"][0].update(verdict="no-such"), "reports[0].verdict", "not in"),
    ],
)
def test_a_broken_archive_is_refused_with_the_path_of_each_problem(newsroom, mutate, path, message):
    text = broken(mutate)
    empty_the_newsroom()

    with pytest.raises(JsonFormatError) as error:
        archive_import.import_archive(text)

    assert any(p == path and message in m for p, m in error.value.problems), error.value.problems
    assert not Report.objects.exists()
    assert not Source.objects.exists()


def test_text_that_is_not_json_is_refused():
    with pytest.raises(JsonFormatError, match="not valid JSON"):
        archive_import.import_archive("{", filename="backup.json")


# The commands


def test_export_archive_writes_a_file_and_says_what_it_wrote(newsroom, tmp_path):
    out = io.StringIO()
    target = tmp_path / "backup.json"

    call_command("export_archive", "--output", str(target), stdout=out)

    assert out.getvalue().strip() == (
        f"Wrote 5 report(s) with 4 published version(s), {Source.objects.count()} source(s) "
        f"and 2 publisher(s) to {target}"
    )
    assert json.loads(target.read_text(encoding="utf-8"))["schema"] == archive.SCHEMA
    assert [p.name for p in tmp_path.iterdir()] == ["backup.json"]


def test_export_archive_writes_to_stdout_without_output(newsroom):
    out = io.StringIO()

    call_command("export_archive", stdout=out)

    assert len(json.loads(out.getvalue())["reports"]) == 5


def test_import_archive_restores_and_summarises(newsroom, tmp_path):
    target = tmp_path / "backup.json"
    target.write_text(export(), encoding="utf-8")
    empty_the_newsroom()
    out = io.StringIO()

    call_command("import_archive", str(target), stdout=out)

    assert out.getvalue() == (
        f"Restored 8 verdicts, 2 topics, 2 publishers, {Source.objects.count()} sources, "
        "1 source merge, 5 reports, 4 published versions.\n"
    )
    assert export() == target.read_text(encoding="utf-8")


def test_import_archive_refuses_a_database_that_is_not_empty(newsroom, tmp_path):
    target = tmp_path / "backup.json"
    target.write_text(export(), encoding="utf-8")

    with pytest.raises(CommandError, match="This database is not empty"):
        call_command("import_archive", str(target), stdout=io.StringIO())


def test_import_archive_lists_the_problems_of_a_broken_archive(newsroom, tmp_path):
    target = tmp_path / "backup.json"
    target.write_text(broken(lambda d: d["sources"][0].pop("url")), encoding="utf-8")
    empty_the_newsroom()
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was saved"):
        call_command("import_archive", str(target), stdout=io.StringIO(), stderr=err)

    assert f"{target}: sources[0].url: missing" in err.getvalue()


def test_import_archive_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        call_command("import_archive", str(tmp_path / "nope.json"))


# The claimant's type, added to the format later


def test_the_claimant_type_of_reports_and_versions_survives_the_round_trip(newsroom):
    text = export()
    empty_the_newsroom()

    archive_import.import_archive(text)

    answer = Report.objects.get(claimant="A minister")
    assert answer.claimant_type == ClaimantType.PERSON
    assert answer.versions.get().claimant_type == ClaimantType.PERSON


def test_an_archive_from_before_claimant_types_is_read_as_not_known(newsroom):
    def without_claimant_types(data):
        for report in data["reports"]:
            del report["claimant_type"]
            for version in report["versions"]:
                del version["claimant_type"]

    text = broken(without_claimant_types)
    empty_the_newsroom()

    archive_import.import_archive(text)

    assert set(Report.objects.values_list("claimant_type", flat=True)) == {ClaimantType.UNKNOWN}
    assert set(PublishedVersion.objects.values_list("claimant_type", flat=True)) == {
        ClaimantType.UNKNOWN
    }


def test_an_unknown_claimant_type_is_refused_with_its_path(newsroom):
    text = broken(lambda data: data["reports"][0].update(claimant_type="robot"))
    empty_the_newsroom()

    with pytest.raises(JsonFormatError) as error:
        archive_import.import_archive(text)

    assert any(path == "reports[0].claimant_type" for path, _ in error.value.problems), (
        error.value.problems
    )
    assert not Report.objects.exists()
