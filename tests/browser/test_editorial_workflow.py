"""The editorial workflow in a real Chromium: an editor drafts and submits, a reviewer publishes.

Each person has their own browser context (their own cookies), signs in through the admin
login form and works only through what the admin shows them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reports import roles
from tests.browser.conftest import _REPORT_CSP_VIOLATIONS, TIMEOUT_MS, _describe, _is_error
from tests.conftest import make_source, make_user

PASSWORD = "correct horse battery"  # what make_user sets
CLAIM = "The town hall spent a million on a fountain."
SLUG = "town-hall-fountain-million"
FOUR_EYES = (
    "Four-eyes rule: bo wrote or changed it since it last went live, so another reviewer must "
    "publish it."
)


@pytest.fixture
def open_page(browser, live_server):
    """Opens a page in a fresh context (one person) that collects what `page_errors` does.

    `open_page(errors)` appends to `errors`; every context is closed at the end, even on failure.
    """
    contexts = []

    def open_page(errors: list[str]) -> Page:
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("console", lambda m: _is_error(m) and errors.append(_describe(m)))
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


def _log_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Newsroom")).to_be_visible()


def _add_reference(page: Page, row: int, search: str, source) -> None:
    """Add reference [row + 1], picking its source in the autocomplete: open, type, choose."""
    page.get_by_role("button", name="Add another Reference").click()
    page.locator(f"#id_references-{row}-number").fill(str(row + 1))
    page.locator(f"#references-{row} .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    options = page.locator(".select2-container--open .select2-results__option")
    expect(options).to_have_text([source.title])  # the search narrowed the library down
    options.click()
    expect(page.locator(f"#id_references-{row}-source")).to_have_value(str(source.pk))


def _status(page: Page):
    return page.locator(".desk-status dd")


def test_editor_drafts_and_submits_a_report_that_a_reviewer_publishes(open_page, live_server):
    editor = make_user("ana", roles.EDITOR)
    reviewer = make_user("bo", roles.REVIEWER)
    budget = make_source(title="Town budget 2025: capital spending")
    minutes = make_source(title="Council minutes, 3 March 2025")
    make_source(title="An unrelated press release")
    errors = {"editor": [], "reviewer": [], "reader": []}

    # The editor drafts the report in the add form ---------------------------------------
    page = open_page(errors["editor"])
    _log_in(page, editor.username)
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("link", name="Add report").click()
    expect(page.get_by_role("heading", level=1, name="Add report")).to_be_visible()

    claim = page.get_by_label("Claim:", exact=True)
    claim.fill(CLAIM)
    claim.press("Tab")
    slug = page.get_by_label("Slug:")
    expect(slug).to_have_value("the-town-hall-spent-a-million-on-a-fountain")  # prepopulated
    slug.fill(SLUG)
    page.get_by_label("Verdict:").select_option(label="Mostly false")
    page.get_by_label("Checked on:").fill("2026-01-27")
    page.get_by_label("Executive summary:").fill("The fountain cost far less than a million [1].")
    page.get_by_role("button", name="Add another Section").click()
    page.locator("#id_sections-0-heading").fill("What the budget says")
    page.locator("#id_sections-0-body").fill(
        "The budget lists the fountain at 180,000 [1].\n\nThe council approved that sum [2]."
    )
    page.get_by_label("Conclusion heading:").fill("Conclusion: mostly false")
    page.get_by_label("Conclusion:", exact=True).fill("The fountain cost 180,000 [1] [2].")
    _add_reference(page, 0, "budget", budget)
    _add_reference(page, 1, "minutes", minutes)
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page).to_have_url(re.compile(r"/admin/reports/report/\d+/change/$"))
    change_url = page.url.removeprefix(live_server.url)
    report_id = re.search(r"/report/(\d+)/change/", change_url)[1]
    expect(_status(page)).to_have_text("Draft")
    expect(page.locator(".workflow-timeline")).to_contain_text("No workflow steps yet")

    # The checklist re-checks the saved copy through htmx, without reloading the page.
    checklist = page.locator("#publish-checklist")
    expect(checklist).to_contain_text("Passes every publish check")
    page.evaluate(
        "() => { window.stillTheSamePage = true;"
        " document.getElementById('publish-checklist').dataset.old = 'yes'; }"
    )
    with page.expect_response(re.compile(r"/checklist/$")) as checked:
        checklist.get_by_role("link", name="Check", exact=True).click()
    assert checked.value.request.headers.get("hx-request") == "true"
    assert checked.value.status == 200
    expect(checklist).not_to_have_attribute("data-old", "yes")  # swapped for a new one
    expect(checklist).to_contain_text("Passes every publish check")
    # The partial came back, not a whole page nested in this one.
    expect(page.locator("#publish-checklist")).to_have_count(1)
    expect(page.locator(".breadcrumbs")).to_have_count(1)
    assert page.evaluate("() => window.stillTheSamePage") is True

    # The preview renders the working copy with the public template.
    page.get_by_role("link", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=CLAIM)).to_be_visible()
    expect(page.locator(".report__verdict")).to_contain_text("Mostly false")
    expect(page.get_by_role("note")).to_contain_text("Every sentence carries a citation.")
    page.go_back()

    page.get_by_role("link", name="Submit for review…").click()
    page.get_by_label("Comment:").fill("Ready for a second pair of eyes.")
    page.get_by_role("button", name="Submit for review").click()

    expect(page.locator(".messagelist")).to_contain_text("Submitted for review.")
    expect(_status(page)).to_have_text("In review")
    timeline = page.locator(".workflow-timeline li")
    expect(timeline).to_have_count(1)
    expect(timeline).to_contain_text("Draft → In review by ana: Ready for a second pair of eyes.")

    # An editor cannot publish: no link (no step at all, now), and the step's URL is forbidden.
    expect(page.get_by_role("link", name="Preview", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Publish…", exact=True)).to_have_count(0)
    expect(page.locator(".transition-link")).to_have_count(0)
    publish_url = f"/admin/reports/report/{report_id}/transition/publish/"
    # Chromium logs the refused page as a console error: expected here, and only here.
    with page.expect_console_message(lambda m: "403 (Forbidden)" in m.text):
        response = page.goto(publish_url)
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("403 Forbidden")
    assert errors["editor"].pop() == (
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
        f" ({live_server.url}{publish_url})"
    )
    page.context.close()
    assert errors["editor"] == []

    # The reviewer finds it awaiting review and publishes it ------------------------------
    page = open_page(errors["reviewer"])
    _log_in(page, reviewer.username)
    awaiting = page.locator("#panel-review")
    expect(awaiting.get_by_role("heading", name="Awaiting review")).to_be_visible()
    expect(awaiting).to_contain_text("Submitted by ana")
    awaiting.get_by_role("link", name=CLAIM).click()

    expect(page).to_have_url(re.compile(rf"{re.escape(change_url)}$"))
    expect(_status(page)).to_have_text("In review")
    page.get_by_role("link", name="Publish…", exact=True).click()
    expect(page.locator("#content-main")).to_contain_text("Every check passes.")
    expect(page.get_by_text(FOUR_EYES)).to_have_count(0)
    page.get_by_role("button", name="Publish", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("Published version 1.")
    expect(_status(page)).to_have_text("Live (version 1)")
    expect(page.locator(".workflow-timeline")).to_contain_text(
        "In review → Published by bo: Published version 1."
    )
    page.get_by_role("link", name="View on site").click()
    expect(page).to_have_url(re.compile(rf"/reports/{SLUG}/$"))
    expect(page.get_by_role("heading", level=1, name=CLAIM)).to_be_visible()
    page.go_back()

    # Four-eyes: once the reviewer edits the report, they may not publish it themselves.
    page.get_by_label("Conclusion:", exact=True).fill("The fountain cost 180,000 euros [1] [2].")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.get_by_role("link", name="Submit for review…").click()
    page.get_by_role("button", name="Submit for review").click()
    expect(_status(page)).to_have_text(
        "Live (version 1) — with changes readers do not see yet; in review"
    )
    # No Publish button that would fail: the page says who must publish, and why.
    expect(page.get_by_role("link", name="Publish…", exact=True)).to_have_count(0)
    note = page.locator(".four-eyes-note")
    expect(note).to_have_text("Publish: another reviewer")
    expect(note).to_have_attribute("title", FOUR_EYES)
    page.context.close()
    assert errors["reviewer"] == []

    # A reader sees the published version, not the edit still in review -------------------
    page = open_page(errors["reader"])
    page.goto(f"/reports/{SLUG}/")
    expect(page.get_by_role("heading", level=1, name=CLAIM)).to_be_visible()
    expect(page.locator(".report__verdict .verdict")).to_have_text("Verdict: Mostly false")
    expect(page.get_by_text("The fountain cost 180,000", exact=False)).to_be_visible()
    expect(page.get_by_text("euros")).to_have_count(0)
    page.context.close()
    assert errors["reader"] == []
