"""The page cache on pages that know no reports (factually/pagecache.py): CDN headers,
personal pages kept private, the counters and what marking them stale does.

The public pages of reports, and what a publication makes stale: tests/reports/test_caching.py.
"""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.test import Client
from django.urls import path

from factually import pagecache
from tests.conftest import stored_pages

# Views only these tests route to (pytest.mark.urls below) --------------------------------


@pagecache.public_page
def _page_with_a_form(request):
    template = engines["django"].from_string(
        '<form method="post">{% csrf_token %}<button>Send</button></form>'
    )
    return HttpResponse(template.render({}, request))


@pagecache.public_page
def _page_for_the_user(request):
    return HttpResponse(f"Hello {request.user}")


@pagecache.public_page
def _general_page(request):
    return HttpResponse("A list of everything.")


@pagecache.public_page(own_counter="slug")
def _page_of_its_own(request, slug):
    return HttpResponse(f"The page of {slug}.")


urlpatterns = [
    path("form/", _page_with_a_form),
    path("user/", _page_for_the_user),
    path("list/", _general_page),
    path("own/<slug:slug>/", _page_of_its_own),
]


pytestmark = pytest.mark.usefixtures("page_cache")  # tests/conftest.py: the cache on


def served(url: str) -> str:
    """How the page cache served `url` to a reader (X-Factually-Cache)."""
    return Client().get(url)[pagecache.STATUS_HEADER]


# Headers ---------------------------------------------------------------------------------


def test_cdn_headers_say_public_for_a_minute_and_a_shared_cache_for_five():
    directives = [d.strip() for d in pagecache.PUBLIC_CACHE_CONTROL.split(",")]
    assert directives[:3] == ["public", "max-age=60", "s-maxage=300"]
    assert any(d.startswith("stale-while-revalidate=") for d in directives)


@pytest.mark.urls("tests.factually.test_pagecache")
def test_a_matching_etag_gets_304_and_a_stored_page_a_hit():
    first = Client().get("/list/")
    assert first[pagecache.STATUS_HEADER] == "miss"
    assert first["Cache-Control"] == pagecache.PUBLIC_CACHE_CONTROL
    assert Client().get("/list/", headers={"if-none-match": first["ETag"]}).status_code == 304
    second = Client().get("/list/")
    assert second[pagecache.STATUS_HEADER] == "hit"
    assert second.content == first.content


# Personal pages ----------------------------------------------------------------------------


@pytest.mark.urls("tests.factually.test_pagecache")
@pytest.mark.parametrize("url", ["/form/", "/user/"])
def test_a_public_page_that_turns_personal_is_private_and_not_stored(client, db, page_cache, url):
    response = client.get(url)
    assert response["Cache-Control"] == pagecache.PRIVATE_CACHE_CONTROL
    assert response["X-Factually-Cache"] == "personal"
    assert "ETag" not in response
    assert stored_pages(page_cache) == []
    assert client.get(url)["X-Factually-Cache"] == "personal"


def test_the_csrf_helper_marks_a_request(rf):
    """What `_is_personal` relies on: using a CSRF token flags the request."""
    request = rf.get("/")
    get_token(request)
    assert request.META.get("CSRF_COOKIE_NEEDS_UPDATE")


# The counters ------------------------------------------------------------------------------


def test_a_lost_generation_restarts_above_every_old_one(page_cache):
    before = pagecache.current_generation().number
    page_cache.delete(pagecache.GENERATION_KEY)
    assert pagecache.current_generation().number > before


def test_marking_stale_increments_the_general_generation():
    before = pagecache.current_generation().number
    assert pagecache.mark_stale()
    assert pagecache.current_generation().number == before + 1


@pytest.mark.urls("tests.factually.test_pagecache")
def test_a_page_with_its_own_counter_goes_stale_with_that_counter_or_the_site_only():
    for url in ["/list/", "/own/a/", "/own/b/"]:
        served(url)

    pagecache.mark_stale(names=["a"])
    assert [served(url) for url in ["/list/", "/own/a/", "/own/b/"]] == ["miss", "miss", "hit"]

    pagecache.mark_stale(everything=True)
    assert [served(url) for url in ["/list/", "/own/a/", "/own/b/"]] == ["miss", "miss", "miss"]


@pytest.mark.urls("tests.factually.test_pagecache")
def test_pages_an_increment_missed_covers_come_from_the_database_until_caught_up(db, monkeypatch):
    for url in ["/own/a/", "/own/b/"]:
        served(url)
    pending = [1]
    monkeypatch.setattr(pagecache, "_catch_up", lambda: pending[0])

    pagecache.missed(names=["a"])
    assert served("/own/a/") == "unavailable"
    assert served("/own/b/") == "hit"  # not covered: still trusted

    pending[0] = 0  # the app applied it (and called mark_stale)
    pagecache.caught_up()
    monkeypatch.setattr(pagecache, "_next_retry", 0.0)
    assert served("/own/a/") == "hit"
