"""Citation markers as a journalist writes them ([1, 2], [3–5], [4-5], [6][7], [2; 6]) come
in through every importer with all their references, and go out exactly as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reports import publishing
from reports.content import ReportContent
from reports.formats import archive, archive_import, importing
from reports.formats.json_import import import_json
from reports.formats.jsonformat import export_json
from reports.formats.markdownformat import export_markdown
from reports.formats.textformat import export_text
from reports.models import Reference, Report, Verdict
from sources.models import Publisher, Source, SourceMerge
from tests.conftest import make_source, publish_now

pytestmark = pytest.mark.django_db

# Hand-written, every marker form mixed in one report, as people type them: lists with and
# without spaces, ranges with hyphens, en and em dashes, adjacent and spaced markers.
SAMPLE = (Path(__file__).parent / "samples" / "marker-forms.txt").read_text(encoding="utf-8")
FORMS = ["[1, 2]", "[3–5]", "[6][7]", "[8,9]", "[2] [3]", "[4-5]", "[11—12]", "[2; 6]",
         "[3 – 5]", "[13, 14, 15]", "[13–15]", "[16], [17]", "[1–3, 6]", "[4–5, 11]"]  # fmt: skip


def texts(report: Report) -> list[str]:
    return [report.summary, *report.sections.values_list("body", flat=True), report.conclusion]


def published(report: Report):
    """`report` with every reference linked to a source of its own, a verdict, published."""
    for reference in report.references.all():
        Reference.objects.filter(pk=reference.pk).update(source=make_source())
    Report.objects.filter(pk=report.pk).update(verdict=Verdict.objects.get(slug="misleading"))
    report.refresh_from_db()
    return publish_now(report)


def test_the_sample_uses_every_form():
    for form in FORMS:
        assert form in SAMPLE, form


def test_a_text_import_creates_every_reference_a_list_or_range_cites():
    report = importing.import_report(SAMPLE, filename="marker-forms.txt")

    assert list(report.references.values_list("number", flat=True)) == list(range(1, 18))
    problems = [str(p) for p in publishing.check(report)]
    assert not [p for p in problems if "not a reference" in p or "has no citation" in p]
    assert not [p for p in problems if "never cited" in p]


def test_a_text_import_exports_back_byte_for_byte():
    report = importing.import_report(SAMPLE, filename="marker-forms.txt")

    assert export_text(ReportContent.from_report(report)) == SAMPLE


def test_an_import_lists_what_looks_like_a_marker_but_does_not_read():
    text = SAMPLE.replace("[8,9]", "[8,]").replace("[10].\n", "[citation needed].\n", 1)

    result = importing.preview_import(text, filename="typos.txt")

    problems = [str(p) for p in result.problems]
    assert (
        "Section 1, paragraph 1 has “[8,]”, which is not a citation Factually can read: "
        "write a citation as [3], [3, 4] or [3–5]." in problems
    )
    assert (
        "Section 1, paragraph 1 has “[citation needed]”, which is not a citation Factually "
        "can read: cite the source, or take the placeholder out." in problems
    )
    # Nothing is read into what does not read: "[8,]" creates no reference 9.
    assert 9 not in [r.number for r in result.content.references]


def test_json_export_and_import_keep_lists_and_ranges_as_written():
    report = importing.import_report(SAMPLE, filename="marker-forms.txt")
    document = json.loads(export_json(published(report)))
    document["slug"] = "imported-copy"

    copy = import_json(json.dumps(document), filename="copy.json")

    assert texts(copy) == texts(report)
    assert list(copy.references.values_list("number", "source")) == list(
        report.references.values_list("number", "source")
    )
    assert publishing.check(copy) == []


def test_markdown_export_gives_each_number_of_a_list_or_range_its_footnote():
    report = importing.import_report(SAMPLE, filename="marker-forms.txt")

    markdown = export_markdown(published(report))

    assert "not 100% [^1][^2]. The" in markdown
    assert "peak month [^3][^4][^5], and" in markdown
    assert "[^11][^12]." in markdown
    assert "[^1][^2][^3][^6]. The claim" in markdown
    cited = {int(n) for n in re.findall(r"\[\^(\d+)\](?!:)", markdown)}
    assert cited == set(range(1, 18))


def test_an_archive_round_trip_keeps_the_text_as_written():
    report = importing.import_report(SAMPLE, filename="marker-forms.txt")
    published(report)
    before = texts(report)
    exported = archive.dumps(archive.export_archive())
    Report.objects.all().delete()
    SourceMerge.objects.all().delete()
    Source.objects.all().delete()
    Publisher.objects.all().delete()

    archive_import.import_archive(exported)

    restored = Report.objects.get()
    assert texts(restored) == before
    assert export_text(ReportContent.from_report(restored)) == SAMPLE
    assert list(restored.references.values_list("number", flat=True)) == list(range(1, 18))
