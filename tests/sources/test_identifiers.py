"""Sources without a URL, and the identifiers (DOI, ISBN, PMID, arXiv ID, handle) that tell
two records of one source apart from two sources."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sources.models import Source
from sources.normalisation import (
    InvalidIdentifier,
    match_keys,
    parse_arxiv,
    parse_doi,
    parse_handle,
    parse_isbn,
    parse_pmid,
)
from tests.conftest import make_source


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("978-0-306-40615-7", "9780306406157"),
        ("0-306-40615-2", "9780306406157"),  # ISBN-10, converted for matching
        ("ISBN 0 306 40615 2", "9780306406157"),
        ("080442957X", "9780804429573"),  # an X check digit
        ("isbn:9780306406157", "9780306406157"),
        ("0306406152 9780306406157", "9780306406157"),  # Zotero lists several: the first
        ("", ""),
    ],
)
def test_isbns_are_stored_as_isbn_13_digits(given, expected):
    assert parse_isbn(given) == expected


@pytest.mark.parametrize("given", ["978-0-306-40615-8", "0-306-40615-3", "12345", "ISBN: soon"])
def test_an_isbn_with_a_wrong_check_digit_or_length_is_refused(given):
    with pytest.raises(InvalidIdentifier, match="is not an ISBN"):
        parse_isbn(given)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("10/fqd6hj", "10/fqd6hj"),  # a short DOI
        ("https://doi.org/10/FQD6HJ", "10/fqd6hj"),
        ("doi:10.1038/NATURE12373", "10.1038/nature12373"),
        ("doi.org/10.1000/xyz", "10.1000/xyz"),
    ],
)
def test_dois_long_and_short_are_accepted_lower_cased(given, expected):
    assert parse_doi(given) == expected


def test_an_isbn_given_as_a_doi_is_refused():
    with pytest.raises(InvalidIdentifier, match="is not a DOI"):
        parse_doi("978-3-16-148410-0")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2101.00001", "2101.00001"),
        ("arXiv:2101.00001v2", "2101.00001"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("https://arxiv.org/abs/1706.03762v7", "1706.03762"),
    ],
)
def test_arxiv_ids_old_and_new_style_lose_prefix_and_version(given, expected):
    assert parse_arxiv(given) == expected


def test_handles_and_pmids_lose_their_prefixes():
    assert parse_handle("hdl:2027/mdp.39015058413282") == "2027/mdp.39015058413282"
    assert parse_handle("https://hdl.handle.net/10568/1234") == "10568/1234"
    assert parse_pmid("PMID: 31452104") == "31452104"
    with pytest.raises(InvalidIdentifier):
        parse_handle("no-slash")
    with pytest.raises(InvalidIdentifier):
        parse_pmid("PMC6713937")


@pytest.mark.django_db
def test_a_source_needs_a_title_but_no_url():
    book = Source(title="The Road to Serfdom", isbn="0-226-32061-8")
    book.full_clean()
    book.save()
    interview = make_source(url="", title="Interview with the mayor", where_to_find="On file")

    assert (book.url, book.isbn) == ("", "9780226320618")
    assert interview.url == ""
    with pytest.raises(ValidationError) as error:
        Source(title="").full_clean()
    assert "title" in error.value.message_dict


@pytest.mark.django_db
def test_many_sources_may_have_no_url_but_a_url_stays_unique():
    make_source(url="", title="A court filing")
    make_source(url="", title="A print article")
    make_source(url="https://example.org/a")

    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(title="Again", url="https://example.org/a")
    assert Source.objects.filter(url="").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "stored", "given"),
    [
        ("isbn", "978-0-306-40615-7", "0306406152"),
        ("doi", "10/fqd6hj", "https://doi.org/10/FQD6HJ"),
        ("pmid", "31452104", "PMID 31452104"),
        ("arxiv_id", "2101.00001", "arXiv:2101.00001v3"),
        ("handle", "2027/MDP.1", "hdl:2027/mdp.1"),
    ],
)
def test_each_identifier_is_unique_however_it_is_written(field, stored, given):
    first = make_source(url="", **{field: stored})

    second = Source(title="The same, again", **{field: given})
    with pytest.raises(ValidationError) as error:
        second.full_clean()

    assert f"“{first.title}” (ID {first.pk}) has this" in error.value.message_dict[field][0]
    assert list(Source.objects.matching(**{field: given})) == [first]


@pytest.mark.django_db
def test_a_bad_identifier_is_refused_on_its_field():
    with pytest.raises(ValidationError) as error:
        Source(title="A book", isbn="978-0-306-40615-8", arxiv_id="not an id").full_clean()

    assert set(error.value.message_dict) == {"isbn", "arxiv_id"}


@pytest.mark.django_db
def test_an_http_link_with_tracking_matches_the_https_record_without_rewriting_it():
    existing = make_source(url="https://example.org/a")
    other_scheme = Source(title="Again", url="http://example.org/a?utm_source=x")

    assert list(Source.objects.matching(url="http://example.org/a?utm_source=x")) == [existing]
    assert list(Source.objects.with_url("http://example.org/a")) == [existing]
    with pytest.raises(ValidationError) as error:
        other_scheme.full_clean()
    assert "url" in error.value.message_dict
    # A plain-http page stays http: that is where readers are sent.
    assert make_source(url="http://plain.example/b").url == "http://plain.example/b"


@pytest.mark.django_db
def test_matching_with_nothing_to_match_finds_nothing():
    make_source(url="")

    assert not Source.objects.matching(url="", doi="", isbn="").exists()


@pytest.mark.django_db
def test_matching_many_looks_a_file_up_in_one_query_per_field(django_assert_num_queries):
    isbn_book = make_source(url="", isbn="9780306406157")
    page = make_source(url="https://example.org/a")

    with django_assert_num_queries(2):
        found = Source.objects.matching_many(
            {"url": {"http://example.org/a", ""}, "isbn": {"0-306-40615-2"}}
        )

    assert found == {
        ("url", "//example.org/a"): page,
        ("isbn", "9780306406157"): isbn_book,
    }


def test_match_keys_leave_blank_fields_out():
    assert match_keys(url="https://example.org/a", doi="", isbn="0-306-40615-2") == {
        "url": "//example.org/a",
        "isbn": "9780306406157",
    }


@pytest.mark.django_db
def test_identifier_links_use_each_resolver():
    source = make_source(
        url="",
        doi="10.1000/xyz",
        isbn="9780306406157",
        pmid="31452104",
        arxiv_id="2101.00001",
        handle="2027/mdp.1",
    )

    assert source.identifier_links == [
        ("DOI", "10.1000/xyz", "https://doi.org/10.1000/xyz"),
        ("ISBN", "9780306406157", ""),
        ("PubMed ID", "31452104", "https://pubmed.ncbi.nlm.nih.gov/31452104/"),
        ("arXiv ID", "2101.00001", "https://arxiv.org/abs/2101.00001"),
        ("Handle", "2027/mdp.1", "https://hdl.handle.net/2027/mdp.1"),
    ]


@pytest.mark.django_db
def test_a_link_never_checked_is_unchecked_not_live():
    source = make_source(url="https://example.org/a")

    assert source.link_status == "unchecked"
    assert make_source(url="").link_status == "no URL"
    source.url_status = Source.UrlStatus.DEAD
    assert source.link_status == "Dead"


@pytest.mark.django_db
def test_a_saved_record_with_an_http_twin_stays_editable_for_the_finder_to_pair():
    make_source(url="https://example.org/a")
    older = make_source(url="https://example.org/b")
    # Written before http and https were matched, as a bulk import might have.
    Source.objects.filter(pk=older.pk).update(url="http://example.org/a")
    older.refresh_from_db()

    older.title = "Corrected title"
    older.full_clean()

    with pytest.raises(ValidationError):
        Source(title="New", url="http://example.org/a").full_clean()
