"""Accessibility in a real Chromium (WCAG 2.2 AA): axe-core finds nothing on any kind of public
page, headings are in order, the keyboard reaches everything with a visible focus, the skip
link works, and no page scrolls sideways on a 320 px screen.

axe-core comes inside the axe-playwright-python package (its axe.min.js), injected into the
page under test: nothing is downloaded. Its default run checks WCAG 2.0-2.2 A and AA and its
best practices (landmarks, heading order, colour contrast, names and labels...).
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from reports import roles
from reports.models import FollowUpQuestion, Verdict
from tests import reader_site
from tests.browser.test_editorial_workflow import _log_in
from tests.conftest import make_report, make_topic, make_user, publish_now

axe = Axe()

# Every heading (h1-h6 or role=heading) the page shows, as its level.
HEADING_LEVELS = """() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6, [role=heading]")]
  .filter((h) => h.getClientRects().length)
  .map((h) => Number(h.getAttribute("aria-level") || h.tagName.slice(1)))"""


def _violations(page, **options) -> str:
    """axe-core's report of what it finds on the page as it stands; "" for nothing."""
    results = axe.run(page, **options)
    return results.generate_report() if results.violations_count else ""


def _heading_problems(levels: list[int]) -> list[str]:
    problems = []
    if levels.count(1) != 1 or levels[:1] != [1]:
        problems.append(f"one h1, first: {levels}")
    problems += [
        f"h{before} then h{after}"
        for before, after in zip(levels, levels[1:], strict=False)
        if after > before + 1
    ]
    return problems


def _without_expected_gone(page_errors: list[str], url: str) -> list[str]:
    # Chromium logs the 410 of the withdrawal notice as a failed resource: it is the point.
    return [e for e in page_errors if not (" 410 (Gone)" in e and e.endswith(f"{url})"))]


def test_every_public_page_passes_axe_has_ordered_headings_and_fits_320_pixels(
    page, page_errors, live_server
):
    pages = reader_site.build()
    outside = []
    page.on(
        "request",
        lambda request: not request.url.startswith(live_server.url) and outside.append(request.url),
    )
    found, headings, too_wide = {}, {}, {}
    for name, url in pages.items():
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(url)
        if report := _violations(page):
            found[name] = report
        if problems := _heading_problems(page.evaluate(HEADING_LEVELS)):
            headings[name] = problems
        page.set_viewport_size({"width": 320, "height": 640})
        if (width := page.evaluate("document.documentElement.scrollWidth")) > 320:
            too_wide[name] = width

    assert found == {}, "\n\n".join(f"== {name} ({pages[name]})\n{r}" for name, r in found.items())
    assert headings == {}
    assert too_wide == {}
    # axe-core and the pages asked nothing of any other server.
    assert outside == []
    assert _without_expected_gone(page_errors, pages["withdrawn"]) == []


def test_axe_finds_nothing_with_a_citation_tooltip_open_or_a_form_in_error(page, page_errors):
    report = make_report(claim="The Eiffel Tower grows in summer.")
    publish_now(report)
    page.goto(f"/reports/{report.slug}/")
    page.locator("#cite-1-1").hover()
    expect(page.get_by_role("tooltip")).to_be_visible()

    assert _violations(page) == ""

    page.goto("/suggest/")
    page.get_by_role("button", name="Send the suggestion").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # The error summary takes focus, so the reader hears what went wrong.
    expect(page.get_by_role("alert")).to_be_focused()

    assert _violations(page) == ""
    assert page_errors == []


def test_every_verdict_badge_has_enough_contrast(page, page_errors):
    verdicts = list(Verdict.objects.all())
    assert len(verdicts) >= 5  # the seeded scale
    page.goto("/rating-scale/")
    badges = page.locator(".rating-scale .verdict")
    expect(badges).to_have_count(len(verdicts))

    results = axe.run(
        page,
        context={"include": [[".rating-scale .verdict"]]},
        options={"runOnly": ["color-contrast"], "resultTypes": ["passes", "violations"]},
    ).response

    assert results["violations"] == []
    assert results["incomplete"] == []
    (passed,) = results["passes"]
    checked = {node["target"][0] for node in passed["nodes"]}
    assert len(checked) == len(verdicts)
    for verdict in verdicts:
        badge = page.locator(f".rating-scale .verdict--{verdict.slug}")
        expect(badge).to_have_css("color", _rgb(verdict.text_colour))
        expect(badge).to_have_css("background-color", _rgb(verdict.colour))
    assert page_errors == []


def _rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(page, page_errors):
    publish_now(make_report(claim="The Eiffel Tower grows in summer."))
    page.goto("/")

    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    box = skip.bounding_box()
    assert box["x"] >= 0
    assert box["y"] >= 0

    page.keyboard.press("Enter")

    expect(page.locator("main#content")).to_be_focused()
    expect(skip).not_to_be_in_viewport()
    # The next Tab goes on from the content, not from the header.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="The Eiffel Tower grows in summer.")).to_be_focused()
    assert page_errors == []


FOCUS_STATE = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    tag: element.tagName.toLowerCase(),
    name: (element.getAttribute("aria-label") || element.textContent || element.name || "")
      .trim().slice(0, 40),
    href: element.getAttribute("href"),
    outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight,
  };
}"""


def test_the_keyboard_reaches_every_link_of_a_report_with_a_visible_focus(page, page_errors):
    report = make_report(claim="The Eiffel Tower grows in summer.")
    report.topics.add(make_topic(name="Paris"))
    publish_now(report)
    # Scrolling to the focused element at once, so where it lands can be measured.
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"/reports/{report.slug}/")
    links = page.evaluate(
        "[...document.querySelectorAll('a[href], button, input:not([tabindex=\"-1\"])')]"
        ".filter((e) => e.getClientRects().length && !e.closest('.skip-link')).length"
    )

    stops = []
    for _ in range(links + 2):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
        stops.append(page.evaluate(FOCUS_STATE))

    # Every stop is on screen (scrolled to, not hidden under anything sticky) with a
    # focus ring at least 2 px wide; the skip link comes first, then everything once.
    invisible = [stop for stop in stops if not stop["visible"] or stop["outline"] < 2]
    assert invisible == [], invisible
    assert stops[0]["name"] == "Skip to content"
    assert len(stops) - 1 == links
    names = [stop["name"] for stop in stops]
    assert names.index("Factually") < names.index("Search") < names.index("[1]")
    # The verdict badge opens the rating scale; the topics their pages.
    verdict = next(n for n in names if n.startswith("Verdict: False"))
    assert names.index("Search") < names.index(verdict) < names.index("Paris") < names.index("[1]")
    assert any(re.fullmatch(r"Back to citation \d of \[1\]", n) for n in names)
    assert names[-1] == "RSS feed"
    assert page_errors == []


def test_the_editor_page_has_no_axe_violations(page, page_errors):
    """The whole report editor, Django's inlines and topic chooser included: new and full,
    with the source finder open and with the live preview open."""
    make_user("ana", roles.EDITOR)
    report = make_report(sections=2, references=3, questions=2)
    report.topics.add(make_topic(name="Paris"), make_topic(name="Towers"))
    FollowUpQuestion.objects.filter(report=report, position=2).update(
        answered_by=make_report(claim="The tower is painted every seven years.")
    )
    _log_in(page, "ana")
    found = {}

    page.goto("/admin/reports/report/add/")
    page.get_by_role("button", name="Add another Reference").click()
    page.get_by_role("button", name="Add another Follow-up question").click()
    found["add page with empty rows"] = _violations(page)

    page.goto(f"/admin/reports/report/{report.pk}/change/")
    found["full change page"] = _violations(page)

    page.get_by_role("button", name="Cite a source in the executive summary").click()
    expect(page.get_by_role("dialog", name="Cite a source")).to_be_visible()
    found["finder open"] = _violations(page)
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Show preview").click()
    expect(page.locator("#live-preview")).to_be_visible()
    found["preview open"] = _violations(page)

    assert found == dict.fromkeys(found, ""), "\n\n".join(f"== {k}\n{v}" for k, v in found.items())
    assert page_errors == []
