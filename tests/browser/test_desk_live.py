"""Feedback while typing, in a real Chromium: the checklist, each paragraph's citations and the
preview follow the unsaved form of a new report."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from reports import roles
from reports.models import Report
from tests.browser.test_accessibility import _violations
from tests.browser.test_editorial_workflow import _add_reference, _log_in
from tests.conftest import make_source, make_user


def test_a_new_report_turns_green_as_it_is_typed_without_saving(page, page_errors):
    editor = make_user("ana", roles.EDITOR)
    source = make_source(title="Lunar samples returned by Apollo")
    _log_in(page, editor.username)
    page.goto("/admin/reports/report/add/")

    checklist = page.locator("#publish-checklist")
    # Checked from the blank form as soon as the page loads.
    expect(checklist).to_contain_text("The claim is missing.")
    page.get_by_label("Claim:", exact=True).fill("The moon is made of cheese.")
    page.get_by_label("Verdict:").select_option(label="False")
    page.get_by_label("Checked on:").fill("2026-02-12")
    summary = page.get_by_label("Executive summary:")
    summary.fill("Apollo brought back rock [1].\n\nEveryone knows it.")

    # The paragraph without a marker says so beside the summary, not only at the top.
    status = page.locator("#paragraphs-id_summary")
    expect(status).to_contain_text("¶1 cites [1], which is not a reference of this report.")
    expect(status).to_contain_text("¶2 has no citation.")
    # And screen readers hear it with the field.
    expect(summary).to_have_accessible_description(re.compile("¶2 has no citation"))

    summary.fill("Apollo brought back rock [1].")
    page.get_by_role("button", name="Add another Section").click()
    page.locator("#id_sections-0-heading").fill("What the samples show")
    page.locator("#id_sections-0-body").fill("Basalt and anorthosite [1].")
    page.get_by_label("Conclusion:", exact=True).fill("So the claim is false [1].")
    expect(checklist).to_contain_text("Conclusion, paragraph 1 cites [1], which is not a")
    _add_reference(page, 0, "lunar", source)

    expect(checklist).to_contain_text("Passes every publish check")
    expect(status).to_have_text("¶1 cited [1]")
    expect(page.locator("#paragraphs-id_sections-0-body")).to_have_text("¶1 cited [1]")

    # The preview shows the unsaved report as readers will see it.
    toggle = page.get_by_role("button", name="Show preview")
    toggle.click()
    preview = page.locator("#live-preview")
    expect(preview).to_be_visible()
    expect(page.get_by_role("button", name="Hide preview")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(preview.get_by_role("heading", name="The moon is made of cheese.")).to_be_visible()
    expect(preview).to_contain_text("Basalt and anorthosite")
    expect(preview).to_contain_text("Lunar samples returned by Apollo")
    assert _violations(page) == ""
    page.get_by_role("button", name="Hide preview").click()
    expect(preview).to_be_hidden()

    assert not Report.objects.exists()  # nothing was saved
    assert page_errors == []
