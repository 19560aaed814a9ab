"""URL normalisation decides when two URLs are the same source."""

import pytest

from sources.normalisation import domain_of, normalise_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTPS://WWW.Example.COM/Path/To", "https://www.example.com/Path/To"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=x&id=7&utm_medium=email&fbclid=abc",
            "https://example.com/a?id=7",
        ),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://example.com/search?q=a%20b&page=2", "https://example.com/search?q=a%20b&page=2"),
    ],
)
def test_normalise_url_keeps_what_identifies_the_page_and_drops_the_rest(given, expected):
    assert normalise_url(given) == expected


def test_normalising_twice_changes_nothing():
    url = "HTTPS://Example.com/x?utm_campaign=1&b=2#top"
    assert normalise_url(normalise_url(url)) == normalise_url(url)


def test_domain_of_drops_www_and_case():
    assert domain_of("https://WWW.BBC.co.uk/news/1") == "bbc.co.uk"
