"""Source admin: searching, filtering, refusing duplicates and protecting cited sources."""

import re

import pytest
from django.urls import reverse

from sources.models import Source
from tests.conftest import make_publisher, make_report, make_source

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:sources_source_changelist"


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def add_form(**fields):
    return {
        "title": "A new source",
        "url": "https://example.org/new",
        "kind": Source.Kind.OTHER,
        "accessed_on": "2026-01-27",
        "status": Source.Status.ACTIVE,
        **fields,
    }


# Adding


def test_adding_a_source_stores_its_normalised_url(editor_client):
    response = editor_client.post(
        reverse("admin:sources_source_add"),
        add_form(url="HTTPS://Example.ORG/new?utm_source=feed#top"),
    )

    assert response.status_code == 302
    assert Source.objects.get().url == "https://example.org/new"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/report",
        "HTTPS://EXAMPLE.org/report",
        "https://example.org/report#section-2",
        "https://example.org/report?utm_source=newsletter&utm_medium=email",
    ],
)
def test_a_duplicate_url_is_refused_with_a_link_to_the_existing_source(editor_client, url):
    existing = make_source(title="The existing record", url="https://example.org/report")

    response = editor_client.post(reverse("admin:sources_source_add"), add_form(url=url))

    assert response.status_code == 200
    content = response.content.decode()
    link = reverse("admin:sources_source_change", args=[existing.pk])
    assert f'<a href="{link}">The existing record</a>' in content
    assert "already in the library" in page_text(response)
    assert Source.objects.count() == 1


def test_changing_a_source_keeps_its_own_url(editor_client):
    source = make_source(url="https://example.org/mine")

    response = editor_client.post(
        reverse("admin:sources_source_change", args=[source.pk]),
        add_form(title="Renamed", url="https://example.org/mine"),
    )

    assert response.status_code == 302
    source.refresh_from_db()
    assert source.title == "Renamed"


def test_a_new_source_is_matched_to_its_publisher_by_domain(editor_client):
    publisher = make_publisher(name="BBC", domain="bbc.co.uk")

    editor_client.post(
        reverse("admin:sources_source_add"), add_form(url="https://www.bbc.co.uk/news/1")
    )

    assert Source.objects.get().publisher == publisher


# Deleting


def test_deleting_a_cited_source_is_refused_and_names_the_citing_reports(editor_client):
    source = make_source(title="Much cited")
    report = make_report(claim="A claim citing it.", references=1)
    report.references.update(source=source)
    url = reverse("admin:sources_source_delete", args=[source.pk])

    page = editor_client.get(url)
    response = editor_client.post(url, {"post": "yes"})

    assert page.status_code == 200
    text = page_text(page)
    assert "A claim citing it." in text
    assert "Cannot delete" in text
    report_link = reverse("admin:reports_report_change", args=[report.pk])
    assert f'href="{report_link}"' in page.content.decode()
    assert "A claim citing it." in page_text(response)
    assert Source.objects.filter(pk=source.pk).exists()


def test_bulk_deleting_cited_sources_is_refused(editor_client):
    source = make_source(title="Much cited")
    report = make_report(claim="A claim citing it.", references=1)
    report.references.update(source=source)

    response = editor_client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [source.pk], "post": "yes"},
    )

    assert "A claim citing it." in page_text(response)
    assert Source.objects.filter(pk=source.pk).exists()


def test_an_uncited_source_can_be_deleted(editor_client):
    source = make_source()

    response = editor_client.post(
        reverse("admin:sources_source_delete", args=[source.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()


# Changelist


def test_cited_by_column_counts_distinct_reports(editor_client):
    source = make_source(title="Cited twice in one report")
    once = make_source(title="Cited once")
    first = make_report(references=3)
    first.references.filter(number__in=[1, 2]).update(source=source)
    first.references.filter(number=3).update(source=once)
    second = make_report(references=1)
    second.references.update(source=source)

    content = editor_client.get(reverse(CHANGELIST), {"q": "cited"}).content.decode()

    row = re.search(r"<tr>(?:(?!</tr>).)*Cited twice in one report.*?</tr>", content, re.S)
    assert "2 reports" in row.group()
    row = re.search(r"<tr>(?:(?!</tr>).)*Cited once.*?</tr>", content, re.S)
    assert "1 report<" in row.group()


def test_changelist_search_matches_title_url_and_publisher(editor_client):
    publisher = make_publisher(name="Le Monde")
    make_source(title="A speech transcript", url="https://speeches.example/1956")
    make_source(title="Press story", publisher=publisher)
    make_source(title="Unrelated")
    url = reverse(CHANGELIST)

    by_title = page_text(editor_client.get(url, {"q": "transcript"}))
    by_url = page_text(editor_client.get(url, {"q": "speeches.example"}))
    by_publisher = page_text(editor_client.get(url, {"q": "le monde"}))

    assert "A speech transcript" in by_title
    assert "Unrelated" not in by_title
    assert "A speech transcript" in by_url
    assert "Press story" in by_publisher
    assert "A speech transcript" not in by_publisher


def test_changelist_filters_by_kind_publisher_and_status(editor_client):
    publisher = make_publisher(name="Nature")
    paper = make_source(title="A paper", kind=Source.Kind.ACADEMIC_PAPER, publisher=publisher)
    retired = make_source(title="A retired page", status=Source.Status.RETIRED)
    url = reverse(CHANGELIST)

    by_kind = page_text(editor_client.get(url, {"kind__exact": "academic_paper"}))
    by_publisher = page_text(editor_client.get(url, {"publisher__id__exact": publisher.pk}))
    by_status = page_text(editor_client.get(url, {"status__exact": "retired"}))

    assert paper.title in by_kind
    assert retired.title not in by_kind
    assert paper.title in by_publisher
    assert retired.title not in by_publisher
    assert retired.title in by_status
    assert paper.title not in by_status


def test_publisher_autocomplete_lists_publishers_by_name(editor_client):
    make_publisher(name="Zeit Online")
    make_publisher(name="Associated Press")

    response = editor_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "sources", "model_name": "source", "field_name": "publisher", "term": ""},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Associated Press", "Zeit Online"]


def test_publisher_changelist_counts_sources(editor_client):
    publisher = make_publisher(name="Reuters")
    make_source(publisher=publisher)
    make_source(publisher=publisher)

    content = editor_client.get(reverse("admin:sources_publisher_changelist")).content.decode()

    assert re.search(r"Reuters.*?<td class=\"field-source_count\">2</td>", content, re.S)


# Sources without a URL, identifiers and link status


def test_a_book_without_a_url_is_added_with_its_identifiers(editor_client):
    response = editor_client.post(
        reverse("admin:sources_source_add"),
        add_form(
            title="The Road to Serfdom",
            url="",
            isbn="0-226-32061-8",
            where_to_find="Any library; first edition 1944",
        ),
    )

    assert response.status_code == 302, page_text(response)
    book = Source.objects.get(title="The Road to Serfdom")
    assert (book.url, book.isbn) == ("", "9780226320618")
    assert book.where_to_find == "Any library; first edition 1944"


def test_an_http_copy_of_an_https_source_is_refused_naming_the_record(editor_client):
    existing = make_source(title="The original", url="https://example.org/a")

    response = editor_client.post(
        reverse("admin:sources_source_add"), add_form(url="http://example.org/a?utm_source=x")
    )

    assert response.status_code == 200
    assert "This URL is already in the library as The original (https://example.org/a)" in (
        page_text(response)
    )
    assert Source.objects.get() == existing


def test_an_isbn_with_a_wrong_check_digit_is_refused_on_its_field(editor_client):
    response = editor_client.post(
        reverse("admin:sources_source_add"), add_form(url="", isbn="978-0-306-40615-8")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["isbn"] == [
        "“978-0-306-40615-8” is not an ISBN: its check digit is wrong."
    ]


def test_the_list_filters_by_url_identifier_and_link_status(editor_client):
    book = make_source(title="A book", url="", isbn="9780306406157")
    interview = make_source(title="An interview", url="")
    unchecked = make_source(title="A page never checked", url="https://example.org/new")
    checked = make_source(title="A page checked", url="https://example.org/old")
    Source.objects.filter(pk=checked.pk).update(link_checked_at="2026-01-01T00:00Z")

    def listed(**query):
        response = editor_client.get(reverse(CHANGELIST), query)
        return set(response.context["cl"].result_list)

    assert listed(has_url="no") == {book, interview}
    assert listed(has_url="yes") == {unchecked, checked}
    assert listed(has_identifier="yes") == {book}
    assert listed(has_identifier="no") == {interview, unchecked, checked}
    assert listed(link_status="unchecked") == {unchecked}
    assert listed(link_status="live") == {checked}
    assert listed(link_status="none") == {book, interview}
    content = editor_client.get(reverse(CHANGELIST), {"q": "never"}).content.decode()
    assert '<td class="field-link_status">unchecked</td>' in content
    assert '<td class="field-link_status">Live</td>' not in content


@pytest.mark.parametrize(
    "term",
    ["0-306-40615-2", "9780306406157", "arXiv:2101.00001v2", "10/FQD6HJ", "http://example.org/a"],
)
def test_searching_finds_a_source_by_any_identifier_however_written(editor_client, term):
    wanted = make_source(
        title="Wanted",
        url="https://example.org/a",
        isbn="9780306406157",
        arxiv_id="2101.00001",
        doi="10/fqd6hj",
    )
    make_source(title="Other")

    response = editor_client.get(reverse(CHANGELIST), {"q": term})

    assert list(response.context["cl"].result_list) == [wanted]
