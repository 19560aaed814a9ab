"""Citing while writing, in a real Chromium: the source finder beside each cited text.

An editor cites from a blank report without saving first, pastes a link served on loopback,
links an imported draft's unlinked references, renumbers, and uses the finder by keyboard.
"""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from reports import roles
from reports.models import Report
from tests.browser.conftest import search_and_pick, source_finder
from tests.browser.test_accessibility import _violations
from tests.browser.test_editorial_workflow import _log_in
from tests.conftest import make_report, make_source, make_user

ARTICLE = b"""<!doctype html><html lang="en"><head>
<title>Site | Fountain costs</title>
<meta name="citation_title" content="The true cost of civic fountains">
<meta name="citation_author" content="Rivera, Ana">
<meta name="citation_publication_date" content="2025/03/04">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Civic fountains",
 "publisher": {"@type": "Organization", "name": "The Civic Ledger"}}</script>
</head><body><p>Fountains.</p></body></html>"""


@pytest.fixture
def article_url(serve_pages):
    return serve_pages({"/news/fountains": ARTICLE}) + "/news/fountains"


@override_settings(FACTUALLY_ALLOW_PRIVATE_FETCH=True)
def test_an_editor_cites_from_a_blank_report_before_the_first_save(page, page_errors, article_url):
    make_user("ana", roles.EDITOR)
    budget = make_source(title="Town budget 2025: capital spending", authors="Jo Marsh")
    _log_in(page, "ana")
    page.goto("/admin/reports/report/add/")

    # From the summary, by the shortcut; an author's name finds the source.
    summary = page.get_by_label("Executive summary:")
    summary.fill("The fountain cost far less.")
    summary.press("End")
    summary.press("ArrowLeft")  # before the full stop
    summary.press("Alt+Shift+C")
    finder = source_finder(page)
    expect(finder).to_be_visible()
    expect(finder.get_by_label("Find a source")).to_be_focused()
    finder.get_by_label("Find a source").fill("marsh")
    expect(finder.locator(".desk-cite-item")).to_contain_text("cited in 0 reports")
    finder.get_by_role("button", name=f"Cite “{budget.title}”").click()
    expect(finder).to_be_hidden()
    expect(summary).to_have_value("The fountain cost far less[1].")
    expect(summary).to_be_focused()
    expect(page.locator("#id_references-0-number")).to_have_value("1")
    expect(page.locator("#id_references-0-source")).to_have_value(str(budget.pk))
    expect(page.locator("#references-0 .field-source_details")).to_contain_text(budget.title)

    # The same source from a section added on the page: the same number, no new row.
    page.get_by_role("button", name="Add another Section").click()
    page.locator("#id_sections-0-heading").fill("What the budget says")
    body = page.locator("#id_sections-0-body")
    body.fill("The budget lists 180,000 ")
    page.get_by_role("button", name="Cite a source in section 1").click()
    search_and_pick(page, "budget", budget.title)
    expect(body).to_have_value("The budget lists 180,000 [1]")
    expect(page.locator("#references-group tr.form-row.dynamic-references")).to_have_count(1)

    # A pasted link: a new source prefilled from the page's own metadata, confirmed.
    body.press("End")
    body.type(". The design was free ")
    page.get_by_role("button", name="Cite a source in section 1").click()
    finder.get_by_label("Find a source").fill(article_url)
    title = finder.get_by_label("Title", exact=True)
    expect(title).to_have_value("The true cost of civic fountains")
    expect(finder.get_by_label("Publisher", exact=True)).to_have_value("The Civic Ledger")
    finder.get_by_role("button", name="Add to the library and cite").click()
    expect(finder).to_be_hidden()
    expect(body).to_have_value("The budget lists 180,000 [1]. The design was free [2]")
    expect(page.locator("#id_references-1-number")).to_have_value("2")

    # Saved once, at the end: the report has its references.
    page.get_by_label("Claim:", exact=True).fill("The town hall spent a million on a fountain.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    report = Report.objects.get(claim__startswith="The town hall spent")
    cited = {r.number: r.source.title for r in report.references.select_related("source")}
    assert cited == {1: budget.title, 2: "The true cost of civic fountains"}
    assert report.summary == "The fountain cost far less[1]."
    assert page_errors == []


def test_an_imported_drafts_unlinked_references_are_linked_through_the_finder(page, page_errors):
    make_user("ana", roles.EDITOR)
    report = make_report(references=9, linked=False, sections=1)
    sources = [make_source(title=f"Study number {n}") for n in range(1, 10)]
    _log_in(page, "ana")
    page.goto(f"/admin/reports/report/{report.pk}/change/")
    for number, source in enumerate(sources, start=1):
        page.get_by_role("button", name=f"Link a source to reference [{number}]").click()
        search_and_pick(page, f"number {number}", source.title)
        row = page.locator(f"#references-{number - 1}")
        expect(row.locator(".field-source_details")).to_contain_text(source.title)
    expect(page.locator(".desk-cite-link")).to_have_count(0)
    expect(page.locator("#references-group tr.form-row.dynamic-references")).to_have_count(9)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    linked = dict(report.references.values_list("number", "source__title"))
    assert linked == {n: f"Study number {n}" for n in range(1, 10)}
    assert page_errors == []


def test_renumbering_and_removing_a_reference_from_the_unsaved_form(page, page_errors):
    make_user("ana", roles.EDITOR)
    report = make_report(references=2, sections=0, summary="First [2]. Then [1].")
    report.conclusion = "Both [2] [1]."
    report.save()
    _log_in(page, "ana")
    page.goto(f"/admin/reports/report/{report.pk}/change/")

    page.locator("#id_references-1-DELETE").check()
    expect(page.locator("#references-1")).to_contain_text(
        "Still cited in: Summary ¶1, Conclusion ¶1"
    )
    page.locator("#id_references-1-DELETE").uncheck()
    expect(page.locator(".desk-cite-still-cited")).to_have_count(0)

    page.get_by_role("button", name="Renumber in order of first citation").click()
    expect(page.get_by_label("Executive summary:")).to_have_value("First [1]. Then [2].")
    expect(page.get_by_label("Conclusion:", exact=True)).to_have_value("Both [1] [2].")
    expect(page.locator("#id_references-0-number")).to_have_value("2")
    expect(page.locator("#id_references-1-number")).to_have_value("1")
    assert page_errors == []


def test_the_finder_works_by_keyboard_alone_and_axe_finds_nothing_with_it_open(page, page_errors):
    make_user("ana", roles.EDITOR)
    source = make_source(title="Council minutes, 3 March 2025")
    _log_in(page, "ana")
    page.goto("/admin/reports/report/add/")
    summary = page.get_by_label("Executive summary:")
    summary.fill("Approved ")
    summary.press("End")
    summary.press("Tab")  # to its Cite button
    expect(
        page.get_by_role("button", name="Cite a source in the executive summary")
    ).to_be_focused()
    expect(
        page.get_by_role("button", name="Cite a source in the executive summary")
    ).to_have_attribute("title", re.compile("Alt\\+Shift\\+C"))
    page.keyboard.press("Enter")
    finder = source_finder(page)
    expect(finder).to_be_visible()
    page.keyboard.type("council")
    pick = finder.get_by_role("button", name=f"Cite “{source.title}”")
    expect(pick).to_be_visible()
    assert _violations(page) == ""

    page.keyboard.press("Escape")  # closes, back to the text
    expect(finder).to_be_hidden()
    expect(summary).to_be_focused()
    summary.press("Alt+Shift+C")
    expect(finder).to_be_visible()
    page.keyboard.press("Tab")  # the Search button
    page.keyboard.press("Tab")  # the first result
    expect(pick).to_be_focused()
    page.keyboard.press("Enter")
    expect(finder).to_be_hidden()
    expect(summary).to_have_value("Approved [1]")
    assert page_errors == []
