"""The Django admin under the site's Content-Security-Policy, in a real Chromium.

The policy allows no inline script or style ('unsafe-inline' nowhere): Django's admin marks
its few inline elements with the per-response nonce, and its JavaScript styles elements
through the DOM, which CSP allows. Each page here is opened, and its widgets used, with every
CSP violation, console error and uncaught exception collected (`page_errors`): none may occur.
Part of the security tests (tests/security/); it lives here for the browser fixtures.
"""

from __future__ import annotations

import datetime

from playwright.sync_api import expect

from reports import workflow
from reports.models import ReaderMessage, Topic
from tests.conftest import make_report, make_source, make_user, publish_now

PASSWORD = "correct horse battery"  # what make_user sets


def _log_in(page, username):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Newsroom")).to_be_visible()


def _policy(page, path):
    response = page.goto(path)
    assert response is not None, path
    assert response.status == 200, (path, response.status)
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy, policy
    assert "unsafe-eval" not in policy, policy
    return response


def test_admin_pages_and_widgets_run_under_the_csp_without_a_violation(page, page_errors):
    make_user("chief", is_superuser=True)
    Topic.objects.create(name="Health", slug="health")
    draft = make_report(claim="A draft with every kind of field.")
    live = make_report(claim="A live report for the lists.")
    publish_now(live)
    source = make_source(title="Council minutes", published_on=datetime.date(2025, 3, 3))
    other = make_source(title="Council minutes (copy)")
    ReaderMessage.objects.create(kind=ReaderMessage.Kind.SUGGESTION, claim="Check this.")

    _policy(page, "/admin/login/")
    _log_in(page, "chief")

    # The report form: inlines, autocomplete, calendar, topic checkboxes, collapse, htmx.
    _policy(page, f"/admin/reports/report/{draft.pk}/change/")
    page.get_by_role("button", name="Add another Section").click()
    expect(page.locator("#id_sections-2-heading")).to_be_visible()
    page.locator("#references-0 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Council")
    expect(page.locator(".select2-container--open .select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")
    page.locator(".field-checked_on [id^=calendarlink]").first.click()
    calendar = page.locator("dialog.calendarbox[open]")
    expect(calendar).to_be_visible()
    page.keyboard.press("Escape")
    expect(calendar).to_have_count(0)
    page.get_by_role("group", name="Topics").get_by_role("checkbox", name="Health").check()
    page.get_by_role("heading", name="Claim details").click()
    expect(page.get_by_label("Claimant:")).to_be_visible()
    page.get_by_label("Claim:", exact=True).fill("A draft with a changed claim")
    expect(page.locator("#similar-claims")).to_be_attached()

    # Adding: the slug follows the claim (prepopulated fields).
    _policy(page, "/admin/reports/report/add/")
    page.get_by_label("Claim:", exact=True).press_sequentially("Fresh claim")
    expect(page.get_by_label("Slug:")).to_have_value("fresh-claim")

    workflow.submit(draft, by=None)
    for path in [
        "/admin/",
        "/admin/reports/report/",
        "/admin/reports/report/?status=draft&live=no",
        f"/admin/reports/report/{draft.pk}/preview/",
        f"/admin/reports/report/{draft.pk}/checklist/",
        f"/admin/reports/report/{draft.pk}/cite/?q=Council",
        f"/admin/reports/report/{draft.pk}/transition/publish/",
        f"/admin/reports/report/{draft.pk}/history/",
        f"/admin/reports/report/{draft.pk}/delete/",
        "/admin/reports/report/import-text/",
        # No actions for anyone: Django's changelist adds its nonce'd <style> element.
        "/admin/reports/publishedversion/",
        "/admin/reports/verdict/",
        "/admin/reports/readermessage/",
        f"/admin/reports/readermessage/{ReaderMessage.objects.get().pk}/change/",
        "/admin/sources/source/",
        f"/admin/sources/source/{source.pk}/change/",
        "/admin/sources/source/add/",
        "/admin/sources/source/duplicates/",
        f"/admin/sources/source/{source.pk}/merge/{other.pk}/",
        f"/admin/sources/source/{source.pk}/retire/",
        "/admin/sources/source/import/",
        "/admin/flatpages/flatpage/add/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/password_change/",
        "/admin/axes/accessattempt/",
    ]:
        _policy(page, path)

    # The source form's publisher autocomplete and its "add another" popup link.
    _policy(page, f"/admin/sources/source/{source.pk}/change/")
    page.locator(".field-publisher .select2-selection").click()
    expect(page.locator(".select2-container--open .select2-search__field")).to_be_visible()
    page.keyboard.press("Escape")

    assert page_errors == []
