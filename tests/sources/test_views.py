"""The public source page: citation details, the published reports citing it, redirects."""

import datetime
import re

import pytest
from django.urls import reverse

from reports import workflow
from sources import merging, retiring
from sources.models import Source
from tests.conftest import make_publisher, make_report, make_source, make_user, publish_now

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def cite(source, **fields):
    """A report whose one reference cites `source`, unpublished."""
    report = make_report(references=1, questions=0, **fields)
    report.references.update(source=source)
    return report


def cited(source: Source) -> Source:
    """`source`, cited by a live report: only such sources have a public page."""
    publish_now(cite(source))
    return source


def test_the_source_page_shows_its_citation_details(client):
    source = make_source(
        title="Global temperature record",
        url="https://climate.example/record",
        publisher=make_publisher(name="Climate Office"),
        authors="Ada Lovelace\nGrace Hopper",
        published_on=datetime.date(2024, 3, 1),
        accessed_on=datetime.date(2025, 2, 3),
        kind=Source.Kind.DATASET,
        language="pt-BR",
        doi="10.1000/XYZ-123",
        archive_url="https://web.archive.org/web/2025/https://climate.example/record",
        archive_date=datetime.date(2025, 1, 9),
        notes="Curator-only: the author emailed us privately.",
    )
    cited(source)

    response = client.get(f"/sources/{source.pk}/")

    assert response.status_code == 200
    content = response.content.decode()
    text = page_text(response)
    assert re.search(r'<h1[^>]*lang="pt-BR"[^>]*>Global temperature record</h1>', content)
    assert "Ada Lovelace; Grace Hopper" in text
    assert "Climate Office" in text
    assert "March 1, 2024" in text
    assert "February 3, 2025" in text
    assert "Brazilian Portuguese" in text
    assert "Dataset" in text
    assert '<a href="https://doi.org/10.1000/xyz-123"' in content
    assert 'href="https://climate.example/record"' in content
    assert 'href="https://web.archive.org/web/2025/https://climate.example/record"' in content
    assert "archived on January 9, 2025" in text
    assert "emailed us privately" not in content
    assert "Curator-only" not in content


def test_get_absolute_url_is_the_public_page():
    source = make_source()

    assert source.get_absolute_url() == f"/sources/{source.pk}/"
    assert reverse("sources:detail", kwargs={"pk": source.pk}) == source.get_absolute_url()


@pytest.mark.parametrize("url_status", [Source.UrlStatus.UNFIT, Source.UrlStatus.USURPED])
def test_an_unfit_or_usurped_original_is_not_linked_only_the_archive(client, url_status):
    source = cited(
        make_source(
            url="https://usurped.example/page",
            url_status=url_status,
            archive_url="https://web.archive.org/web/2020/https://usurped.example/page",
        )
    )

    content = client.get(source.get_absolute_url()).content.decode()

    assert "https://usurped.example/page" not in content.replace(
        "https://web.archive.org/web/2020/https://usurped.example/page", ""
    )
    assert 'href="https://web.archive.org/web/2020/https://usurped.example/page"' in content


def test_an_unfit_original_without_archive_is_not_linked_either(client):
    source = cited(make_source(url="https://unfit.example/page", url_status=Source.UrlStatus.UNFIT))

    response = client.get(source.get_absolute_url())

    assert "unfit.example" not in response.content.decode()
    assert "no longer suitable to link to" in page_text(response)


def test_a_dead_original_is_still_linked_with_its_archive(client):
    source = cited(
        make_source(
            url="https://dead.example/page",
            url_status=Source.UrlStatus.DEAD,
            archive_url="https://archive.example/dead",
        )
    )

    content = client.get(source.get_absolute_url()).content.decode()

    assert 'href="https://dead.example/page"' in content
    assert 'href="https://archive.example/dead"' in content


def test_the_page_lists_only_published_reports_citing_the_source(client, reviewer):
    source = make_source()
    live = cite(source, claim="A published claim citing it.")
    publish_now(live)
    draft = cite(source, claim="A draft claim citing it.")
    taken_down = cite(source, claim="A claim that was unpublished.")
    publish_now(taken_down)
    workflow.unpublish(taken_down, by=reviewer, comment="Published by mistake.")
    elsewhere = make_report(claim="A published claim citing something else.", references=1)
    publish_now(elsewhere)

    response = client.get(source.get_absolute_url())

    text = page_text(response)
    assert "A published claim citing it." in text
    assert f'href="{live.get_absolute_url()}"' in response.content.decode()
    assert "False" in text  # the verdict
    assert draft.claim not in text
    assert taken_down.claim not in text
    assert elsewhere.claim not in text


def test_a_report_citing_the_source_twice_is_listed_once(client):
    source = make_source()
    report = make_report(references=2, questions=0, claim="Cites it twice.")
    report.references.update(source=source)
    publish_now(report)

    text = page_text(client.get(source.get_absolute_url()))

    assert text.count("Cites it twice.") == 1


def test_a_source_no_live_report_cites_has_no_page(client):
    source = make_source(title="Library only")

    response = client.get(source.get_absolute_url())

    assert response.status_code == 404
    assert "Library only" not in response.content.decode()


def test_a_retired_source_says_so_with_the_reason(client, curator):
    source = cited(make_source())
    retiring.retire(source, by=curator, reason="The study was retracted by the journal.")

    text = page_text(client.get(source.get_absolute_url()))

    assert "This source is retired" in text
    assert "The study was retracted by the journal." in text


def test_an_active_source_has_no_retirement_notice(client):
    source = cited(make_source())

    assert "retired" not in page_text(client.get(source.get_absolute_url()))


def test_a_merged_source_id_redirects_permanently_to_the_kept_source(client, curator):
    kept = cited(make_source())
    duplicate = make_source()
    merged_id = duplicate.pk
    merging.merge(kept, duplicate, by=curator)

    response = client.get(f"/sources/{merged_id}/")

    assert response.status_code == 301
    assert response["Location"] == kept.get_absolute_url()


def test_an_unknown_source_is_not_found(client):
    assert client.get("/sources/987654/").status_code == 404
    assert client.get("/sources/not-a-number/").status_code == 404


def test_only_get_is_allowed(client):
    source = make_source()

    assert client.post(source.get_absolute_url()).status_code == 405


@pytest.mark.parametrize("count", [1, 6])
def test_the_source_page_runs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, count
):
    source = make_source(publisher=make_publisher())
    for _ in range(count):
        report = make_report(references=2, questions=0)
        report.references.update(source=source)
        publish_now(report)

    with django_assert_max_num_queries(3):
        response = client.get(source.get_absolute_url())

    assert response.status_code == 200
    assert response.content.decode().count('class="report-card"') == count


def test_the_redirect_runs_three_queries(client, django_assert_num_queries):
    kept, duplicate = cited(make_source()), make_source()
    merged_id = duplicate.pk
    merging.merge(kept, duplicate, by=make_user("someone"))

    with django_assert_num_queries(3):
        assert client.get(f"/sources/{merged_id}/").status_code == 301
