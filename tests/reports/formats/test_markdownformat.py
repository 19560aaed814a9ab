"""A published report as Markdown: layout, citation markers as footnotes, source details."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import citations
from reports.formats.markdownformat import cited, escape, export_markdown, footnote
from reports.models import Report, Section
from sources.models import Source
from tests.conftest import make_publisher, make_report, make_source, make_topic, publish_now

pytestmark = pytest.mark.django_db

# Only for checking the output: footnote references as written by the export.
FOOTNOTE_REFERENCE = re.compile(r"\[\^(\d+)\]")


@pytest.fixture
def published() -> Report:
    source = make_source(
        title="Was Napoleon short?",
        url="https://www.britannica.example/story/napoleon",
        publisher=make_publisher(name="Britannica", domain="britannica.example"),
        authors="Ana Silva\nBo Chen",
        published_on=datetime.date(2019, 6, 1),
        accessed_on=datetime.date(2026, 1, 20),
        archive_url="https://archive.example/napoleon",
        archive_date=datetime.date(2024, 2, 3),
        kind=Source.Kind.REFERENCE_WORK,
    )
    report = make_report(
        claim="Napoleon was *very* short",
        slug="napoleon",
        summary="He was of average height [1] [2].\n\nFrench inches were longer [2].",
        conclusion="So the claim is false [1].",
        claimant="Popular myth",
        claim_date=datetime.date(2025, 12, 24),
    )
    report.references.filter(number=1).update(source=source, pinpoint="entry on his height")
    Section.objects.filter(report=report, position=1).update(
        body="An escaped \\[1] and a [link](https://example.org/[2]) stay [1].\r\n"
        "- a list item [2]\r\n\r\n> a quote [1]"
    )
    report.topics.set([make_topic(name="History", slug="history")])
    publish_now(report)
    return report


@pytest.fixture
def markdown(published) -> str:
    return export_markdown(published.versions.get(is_live=True))


def test_the_title_is_the_claim_with_the_verdict_and_date_below(markdown):
    lines = markdown.splitlines()

    assert lines[0] == "# Napoleon was \\*very\\* short"
    assert lines[2] == "**Verdict: False** · Checked on January 27, 2026"
    assert lines[4] == "Claim made by Popular myth on December 24, 2025."
    assert lines[6] == "Topics: History"


def test_sections_are_numbered_headings_with_the_conclusion_last(markdown):
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]

    assert headings == [
        "## Executive summary",
        "## 1. Heading 1",
        "## 2. Heading 2",
        "## 3. Conclusion: it is false",
        "## Want to dive deeper?",
    ]
    assert "## Want to dive deeper?\n\n- What about question 1?\n" in markdown


def test_markers_become_footnote_references(markdown):
    assert "He was of average height [^1][^2].\n\nFrench inches were longer [^2]." in markdown
    assert "So the claim is false [^1]." in markdown
    assert "[1]" not in markdown.replace("\\[1]", "")


def test_text_that_is_not_a_citation_is_left_as_written(markdown):
    assert (
        "An escaped \\[1] and a [link](https://example.org/[2]) stay [^1].\n"
        "- a list item [^2]\n\n> a quote [^1]"
    ) in markdown


def test_each_reference_is_a_footnote_definition_at_the_end(markdown):
    definitions = markdown.rstrip("\n").split("\n")[-2:]

    assert definitions[0] == (
        "[^1]: Ana Silva, Bo Chen. Was Napoleon short? Britannica, June 1, 2019. "
        "<https://www.britannica.example/story/napoleon> (accessed January 20, 2026). "
        "Archived on February 3, 2024 at <https://archive.example/napoleon>. "
        "entry on his height."
    )
    assert definitions[1].startswith("[^2]: Source ")
    assert " (accessed " in definitions[1]


def test_every_footnote_reference_has_its_definition(markdown):
    referenced = set(FOOTNOTE_REFERENCE.findall(markdown.split("\n[^1]: ")[0]))
    defined = set(re.findall(r"^\[\^(\d+)\]: ", markdown, flags=re.MULTILINE))

    assert referenced == defined == {"1", "2"}


def test_markdown_is_written_from_the_live_version_not_the_draft(published):
    published.summary = "An unpublished summary [1] [2]."
    published.save()

    assert "unpublished" not in export_markdown(published.versions.get(is_live=True))


def test_corrections_are_listed_with_their_notes(published):
    published.summary = "A corrected summary [1] [2]."
    published.save()
    version = publish_now(published, note="The height was in French inches.", kind="correction")

    markdown = export_markdown(version)

    assert "## Corrections and updates\n\n- Corrected on " in markdown
    assert ": The height was in French inches.\n" in markdown


def test_a_month_known_publication_date_is_written_as_the_month():
    reference = {
        "number": 3,
        "pinpoint": "",
        "source": {
            "title": "A [bracketed] title",
            "url": "https://example.org/a",
            "publisher": None,
            "authors": [],
            "published_on": "2020-03",
            "accessed_on": None,
            "archive_url": "",
            "archive_date": None,
        },
    }

    assert (
        footnote(reference) == "[^3]: A \\[bracketed\\] title. March 2020. <https://example.org/a>."
    )


@pytest.mark.parametrize("title", ["And then…", "“Is it true?”", "Stop!"])
def test_a_footnote_title_with_its_own_ending_gets_no_extra_full_stop(title):
    reference = {
        "number": 1,
        "pinpoint": "",
        "source": {"title": title, "url": "https://example.org/a", "publisher": None},
    }

    assert footnote(reference) == f"[^1]: {title} <https://example.org/a>."


def test_plain_text_is_escaped_so_markdown_reads_it_as_text():
    assert escape("1. Not a list") == "1\\. Not a list"
    assert escape("# not a heading") == "\\# not a heading"
    assert escape("a_b *c* <d> [e] & f") == "a\\_b \\*c\\* \\<d\\> \\[e\\] \\& f"
    assert escape("two\nlines") == "two lines"


def test_a_marker_of_no_reference_stays_visible_but_inert():
    assert cited("A draft cites [1] [7].", {1}) == "A draft cites [^1]\\[7]."


# Words with no brackets or backslashes, so every marker placed in them is a citation.
WORD = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Z"), exclude_characters="\\[]<>^"
    ),
    min_size=1,
    max_size=8,
)
SEPARATOR = st.sampled_from([" ", "\n", "\n\n", " - ", "\n> ", "\n1. "])


@given(st.lists(st.tuples(WORD, SEPARATOR, st.none() | st.integers(1, 30), SEPARATOR), max_size=12))
def test_converting_markers_keeps_every_other_character(pieces):
    # A word between markers keeps each marker its own group, so each converts back exactly.
    text = "".join(
        word + first + (f"[{number}]{second}" if number else "")
        for word, first, number, second in pieces
    ).strip("\n")

    markdown = cited(text, set(range(1, 31)))

    assert [int(n) for n in FOOTNOTE_REFERENCE.findall(markdown)] == citations.markers(text)
    assert FOOTNOTE_REFERENCE.sub(r"[\1]", markdown) == text


# Where markers stand: reports.citations.marker_groups, which the conversion relies on


def test_marker_groups_give_offsets_in_the_text_as_written():
    text = "Claim [1] [2].\r\n\r\n- item [3]\r\n  more [4]\r\n\r\n> quoted \\[5] [6]"

    groups = citations.marker_groups(text)

    assert [text[g.start : g.end] for g in groups] == ["[1] [2]", "[3]", "[4]", "[6]"]
    assert [g.numbers for g in groups] == [(1, 2), (3,), (4,), (6,)]


def test_marker_groups_survive_lines_the_parser_trims_away():
    text = "\u00a0\n\tindented [1]\u00a0\n"

    (group,) = citations.marker_groups(text)

    assert text[group.start : group.end] == "[1]"


LINE_PIECES = st.sampled_from(
    ["[1]", "[2] [3]", "\\[4]", "- ", "> ", "1. ", "\n", "\n\n", "\r\n", "\t", "    ", "word",
     "é", "*em*", "[link](http://x/[5])", "[a [6]](u)", "<http://x/[7]>", "\0", "\u00a0", "\r",
     "\u3000", "  - ", "\xa0\n", "[", "]", "\\", "(", "[8, 9]", "[5–7]", "[3,]", "[9-2]"]
)  # fmt: skip


@given(st.lists(LINE_PIECES, max_size=25).map("".join))
def test_marker_groups_point_at_exactly_the_markers_the_parser_reads(text):
    groups = citations.marker_groups(text)

    assert [n for g in groups for n in g.numbers] == citations.markers(text)
    for group in groups:
        written = text[group.start : group.end]
        assert citations.MARKER_GROUP_RE.fullmatch(written)
        read = [citations.read_marker(m.group()) for m in citations.MARKER_RE.finditer(written)]
        assert tuple(n for numbers in read for n in numbers) == group.numbers
