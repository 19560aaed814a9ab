"""Publishing: every check, the frozen version, and the command-line entry point."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reports import publishing, workflow
from reports.models import PublishedVersion, Reference, Report, Section
from sources.models import Source
from tests.conftest import make_report, make_source, publish_now

pytestmark = pytest.mark.django_db


def messages(report):
    return [str(problem) for problem in publishing.check(report)]


def test_a_complete_cited_report_has_no_problems(report):
    assert messages(report) == []


def test_missing_essentials_are_each_named():
    report = make_report(
        claim=" ", verdict=None, checked_on=None, summary="", conclusion="", sections=0
    )

    problems = messages(report)

    for expected in [
        "The claim is missing.",
        "No verdict is chosen.",
        "The “checked on” date is missing.",
        "The executive summary is empty.",
        "The report has no sections.",
        "The conclusion is empty.",
    ]:
        assert expected in problems


def test_an_uncited_paragraph_is_named_by_section_and_paragraph():
    report = make_report(sections=3)
    Section.objects.filter(report=report, position=3).update(
        body="Cited first paragraph [1].\n\nAn uncited second paragraph."
    )

    assert "Section 3, paragraph 2 has no citation." in messages(report)


def test_uncited_paragraphs_in_summary_and_conclusion_are_named():
    report = make_report(summary="Cited [1] [2].\n\nNot cited.", conclusion="Not cited either.")

    problems = messages(report)

    assert "Executive summary, paragraph 2 has no citation." in problems
    assert "Conclusion, paragraph 1 has no citation." in problems


def test_a_marker_with_no_matching_reference_is_named():
    report = make_report(summary="Cites a missing reference [1] [2] [9].")

    assert (
        "Executive summary, paragraph 1 cites [9], which is not a reference of this report."
        in messages(report)
    )


def test_a_zero_marker_is_not_a_valid_reference_number():
    report = make_report(conclusion="Odd marker [1] [2] [0].")

    assert "Conclusion, paragraph 1 has [0], which is not a valid reference number." in messages(
        report
    )


def test_an_unlinked_reference_blocks_publishing():
    report = make_report(linked=False)

    problems = messages(report)

    assert "Reference [1] is not linked to a source." in problems
    assert "Reference [2] is not linked to a source." in problems


def test_a_reference_to_a_retired_source_blocks_publishing(report):
    Source.objects.filter(references__report=report, references__number=2).update(
        status=Source.Status.RETIRED
    )

    assert any(p.startswith("Reference [2] cites a retired source") for p in messages(report))


def test_a_reference_that_is_never_cited_blocks_publishing(report):
    Reference.objects.create(report=report, number=3, source=make_source())

    assert "Reference [3] is never cited." in messages(report)


def test_publish_refuses_with_every_problem_at_once_and_saves_nothing():
    report = make_report(verdict=None, linked=False, summary="No citation at all.")

    with pytest.raises(workflow.PublishRefused) as refusal:
        publish_now(report)

    problems = [str(p) for p in refusal.value.problems]
    assert "No verdict is chosen." in problems
    assert "Executive summary, paragraph 1 has no citation." in problems
    assert "Reference [1] is not linked to a source." in problems
    assert not PublishedVersion.objects.exists()
    report.refresh_from_db()
    assert report.status == Report.Status.IN_REVIEW


def test_publish_freezes_a_live_version_with_content_sources_and_html(report, editor):
    version = publish_now(report, by=editor)

    assert version.is_live
    assert version.number == 1
    assert version.published_by == editor
    assert version.claim == report.claim
    assert version.checked_on == datetime.date(2026, 1, 27)
    assert version.content["sections"][0]["heading"] == "Heading 1"
    first_source = report.references.get(number=1).source
    assert version.content["references"][0]["source"]["title"] == first_source.title
    assert 'id="ref-1"' in version.body_html
    assert 'href="#ref-1"' in version.body_html
    report.refresh_from_db()
    assert report.status == Report.Status.PUBLISHED
    assert not report.has_unpublished_changes


def test_editing_after_publishing_changes_nothing_public_until_republished(report):
    version = publish_now(report)
    source = report.references.get(number=1).source
    report.claim = "An edited claim."
    report.save()
    Section.objects.filter(report=report, position=1).update(heading="Edited heading")
    Source.objects.filter(pk=source.pk).update(title="Renamed source")

    version.refresh_from_db()
    report.refresh_from_db()
    assert version.claim != "An edited claim."
    assert version.content["sections"][0]["heading"] == "Heading 1"
    assert version.content["references"][0]["source"]["title"] != "Renamed source"
    assert report.has_unpublished_changes

    republished = publish_now(report, note="Sharper claim.")

    version.refresh_from_db()
    assert not version.is_live
    assert republished.is_live
    assert republished.number == 2
    assert republished.claim == "An edited claim."
    assert republished.change_note == "Sharper claim."
    assert PublishedVersion.objects.live().filter(report=report).count() == 1


def test_a_failure_halfway_through_publishing_leaves_the_live_version_as_it_was(
    report, monkeypatch
):
    first = publish_now(report)

    def broken_render(content):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(publishing, "render_body", broken_render)
    report.claim = "An edit that will fail to publish."
    report.save()
    with pytest.raises(RuntimeError):
        publish_now(report)

    first.refresh_from_db()
    assert first.is_live
    assert PublishedVersion.objects.filter(report=report).count() == 1


def test_preview_renders_the_working_copy_without_saving_anything(report):
    report.claim = "Unpublished wording."

    preview = publishing.preview(report)

    assert preview.pk is None
    assert preview.claim == "Unpublished wording."
    assert "Heading 1" in preview.body_html
    assert not PublishedVersion.objects.exists()


def test_publish_report_command_publishes_and_says_where(report):
    out = StringIO()

    call_command("publish_report", report.slug, "--submit", stdout=out)

    assert PublishedVersion.objects.live().filter(report=report).exists()
    assert f"/reports/{report.slug}/" in out.getvalue()


def test_publish_report_command_lists_every_problem_and_fails():
    report = make_report(verdict=None, linked=False)
    err = StringIO()

    with pytest.raises(CommandError, match="Not published: 3 problems"):
        call_command("publish_report", report.slug, "--submit", stderr=err)

    assert "No verdict is chosen." in err.getvalue()
    assert "Reference [1] is not linked to a source." in err.getvalue()
    assert "Reference [2] is not linked to a source." in err.getvalue()
    assert not PublishedVersion.objects.exists()


def test_publish_report_command_exits_non_zero_for_an_unknown_slug(db):
    with pytest.raises(CommandError, match="No report with slug"):
        call_command("publish_report", "no-such-report")


def test_saving_a_copy_loaded_before_publishing_keeps_the_report_published(report):
    stale = Report.objects.get(pk=report.pk)
    publish_now(report)

    stale.claim = "Edited in a form opened before publishing."
    stale.save()

    stale.refresh_from_db()
    assert stale.status == Report.Status.PUBLISHED
    assert stale.has_unpublished_changes


# Markers as people write them


def test_lists_and_ranges_cite_every_reference_they_cover():
    report = make_report(
        references=7,
        summary="Listed [1, 2] and [3,4].\n\nA range [5–7].",
        conclusion="Mixed [1][2] [3-5] [6; 7].",
    )
    Section.objects.filter(report=report).update(body="Cited [1–7].")

    assert messages(report) == []


def test_a_number_of_a_list_or_range_with_no_reference_is_named():
    report = make_report(references=3, summary="Cites [1, 2] and a stranger [2–4].")

    assert (
        "Executive summary, paragraph 1 cites [4], which is not a reference of this report."
        in messages(report)
    )


def test_what_looks_like_a_citation_but_does_not_read_is_named_with_its_paragraph():
    report = make_report(sections=2)
    Section.objects.filter(report=report, position=2).update(
        body="Cited [1] [2].\n\nA typo [1,] and a range backwards [2–1] [2].\n\n"
        "Still to find [citation needed] [1]."
    )

    problems = messages(report)

    assert (
        "Section 2, paragraph 2 has “[1,]”, which is not a citation Factually can read: "
        "write a citation as [3], [3, 4] or [3–5]." in problems
    )
    assert (
        "Section 2, paragraph 2 has “[2–1]”, which is not a citation Factually can read: "
        "a range runs upwards, as in [1–2]." in problems
    )
    assert (
        "Section 2, paragraph 3 has “[citation needed]”, which is not a citation Factually "
        "can read: cite the source, or take the placeholder out." in problems
    )
    assert len(problems) == 3


def test_editorial_brackets_and_links_are_not_problems():
    report = make_report(
        summary="He said “[the] figures were [sic] wrong” [1] [2], see [the data](https://x.example/d)."
    )

    assert messages(report) == []


def test_publish_refuses_a_report_with_a_marker_that_does_not_read():
    report = make_report(conclusion="So it is false [1] [2] [3 and 4].")

    with pytest.raises(workflow.PublishRefused) as refusal:
        publish_now(report)

    assert any("“[3 and 4]”" in str(problem) for problem in refusal.value.problems)
    assert not PublishedVersion.objects.filter(report=report).exists()
