"""The report editor as a page, in a real Chromium: sections and questions reordered by
buttons (keyboard too) and by drag, the report list at 1280 pixels, the warning before
leaving unsaved changes, axe and the CSP on the editor page."""

from __future__ import annotations

from playwright.sync_api import expect

from reports import roles
from reports.models import Report
from tests.browser.test_accessibility import _violations
from tests.conftest import make_report, make_user, publish_now

PASSWORD = "correct horse battery"  # what make_user sets


def _log_in(page, username):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Newsroom")).to_be_visible()


def _editor_on(page, report):
    make_user("ana", roles.EDITOR)
    _log_in(page, "ana")
    page.goto(f"/admin/reports/report/{report.pk}/change/")


def _save(page):
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")


def _headings(report: Report) -> list[str]:
    return list(report.sections.order_by("position", "pk").values_list("heading", flat=True))


def test_sections_move_with_buttons_and_the_keyboard_and_keep_their_new_order(page, page_errors):
    report = make_report(sections=3)
    _editor_on(page, report)

    # The typed position is gone: the order of the rows is the order.
    expect(page.locator("#id_sections-0-position")).to_be_hidden()
    expect(page.get_by_role("button", name="Move section 1 up")).to_be_disabled()
    page.get_by_role("button", name="Move section 3 up").click()
    # Keyboard: the focused button follows its row.
    down = page.get_by_role("button", name="Move section 1 down")
    down.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move section 2 down")).to_be_focused()
    expect(page.locator("#sections-group .inline-related:not(.empty-form) h3")).to_contain_text(
        ["Heading 3", "Heading 1", "Heading 2"]
    )
    _save(page)

    assert _headings(report) == ["Heading 3", "Heading 1", "Heading 2"]
    page.reload()
    expect(page.locator("#id_sections-0-heading")).to_have_value("Heading 3")
    assert page_errors == []


def test_questions_and_sections_reorder_by_dragging_their_handle(page, page_errors):
    report = make_report(sections=3, questions=3)
    _editor_on(page, report)

    # Past the middle of the last question, then above the middle of the first section.
    last = page.locator("#questions-2")
    page.locator("#questions-group .desk-drag-handle").nth(0).drag_to(
        last, target_position={"x": 10, "y": last.bounding_box()["height"] - 2}
    )
    page.locator("#sections-group .desk-drag-handle").nth(2).drag_to(
        page.locator("#sections-0"), target_position={"x": 10, "y": 2}
    )
    _save(page)

    questions = list(report.questions.order_by("position", "pk").values_list("question", flat=True))
    assert questions == [
        "What about question 2?",
        "What about question 3?",
        "What about question 1?",
    ]
    assert _headings(report) == ["Heading 3", "Heading 1", "Heading 2"]
    assert page_errors == []


def test_a_new_section_goes_last_without_a_typed_position(page, page_errors):
    report = make_report(sections=2)
    _editor_on(page, report)

    page.get_by_role("button", name="Add another Section").click()
    page.locator("#id_sections-2-heading").fill("A third heading")
    page.locator("#id_sections-2-body").fill("A third body [1].")
    _save(page)

    assert _headings(report) == ["Heading 1", "Heading 2", "A third heading"]
    assert page_errors == []


def test_saving_the_form_unchanged_does_not_rewrite_the_positions(page, page_errors):
    report = make_report(sections=2)
    version = report.edit_version
    _editor_on(page, report)

    _save(page)

    assert list(report.sections.values_list("position", flat=True)) == [1, 2]
    assert not report.contributions.exclude(what="Created the report.").exists(), (
        "an unchanged save is not writing"
    )
    report.refresh_from_db()
    assert report.edit_version == version + 1


def test_leaving_with_unsaved_changes_asks_first_and_saving_does_not(page, page_errors):
    report = make_report()
    _editor_on(page, report)
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_label("Executive summary:").fill("A changed summary [1] [2].")
    page.get_by_role("link", name="Home", exact=True).click(no_wait_after=True)

    expect(page.get_by_label("Executive summary:")).to_have_value("A changed summary [1] [2].")
    assert dialogs == ["beforeunload"]
    _save(page)
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Newsroom")).to_be_visible()
    assert dialogs == ["beforeunload"]
    assert page_errors == []


def test_the_report_list_fits_1280_pixels_without_cutting_a_column(page, page_errors):
    make_user("chief", is_superuser=True)
    for n in range(3):
        report = make_report(
            claim=f"A long claim number {n} about what a minister said on television about "
            "taxes, pensions and the cost of living in the last twelve months, word for word."
        )
        if n == 0:
            publish_now(report)
    page.set_viewport_size({"width": 1280, "height": 800})
    _log_in(page, "chief")

    page.goto("/admin/reports/report/")

    table = page.locator("#result_list")
    expect(table).to_be_visible()
    widths = table.evaluate(
        "(t) => ({table: t.scrollWidth, box: t.closest('.results').clientWidth,"
        " cut: [...t.querySelectorAll('th')].filter((th) => th.scrollWidth > th.clientWidth + 1)"
        ".map((th) => th.textContent.trim())})"
    )
    assert widths["table"] <= widths["box"], widths
    assert widths["cut"] == [], widths
    assert page_errors == []


def test_the_editor_page_passes_axe_and_the_csp_with_a_banner(page, page_errors):
    report = make_report(claimant="The mayor")
    publish_now(report)
    report.summary = "An edit readers do not see [1] [2]."
    report.save()
    _editor_on(page, report)

    expect(page.locator(".desk-live-banner")).to_contain_text("changes they do not see yet")
    assert _violations(page) == ""
    page.get_by_role("link", name="See what changed").click()
    expect(page.locator(".changes-since-live")).to_contain_text("Executive summary: changed")
    assert _violations(page) == ""
    assert page_errors == []
