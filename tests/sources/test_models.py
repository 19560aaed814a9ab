"""Source records: normalised, unique URLs and publisher matching."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sources.models import Publisher, PublisherDomain, Source
from tests.conftest import make_publisher, make_source

pytestmark = pytest.mark.django_db


def test_a_saved_source_stores_its_normalised_url():
    source = make_source(url="HTTPS://Example.org/page?utm_source=feed#intro")

    source.refresh_from_db()
    assert source.url == "https://example.org/page"


def test_the_same_page_under_a_tracking_url_cannot_be_added_twice():
    make_source(url="https://example.org/page")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_source(url="https://EXAMPLE.org/page?utm_medium=social")
    assert Source.objects.count() == 1


def test_validation_reports_a_duplicate_url_on_the_url_field():
    make_source(url="https://example.org/page")
    duplicate = Source(title="Again", url="https://example.org/page#top")

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "url" in error.value.message_dict


def test_a_new_source_is_matched_to_its_publisher_by_domain():
    bbc = make_publisher(name="BBC", domain="www.BBC.co.uk")
    source = Source(title="A story", url="https://www.bbc.co.uk/news/1")

    source.full_clean()

    assert bbc.domain == "bbc.co.uk"
    assert source.publisher == bbc


def test_authors_are_read_one_per_line():
    source = make_source(authors="Ada Lovelace\n\n  Charles Babbage ")
    assert source.author_list == ["Ada Lovelace", "Charles Babbage"]


def test_a_source_on_a_subdomain_is_matched_to_the_nearest_publisher():
    bbc = make_publisher(name="BBC", domain="bbc.co.uk")
    make_publisher(name="Unrelated", domain="co.uk.example")

    assert Publisher.objects.for_domain("news.bbc.co.uk") == bbc
    assert Publisher.objects.for_domain("bbc.co.uk") == bbc
    assert Publisher.objects.for_domain("co.uk") is None
    assert Publisher.objects.for_domain("") is None


def test_a_publisher_is_found_by_any_of_its_domains():
    guardian = make_publisher(name="The Guardian", domain="theguardian.com")
    PublisherDomain.objects.create(publisher=guardian, domain="WWW.guardian.co.uk")
    source = Source(title="A story", url="https://www.guardian.co.uk/world/1")

    source.full_clean()

    assert source.publisher == guardian


def test_a_more_specific_publisher_wins_over_its_parent_domain():
    make_publisher(name="Government", domain="gov.uk")
    ons = make_publisher(name="Office for National Statistics", domain="ons.gov.uk")

    assert Publisher.objects.for_domain("www.ons.gov.uk") == ons


@pytest.mark.parametrize(
    "given",
    ["10.1000/XYZ123", "https://doi.org/10.1000/xyz123", "doi:10.1000/Xyz123", " 10.1000/xyz123 "],
)
def test_dois_are_stored_in_one_form(given):
    source = make_source(doi=given)

    source.refresh_from_db()
    assert source.doi == "10.1000/xyz123"


def test_the_same_doi_cannot_describe_two_sources():
    make_source(doi="10.1000/abc")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_source(doi="https://doi.org/10.1000/ABC")


def test_many_sources_may_have_no_doi():
    make_source(doi="")
    make_source(doi="")

    assert Source.objects.filter(doi="").count() == 2


def test_a_retired_source_needs_a_reason():
    source = make_source()
    source.status = Source.Status.RETIRED

    with pytest.raises(ValidationError) as error:
        source.full_clean()
    assert "retired_reason" in error.value.message_dict


@pytest.mark.parametrize(
    ("url_status", "archive", "expected"),
    [
        ("live", "https://web.archive.org/x", "original"),
        ("dead", "https://web.archive.org/x", "original"),
        ("unfit", "https://web.archive.org/x", "archive"),
        ("usurped", "https://web.archive.org/x", "archive"),
        ("usurped", "", "original"),
    ],
)
def test_readers_are_sent_to_the_archive_when_the_original_is_unfit_or_usurped(
    url_status, archive, expected
):
    source = make_source(url="https://example.org/a", url_status=url_status, archive_url=archive)

    assert source.reader_url == (archive if expected == "archive" else "https://example.org/a")


def test_a_dead_link_without_an_archive_needs_attention():
    assert make_source(url_status="dead").needs_attention
    assert not make_source(url_status="dead", archive_url="https://archive.org/a").needs_attention
    assert not make_source(url_status="live").needs_attention
