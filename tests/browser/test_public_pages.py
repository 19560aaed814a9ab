"""Smoke tests in a real Chromium: a reader follows a report and its citations; staff sign in."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from reports.models import Verdict
from tests.conftest import make_report, publish_now


def _publish(report):
    """The one place these tests publish: through review, as the system."""
    return publish_now(report)


def _rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_reader_opens_a_report_from_the_home_page_and_follows_a_citation(
    page, page_errors, live_server
):
    verdict = Verdict.objects.get(slug="mostly-true")
    report = make_report(claim="The Eiffel Tower grows in summer.", verdict=verdict, sections=8)
    _publish(report)
    stylesheets = []
    page.on(
        "response",
        lambda r: r.request.resource_type == "stylesheet" and stylesheets.append((r.url, r.status)),
    )

    page.goto("/")
    expect(page.get_by_role("heading", level=1, name="Latest fact-checks")).to_be_visible()
    page.get_by_role("link", name="The Eiffel Tower grows in summer.").click()

    expect(page).to_have_url(re.compile(rf"/reports/{report.slug}/$"))
    expect(
        page.get_by_role("heading", level=1, name="The Eiffel Tower grows in summer.")
    ).to_be_visible()
    badge = page.locator(".report__verdict .verdict")
    expect(badge).to_have_text("Verdict: Mostly true")
    # The stylesheets arrived and apply: the site's and the verdict colours (and print's).
    assert {(url.removeprefix(live_server.url), status) for url, status in stylesheets} == {
        ("/static/css/site.css", 200),
        ("/static/css/print.css", 200),
        ("/verdicts.css", 200),
    }
    expect(badge).to_have_css("background-color", _rgb(verdict.colour))
    expect(page.locator(".site-header")).to_have_css("border-bottom-style", "solid")

    reference = page.locator("#ref-1")
    expect(reference).not_to_be_in_viewport()
    page.locator(".report__summary a.citation", has_text="[1]").click()

    expect(page).to_have_url(re.compile(r"#ref-1$"))
    expect(reference).to_be_in_viewport()
    expect(reference).to_contain_text(report.references.get(number=1).source.title)
    expect(reference).to_have_css("background-color", "rgb(255, 248, 197)")  # li:target
    assert page_errors == []


def test_superuser_signs_in_through_the_admin_login_form(page, page_errors, editor):
    page.goto("/admin/")

    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.get_by_label("Username").fill(editor.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", level=1, name="Newsroom")).to_be_visible()
    expect(page.get_by_role("link", name="Reports", exact=True)).to_be_visible()
    assert page_errors == []
