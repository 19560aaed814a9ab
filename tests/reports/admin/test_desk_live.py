"""Feedback while typing: the checklist, paragraph statuses and preview from the unsaved form."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.models import Reference, Report, Section, Verdict
from tests.conftest import make_report, make_source, make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NEW = reverse("admin:reports_report_live_new")


def live_url(report):
    return reverse("admin:reports_report_live", args=[report.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def status_block(response, text_id: str) -> str:
    """The words of the out-of-band block under one textarea."""
    html = response.content.decode()
    match = re.search(rf'<div id="paragraphs-{text_id}"[^>]*>(.*?)</div>', html, re.S)
    assert match, f"no status block for {text_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def form_data(*, sections=(), references=(), **fields) -> dict:
    """What the report add form posts: its fields and the three inlines' rows."""
    data = {
        "claim": "",
        "slug": "",
        "verdict": "",
        "checked_on": "",
        "summary": "",
        "conclusion_heading": "Conclusion",
        "conclusion": "",
        **fields,
    }
    for prefix, rows in [("sections", sections), ("references", references), ("questions", ())]:
        data |= {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0}
        for index, row in enumerate(rows):
            data |= {f"{prefix}-{index}-{name}": value for name, value in row.items()}
        # The inline's empty template row is posted too, and must be ignored.
        data[f"{prefix}-__prefix__-position"] = "0"
    return data


def cited_form(**fields) -> dict:
    source = make_source()
    return form_data(
        sections=[{"position": "1", "heading": "What was said", "body": "It was said [1]."}],
        references=[{"number": "1", "source": str(source.pk), "pinpoint": ""}],
        **{
            "claim": "The moon is made of cheese.",
            "slug": "moon-cheese",
            "verdict": str(Verdict.objects.get(slug="false").pk),
            "checked_on": "2026-02-12",
            "summary": "It is rock [1].",
            "conclusion": "So it is false [1].",
            **fields,
        },
    )


def test_a_blank_new_report_lists_what_is_missing_and_saves_nothing(editor_client):
    reports = Report.objects.count()

    response = editor_client.post(NEW, form_data(), headers=HTMX)

    assert response.status_code == 200
    words = text(response)
    assert "Publish checklist: 6 problems" in words
    for problem in [
        "The claim is missing.",
        "No verdict is chosen.",
        "The “checked on” date is missing.",
        "The executive summary is empty.",
        "The report has no sections.",
        "The conclusion is empty.",
    ]:
        assert problem in words
    assert "Checks the form as typed, before saving." in words
    assert Report.objects.count() == reports


def test_a_fully_cited_new_report_is_ready_to_publish_before_it_is_saved(editor_client):
    response = editor_client.post(NEW, cited_form(), headers=HTMX)

    assert "Passes every publish check" in text(response)
    assert status_block(response, "id_summary") == "¶1 cited [1]"
    assert status_block(response, "id_sections-0-body") == "¶1 cited [1]"
    assert status_block(response, "id_conclusion") == "¶1 cited [1]"
    assert not Report.objects.filter(slug="moon-cheese").exists()


def test_each_paragraph_says_whether_it_is_cited_and_its_markers_resolve(editor_client):
    summary = "Cited here [1].\n\nNot cited here.\n\nCites a stranger [1] [7]."

    response = editor_client.post(NEW, cited_form(summary=summary), headers=HTMX)

    assert status_block(response, "id_summary") == (
        "¶1 cited [1] ¶2 has no citation. ¶3 cites [7], which is not a reference of this report."
    )
    # The checklist keeps its wording, and links to the textarea concerned.
    assert (
        '<a href="#id_summary">Executive summary, paragraph 2 has no citation.</a>'
        in response.content.decode()
    )


def test_a_marker_the_parser_cannot_read_is_listed_beside_its_paragraph(editor_client):
    summary = "A list [1, 1].\n\nA typo [1,] here [1]."

    response = editor_client.post(NEW, cited_form(summary=summary), headers=HTMX)

    assert status_block(response, "id_summary") == (
        "¶1 cited [1] ¶2 has “[1,]”, which is not a citation Factually can read: "
        "write a citation as [3], [3, 4] or [3–5]."
    )
    assert "Passes every publish check" not in text(response)


def test_the_status_blocks_follow_the_section_rows_as_posted(editor_client):
    data = cited_form()
    data |= {
        "sections-TOTAL_FORMS": 3,
        # A deleted row and a blank one count for nothing, but their blocks are cleared.
        "sections-1-heading": "Gone",
        "sections-1-body": "Uncited.",
        "sections-1-DELETE": "on",
        "sections-2-heading": "",
        "sections-2-body": "",
    }

    response = editor_client.post(NEW, data, headers=HTMX)

    assert "Passes every publish check" in text(response)
    assert status_block(response, "id_sections-1-body") == ""
    assert status_block(response, "id_sections-2-body") == ""


def test_the_preview_renders_the_unsaved_form_sanitised(editor_client):
    data = cited_form(summary="Rock, not <script>alert(1)</script> cheese [1].")
    data["_live_preview"] = "1"

    response = editor_client.post(NEW, data, headers=HTMX)

    html = response.content.decode()
    assert 'id="live-preview-body"' in html
    assert "The moon is made of cheese." in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="#ref-1"' in html


def test_without_the_preview_open_no_preview_is_rendered(editor_client):
    response = editor_client.post(NEW, cited_form(), headers=HTMX)

    assert 'id="live-preview-body"' not in response.content.decode()


@pytest.mark.parametrize("count", [1, 12])
def test_the_query_count_does_not_grow_with_sections_or_references(editor_client, count):
    sources = [make_source() for _ in range(count)]
    markers = " ".join(f"[{n}]" for n in range(1, count + 1))
    data = form_data(
        claim="Many sources say so.",
        slug="many-sources",
        verdict=str(Verdict.objects.get(slug="false").pk),
        checked_on="2026-02-12",
        summary=f"All {markers}.",
        conclusion=f"All {markers}.",
        sections=[
            {"position": str(n), "heading": f"H{n}", "body": f"B {markers}."} for n in range(count)
        ],
        references=[
            {"number": str(n), "source": str(s.pk)} for n, s in enumerate(sources, start=1)
        ],
    )
    data["_live_preview"] = "1"
    editor_client.post(NEW, data, headers=HTMX)  # sessions and the like, once

    with CaptureQueriesContext(connection) as queries:
        response = editor_client.post(NEW, data, headers=HTMX)

    assert "Passes every publish check" in text(response)
    assert len(queries) <= 6, [q["sql"] for q in queries]


def test_an_existing_report_is_checked_as_typed_not_as_saved(editor_client):
    report = make_report()
    data = form_data(
        claim=report.claim,
        slug=report.slug,
        verdict=str(report.verdict_id),
        checked_on="2026-01-27",
        summary="Changed, and no longer cited.",
        conclusion=report.conclusion,
        conclusion_heading=report.conclusion_heading,
        sections=[
            {"position": str(s.position), "heading": s.heading, "body": s.body, "id": str(s.pk)}
            for s in report.sections.all()
        ],
        references=[
            {"number": str(r.number), "source": str(r.source_id)} for r in report.references.all()
        ],
    )
    edit_version = report.edit_version

    response = editor_client.post(live_url(report), data, headers=HTMX)

    assert "Executive summary, paragraph 1 has no citation." in text(response)
    report.refresh_from_db()
    assert report.summary != "Changed, and no longer cited."
    assert report.edit_version == edit_version
    assert Section.objects.filter(report=report).count() == 2
    assert Reference.objects.filter(report=report).count() == 2


def test_staff_who_may_not_change_reports_are_refused(client, editor_client):
    viewer = make_user("viewer")
    viewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="reports", codename="view_report")
    )
    client.force_login(viewer)
    report = make_report()

    assert client.post(NEW, form_data(), headers=HTMX).status_code == 403
    assert client.post(live_url(report), form_data(), headers=HTMX).status_code == 403
    # Its change form offers none of it.
    page = client.get(reverse("admin:reports_report_change", args=[report.pk]))
    assert 'id="desk-live"' not in page.content.decode()


def test_a_get_is_refused_and_a_post_needs_the_csrf_token(editor, editor_client):
    from django.test import Client

    assert editor_client.get(NEW).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(NEW, form_data(), headers=HTMX).status_code == 403


def test_the_editor_pages_wire_the_live_feedback(editor_client):
    add = editor_client.get(reverse("admin:reports_report_add")).content.decode()
    report = make_report()
    change = editor_client.get(reverse("admin:reports_report_change", args=[report.pk]))

    assert f'hx-post="{NEW}"' in add
    assert 'id="publish-checklist"' in add  # filled in as soon as the page loads
    assert f'hx-post="{live_url(report)}"' in change.content.decode()
    assert 'id="live-preview-toggle"' in add
    assert "admin-extra/desk-live.js" in add
