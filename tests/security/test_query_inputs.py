"""Query parameters never reach the ORM unchecked: no field names, lookups or orderings.

Each public page reads a few GET parameters, each through an allow-list (search.Filters:
known verdict and topic slugs, periods and sorts; page numbers through the paginator).
Fuzzed parameters on every public page must give 200 or 404, never a server error; a
parameter a page does not read must leave the page exactly as it was; and no parameter
brings back a report that is not live. The admin's changelists refuse field names that
are not theirs (Django's `lookup_allowed`, `to_field_allowed`, numeric `o` ordering).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import ANONYMOUS, EDITOR, SECRETS, SUPERUSER
from tests.security.test_access_matrix import ROUTES

pytestmark = pytest.mark.django_db

# What each public page reads from its query string; anything else must change nothing.
LIST_PARAMS = {"q", "verdict", "topic", "period", "sort", "page"}
READS = {
    "": {"page"},
    "reports/": LIST_PARAMS,
    "topics/<slug:slug>/": LIST_PARAMS,
    "verdicts/<slug:slug>/": LIST_PARAMS,
    "sources/<int:pk>/": {"page"},
    "feeds/claimreview.json": {"page"},
    "sitemap.xml": {"p"},
    "reports/<slug:slug>/report-error/": {"version"},
}
# Every public page answers 200 with no parameters; reports/<slug>/versions/2/ redirects.
PUBLIC = {
    route: cases[0]
    for route, cases in ROUTES.items()
    if not route.startswith(("admin/", "accounts/"))
}

ORM_LIKE_NAMES = [
    "o",
    "order",
    "order_by",
    "ordering",
    "sort_by",
    "fields",
    "only",
    "status",
    "is_live",
    "report__status",
    "author__password",
    "claim__icontains",
    "pk__gt",
    "_to_field",
    "format",
    "__class__",
]
HOSTILE_VALUES = [
    "-password",
    "author__password",
    "-author__password",
    "report__author__password",
    "status",
    "draft",
    "pk__in=1,2",
    "__class__.__init__",
    "' OR 1=1 --",
    "1; DROP TABLE reports_report",
    "\x00",
    "a\x00b",
    "²",
    "١٢",
    "9" * 5000,
    "-1",
    "0",
    "1e9",
    "NaN",
    "%00",
    "<script>alert(1)</script>",
    "\u202eevil",
    "x" * 3000,
    "",
]


def _normalised(response) -> str:
    text = response.content.decode(errors="replace")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'nonce="[^"]*"', "", text)


def _url(base: str, params: list[tuple[str, str]]) -> str:
    if not params:
        return base
    return base + ("&" if "?" in base else "?") + urlencode(params)


def _assert_safe(response, url):
    assert response.status_code in {200, 301, 302, 404}, (url, response.status_code)
    text = response.content.decode(errors="replace")
    for state, secret in SECRETS.items():
        assert secret not in text, (state, url)


@pytest.mark.parametrize("route", sorted(READS))
def test_hostile_values_of_every_parameter_a_page_reads_never_fail(world, clients, route):
    """Pages that read no parameter are checked below: such parameters change nothing."""
    base = PUBLIC[route].url(world)
    names = sorted(READS[route] | {"o", "order_by"})
    client = clients[ANONYMOUS]
    for value in HOSTILE_VALUES:
        url = _url(base, [(name, value) for name in names])
        _assert_safe(client.get(url), url)
    # Several of one parameter, as a form could never send.
    url = _url(base, [(name, value) for name in names for value in ("2", "-password")])
    _assert_safe(client.get(url), url)


@pytest.mark.parametrize("route", sorted(PUBLIC))
def test_parameters_a_page_does_not_read_leave_it_unchanged(world, clients, route):
    base = PUBLIC[route].url(world)
    client = clients[ANONYMOUS]
    before = client.get(base)
    unread = [name for name in ORM_LIKE_NAMES if name not in READS.get(route, set())]
    for value in ["-password", "author__password", "draft", "1"]:
        url = _url(base, [(name, value) for name in unread])
        response = client.get(url)
        assert response.status_code == before.status_code, url
        assert _normalised(response) == _normalised(before), url


names = st.one_of(
    st.sampled_from(sorted(LIST_PARAMS | set(ORM_LIKE_NAMES) | {"p", "version"})),
    st.text(min_size=1, max_size=20),
)
values = st.one_of(st.sampled_from(HOSTILE_VALUES), st.text(max_size=60))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(sorted(PUBLIC)),
    params=st.lists(st.tuples(names, values), max_size=6),
)
def test_fuzzed_query_strings_never_fail_or_reveal_unpublished_reports(
    world, clients, route, params
):
    url = _url(PUBLIC[route].url(world), params)
    _assert_safe(clients[ANONYMOUS].get(url), url)


# The admin -----------------------------------------------------------------------------------


def _rows(response) -> list:
    return [obj.pk for obj in response.context["cl"].result_list]


@pytest.mark.parametrize(
    "changelist",
    ["reports/report", "reports/publishedversion", "sources/source", "auth/user"],
)
def test_the_admin_ignores_orderings_that_are_not_its_columns(world, clients, changelist):
    client = clients[SUPERUSER]
    url = f"/admin/{changelist}/"
    default = client.get(url)
    assert default.status_code == 200
    for ordering in ["author__password", "-password", "password", "99", "-99", "1.author__pk"]:
        response = client.get(f"{url}?{urlencode({'o': ordering})}")
        assert response.status_code == 200, ordering
        if not ordering.startswith("1."):
            assert _rows(response) == _rows(default), ordering


@pytest.mark.parametrize(
    ("changelist", "lookup"),
    [
        ("reports/report", "author__password__startswith"),
        ("reports/report", "last_edited_by__password"),
        ("reports/readermessage", "assigned_to__password__startswith"),
        ("sources/source", "references__report__author__password"),
        ("auth/user", "password__startswith"),
    ],
)
def test_the_admin_refuses_lookups_through_fields_it_does_not_filter_on(
    world, clients, changelist, lookup
):
    response = clients[SUPERUSER].get(f"/admin/{changelist}/?{urlencode({lookup: 'x'})}")
    assert response.status_code == 400
    assert "pbkdf2" not in response.content.decode()


def test_the_admin_refuses_a_to_field_that_is_not_a_relation_target(world, clients):
    client = clients[SUPERUSER]
    for url in [
        "/admin/auth/user/?_to_field=password",
        f"/admin/auth/user/{world.user.pk}/change/?_to_field=password",
        "/admin/reports/report/?_to_field=summary",
    ]:
        assert client.get(url).status_code == 400, url


def test_the_admin_autocomplete_lists_only_what_the_user_may_view(world, clients):
    """Django checks the listed model's view permission, and that the field is a relation."""
    author = {"app_label": "reports", "model_name": "report", "field_name": "author", "term": "a"}
    assert clients[EDITOR].get(f"/admin/autocomplete/?{urlencode(author)}").status_code == 403
    for params in [
        {"app_label": "auth", "model_name": "user", "field_name": "password", "term": "p"},
        {"app_label": "reports", "model_name": "report", "field_name": "summary", "term": "a"},
        {"app_label": "nope", "model_name": "nope", "field_name": "nope", "term": "a"},
    ]:
        url = f"/admin/autocomplete/?{urlencode(params)}"
        assert clients[SUPERUSER].get(url).status_code == 403, params
