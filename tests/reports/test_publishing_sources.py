"""Publishing sources without a URL: the check asks where readers can consult them, the
frozen version carries identifiers and the where-to-find note, and readers see them."""

import pytest

from reports import publishing
from reports.content import CitedSource
from reports.models import Reference
from sources.models import Source
from tests.conftest import make_source, publish_now

pytestmark = pytest.mark.django_db

CONSULT = (
    "Reference [2] cites “Interview with the harbour master”, which has neither URL nor "
    "identifier: say where it can be consulted (the source’s “where to find it”)."
)


def messages(report):
    return [str(problem) for problem in publishing.check(report)]


def cite_as_second(report, source):
    Reference.objects.filter(report=report, number=2).update(source=source)


def test_a_source_with_neither_url_nor_identifier_needs_a_where_to_find_note(report):
    interview = make_source(url="", title="Interview with the harbour master")
    cite_as_second(report, interview)

    assert CONSULT in messages(report)

    interview.where_to_find = "Interview of 12 May 2026; recording on file"
    interview.save()
    assert messages(report) == []


@pytest.mark.parametrize(
    "identifier",
    [{"isbn": "9780306406157"}, {"doi": "10/fqd6hj"}, {"handle": "2027/mdp.1"}],
)
def test_an_identifier_is_enough_without_a_url(report, identifier):
    cite_as_second(report, make_source(url="", title="A book", **identifier))

    assert messages(report) == []


def test_the_frozen_version_carries_identifiers_and_the_note(report):
    book = make_source(
        url="", title="A book", isbn="0-306-40615-2", where_to_find="City library, shelf 4"
    )
    cite_as_second(report, book)

    version = publish_now(report)

    frozen = version.content["references"][1]["source"]
    assert (frozen["url"], frozen["isbn"], frozen["where_to_find"]) == (
        "",
        "9780306406157",
        "City library, shelf 4",
    )
    assert publishing.frozen_references(version)[1].source.isbn == "9780306406157"


def test_changing_an_identifier_or_the_note_changes_what_the_reviewer_approved(report):
    book = make_source(url="", title="A book", isbn="9780306406157", where_to_find="Library")
    cite_as_second(report, book)
    approved = publishing.approval(report).sources

    Source.objects.filter(pk=book.pk).update(where_to_find="Gone")

    assert publishing.source_changes(approved, publishing.working_references(report)) == [
        "Source [2] “A book” changed: other details."
    ]


def test_a_source_without_identifiers_keeps_the_fingerprint_it_had_before_them():
    # What the fingerprint held before sources had identifiers: approvals given then still hold.
    cited = CitedSource.from_source(make_source(title="A page", url="https://example.org/a"))
    old_other = [cited.publisher, list(cited.authors), str(cited.published_on or ""), cited.kind]

    digests = publishing._detail_digests(cited)

    assert digests[-1] == publishing._digest(old_other)


def test_an_old_frozen_version_without_identifiers_reads_back():
    data = {
        "number": 1,
        "pinpoint": "",
        "source": {
            "id": 1,
            "title": "A page",
            "url": "https://example.org/a",
            "publisher": "",
            "authors": [],
            "published_on": None,
            "kind": "Other",
            "archive_url": "",
            "is_active": True,
        },
    }

    source = publishing.frozen_references({"references": [data]})[0].source

    assert (source.doi, source.where_to_find, source.identifier_links) == ("", "", [])


# What readers see, over HTTP


def test_readers_see_identifiers_as_links_and_the_note_on_the_report_page(client, report):
    paper = make_source(
        url="",
        title="Heat-related mortality in Europe",
        doi="10.1038/s41591-023-02419-z",
        pmid="37429922",
        arxiv_id="arXiv:2101.00001v2",
        handle="10568/68124",
        isbn="0-306-40615-2",
        where_to_find="Also in print at the city library",
    )
    cite_as_second(report, paper)
    version = publish_now(report)
    # A change after publishing stays out of the live page until it is published again.
    Source.objects.filter(pk=paper.pk).update(isbn="9780374275631", where_to_find="Changed")

    page = client.get(version.get_absolute_url()).content.decode()

    assert '<cite class="reference__title">Heat-related mortality in Europe</cite>' in page
    assert 'href="https://doi.org/10.1038/s41591-023-02419-z"' in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/37429922/"' in page
    assert 'href="https://arxiv.org/abs/2101.00001"' in page
    assert 'href="https://hdl.handle.net/10568/68124"' in page
    assert "ISBN 9780306406157." in page
    assert "Also in print at the city library." in page
    assert "Changed" not in page
    assert "9780374275631" not in page


def test_the_source_page_shows_identifiers_and_the_note_without_a_link(client, report):
    book = make_source(url="", title="A book", isbn="9780306406157", where_to_find="On file")
    cite_as_second(report, book)
    publish_now(report)

    response = client.get(book.get_absolute_url())

    page = response.content.decode()
    assert response.status_code == 200
    assert "<dt>ISBN</dt>" in page
    assert "<dd>9780306406157</dd>" in page
    assert '<dd class="source__where">On file</dd>' in page
    assert "<dt>Original</dt>" not in page
