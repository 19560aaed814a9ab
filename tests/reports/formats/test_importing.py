"""Importing plain-text reports as drafts, and the import_report and export_report commands."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils.text import slugify
from reversion.models import Version

from reports import publishing
from reports.content import ReportContent
from reports.formats.errors import TextFormatError
from reports.formats.importing import import_report, import_text, preview_import
from reports.formats.textformat import export_text
from reports.models import FollowUpQuestion, Reference, Report, Section
from tests.conftest import make_report, publish_now
from tests.reports.formats.test_textformat import EXAMPLE, EXAMPLE_PATH, MALFORMED

pytestmark = pytest.mark.django_db

EXAMPLE_SLUG = "the-de-stalinisation-movement-was-a-conspiracy-of-falsehoods-against-stalins"


def claim_text(claim: str) -> str:
    """The example with another claim on its first line."""
    return claim + EXAMPLE[EXAMPLE.index("\n") :]


def row_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Report, Section, Reference, FollowUpQuestion))


def run(command: str, *args) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(command, *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_importing_the_example_creates_a_draft_with_sections_questions_and_references(editor):
    report = import_report(EXAMPLE, filename="destalinisation.txt", author=editor)

    report.refresh_from_db()
    assert report.status == Report.Status.DRAFT
    assert report.verdict is None
    assert report.author == editor
    assert report.checked_on == datetime.date(2026, 1, 27)
    assert report.conclusion_heading.startswith("Conclusion: neither total conspiracy")
    assert list(report.sections.values_list("position", flat=True)) == [1, 2, 3, 4]
    assert report.sections.first().heading.startswith("Documented abuses")
    assert report.questions.count() == 3
    assert list(report.references.values_list("number", "source")) == [
        (n, None) for n in range(1, 10)
    ]


def test_an_imported_report_exports_back_to_the_same_text():
    report = import_report(EXAMPLE)

    assert export_text(ReportContent.from_report(report)) == EXAMPLE + "\n"


def test_the_import_is_refused_by_the_publish_check_until_references_are_linked():
    report = import_report(EXAMPLE)

    problems = [str(p) for p in publishing.check(report)]

    assert "No verdict is chosen." in problems
    assert "Reference [9] is not linked to a source." in problems


def test_the_slug_comes_from_the_claim_cut_at_a_word_boundary_within_80_characters():
    report = import_report(EXAMPLE)

    assert report.slug == EXAMPLE_SLUG
    assert len(report.slug) <= 80
    assert slugify(report.claim).startswith(report.slug + "-")


def test_importing_the_same_claim_again_numbers_the_slug():
    slugs = [import_report(EXAMPLE).slug for _ in range(3)]

    assert slugs == [EXAMPLE_SLUG, EXAMPLE_SLUG + "-2", EXAMPLE_SLUG + "-3"]
    assert all(len(slug) <= 80 for slug in slugs)


def test_a_slug_still_live_on_a_published_version_is_not_reused():
    published = make_report(claim="Dogs dream.", slug="dogs-dream")
    publish_now(published)
    # The working copy has been renamed since; its live version keeps the old slug.
    Report.objects.filter(pk=published.pk).update(slug="dogs-dream-old")

    report = import_report(claim_text("Dogs dream."))

    assert report.slug == "dogs-dream-2"


def test_a_claim_with_nothing_to_slugify_still_gets_a_slug():
    assert import_report(claim_text("???")).slug == "report"


@pytest.mark.parametrize(("text", "line", "words"), MALFORMED)
def test_a_malformed_text_saves_nothing_and_says_where(text, line, words):
    make_report()
    before = row_counts()

    with pytest.raises(TextFormatError) as raised:
        import_report(text, filename="bad.txt")

    assert (raised.value.filename, raised.value.line) == ("bad.txt", line)
    assert words in raised.value.message
    assert row_counts() == before


def test_a_preview_saves_nothing_and_says_what_the_draft_would_be():
    result = preview_import(EXAMPLE, filename="destalinisation.txt")

    assert result.report is None
    assert row_counts() == (0, 0, 0, 0)
    assert result.content.claim.startswith("The de-Stalinisation movement")
    assert result.reference_count == 9
    # Every import still needs a verdict and its sources; only other problems are listed.
    assert result.problems == ()


def test_importing_a_text_records_who_and_keeps_a_revision(editor):
    result = import_text(EXAMPLE, filename="destalinisation.txt", author=editor)

    report = result.report
    assert (report.author, report.last_edited_by) == (editor, editor)
    revision = Version.objects.get_for_object(report).get().revision
    assert (revision.user, revision.comment) == (editor, "Imported from destalinisation.txt.")
    # The revision holds the report with its parts, so it can be restored.
    assert {v.content_type.model for v in revision.version_set.all()} == {
        "report",
        "section",
        "reference",
        "followupquestion",
    }


def test_a_partial_import_lists_what_is_missing_as_problems():
    text = EXAMPLE[: EXAMPLE.index("5. Conclusion")] + "5. Conclusion: neither total"

    result = import_text(text, filename="cut.txt", partial=True)

    assert result.report.status == Report.Status.DRAFT
    assert result.report.conclusion_heading == "Conclusion: neither total"
    assert [str(p) for p in result.problems] == [
        "Missing where the text stops: the text of the conclusion and the follow-up questions.",
        "The conclusion is empty.",
    ]


def test_a_database_failure_part_way_through_saves_nothing(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(FollowUpQuestion.objects, "bulk_create", fail)

    with pytest.raises(RuntimeError):
        import_report(EXAMPLE)

    assert row_counts() == (0, 0, 0, 0)


def test_import_command_reads_windows_line_endings_and_a_bom(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.replace("\n", "\r\n").encode("utf-8"))

    stdout, _ = run("import_report", str(path))

    assert stdout.startswith('Imported "The de-Stalinisation movement')
    report = Report.objects.get()
    assert export_text(ReportContent.from_report(report)) == EXAMPLE + "\n"


def test_import_command_records_the_author(tmp_path, editor):
    path = tmp_path / "report.txt"
    path.write_text(EXAMPLE, encoding="utf-8")

    run("import_report", str(path), "--author", "editor")

    assert Report.objects.get().author == editor


def test_export_command_writes_exactly_the_imported_file_to_stdout():
    run("import_report", str(EXAMPLE_PATH))

    stdout, _ = run("export_report", EXAMPLE_SLUG)

    assert stdout == EXAMPLE + "\n"


def test_export_command_can_write_to_a_file(tmp_path):
    import_report(EXAMPLE)
    output = tmp_path / "out.txt"

    run("export_report", EXAMPLE_SLUG, "--output", str(output))

    assert output.read_bytes() == (EXAMPLE + "\n").encode("utf-8")


def test_export_command_refuses_an_unknown_slug():
    with pytest.raises(CommandError, match="No report with slug “nothing-here”"):
        run("export_report", "nothing-here")
