"""Factually pages as they are: what a page reads like when copied from a browser imports.

The samples in ``samples/pages/`` are our own, written the way a published page reads once
selected and copied (not the way the exporter writes): a "Fact check:" title, no "Checked
on" line, "Executive Summary" alone on its line, donation banners with their "Loading..."
counters, the "may be outdated" notice and the "Looking for more information…" prompt.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import io
import re
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command

from reports.formats.errors import TextFormatError
from reports.formats.importing import import_text, preview_import
from reports.formats.text_reading import parse_text, read_text
from reports.formats.textformat import DISCLAIMER, LAYOUT, export_text
from reports.models import FollowUpQuestion, Reference, Report, Section
from tests.reports.formats.test_textformat import EXAMPLE

PAGES = Path(__file__).resolve().parent / "samples" / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def with_lines(lines: list[str], at: int) -> str:
    """The example with `lines` inserted before its 0-based line `at`."""
    example = EXAMPLE.split("\n")
    return "\n".join(example[:at] + lines + example[at:])


def row_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Report, Section, Reference, FollowUpQuestion))


def run(*args) -> tuple[str, str, CommandError | None]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import_report", *map(str, args), stdout=stdout, stderr=stderr)
    except CommandError as error:
        return stdout.getvalue(), stderr.getvalue(), error
    return stdout.getvalue(), stderr.getvalue(), None


# A "Fact check:" prefix on the claim line ---------------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["Fact check:", "Fact Check: ", "FACT CHECK:", "fact-check:", "Fact-Check :"]
)
def test_a_fact_check_prefix_in_any_case_is_left_out_of_the_claim(prefix):
    text = f"{prefix} {EXAMPLE}"

    reading = read_text(text)

    assert reading.content == parse_text(EXAMPLE)
    assert reading.notes[0].startswith(f"The claim line's “{prefix.strip()}” prefix")


def test_the_fact_check_prefix_sample_reads_as_the_factually_layout():
    reading = read_text(page("fact-check-prefix.txt"))
    content = reading.content

    assert reading.layout == LAYOUT
    assert content.claim == "Eating carrots gives you night vision."
    assert content.checked_on == datetime.date(2026, 4, 3)
    assert content.summary.startswith("Carrots do not let people see in the dark.")
    assert [s.heading for s in content.sections] == [
        "What vitamin A does for the eye",
        "Where the legend comes from",
    ]
    assert content.conclusion_heading == (
        "Conclusion: good for the eyes, not for seeing in the dark"
    )
    assert [r.number for r in content.references] == [1, 2, 3, 4]
    assert export_text(content).startswith("Eating carrots gives you night vision.\n\n")


def test_a_fact_check_prefix_with_nothing_after_it_is_refused_at_its_line():
    with pytest.raises(TextFormatError) as raised:
        read_text("\n\nFact-check:" + EXAMPLE[EXAMPLE.index("\n") :], partial=True)

    assert raised.value.line == 3
    assert raised.value.message == 'expected the claim after "Fact-check:", found nothing'


# No "Checked on" line ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_without_checked_on_becomes_a_draft_with_the_date_listed_as_a_problem():
    result = import_text(page("no-checked-on.txt"), filename="no-checked-on.txt")

    report = result.report
    assert report.claim == "Bulls are enraged by the colour red."
    assert report.checked_on is None
    assert report.sections.count() == 2
    assert report.conclusion_heading == "Conclusion: movement, not colour"
    assert [str(p) for p in result.problems] == ["The “checked on” date is missing."]
    assert (
        "No “Checked on” line after the claim (line 2): the date is left empty, to set before "
        "publishing." in result.notes
    )


def test_without_checked_on_the_rest_of_the_example_reads_the_same():
    # Lines 3 and 4 are the date and the disclaimer.
    text = "\n".join(line for n, line in enumerate(EXAMPLE.split("\n"), 1) if n not in (3, 4))

    content = parse_text(text)

    assert content.checked_on is None
    assert content == dataclasses.replace(parse_text(EXAMPLE), checked_on=None)


def test_a_date_that_cannot_be_read_is_refused_or_left_empty_as_partial():
    text = EXAMPLE.replace("Checked on January 27, 2026", "Checked on 27.01.2026")

    with pytest.raises(TextFormatError) as raised:
        read_text(text, filename="page.txt")
    reading = read_text(text, filename="page.txt", partial=True)

    assert raised.value.line == 3
    assert reading.content == dataclasses.replace(parse_text(EXAMPLE), checked_on=None)
    assert reading.gaps == (
        'Line 3: expected a date such as "January 27, 2026" after "Checked on", found '
        '"Checked on 27.01.2026"; the date is left empty.',
    )


# "Executive Summary" alone on its line -----------------------------------------------------


@pytest.mark.parametrize(
    "heading", ["Executive Summary", "Executive summary", "EXECUTIVE SUMMARY "]
)
@pytest.mark.parametrize("blank_after", [True, False], ids=["blank-line", "text-right-after"])
def test_executive_summary_alone_on_its_line_in_either_capitalisation(heading, blank_after):
    text = EXAMPLE.replace(
        "\nExecutive summary\n\n", f"\n{heading}\n\n" if blank_after else f"\n{heading}\n"
    )

    assert parse_text(text) == parse_text(EXAMPLE)


# Donation banners ---------------------------------------------------------------------------

BANNERS = {
    "counters-loading": [
        "Support independent fact-checking",
        "Factually is free to read and funded by readers like you.",
        "Donate",
        "Loading... days left",
        "Loading... of €5,000 goal",
        "Loading... supporters",
    ],
    "counters-loaded": [
        "Keep Factually independent",
        "Our fact-checks are free for everyone. Support our work with a donation.",
        "€1,234 of €5,000 goal",
        "12 days left",
        "123 supporters",
        "Donate now",
    ],
    "one-line-strip": ["Loading… days left · €1,234 of €5,000 goal · 123 supporters"],
    "donate-and-loading": ["Donate", "Loading..."],
    "amount-buttons": [
        "Support Factually",
        *("€5", "€10", "€25", "Other amount"),
        *("Monthly", "Donate"),
    ],
    "dollars-and-percent": [
        "Help keep Factually free for everyone",
        "$3,450 raised of $10,000 goal",
        "45% funded",
        "3 days to go",
        "1,024 donors",
        "Donate today",
    ],
    "counters-not-loaded-yet": ["Loading...", "Loading...", "Loading..."],
    "goal-raised-supporters": ["Goal: €5,000 | Raised: €1,234 | 57 supporters", "Donate"],
}
# Between the example's blocks (0-based lines of the example to insert before).
BETWEEN_BLOCKS = {
    "before-the-claim": 0,
    "after-the-claim": 2,
    "after-the-summary": 8,
    "between-sections": 13,
    "before-the-conclusion": 25,
    "before-the-questions": 29,
    "at-the-end": 33,
}


@pytest.mark.parametrize("banner", BANNERS.values(), ids=BANNERS.keys())
@pytest.mark.parametrize("where", BETWEEN_BLOCKS.values(), ids=BETWEEN_BLOCKS.keys())
@pytest.mark.parametrize("spaced", [False, True], ids=["no-blank-lines", "blank-lines"])
def test_a_donation_banner_between_blocks_is_left_out(banner, where, spaced):
    lines = [part for line in banner for part in ("", line)] + [""] if spaced else banner

    reading = read_text(with_lines(lines, where))

    assert reading.content == parse_text(EXAMPLE)
    assert "the donation banner" in reading.notes[-1]


@pytest.mark.parametrize(
    "paragraph",
    [
        "Donations reached €1,234 of a €5,000 goal within 12 days [1].",
        "The appeal page said “Loading...” for hours, and nobody could donate [2].",
        "Donate what you can, said the campaign, and 123 supporters did [3].",
    ],
)
def test_report_text_that_talks_about_donations_is_kept(paragraph):
    text = with_lines(["", paragraph], 8)

    assert parse_text(text).summary.endswith(f"\n\n{paragraph}")


def test_the_banners_sample_reads_with_all_four_banners_left_out():
    reading = read_text(page("banners.txt"))
    content = reading.content

    assert content.claim == "Lightning never strikes the same place twice."
    assert content.checked_on == datetime.date(2026, 1, 12)
    assert "\n" not in content.summary
    assert [s.body.count("\n") for s in content.sections] == [0, 0]
    assert [q.question for q in content.questions] == [
        "How do lightning rods work?",
        "Why are some people struck more than once?",
    ]
    assert reading.notes == (
        "Left out page furniture: the donation banner (lines 1–6); the donation banner "
        "(line 16); the donation banner (lines 22–32); the donation banner (lines 46–52).",
    )
    exported = export_text(content)
    for word in ["Loading", "Donate", "supporters", "€", "goal"]:
        assert word not in exported


# The outdated notice and the "Looking for more information…" prompt ------------------------

NOTICES = {
    "outdated-three-dots": ["This fact check may be outdated..."],
    "outdated-with-refresh": [
        "This fact-check may be outdated. Consider refreshing the report for the latest "
        "information.",
        "Refresh",
    ],
    "outdated-on-two-lines": [
        "This fact check may be outdated…",
        "",
        "Consider refreshing the report for the latest information.",
    ],
    "looking-ellipsis": ["Looking for more information…"],
    "looking-three-dots": ["Looking for more information..."],
    "looking-then-outdated": ["Looking for more information…", "This fact check may be outdated"],
}


@pytest.mark.parametrize("notice", NOTICES.values(), ids=NOTICES.keys())
@pytest.mark.parametrize("blank_after", [True, False], ids=["blank-line", "claim-right-after"])
def test_a_page_starting_with_a_notice_reads_as_the_report(notice, blank_after):
    reading = read_text("\n".join(notice + ([""] if blank_after else [])) + "\n" + EXAMPLE)

    assert reading.content == parse_text(EXAMPLE)
    assert reading.notes[-1].startswith("Left out page furniture: “")


def test_the_outdated_sample_reads_its_claim_date_and_summary():
    reading = read_text(page("outdated-notice.txt"))
    content = reading.content

    assert content.claim == "Humans use only 10% of their brains."
    assert content.checked_on == datetime.date(2026, 3, 9)
    assert content.summary.startswith("Brain imaging shows activity")
    assert reading.notes[0] == "The claim line's “FACT-CHECK:” prefix was left out of the claim."
    assert "“This fact-check may be outdated” (lines 1–2)" in reading.notes[1]


# Everything at once -------------------------------------------------------------------------


def test_a_page_with_every_variant_at_once_reads_as_the_report_alone():
    reading = read_text(page("everything-at-once.txt"), filename="everything-at-once.txt")
    content = reading.content

    assert content.claim == "Cracking your knuckles causes arthritis."
    assert content.checked_on is None
    assert content.summary.startswith("Studies comparing people who crack their knuckles")
    assert "\n" not in content.summary
    assert [(s.heading, s.body) for s in content.sections] == [
        (
            "What the studies found",
            "A survey of several hundred people found the same rate of hand osteoarthritis "
            "among habitual knuckle crackers as among others [1]. A physician who cracked the "
            "knuckles of one hand only, for sixty years, found no arthritis in either [2].",
        ),
        (
            "What makes the sound",
            "Imaging shows a cavity forming in the fluid of the joint as it is pulled apart; "
            "the pop marks its formation [3].",
        ),
    ]
    assert content.conclusion == (
        "Cracking knuckles may annoy others, but the evidence links it to no arthritis [1] [2] [3]."
    )
    assert [q.question for q in content.questions] == [
        "What causes osteoarthritis of the hand?",
        "Is joint cracking ever a sign of injury?",
    ]
    assert reading.notes == (
        "The claim line's “Fact check:” prefix was left out of the claim.",
        "No “Checked on” line after the claim (line 8): the date is left empty, to set before "
        "publishing.",
        "Left out page furniture: “Looking for more information…” (line 1); “This fact-check "
        "may be outdated” (line 2); the donation banner (lines 4–6); the donation banner "
        "(lines 14–20); the donation banner (line 29); “Was this fact-check helpful?” (lines "
        "34–36); the donation banner (lines 42–44).",
    )
    dated = dataclasses.replace(content, checked_on=datetime.date(2026, 5, 1))
    exported = export_text(dated)
    assert exported.count(DISCLAIMER) == 1
    assert parse_text(exported) == dated


# Refusals name the line; read as partial, any text with a claim is a draft ------------------


def test_a_page_that_cannot_be_read_is_refused_naming_the_file_and_line():
    with pytest.raises(TextFormatError) as raised:
        read_text(page("section-not-copied.txt"), filename="section-not-copied.txt")

    assert str(raised.value) == (
        "section-not-copied.txt, line 14: section number out of sequence: expected "
        '"2. <heading>", found "3. Conclusion: a long memory for a small fish"'
    )


@pytest.mark.django_db
def test_import_report_refuses_a_page_naming_file_and_line_and_saves_nothing():
    path = PAGES / "section-not-copied.txt"

    out, err, error = run(path)

    assert error is not None
    assert out == "0 imported, 1 refused\n"
    assert err == (
        f"Refused: {path}:14: section number out of sequence: expected "
        '"2. <heading>", found "3. Conclusion: a long memory for a small fish"\n'
    )
    assert row_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_import_report_partial_makes_a_draft_of_the_page_listing_its_problems():
    path = PAGES / "section-not-copied.txt"

    out, err, error = run(path, "--partial")

    assert (err, error) == ("", None)
    report = Report.objects.get()
    assert report.claim == "Goldfish only remember things for three seconds."
    assert report.status == Report.Status.DRAFT
    assert report.checked_on is None
    assert list(report.sections.values_list("heading", flat=True)) == ["What experiments show"]
    assert list(report.references.values_list("number", flat=True)) == [1, 2]
    to_do = [line.removeprefix("  To do: ") for line in out.splitlines() if "To do:" in line]
    assert to_do == [
        "Line 14 could not be read, so the draft stops there (lines 14–19 left out): section "
        'number out of sequence: expected "2. <heading>", found "3. Conclusion: a long memory '
        'for a small fish".',
        "Missing where the text stops: the conclusion and the follow-up questions.",
        "The “checked on” date is missing.",
        "The conclusion is empty.",
    ]
    assert "  Note: The claim line's “Fact check:” prefix was left out of the claim." in out


@pytest.mark.django_db
def test_import_report_of_every_sample_page(tmp_path):
    out, err, error = run(PAGES)

    assert "5 imported, 1 refused" in out
    assert err.count("Refused: ") == 1
    assert "section-not-copied.txt:14:" in err
    assert Report.objects.filter(checked_on=None).count() == 2
    assert not Report.objects.filter(claim__icontains="fact check").exists()

    Report.objects.all().delete()
    out, err, error = run(PAGES, "--partial")

    assert ("6 imported, 0 refused", err, error) == (out.splitlines()[-1], "", None)


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        pytest.param(
            "Fact check: Vaccines cause autism.\n\nWe looked into this and found nothing.\n",
            "Vaccines cause autism.",
            id="prefixed-claim-then-anything",
        ),
        pytest.param(
            "Bats are blind.\nChecked on May 5, 2026\n\nSummary\n\nThey are not [1].\n",
            "Bats are blind.",
            id="claim-and-date-then-another-layout",
        ),
    ],
)
def test_read_as_partial_any_text_whose_claim_is_found_is_a_draft(text, claim):
    with pytest.raises(TextFormatError) as raised:
        read_text(text, filename="x.txt")
    result = preview_import(text, filename="x.txt", partial=True)

    assert result.content.claim == claim
    problems = [str(p) for p in result.problems]
    assert problems[0].startswith(f"Line {raised.value.line} could not be read")
    assert raised.value.message in problems[0]


def test_a_text_with_no_claim_to_find_is_refused_even_as_partial():
    with pytest.raises(TextFormatError) as raised:
        read_text("Hello,\n\nplease have a look at this.\n", filename="x.txt", partial=True)

    assert raised.value.line == 3


# The admin's import, over HTTP, as a logged-in editor ----------------------------------------


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def _page_text(page_html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", page_html)
    return html.unescape(re.sub(r"\s+", " ", text))


def _browser(live_server) -> httpx.Client:
    """httpx as a browser behind the HTTPS proxy: the site's cookies are `Secure`, which
    httpx never sends over plain HTTP, so it keeps them itself; it sends the form's origin."""
    store: dict[str, str] = {}

    def send(request: httpx.Request) -> None:
        if store:
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in store.items())

    def keep(response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            store[name] = rest.split(";", 1)[0]

    host = live_server.url.removeprefix("http://")
    return httpx.Client(
        base_url=live_server.url,
        headers={"X-Forwarded-Proto": "https", "Origin": f"https://{host}"},
        event_hooks={"request": [send], "response": [keep]},
        timeout=30,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editor_imports_a_page_with_every_variant_through_the_admin_over_http(
    live_server, editor
):
    url = "/admin/reports/report/import-text/"
    text = page("everything-at-once.txt")
    with _browser(live_server) as browser:
        login = browser.get("/admin/login/")
        logged_in = browser.post(
            "/admin/login/?next=/admin/",
            data={
                "username": "editor",
                "password": "correct horse battery",
                "next": "/admin/",
                "csrfmiddlewaretoken": _csrf(login.text),
            },
        )
        assert logged_in.status_code == 302, logged_in.text[:500]
        form = browser.get(url)
        preview = browser.post(url, data={"text": text, "csrfmiddlewaretoken": _csrf(form.text)})

        assert preview.status_code == 200
        shown = _page_text(preview.text)
        assert "Claim Cracking your knuckles causes arthritis." in shown
        assert "Checked on (no date)" in shown
        assert "The “checked on” date is missing." in shown
        assert "the donation banner (lines 14–20)" in shown
        assert not Report.objects.exists()

        created = browser.post(
            url,
            data={
                "text": text,
                "filename": "",
                "confirm": "Create the draft",
                "csrfmiddlewaretoken": _csrf(preview.text),
            },
        )

        assert created.status_code == 302
        report = Report.objects.get()
        assert created.headers["Location"] == f"/admin/reports/report/{report.pk}/change/"
        assert (report.claim, report.checked_on, report.author) == (
            "Cracking your knuckles causes arthritis.",
            None,
            editor,
        )
        change_page = browser.get(created.headers["Location"])
        assert "The “checked on” date is missing." in _page_text(change_page.text)

        refused = browser.post(
            url,
            data={
                "text": page("section-not-copied.txt"),
                "csrfmiddlewaretoken": _csrf(change_page.text),
            },
        )

        assert refused.status_code == 400
        assert "Nothing was imported: pasted text, line 14: section number out of sequence" in (
            _page_text(refused.text)
        )
        assert Report.objects.count() == 1
