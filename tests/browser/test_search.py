"""Searching and filtering published verdicts in a real Chromium, with and without JavaScript."""

from __future__ import annotations

import datetime
import re

from playwright.sync_api import expect

from reports.models import Verdict
from tests.conftest import make_report, make_topic, publish_now

CLAIMS = ".report-card__claim"


def _published(claim: str, *, verdict: str = "false", topics=(), checked_on=None):
    report = make_report(
        claim=claim,
        verdict=Verdict.objects.get(slug=verdict),
        checked_on=checked_on or datetime.date(2026, 1, 27),
        sections=1,
        references=1,
        questions=0,
    )
    report.topics.set(topics)
    return publish_now(report)


def _archive():
    health = make_topic(name="Health", slug="health")
    landmarks = make_topic(name="Landmarks", slug="landmarks")
    _published("The Eiffel Tower grows in summer.", verdict="mostly-true", topics=[landmarks])
    _published("The Eiffel Tower was meant to be temporary.", verdict="true", topics=[landmarks])
    _published("Sugar makes children hyperactive.", verdict="false", topics=[health])
    _published(
        "Sugar was once sold as medicine.",
        verdict="true",
        topics=[health],
        checked_on=datetime.date(2019, 5, 1),
    )


def _mark_document(page):
    """Tag the loaded document: the tag survives htmx swaps, not a page load."""
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_typing_a_search_updates_the_results_and_the_address_without_a_reload(page, page_errors):
    _archive()
    page.goto("/reports/")
    expect(page.get_by_role("status")).to_have_text("4 fact-checks")
    _mark_document(page)
    requests = []
    page.on("request", lambda r: r.headers.get("hx-request") and requests.append(r.url))

    page.get_by_role("searchbox", name="Search fact-checks").press_sequentially("eiffel", delay=30)

    expect(page).to_have_url(re.compile(r"/reports/\?q=eiffel$"))
    expect(page.locator(CLAIMS)).to_have_count(2)
    expect(page.get_by_role("status")).to_have_text("2 fact-checks found for “eiffel”")
    expect(page.locator(".report-card__claim mark").first).to_have_text("Eiffel")
    expect(page).to_have_title("“eiffel” in Fact-checks · Factually")
    assert _same_document(page)
    # Debounced: not a request per key.
    assert 1 <= len(requests) < len("eiffel")
    # The reader keeps typing where they were.
    expect(page.get_by_role("searchbox", name="Search fact-checks")).to_be_focused()
    assert page_errors == []


def test_filters_combine_and_each_combination_has_its_address(page, page_errors):
    _archive()
    page.goto("/reports/")
    _mark_document(page)

    page.get_by_label("Topic", exact=True).select_option("health")
    expect(page).to_have_url(re.compile(r"/reports/\?topic=health$"))
    expect(page.locator(CLAIMS)).to_have_count(2)
    page.get_by_label("Verdict", exact=True).select_option("true")
    expect(page).to_have_url(re.compile(r"/reports/\?verdict=true&topic=health$"))
    expect(page.locator(CLAIMS)).to_have_text(["Sugar was once sold as medicine."])
    page.get_by_label("Checked", exact=True).select_option("2019")
    expect(page).to_have_url(re.compile(r"/reports/\?verdict=true&topic=health&period=2019$"))
    expect(page.locator(CLAIMS)).to_have_text(["Sugar was once sold as medicine."])
    page.get_by_label("Checked", exact=True).select_option("year")
    expect(page.locator(CLAIMS)).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("No fact-checks found")
    assert _same_document(page)

    # The address is shareable: opened afresh, it shows the same list and the same choices.
    url = page.url
    page.goto("/")
    page.goto(url)
    expect(page.get_by_label("Verdict", exact=True)).to_have_value("true")
    expect(page.get_by_label("Topic", exact=True)).to_have_value("health")
    expect(page.get_by_label("Checked", exact=True)).to_have_value("year")
    expect(page.locator(CLAIMS)).to_have_count(0)
    assert page_errors == []


def test_the_back_button_restores_the_previous_results_and_choices(page, page_errors):
    _archive()
    page.goto("/reports/")
    _mark_document(page)
    search_box = page.get_by_role("searchbox", name="Search fact-checks")
    search_box.fill("eiffel")
    expect(page).to_have_url(re.compile(r"\?q=eiffel$"))
    page.get_by_label("Verdict", exact=True).select_option("true")
    expect(page).to_have_url(re.compile(r"\?q=eiffel&verdict=true$"))
    expect(page.locator(CLAIMS)).to_have_text(["The Eiffel Tower was meant to be temporary."])

    page.go_back()

    expect(page).to_have_url(re.compile(r"/reports/\?q=eiffel$"))
    expect(page.locator(CLAIMS)).to_have_count(2)
    expect(page.get_by_label("Verdict", exact=True)).to_have_value("")
    expect(search_box).to_have_value("eiffel")
    expect(page.get_by_role("status")).to_have_text("2 fact-checks found for “eiffel”")

    page.go_back()

    expect(page).to_have_url(re.compile(r"/reports/$"))
    expect(page.locator(CLAIMS)).to_have_count(4)
    expect(search_box).to_have_value("")

    page.go_forward()

    expect(page).to_have_url(re.compile(r"/reports/\?q=eiffel$"))
    expect(page.locator(CLAIMS)).to_have_count(2)
    expect(search_box).to_have_value("eiffel")
    # htmx restored each step from the server, in the same document.
    assert _same_document(page)
    assert page_errors == []


def test_back_from_a_report_returns_to_the_whole_results_page(page, page_errors):
    _archive()
    page.goto("/reports/")
    page.get_by_role("searchbox", name="Search fact-checks").fill("sugar")
    expect(page).to_have_url(re.compile(r"\?q=sugar$"))
    expect(page.locator(CLAIMS)).to_have_count(2)

    page.get_by_role("link", name="Sugar makes children hyperactive.").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sugar makes children hyperactive.")
    page.go_back()

    # The whole page, not the fragment htmx received at the same address.
    expect(page).to_have_url(re.compile(r"/reports/\?q=sugar$"))
    expect(page.get_by_role("heading", level=1, name="Fact-checks")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search fact-checks")).to_have_value("sugar")
    expect(page.locator(CLAIMS)).to_have_count(2)
    expect(page.locator(".site-header")).to_be_visible()
    assert page_errors == []


def test_a_topic_page_filters_within_its_topic(page, page_errors):
    _archive()
    page.goto("/topics/health/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fact-checks on Health")
    expect(page.locator(CLAIMS)).to_have_count(2)

    page.get_by_label("Verdict", exact=True).select_option("false")

    expect(page).to_have_url(re.compile(r"/topics/health/\?verdict=false$"))
    expect(page.locator(CLAIMS)).to_have_text(["Sugar makes children hyperactive."])
    assert page_errors == []


def test_without_javascript_the_forms_submit_and_the_page_renders(browser, live_server):
    _archive()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")

        header_search = page.get_by_role("search").get_by_role("searchbox")
        header_search.fill("sugar")
        header_search.press("Enter")

        expect(page).to_have_url(re.compile(r"/reports/\?q=sugar$"))
        expect(page.get_by_role("heading", level=1, name="Fact-checks")).to_be_visible()
        expect(page.locator(CLAIMS)).to_have_count(2)
        expect(page.get_by_role("searchbox", name="Search fact-checks")).to_have_value("sugar")

        page.get_by_label("Verdict", exact=True).select_option("false")
        page.get_by_role("button", name="Apply").click()

        expect(page).to_have_url(re.compile(r"/reports/\?q=sugar&verdict=false&"))
        expect(page.locator(CLAIMS)).to_have_text(["Sugar makes children hyperactive."])
        expect(page.get_by_role("status")).to_have_text("1 fact-check found for “sugar”")
    finally:
        context.close()


def test_the_list_is_usable_on_a_narrow_screen(page, page_errors):
    _archive()
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/reports/")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    expect(page.get_by_role("searchbox", name="Search fact-checks")).to_be_visible()
    expect(page.get_by_label("Verdict", exact=True)).to_be_visible()
    assert page_errors == []
