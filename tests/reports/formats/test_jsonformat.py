"""Reports as JSON (factually.report/1): export, the public .json URL, admin export, import."""

from __future__ import annotations

import datetime
import itertools
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reports import workflow
from reports.formats import jsonformat
from reports.formats.errors import JsonFormatError
from reports.formats.json_import import import_json
from reports.formats.jsonformat import export_document, export_json
from reports.models import (
    ClaimantType,
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Verdict,
)
from sources.models import Publisher, Source
from tests.conftest import make_publisher, make_report, make_source, make_topic, publish_now

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(jsonformat.SCHEMA_FILE.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
REPORT_KEYS = {
    "schema",
    "slug",
    "claim",
    "claimant",
    "claimant_type",
    "claim_date",
    "claim_url",
    "verdict",
    "checked_on",
    "topics",
    "summary",
    "sections",
    "conclusion",
    "questions",
    "references",
    "publication",
}
SOURCE_KEYS = set(jsonformat.SOURCE_FIELDS)


def schema_errors(document: dict) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def edit(report: Report, **fields) -> None:
    """Change the working copy as a save in the admin does."""
    report.refresh_from_db()
    for name, value in fields.items():
        setattr(report, name, value)
    report.save()


def full_report(**fields) -> Report:
    """A report citing one source with every detail and one with few, with topics and
    where the claim was made."""
    publisher = make_publisher(name="The Daily Example", domain="daily.example")
    detailed = make_source(
        title="Heights of the emperors",
        url="https://www.daily.example/history/heights?utm_source=x",
        publisher=publisher,
        authors="Ana Silva\nBo Chen",
        published_on=datetime.date(2020, 3, 1),
        accessed_on=datetime.date(2026, 1, 20),
        language="pt-BR",
        kind=Source.Kind.NEWS_ARTICLE,
        doi="10.1234/Heights.2020",
        archive_url="https://web.archive.org/web/2021/https://daily.example/history/heights",
        archive_date=datetime.date(2021, 5, 6),
        url_status=Source.UrlStatus.DEAD,
        notes="Publication date known to the month only: 2020-03.\nAsk the desk first.",
    )
    fields.setdefault("claimant", "A viral post")
    fields.setdefault("claim_date", datetime.date(2025, 12, 24))
    fields.setdefault("claim_url", "https://social.example/post/1")
    report = make_report(references=2, **fields)
    report.references.filter(number=1).update(source=detailed, pinpoint="p. 4")
    report.topics.set([make_topic(name="History", slug="history")])
    return report


# Export


def test_export_has_the_report_its_verdict_and_where_the_claim_was_made():
    report = full_report()
    version = publish_now(report)

    document = export_document(version)

    assert set(document) == REPORT_KEYS
    assert document["schema"] == "factually.report/1"
    assert document["slug"] == report.slug
    assert document["claim"] == report.claim
    assert document["verdict"] == {"slug": "false", "name": "False", "rating": 1}
    assert document["checked_on"] == "2026-01-27"
    assert document["claimant"] == "A viral post"
    assert document["claim_date"] == "2025-12-24"
    assert document["claim_url"] == "https://social.example/post/1"
    assert document["topics"] == [{"slug": "history", "name": "History"}]
    assert document["summary"] == report.summary
    assert document["sections"] == [
        {"heading": s.heading, "body": s.body} for s in report.sections.all()
    ]
    assert document["conclusion"] == {
        "heading": report.conclusion_heading,
        "text": report.conclusion,
    }
    assert document["questions"] == [{"question": "What about question 1?", "answered_by": None}]


def test_export_gives_each_reference_its_source_with_every_detail():
    version = publish_now(full_report())

    first, second = export_document(version)["references"]

    assert first["number"] == 1
    assert first["pinpoint"] == "p. 4"
    assert first["source"] == {
        "title": "Heights of the emperors",
        "url": "https://www.daily.example/history/heights",
        "publisher": {"name": "The Daily Example", "domain": "daily.example"},
        "authors": ["Ana Silva", "Bo Chen"],
        # Known to the month only, as the source's notes record.
        "published_on": "2020-03",
        "accessed_on": "2026-01-20",
        "language": "pt-BR",
        "kind": "news_article",
        "doi": "10.1234/heights.2020",
        "isbn": "",
        "pmid": "",
        "arxiv_id": "",
        "handle": "",
        "where_to_find": "",
        "archive_url": "https://web.archive.org/web/2021/https://daily.example/history/heights",
        "archive_date": "2021-05-06",
        "url_status": "dead",
    }
    assert set(second["source"]) == SOURCE_KEYS
    assert second["source"]["publisher"] is None


def test_export_never_carries_the_internal_notes_of_a_source():
    version = publish_now(full_report())

    assert "Ask the desk" not in export_json(version)


def test_export_has_the_publication_history_with_change_notes():
    report = full_report()
    first = publish_now(report)
    edit(report, summary="Revised summary [1] [2].")
    second = publish_now(report, note="The date was wrong.", kind="correction")

    publication = export_document(second)["publication"]

    assert publication["version"] == 2
    assert publication["published_at"] == second.published_at.isoformat()
    assert publication["first_published_at"] == first.published_at.isoformat()
    assert [(h["version"], h["change_kind"], h["change_note"]) for h in publication["history"]] == [
        (1, None, ""),
        (2, "correction", "The date was wrong."),
    ]


def test_exported_documents_are_valid_against_the_json_schema():
    version = publish_now(full_report())

    document = json.loads(export_json(version))

    assert schema_errors(document) == []


def test_the_json_schema_refuses_what_import_refuses():
    document = json.loads(export_json(publish_now(full_report())))
    del document["sections"][0]["heading"]
    document["references"][0]["source"]["kind"] = "pamphlet"

    assert len(schema_errors(document)) == 2


def test_export_says_what_the_version_froze_not_later_edits_of_the_draft_or_library():
    report = full_report()
    version = publish_now(report)
    Report.objects.filter(pk=report.pk).update(
        claim="An unpublished claim", summary="Unpublished summary [1]."
    )
    Section.objects.filter(report=report).update(heading="Unpublished heading")
    Reference.objects.filter(report=report, number=2).update(pinpoint="unpublished pinpoint")
    Source.objects.filter(references__report=report, references__number=1).update(
        title="A retitled source"
    )

    text = export_json(PublishedVersion.objects.get(pk=version.pk))

    assert "Unpublished" not in text
    assert "unpublished" not in text
    assert "A retitled source" not in text
    assert "Heights of the emperors" in text


def test_a_question_names_the_live_report_that_answers_it():
    answer = make_report(slug="the-answer")
    publish_now(answer)
    report = make_report()
    FollowUpQuestion.objects.filter(report=report).update(answered_by=answer)

    document = export_document(publish_now(report))

    assert document["questions"][0]["answered_by"] == "the-answer"


def test_a_question_answered_by_a_draft_does_not_name_it():
    draft = make_report(slug="secret-draft")
    report = make_report()
    FollowUpQuestion.objects.filter(report=report).update(answered_by=draft)

    assert "secret-draft" not in export_json(publish_now(report))


# The public .json URL


def json_url(slug: str) -> str:
    return reverse("reports:detail_json", kwargs={"slug": slug})


def test_the_public_json_url_serves_the_live_version(client):
    report = full_report(slug="heights")
    version = publish_now(report)

    response = client.get("/reports/heights.json")

    assert json_url("heights") == "/reports/heights.json"
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == export_document(version)


def test_the_public_json_url_never_shows_unpublished_edits(client):
    report = full_report(slug="heights")
    publish_now(report)
    Report.objects.filter(pk=report.pk).update(summary="Unpublished summary [1] [2].")

    response = client.get(json_url("heights"))

    assert "Unpublished" not in response.content.decode()


def test_the_public_json_url_is_not_found_for_a_draft(client):
    make_report(slug="draft")

    assert client.get(json_url("draft")).status_code == 404
    assert client.get(json_url("nothing-here")).status_code == 404


def test_the_public_json_url_is_not_found_once_withdrawn(client):
    report = make_report(slug="withdrawn")
    publish_now(report)
    workflow.withdraw(report, by=None, reason="Our source was fabricated.")

    assert client.get(json_url("withdrawn")).status_code == 404


def test_the_report_page_advertises_its_json(client):
    report = make_report(slug="heights")
    publish_now(report)

    page = client.get(reverse("reports:detail", kwargs={"slug": "heights"})).content.decode()

    assert '<link rel="alternate" type="application/json" href="/reports/heights.json"' in page


def test_an_earlier_version_does_not_advertise_the_live_json(client):
    report = make_report(slug="heights")
    publish_now(report)
    edit(report, summary="New summary [1] [2].")
    publish_now(report, note="Clearer.", kind="clarification")

    page = client.get(reverse("reports:version", kwargs={"slug": "heights", "number": 1}))

    assert 'type="application/json"' not in page.content.decode()


# Admin export


def export_url(report, name: str) -> str:
    return reverse("admin:reports_report_export", args=[report.pk, name])


def test_the_change_page_of_a_live_report_links_to_its_exports(editor_client):
    report = make_report()
    publish_now(report)

    page = editor_client.get(reverse("admin:reports_report_change", args=[report.pk]))

    for name in ("json", "markdown", "text"):
        assert export_url(report, name) in page.content.decode()


def test_the_change_page_of_a_draft_has_no_export_links(editor_client):
    report = make_report()

    page = editor_client.get(reverse("admin:reports_report_change", args=[report.pk]))

    assert "/export/" not in page.content.decode()


@pytest.mark.parametrize(
    ("name", "content_type", "extension"),
    [
        ("json", "application/json; charset=utf-8", "json"),
        ("markdown", "text/markdown; charset=utf-8", "md"),
        ("text", "text/plain; charset=utf-8", "txt"),
    ],
)
def test_admin_export_downloads_the_live_version(editor_client, name, content_type, extension):
    report = make_report(slug="heights")
    publish_now(report)
    Report.objects.filter(pk=report.pk).update(claim="An unpublished claim")

    response = editor_client.get(export_url(report, name))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="heights.{extension}"'
    body = response.content.decode()
    assert report.claim not in body or "unpublished" not in body
    assert "An unpublished claim" not in body


def test_admin_json_export_is_the_public_document(editor_client, client):
    report = full_report(slug="heights")
    publish_now(report)

    exported = editor_client.get(export_url(report, "json")).json()

    assert exported == client.get(json_url("heights")).json()


def test_an_editor_may_export(client, writer):
    report = make_report()
    publish_now(report)
    client.force_login(writer)

    assert client.get(export_url(report, "json")).status_code == 200


def test_a_source_curator_may_not_export_reports(client, curator):
    report = make_report()
    publish_now(report)
    client.force_login(curator)

    assert client.get(export_url(report, "json")).status_code == 403


def test_admin_export_of_a_draft_or_an_unknown_format_is_not_found(editor_client):
    draft = make_report()
    live = make_report()
    publish_now(live)

    assert editor_client.get(export_url(draft, "json")).status_code == 404
    assert editor_client.get(export_url(live, "pdf")).status_code == 404


# The export_report command


def run(*args) -> str:
    stdout = StringIO()
    call_command("export_report", *args, stdout=stdout)
    return stdout.getvalue()


def test_export_report_writes_the_live_version_as_json():
    report = full_report(slug="heights")
    version = publish_now(report)
    Report.objects.filter(pk=report.pk).update(summary="Unpublished summary [1].")

    assert json.loads(run("heights", "--format", "json")) == export_document(version)


def test_export_report_writes_markdown_to_a_file(tmp_path):
    report = make_report(slug="heights")
    publish_now(report)
    output = tmp_path / "heights.md"

    run("heights", "--format", "markdown", "--output", str(output))

    assert output.read_text(encoding="utf-8").startswith(f"# {report.claim}\n")


def test_export_report_still_writes_the_working_copy_as_text_by_default():
    make_report(slug="heights", summary="Draft summary [1] [2].")

    assert "Draft summary [1] [2]." in run("heights")


def test_export_report_refuses_json_for_a_report_with_no_live_version():
    make_report(slug="heights")

    with pytest.raises(CommandError, match="no live published version"):
        run("heights", "--format", "json")


# Import


def test_import_creates_a_draft_with_everything_the_document_has(editor):
    report = full_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))
    document["slug"] = "heights-copy"

    imported = import_json(json.dumps(document), filename="heights.json", author=editor)

    imported.refresh_from_db()
    assert imported.status == Report.Status.DRAFT
    assert imported.published_at is None
    assert not imported.versions.exists()
    assert imported.author == editor
    assert imported.slug == "heights-copy"
    assert imported.verdict.slug == "false"
    assert (imported.claim, imported.summary, imported.conclusion) == (
        report.claim,
        report.summary,
        report.conclusion,
    )
    assert (imported.claimant, imported.claim_date, imported.claim_url) == (
        report.claimant,
        report.claim_date,
        report.claim_url,
    )
    assert list(imported.sections.values_list("position", "heading", "body")) == list(
        report.sections.values_list("position", "heading", "body")
    )
    assert list(imported.questions.values_list("question", flat=True)) == ["What about question 1?"]
    assert list(imported.topics.values_list("slug", flat=True)) == ["history"]
    # The sources are the library's records, matched by URL: nothing new.
    assert list(imported.references.values_list("number", "source", "pinpoint")) == list(
        report.references.values_list("number", "source", "pinpoint")
    )


def test_import_matches_a_source_by_doi_when_its_url_differs():
    report = full_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))
    report.delete()
    detailed = Source.objects.get(doi="10.1234/heights.2020")
    document["references"][0]["source"]["url"] = "https://mirror.example/heights"
    document["references"][0]["source"]["doi"] = "https://doi.org/10.1234/HEIGHTS.2020"

    imported = import_json(json.dumps(document))

    assert imported.references.get(number=1).source == detailed
    assert not Source.objects.filter(url="https://mirror.example/heights").exists()


def test_import_creates_a_missing_source_with_every_detail_and_its_publisher():
    report = full_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))
    report.delete()
    Source.objects.all().delete()
    Publisher.objects.all().delete()

    imported = import_json(json.dumps(document))

    source = imported.references.get(number=1).source
    assert source.title == "Heights of the emperors"
    assert source.url == "https://www.daily.example/history/heights"
    assert (source.publisher.name, source.publisher.domain) == (
        "The Daily Example",
        "daily.example",
    )
    assert source.author_list == ["Ana Silva", "Bo Chen"]
    assert source.published_on == datetime.date(2020, 3, 1)
    assert "Publication date known to the month only: 2020-03." in source.notes
    assert source.accessed_on == datetime.date(2026, 1, 20)
    assert (source.language, source.kind, source.doi) == (
        "pt-BR",
        Source.Kind.NEWS_ARTICLE,
        "10.1234/heights.2020",
    )
    assert source.archive_date == datetime.date(2021, 5, 6)
    assert source.url_status == Source.UrlStatus.DEAD


def test_import_finds_the_publisher_by_domain_whatever_name_the_file_gives():
    report = full_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))
    report.delete()
    Source.objects.all().delete()
    publisher = Publisher.objects.get(domain="daily.example")
    document["references"][0]["source"]["publisher"]["name"] = "Daily Example (old name)"

    imported = import_json(json.dumps(document))

    assert imported.references.get(number=1).source.publisher == publisher
    assert Publisher.objects.count() == 1


def test_import_creates_a_topic_it_does_not_know():
    document = json.loads(export_json(publish_now(full_report(slug="heights"))))
    document["slug"] = "heights-2"
    document["topics"].append({"slug": "royalty", "name": "Royalty"})

    imported = import_json(json.dumps(document))

    assert sorted(imported.topics.values_list("slug", flat=True)) == ["history", "royalty"]
    assert Topic.objects.get(slug="royalty").name == "Royalty"


def test_import_links_a_question_to_the_report_live_at_its_slug():
    answer = make_report(slug="the-answer")
    publish_now(answer)
    report = make_report(slug="asks")
    FollowUpQuestion.objects.filter(report=report).update(answered_by=answer)
    document = json.loads(export_json(publish_now(report)))
    report.delete()

    imported = import_json(json.dumps(document))

    assert imported.questions.get().answered_by == answer


def test_import_accepts_a_minimal_draft_document():
    imported = import_json(
        json.dumps(
            {
                "schema": "factually.report/1",
                "slug": "minimal",
                "claim": "A claim.",
                "verdict": None,
                "checked_on": None,
                "summary": "",
                "sections": [],
                "conclusion": {"heading": "Conclusion", "text": ""},
                "references": [{"number": 1, "source": None}],
            }
        )
    )

    assert imported.verdict is None
    assert list(imported.references.values_list("number", "source")) == [(1, None)]


# Import refusals: the JSON path of each bad field, and nothing saved


def row_counts() -> tuple[int, ...]:
    models = (Report, Section, Reference, FollowUpQuestion, Source, Publisher, Topic)
    return tuple(model.objects.count() for model in models)


@pytest.fixture
def document() -> dict:
    """A document whose report is gone, whose sources and publishers are not in the library."""
    report = full_report(slug="heights")
    exported = json.loads(export_json(publish_now(report)))
    report.delete()
    Source.objects.all().delete()
    Publisher.objects.all().delete()
    Topic.objects.all().delete()
    return exported


def refusal(text: str, filename: str = "") -> JsonFormatError:
    before = row_counts()
    with pytest.raises(JsonFormatError) as raised:
        import_json(text, filename=filename)
    assert row_counts() == before, "a refused import saved something"
    return raised.value


def test_a_file_that_is_not_json_is_refused_with_its_line_and_column():
    error = refusal('{\n  "schema": "factually.report/1",\n  "slug": }', filename="r.json")

    assert str(error).startswith("r.json: not valid JSON: Expecting value (line 3, column 11)")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["sections"][1].pop("heading"), ("sections[1].heading", "missing")),
        (
            lambda d: d["sections"][0].update(heading=7),
            ("sections[0].heading", "expected text, found a number"),
        ),
        (lambda d: d.pop("claim"), ("claim", "missing")),
        (lambda d: d.update(claim="  "), ("claim", "empty")),
        (lambda d: d.update(claim="x" * 501), ("claim", "too long: 501 characters, at most 500")),
        (
            lambda d: d.update(sections={}),
            ("sections", "expected a list ([…]), found an object"),
        ),
        (
            lambda d: d.update(checked_on="27/01/2026"),
            ("checked_on", "expected a date as YYYY-MM-DD or null, found “27/01/2026”"),
        ),
        (
            lambda d: d.update(checked_on="2026-02-30"),
            ("checked_on", "“2026-02-30” is not a day of the calendar"),
        ),
        (lambda d: d.update(colour="red"), ("colour", "not a field of factually.report/1")),
        (
            lambda d: d["references"][1].update(number=1),
            ("references[1].number", "1 is the number of references[0] too"),
        ),
        (
            lambda d: d["references"][0].update(number=0),
            ("references[0].number", "0 is not a reference number (1 to 9999)"),
        ),
        (
            lambda d: d["references"][0]["source"].pop("title"),
            ("references[0].source.title", "missing"),
        ),
        (
            lambda d: d["references"][0]["source"].update(url="not a url", doi=""),
            ("references[0].source.url", "“not a url”: Enter a valid URL."),
        ),
        (
            lambda d: d["references"][1]["source"].update(doi="11.x"),
            (
                "references[1].source.doi",
                "“11.x” is not a DOI (they look like 10.1000/xyz123 or 10/abc12).",
            ),
        ),
        (
            lambda d: d["references"][0]["source"].update(kind="pamphlet"),
            (
                "references[0].source.kind",
                "“pamphlet” is not a kind (one of news_article, academic_paper, book, "
                "government_document, ngo_report, primary_document, dataset, audio_video, "
                "reference_work, other)",
            ),
        ),
        (
            lambda d: d["references"][0]["source"].update(published_on="2020-13"),
            ("references[0].source.published_on", "13 is not a month (1 to 12)"),
        ),
        (
            lambda d: d["references"][0]["source"]["authors"].append(3),
            ("references[0].source.authors[2]", "expected text, found a number"),
        ),
        (
            lambda d: d["questions"][0].update(question=""),
            ("questions[0].question", "empty"),
        ),
        (
            lambda d: d["topics"][0].update(slug="not a slug"),
            ("topics[0].slug", "“not a slug” is not a slug"),
        ),
        (
            lambda d: d.update(verdict={"slug": "pants-on-fire"}),
            (
                "verdict.slug",
                "no verdict “pants-on-fire” on this site's rating scale (it has: true, "
                "mostly-true, mixed, misleading, mostly-false, false, unproven)",
            ),
        ),
        (
            lambda d: d.update(schema="factually.report/2"),
            ("schema", "“factually.report/2” is not a format this site reads (factually.report/1)"),
        ),
        (
            lambda d: d.pop("schema"),
            ("schema", "missing: a report document says “schema”: “factually.report/1”"),
        ),
        # Found by the JSON Schema, worded by the reader.
        (
            lambda d: d["sections"][0].update(heading="Two\nlines"),
            ("sections[0].heading", "must be one line"),
        ),
        (
            lambda d: d["references"][0]["source"]["authors"].append("Ann\nBob"),
            ("references[0].source.authors[2]", "one name, on one line"),
        ),
        (lambda d: d.update(verdict="true"), ("verdict", "expected an object ({…}), found text")),
        (lambda d: d["verdict"].update(slug=3), ("verdict.slug", "expected text, found a number")),
        (
            lambda d: d["verdict"].update(colour="red"),
            ("verdict.colour", "not a field of factually.report/1"),
        ),
        (
            lambda d: d["references"][0].update(source=[]),
            ("references[0].source", "expected an object ({…}), found a list"),
        ),
        (
            lambda d: d["references"][0]["source"].update(publisher={"domain": "x.org"}),
            ("references[0].source.publisher.name", "missing"),
        ),
        (
            lambda d: d["references"][0]["source"].update(archive_date="2020/01"),
            (
                "references[0].source.archive_date",
                "expected a date as YYYY-MM-DD, YYYY-MM or YYYY, or null, found “2020/01”",
            ),
        ),
        (
            lambda d: d["questions"][0].update(answered_by=5),
            ("questions[0].answered_by", "expected a slug or null, found a number"),
        ),
        (
            lambda d: d["references"][0]["source"].update(kind=None),
            ("references[0].source.kind", "expected text, found null"),
        ),
        (
            lambda d: d["references"][0].update(number=1.0),
            ("references[0].number", "expected a whole number, found 1.0"),
        ),
        (
            lambda d: d.update(publication=[]),
            ("publication", "expected an object ({…}), found a list"),
        ),
    ],
)
def test_a_malformed_document_is_refused_naming_the_path_of_the_bad_field(
    document, change, expected
):
    change(document)

    error = refusal(json.dumps(document), filename="heights.json")

    assert expected in error.problems
    assert f"heights.json: {expected[0]}: {expected[1]}" in f"heights.json: {error}".replace(
        "heights.json: heights.json: ", "heights.json: "
    )


def test_what_import_ignores_is_not_checked_against_the_schema(document):
    """The publication history and the verdict's name and rating are informational."""
    document["publication"] = None
    document["verdict"]["rating"] = "high"
    document["references"][0]["source"]["kind"] = "News article"  # a label, not the value

    report = import_json(json.dumps(document))

    assert report.references.get(number=1).source.kind == Source.Kind.NEWS_ARTICLE


def test_every_problem_is_reported_at_once(document):
    del document["summary"]
    document["sections"][0]["heading"] = ""
    document["references"][0]["source"]["url_status"] = "gone"

    error = refusal(json.dumps(document))

    assert [path for path, _ in error.problems] == [
        "summary",
        "sections[0].heading",
        "references[0].source.url_status",
    ]
    assert str(error).startswith("summary: missing; sections[0].heading: empty; ")


def test_a_document_that_is_not_an_object_is_refused():
    error = refusal("[1, 2]")

    assert error.problems == [("", "a report is a JSON object ({…}); this is a list")]


def test_an_unknown_verdict_is_refused_and_nothing_is_saved(document):
    document["verdict"]["slug"] = "pants-on-fire"

    error = refusal(json.dumps(document))

    assert error.path == "verdict.slug"
    assert "pants-on-fire" in error.message


def test_a_slug_in_use_is_refused_naming_it():
    report = make_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))

    error = refusal(json.dumps(document), filename="heights.json")

    assert error.path == "slug"
    assert str(error).startswith("heights.json: slug: “heights” is already used by another report")


def test_the_slug_a_live_report_was_published_under_is_refused():
    report = make_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))
    Report.objects.filter(pk=report.pk).update(slug="heights-renamed")

    error = refusal(json.dumps(document))

    assert error.path == "slug"
    assert "“heights” is the address of a live report" in error.message


def test_a_source_whose_url_and_doi_name_two_library_records_is_refused():
    report = full_report(slug="heights")
    document = json.loads(export_json(publish_now(report)))
    other = make_source(url="https://other.example/x", doi="10.9999/other")
    document["slug"] = "heights-2"
    document["references"][0]["source"]["doi"] = other.doi

    error = refusal(json.dumps(document))

    assert error.path == "references[0].source"
    assert "matches more than one record of the library: its URL" in error.message


def test_a_topic_name_used_under_another_slug_is_refused():
    make_topic(name="Royalty", slug="kings-and-queens")
    document = json.loads(export_json(publish_now(full_report(slug="heights"))))
    document["slug"] = "heights-2"
    document["topics"] = [{"slug": "royalty", "name": "Royalty"}]

    error = refusal(json.dumps(document))

    assert error.problems == [
        (
            "topics[0].name",
            "the topic “Royalty” exists here under the slug “kings-and-queens”, not “royalty”",
        )
    ]


# Round trip: export, delete, import, publish, export again


_serial = itertools.count(1)
# Words of any script, without the characters that would make a marker something else
# (an escape, a link, an autolink) or that PostgreSQL cannot store (NUL, surrogates).
WORD = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
        exclude_characters="\\[]<>",
    ),
    min_size=1,
    max_size=10,
)
PHRASE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
DATES = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31))


@st.composite
def cited_text(draw, numbers: list[int]) -> str:
    """Paragraphs of words, each ending with a group of markers drawn from `numbers`."""
    paragraphs = []
    for _ in range(draw(st.integers(1, 3))):
        cited = draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=3))
        markers = " ".join(f"[{n}]" for n in cited)
        paragraphs.append(f"{draw(PHRASE)} {markers}{draw(st.sampled_from(['', '.', '!']))}")
    return "\n\n".join(paragraphs)


@st.composite
def source_specs(draw) -> dict:
    precision = draw(st.sampled_from(["day", "month", "year", None]))
    return {
        "title": draw(PHRASE),
        "publisher": draw(st.booleans()),
        "authors": draw(st.lists(PHRASE, max_size=3)),
        "published": draw(DATES) if precision else None,
        "precision": precision,
        "accessed_on": draw(DATES),
        "language": draw(st.sampled_from(["", "en", "de", "pt-BR"])),
        "kind": draw(st.sampled_from(Source.Kind.values)),
        "doi": draw(st.booleans()),
        "archive": draw(st.booleans()),
        "archive_date": draw(st.none() | DATES),
        "url_status": draw(st.sampled_from(Source.UrlStatus.values)),
    }


@st.composite
def report_specs(draw) -> dict:
    numbers = sorted(draw(st.sets(st.integers(1, 40), min_size=1, max_size=4)))
    sources = draw(st.lists(source_specs(), min_size=1, max_size=len(numbers)))
    sections = draw(st.lists(st.tuples(PHRASE, cited_text(numbers)), min_size=1, max_size=3))
    # The summary cites every reference, so each is cited somewhere.
    summary = draw(cited_text(numbers)) + "\n\n" + " ".join(f"[{n}]" for n in numbers)
    return {
        "claim": draw(PHRASE),
        "claimant": draw(st.just("") | PHRASE),
        "claim_date": draw(st.none() | DATES),
        "claim_url": draw(st.sampled_from(["", "https://social.example/p/1"])),
        "verdict": draw(st.integers(0, 6)),
        "checked_on": draw(DATES),
        "summary": summary,
        "sections": sections,
        "conclusion_heading": draw(PHRASE),
        "conclusion": draw(cited_text(numbers)),
        "questions": draw(st.lists(PHRASE, max_size=3)),
        "topics": draw(st.lists(PHRASE, max_size=2, unique_by=str.casefold)),
        "references": [
            (number, draw(st.integers(0, len(sources) - 1)), draw(st.just("") | PHRASE))
            for number in numbers
        ],
        "sources": sources,
    }


def build(spec: dict) -> Report:
    n = next(_serial)
    verdicts = list(Verdict.objects.order_by("order", "pk"))
    report = Report.objects.create(
        claim=spec["claim"],
        slug=f"round-trip-{n}",
        verdict=verdicts[spec["verdict"] % len(verdicts)],
        checked_on=spec["checked_on"],
        summary=spec["summary"],
        conclusion_heading=spec["conclusion_heading"],
        conclusion=spec["conclusion"],
        claimant=spec["claimant"],
        claim_date=spec["claim_date"],
        claim_url=spec["claim_url"],
    )
    for position, (heading, body) in enumerate(spec["sections"], start=1):
        Section.objects.create(report=report, position=position, heading=heading, body=body)
    for position, question in enumerate(spec["questions"], start=1):
        FollowUpQuestion.objects.create(report=report, position=position, question=question)
    report.topics.set(
        Topic.objects.create(name=f"{name} {n}-{i}", slug=f"topic-{n}-{i}")
        for i, name in enumerate(spec["topics"])
    )
    sources = [make_spec_source(s, f"{n}-{i}") for i, s in enumerate(spec["sources"])]
    for number, index, pinpoint in spec["references"]:
        Reference.objects.create(
            report=report, number=number, source=sources[index], pinpoint=pinpoint
        )
    return report


def make_spec_source(spec: dict, key: str) -> Source:
    notes = ""
    published = spec["published"]
    if spec["precision"] == "month":
        published = published.replace(day=1)
        notes = f"Publication date known to the month only: {published:%Y-%m}."
    elif spec["precision"] == "year":
        published = published.replace(month=1, day=1)
        notes = f"Publication date known to the year only: {published:%Y}."
    publisher = None
    if spec["publisher"]:
        publisher = make_publisher(name=f"{spec['title']} press {key}", domain=f"p{key}.example")
    return Source.objects.create(
        title=spec["title"],
        url=f"https://s{key}.example/a/{key}",
        publisher=publisher,
        authors="\n".join(spec["authors"]),
        published_on=published,
        accessed_on=spec["accessed_on"],
        language=spec["language"],
        kind=spec["kind"],
        doi=f"10.5555/rt.{key}" if spec["doi"] else "",
        archive_url=f"https://archive.example/{key}" if spec["archive"] else "",
        archive_date=spec["archive_date"],
        url_status=spec["url_status"],
        notes=notes,
    )


def without_publication(document: dict) -> dict:
    """What a round trip keeps: everything but the publication metadata of the version."""
    return {key: value for key, value in document.items() if key != "publication"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    spec=report_specs(),
    library=st.sampled_from(["keep sources", "delete sources", "delete sources and publishers"]),
)
def test_a_published_report_exported_and_imported_again_exports_the_same(spec, library):
    with transaction.atomic():
        report = build(spec)
        exported = export_json(publish_now(report))
        assert schema_errors(json.loads(exported)) == []
        cited = list(Source.objects.filter(references__report=report).distinct())
        topics = list(report.topics.all())
        report.delete()
        if library != "keep sources":
            publishers = {s.publisher_id for s in cited}
            Source.objects.filter(pk__in=[s.pk for s in cited]).delete()
            Topic.objects.filter(pk__in=[t.pk for t in topics]).delete()
            if library == "delete sources and publishers":
                Publisher.objects.filter(pk__in=publishers).delete()
        before = Source.objects.count()

        imported = import_json(exported)
        again = export_json(publish_now(imported))

        assert without_publication(json.loads(again)) == without_publication(json.loads(exported))
        if library == "keep sources":
            assert Source.objects.count() == before, "sources should match the library"
        else:
            assert Source.objects.count() == before + len(cited)
        transaction.set_rollback(True)


# The claimant's type


def test_export_gives_the_claimant_type_frozen_with_the_version():
    report = full_report(claimant="Daily Express", claimant_type=ClaimantType.ORGANISATION)
    version = publish_now(report)
    report.claimant_type = ClaimantType.PERSON
    report.save()  # not published: readers and exports still say organisation

    document = export_document(version)

    assert document["claimant_type"] == "organisation"
    assert not schema_errors(document)


def test_import_reads_the_claimant_type(editor):
    document = export_document(publish_now(full_report(claimant_type=ClaimantType.PERSON)))
    document["slug"] = "typed-copy"

    imported = import_json(json.dumps(document), filename="typed.json", author=editor)

    assert imported.claimant_type == ClaimantType.PERSON


def test_a_document_without_a_claimant_type_imports_as_not_known(editor):
    document = export_document(publish_now(full_report(claimant_type=ClaimantType.PERSON)))
    document["slug"] = "untyped-copy"
    del document["claimant_type"]

    imported = import_json(json.dumps(document), filename="untyped.json", author=editor)

    assert imported.claimant_type == ClaimantType.UNKNOWN


def test_an_unknown_claimant_type_is_refused_with_its_path(editor):
    document = export_document(publish_now(full_report()))
    document["slug"] = "robot-copy"
    document["claimant_type"] = "robot"

    with pytest.raises(JsonFormatError) as raised:
        import_json(json.dumps(document), filename="robot.json", author=editor)

    assert (
        "claimant_type",
        "“robot” is not a claimant type (one of person, organisation, unknown)",
    ) in raised.value.problems
    assert not Report.objects.filter(slug="robot-copy").exists()


def test_a_source_without_a_url_is_exported_and_imported_with_its_identifiers(report):
    book = make_source(
        url="", title="A book", isbn="0-306-40615-2", where_to_find="City library, shelf 4"
    )
    Reference.objects.filter(report=report, number=2).update(source=book)
    document = export_document(publish_now(report))
    exported = document["references"][1]["source"]
    assert (exported["url"], exported["isbn"], exported["where_to_find"]) == (
        "",
        "9780306406157",
        "City library, shelf 4",
    )
    # Matched by its ISBN, however written; a new URL-less book is created with its details.
    document["slug"] = "imported-copy"
    document["references"][0]["source"] = {
        "title": "An interview with the harbour master",
        "where_to_find": "Recording on file",
        "handle": "hdl:10568/68124",
    }
    exported["isbn"] = "978-0-306-40615-7"

    imported = import_json(json.dumps(document))

    first, second = (r.source for r in imported.references.order_by("number"))
    assert second == book
    assert (first.url, first.handle, first.where_to_find) == (
        "",
        "10568/68124",
        "Recording on file",
    )
