"""Finding likely duplicates: URL variants, DOIs, near-identical titles from one publisher."""

import pytest
from django.db import connection
from django.urls import reverse

from reports import roles
from sources import duplicates
from sources.models import Source
from tests.conftest import make_publisher, make_report, make_source, make_user

pytestmark = pytest.mark.django_db


def pairs_by_ids() -> dict[frozenset, duplicates.Pair]:
    return {frozenset({p.kept.pk, p.duplicate.pk}): p for p in duplicates.likely_duplicates()}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://example.org/report", "https://example.org/report"),
        ("https://example.org/report", "https://example.org/report/"),
        ("http://example.org/report/", "https://example.org/report"),
        ("http://example.org/", "https://example.org"),
    ],
)
def test_urls_differing_in_scheme_or_trailing_slash_are_paired(first, second):
    a = make_source(url=first)
    b = make_source(url=second)
    make_source(url="https://example.org/other-report")

    found = pairs_by_ids()

    assert list(found) == [frozenset({a.pk, b.pk})]
    assert found[frozenset({a.pk, b.pk})].reasons == [duplicates.SAME_URL]


def test_different_paths_and_queries_are_not_paired():
    make_source(url="https://example.org/report?page=1")
    make_source(url="https://example.org/report?page=2")
    make_source(url="https://example.org/reports")

    assert duplicates.likely_duplicates() == []


def test_the_same_doi_is_paired_whatever_its_case_or_prefix():
    a = make_source(doi="10.1000/ABC-1")
    b = make_source()
    # Written past save(), as a bulk import would: not normalised, so the constraint allows it.
    Source.objects.filter(pk=b.pk).update(doi="https://doi.org/10.1000/abc-1")
    make_source(doi="10.1000/abc-2")

    found = pairs_by_ids()

    assert list(found) == [frozenset({a.pk, b.pk})]
    assert found[frozenset({a.pk, b.pk})].reasons == [duplicates.SAME_DOI]


def test_near_identical_titles_from_the_same_publisher_are_paired():
    publisher = make_publisher()
    a = make_source(publisher=publisher, title="Global temperatures hit a record high in 2023")
    b = make_source(publisher=publisher, title="Global temperatures hit record high in 2023")
    make_source(publisher=publisher, title="Unemployment fell in the last quarter")

    found = pairs_by_ids()

    assert list(found) == [frozenset({a.pk, b.pk})]
    pair = found[frozenset({a.pk, b.pk})]
    assert pair.reasons == [duplicates.SIMILAR_TITLE]
    assert pair.similarity >= duplicates.TITLE_SIMILARITY


def test_similar_titles_from_different_publishers_are_not_paired():
    make_source(publisher=make_publisher(), title="Mortality statistics for England and Wales")
    make_source(publisher=make_publisher(), title="Mortality statistics for England and Wales")
    make_source(title="Mortality statistics for England and Wales")

    assert duplicates.likely_duplicates() == []


def test_merely_related_titles_from_one_publisher_are_not_paired():
    publisher = make_publisher()
    make_source(publisher=publisher, title="Unemployment rate rises to 5%")
    make_source(publisher=publisher, title="Unemployment rate falls to 4%")
    make_source(publisher=publisher, title="Census 2021: population estimates")
    make_source(publisher=publisher, title="Census 2021: housing estimates")

    assert duplicates.likely_duplicates() == []


def test_the_similar_title_search_uses_trigrams_on_postgresql(django_assert_max_num_queries):
    publisher = make_publisher()
    make_source(publisher=publisher, title="Vaccine safety data for children")
    make_source(publisher=publisher, title="Vaccine safety data for children.")

    found = duplicates._similar_titles(10)

    assert len(found) == 1
    if connection.vendor == "postgresql":
        with django_assert_max_num_queries(1) as queries:
            duplicates._similar_titles_trigram(10)
        assert "SIMILARITY" in queries.captured_queries[0]["sql"].upper()


def test_one_pair_with_several_reasons_is_listed_once():
    publisher = make_publisher()
    a = make_source(publisher=publisher, title="Annual report", url="http://example.org/a")
    b = make_source(publisher=publisher, title="Annual report", url="https://example.org/a/")

    found = duplicates.likely_duplicates()

    assert len(found) == 1
    assert {found[0].kept.pk, found[0].duplicate.pk} == {a.pk, b.pk}
    assert found[0].reasons == [duplicates.SAME_URL, duplicates.SIMILAR_TITLE]


def test_the_more_cited_source_is_suggested_to_keep():
    older = make_source(url="http://example.org/a")
    cited = make_source(url="https://example.org/a")
    make_report(references=1).references.update(source=cited)

    (pair,) = duplicates.likely_duplicates()

    assert (pair.kept, pair.duplicate) == (cited, older)


def test_without_citations_the_older_source_is_suggested_to_keep():
    older = make_source(url="http://example.org/a")
    newer = make_source(url="https://example.org/a")

    (pair,) = duplicates.likely_duplicates()

    assert (pair.kept, pair.duplicate) == (older, newer)


@pytest.mark.parametrize("count", [1, 5])
def test_finding_duplicates_runs_a_fixed_number_of_queries(django_assert_max_num_queries, count):
    publisher = make_publisher()
    for n in range(count):
        make_source(url=f"http://example.org/{n}")
        make_source(url=f"https://example.org/{n}/")
        make_source(publisher=publisher, title=f"A long and distinctive title number {n}0")
        make_source(publisher=publisher, title=f"A long and distinctive title number {n}0.")

    with django_assert_max_num_queries(4):
        found = duplicates.likely_duplicates()
        for pair in found:
            str(pair.kept.publisher), str(pair.duplicate.publisher)

    assert len(found) >= 2 * count


# Admin


def test_curators_see_the_likely_duplicates_with_merge_links(client):
    client.force_login(make_user("curator", roles.SOURCE_CURATOR))
    a = make_source(url="http://example.org/a", title="The first record")
    b = make_source(url="https://example.org/a", title="The second record")

    response = client.get(reverse("admin:sources_source_duplicates"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "The first record" in content
    assert "The second record" in content
    assert duplicates.SAME_URL in content
    assert f'href="{reverse("admin:sources_source_merge", args=[a.pk, b.pk])}"' in content


def test_the_changelist_links_to_the_duplicates_for_curators_only(client):
    client.force_login(make_user("curator", roles.SOURCE_CURATOR))
    link = f'href="{reverse("admin:sources_source_duplicates")}"'

    assert link in client.get(reverse("admin:sources_source_changelist")).content.decode()

    client.force_login(make_user("writer", roles.EDITOR))
    assert link not in client.get(reverse("admin:sources_source_changelist")).content.decode()


def test_editors_without_the_merge_permission_cannot_see_the_duplicates(client, writer):
    client.force_login(writer)

    assert client.get(reverse("admin:sources_source_duplicates")).status_code == 403


@pytest.mark.parametrize(
    ("field", "first", "second", "reason"),
    [
        ("isbn", "9780306406157", "0-306-40615-2", "The same ISBN"),
        ("arxiv_id", "2101.00001", "arXiv:2101.00001v2", "The same arXiv ID"),
        ("handle", "2027/mdp.1", "hdl:2027/MDP.1", "The same handle"),
    ],
)
def test_sources_sharing_an_identifier_are_paired(field, first, second, reason):
    a = make_source(url="", **{field: first})
    b = make_source(url="", title="Another title")
    # Written past save(), as a bulk import might: only the finder can notice.
    Source.objects.filter(pk=b.pk).update(**{field: second})

    assert pairs_by_ids()[frozenset({a.pk, b.pk})].reasons == [reason]


def test_sources_without_a_url_are_not_paired_for_it():
    make_source(url="", title="An interview with the mayor")
    make_source(url="", title="A court filing from 2019")

    assert duplicates.likely_duplicates() == []
