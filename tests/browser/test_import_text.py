"""Import from text in a real Chromium: paste, preview, confirm; the text survives the trip."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reports import roles
from reports.content import ReportContent
from reports.formats.textformat import export_text
from reports.models import Report
from tests.conftest import make_user
from tests.reports.formats.test_textformat import EXAMPLE

SCREENSHOT = None  # set to a path to look at the preview while developing


@pytest.fixture
def editor_page(page):
    make_user("ana", roles.EDITOR)
    page.goto("/admin/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    return page


def test_an_editor_pastes_previews_and_creates_a_draft(editor_page, page_errors):
    page = editor_page
    page.goto("/admin/reports/report/")
    page.get_by_role("link", name="Import from text").click()
    # Leading blank lines and page furniture come along when text is copied from a page.
    page.get_by_label("Text of the report").fill(
        "\nKeep Factually independent\nDonate\nLoading...\n"
        + EXAMPLE
        + "\nWas this fact-check helpful?\nYes\nNo"
    )
    page.get_by_role("button", name="Preview the draft").click()

    expect(page.get_by_role("heading", name="Preview: nothing has been saved yet")).to_be_visible()
    expect(page.get_by_text("Section 4: Consequences in the Eastern Bloc")).to_be_visible()
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)
    assert Report.objects.count() == 0

    page.get_by_role("button", name="Create the draft").click()

    expect(page.get_by_text("Imported “The de-Stalinisation movement")).to_be_visible()
    report = Report.objects.get()
    assert page.url.endswith(f"/admin/reports/report/{report.pk}/change/")
    assert export_text(ReportContent.from_report(report)) == EXAMPLE + "\n"
    assert page_errors == []
