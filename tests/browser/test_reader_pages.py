"""Reading a report in a real Chromium: citations and their way back, the source tooltip
(static/js/citations.js), pages without JavaScript, narrow screens and print."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reports.models import Verdict
from sources.models import Source
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import make_report, make_topic, publish_now

TOOLTIP = "[role=tooltip]"


def _published_report(*, topics=(), **fields):
    """A live report whose two references are each cited in every paragraph (4 times)."""
    report = make_report(
        claim=fields.pop("claim", "The Eiffel Tower grows in summer."),
        verdict=Verdict.objects.get(slug="mostly-true"),
        sections=2,
        references=2,
        **fields,
    )
    first, second = report.references.order_by("number")
    first.source, _ = Source.objects.get_or_create(
        url="https://physics.example/eiffel-expansion",
        defaults={
            "title": "Thermal expansion of wrought iron in the Eiffel Tower",
            "archive_url": "https://archive.example/physics.example/eiffel-expansion",
        },
    )
    first.save()
    second.source, _ = Source.objects.get_or_create(
        url="https://tower.example/numbers", defaults={"title": "The Tower in numbers"}
    )
    second.save()
    report.topics.set(topics)
    publish_now(report)
    return report


def _marker(page, number: int, occurrence: int):
    return page.locator(f"#cite-{number}-{occurrence}")


def test_every_marker_links_to_its_reference_and_every_reference_links_back(page, page_errors):
    report = _published_report()
    page.goto(f"/reports/{report.slug}/")

    # Each marker points at a reference that points back at that very marker, and each
    # backlink at a marker that points at the reference holding the backlink.
    mismatches = page.evaluate(
        """() => {
        const wrong = [];
        for (const marker of document.querySelectorAll("a.citation")) {
          const reference = document.querySelector(marker.getAttribute("href"));
          if (!reference || !reference.querySelector(`a.backlink[href="#${marker.id}"]`)) {
            wrong.push(`marker ${marker.id}`);
          }
        }
        for (const backlink of document.querySelectorAll("a.backlink")) {
          const marker = document.querySelector(backlink.getAttribute("href"));
          const reference = backlink.closest("li");
          if (!marker || marker.getAttribute("href") !== `#${reference.id}`) {
            wrong.push(`backlink ${backlink.getAttribute("href")}`);
          }
        }
        return wrong;
      }"""
    )
    assert mismatches == []
    expect(page.locator("a.citation")).to_have_count(8)
    expect(page.locator("a.backlink")).to_have_count(8)
    expect(page.locator("#ref-1 a.backlink")).to_have_count(4)
    # The backlinks say where they go.
    expect(page.locator('#ref-1 a.backlink[href="#cite-1-3"]')).to_have_accessible_name(
        "Back to citation 3 of [1]"
    )
    assert page_errors == []


def test_a_marker_jumps_to_its_reference_and_the_backlink_returns_to_that_marker(page, page_errors):
    report = _published_report()
    page.set_viewport_size({"width": 1000, "height": 600})
    page.goto(f"/reports/{report.slug}/")
    marker = _marker(page, 1, 3)  # [1] in the second section
    reference = page.locator("#ref-1")

    marker.click()

    expect(page).to_have_url(re.compile(r"#ref-1$"))
    expect(reference).to_be_in_viewport()
    expect(marker).not_to_be_in_viewport()

    reference.locator('a.backlink[href="#cite-1-3"]').click()

    expect(page).to_have_url(re.compile(r"#cite-1-3$"))
    expect(marker).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == "cite-1-3"
    # The reader sees which marker they came from.
    expect(marker).to_have_css("background-color", "rgb(255, 248, 197)")
    assert page_errors == []


def test_the_source_title_shows_in_a_tooltip_on_hover(page, page_errors):
    report = _published_report()
    page.goto(f"/reports/{report.slug}/")
    marker = _marker(page, 1, 1)
    tooltip = page.locator(TOOLTIP)
    expect(tooltip).to_be_hidden()

    marker.hover()

    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text("Thermal expansion of wrought iron in the Eiffel Tower")
    expect(marker).to_have_accessible_description(
        "Thermal expansion of wrought iron in the Eiffel Tower"
    )
    # The pointer can move onto the tooltip without losing it (WCAG 1.4.13, hoverable).
    tooltip.hover()
    page.wait_for_timeout(500)
    expect(tooltip).to_be_visible()
    # Escape dismisses it; leaving it hides it.
    page.keyboard.press("Escape")
    expect(tooltip).to_be_hidden()
    expect(marker).not_to_have_attribute("aria-describedby", re.compile(".*"))

    _marker(page, 2, 1).hover()
    expect(tooltip).to_have_text("The Tower in numbers")
    page.mouse.move(0, 0)
    expect(tooltip).to_be_hidden()
    # Without the tooltip the text is as it was: the reader never left it.
    expect(page).to_have_url(re.compile(rf"/reports/{report.slug}/$"))
    assert page_errors == []


def test_the_tooltip_follows_keyboard_focus(page, page_errors):
    report = _published_report()
    page.goto(f"/reports/{report.slug}/")
    tooltip = page.locator(TOOLTIP)
    # The last link before the summary's markers.
    page.get_by_role("link", name="Learn more").focus()

    page.keyboard.press("Tab")

    first = _marker(page, 1, 1)
    expect(first).to_be_focused()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text("Thermal expansion of wrought iron in the Eiffel Tower")
    expect(first).to_have_attribute("aria-describedby", "citation-tooltip")

    page.keyboard.press("Tab")

    second = _marker(page, 2, 1)
    expect(second).to_be_focused()
    expect(tooltip).to_have_text("The Tower in numbers")
    expect(first).not_to_have_attribute("aria-describedby", re.compile(".*"))
    expect(second).to_have_attribute("aria-describedby", "citation-tooltip")

    page.keyboard.press("Escape")
    expect(tooltip).to_be_hidden()
    expect(second).to_be_focused()

    # Enter still follows the link.
    page.keyboard.press("Shift+Tab")
    expect(tooltip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#ref-1$"))
    expect(tooltip).to_be_hidden()
    assert page_errors == []


def test_each_reference_links_to_the_public_page_of_its_source(page, page_errors):
    report = _published_report()
    source = report.references.get(number=1).source
    page.goto(f"/reports/{report.slug}/")

    details = page.locator("#ref-1").get_by_role("link", name=re.compile("^Source details"))
    expect(details).to_have_accessible_name(
        "Source details for “Thermal expansion of wrought iron in the Eiffel Tower”"
    )
    details.click()

    expect(page).to_have_url(re.compile(rf"/sources/{source.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(source.title)
    expect(page.get_by_role("link", name=report.claim)).to_be_visible()
    assert page_errors == []


@pytest.fixture
def no_script(browser, live_server, page_errors):
    """A page with JavaScript turned off; what it logs as errors goes to `page_errors`."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and page_errors.append(m.text))
    yield page
    context.close()


def test_without_javascript_the_report_reads_and_its_citations_jump(no_script, page_errors):
    report = _published_report()
    page = no_script

    page.goto(f"/reports/{report.slug}/")

    expect(page.get_by_role("heading", level=1)).to_have_text(report.claim)
    expect(page.locator(TOOLTIP)).to_have_count(0)
    _marker(page, 2, 2).click()
    expect(page).to_have_url(re.compile(r"#ref-2$"))
    expect(page.locator("#ref-2")).to_be_in_viewport()
    page.locator('#ref-2 a.backlink[href="#cite-2-2"]').click()
    expect(page).to_have_url(re.compile(r"#cite-2-2$"))
    expect(_marker(page, 2, 2)).to_be_in_viewport()
    assert page_errors == []


def test_without_javascript_the_list_filters_submit(no_script, page_errors):
    health = make_topic(name="Health", slug="health")
    _published_report(claim="Sugar makes children hyperactive.", slug="sugar", topics=[health])
    _published_report(claim="The Eiffel Tower grows in summer.", slug="eiffel")
    page = no_script
    page.goto("/reports/")
    expect(page.locator(".report-card__claim")).to_have_count(2)

    page.get_by_label("Topic", exact=True).select_option("health")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"/reports/\?.*topic=health"))
    expect(page.locator(".report-card__claim")).to_have_text(["Sugar makes children hyperactive."])
    expect(page.get_by_label("Topic", exact=True)).to_have_value("health")
    assert page_errors == []


def test_without_javascript_the_error_report_form_submits(no_script, page_errors):
    report = _published_report()
    page = no_script
    page.goto(f"/reports/{report.slug}/")
    page.get_by_role("link", name="Report an error in this fact-check").click()

    # Sent empty: the errors come back with the page.
    page.get_by_role("button", name="Send the error report").click()
    expect(page.get_by_role("alert")).to_contain_text("Tell us what is wrong.")
    page.get_by_label("What is wrong?").fill("The tower grows by 15 cm, not 15 m.")
    page.get_by_role("button", name="Send the error report").click()

    expect(page).to_have_url(re.compile(rf"/reports/{report.slug}/report-error/thanks/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert report.reader_messages.count() == 1
    assert page_errors == []


@pytest.mark.parametrize("path", ["/", "/reports/", "REPORT"])
def test_no_sideways_scrolling_on_a_320_pixel_screen(page, page_errors, path):
    report = _published_report(
        claim="Antidisestablishmentarianism-style supercalifragilistic claims wrap.",
    )
    page.set_viewport_size({"width": 320, "height": 640})

    page.goto(f"/reports/{report.slug}/" if path == "REPORT" else path)

    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    if path == "REPORT":
        # Nor with a tooltip open near the right edge.
        marker = page.locator(".report__conclusion a.citation").last
        marker.hover()
        expect(page.locator(TOOLTIP)).to_be_visible()
        box = page.locator(TOOLTIP).bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 320
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page_errors == []


def test_reports_print_black_on_white_without_navigation_and_with_link_addresses(
    page, page_errors, live_server
):
    report = _published_report()
    page.goto(f"/reports/{report.slug}/")
    print_sheet = page.locator('link[rel="stylesheet"][media="print"]')
    expect(print_sheet).to_have_attribute("href", "/static/css/print.css")
    assert page.request.get(live_server.url + "/static/css/print.css").ok

    page.emulate_media(media="print")

    for hidden in (".site-header nav", ".site-search", ".site-footer", ".report__feedback"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator(".report__claim")).to_be_visible()
    expect(page.locator("#ref-1")).to_be_visible()
    expect(page.locator("body")).to_have_css("background-color", "rgb(255, 255, 255)")
    expect(page.locator(".verdict").first).to_have_css("color", "rgb(0, 0, 0)")
    title_link = page.locator("#ref-1 .reference__title a")
    after = title_link.evaluate("a => getComputedStyle(a, '::after').content")
    assert after == '" <https://physics.example/eiffel-expansion>"'

    page.emulate_media(media="screen")
    expect(page.locator(".site-header nav")).to_be_visible()
    assert page_errors == []
