"""Citing, without the admin: finding sources, resolving pasted links, numbering references."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections

from reports.models import Report
from reports.newsroom import citing
from sources.models import Publisher
from tests.conftest import make_publisher, make_report, make_source, make_user, publish_now

pytestmark = pytest.mark.django_db


def test_the_best_matches_come_first_and_at_most_ten(report):
    ministry = make_publisher(name="Health Ministry")
    by_publisher = [
        make_source(
            title=f"Annual figures {n}", publisher=ministry, published_on=datetime.date(2020, 1, n)
        )
        for n in range(1, 13)
    ]
    contains = make_source(title="The state of health")
    starts = make_source(title="Health in numbers")
    exact = make_source(title="health")

    results = citing.search("Health")

    assert len(results) == citing.SEARCH_LIMIT
    # Title matches first (exact, starting with, containing), then the publisher's, newest first.
    assert results == [exact, starts, contains, *reversed(by_publisher[-7:])]
    assert citing.search("health ministry") == list(reversed(by_publisher))[:10]


@pytest.mark.parametrize("query", ["0-306-40615-2", "ISBN 978-0-306-40615-7", "arXiv:2101.00001v2"])
def test_an_identifier_however_written_finds_its_source_first(query):
    book = make_source(url="", title="A book", isbn="9780306406157", arxiv_id="2101.00001")
    make_source(title="0-306-40615-2 and arXiv:2101.00001v2 in a title")

    assert citing.search(query)[0] == book


@pytest.mark.parametrize(
    ("stored", "pasted"),
    [
        ("https://news.example/story/", "http://news.example/story"),
        ("https://doi.org/10.1000/xyz123", "10.1000/XYZ123"),
        ("https://journal.example/paper", "https://dx.doi.org/10.1000/xyz123"),
    ],
)
def test_a_url_variant_or_the_same_doi_finds_the_source(stored, pasted):
    source = make_source(url=stored, doi="10.1000/xyz123")

    resolution = citing.resolve_url(pasted)

    assert resolution.source == source


def test_citing_in_a_live_report_counts_as_an_edit(writer):
    report = make_report()
    publish_now(report)
    before = Report.objects.get(pk=report.pk)

    citing.cite(report, make_source(), by=writer)

    after = Report.objects.get(pk=report.pk)
    assert after.updated_at > before.updated_at
    assert after.has_unpublished_changes
    assert after.status == Report.Status.PUBLISHED  # the workflow state is untouched


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Two cites at the same instant need row locks; SQLite serialises whole writes.",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("same_source", [False, True])
def test_two_cites_at_the_same_moment_never_share_a_number(same_source):
    alice = make_user("alice", is_superuser=True)
    bob = make_user("bob", is_superuser=True)
    report = make_report(references=2)
    first = make_source()
    second = first if same_source else make_source()
    barrier = threading.Barrier(2)
    outcomes = {}

    def cite(user, source):
        try:
            barrier.wait()
            try:
                outcomes[user.username] = citing.cite(report, source, by=user).number
            except citing.AlreadyCited as already:
                outcomes[user.username] = f"already [{already.reference.number}]"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=cite, args=(alice, first)),
        threading.Thread(target=cite, args=(bob, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    numbers = sorted(report.references.values_list("number", flat=True))
    if same_source:
        assert numbers == [1, 2, 3]
        assert sorted(map(str, outcomes.values())) == ["3", "already [3]"]
    else:
        assert numbers == [1, 2, 3, 4]
        assert sorted(outcomes.values()) == [3, 4]


# Guessing titles


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://www.bbc.co.uk/news/science-environment-56837908", "Science environment"),
        ("https://example.org/reports/Annual%20Report_2020.pdf", "Annual Report 2020"),
        ("https://www.who.int/news-room/fact-sheets/detail/measles", "Measles"),
        ("https://example.org/a/b/idUSKBN2B20X1", "example.org"),
        ("https://www.example.org/", "example.org"),
    ],
)
def test_the_title_of_a_new_source_is_guessed_from_its_path(url, title):
    assert citing.guess_title(url) == title


def test_a_doi_link_has_no_publisher_and_keeps_its_doi(writer):
    make_publisher(name="DOI Foundation", domain="doi.org")
    report = make_report()

    reference, added = citing.cite_url(
        report, url="https://doi.org/10.1000/ABC.1", title="A paper", by=writer
    )

    assert added
    assert reference.source.doi == "10.1000/abc.1"
    assert reference.source.publisher is None
    assert Publisher.objects.filter(domain="doi.org").count() == 1
