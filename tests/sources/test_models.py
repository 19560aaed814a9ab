"""Source records: normalised, unique URLs and publisher matching."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sources.models import Source
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
