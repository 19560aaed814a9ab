"""Citing from the report editor: find a source or paste a link, cite it, get the marker."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode
from reversion.models import Version

from reports import roles
from reports.models import Reference
from reports.newsroom import citing
from sources import retiring
from sources.models import PublisherDomain, Source
from tests.conftest import (
    change_form_data,
    make_publisher,
    make_report,
    make_source,
    make_user,
    publish_now,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_internet")]

HTMX = {"HX-Request": "true"}


def cite_url(report) -> str:
    return reverse("admin:reports_report_cite", args=[report.pk])


def search_url(report, query: str) -> str:
    return f"{cite_url(report)}?{urlencode({'q': query})}"


def change_url(report):
    return reverse("admin:reports_report_change", args=[report.pk])


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def cite_button(source) -> str:
    return f'form="cite-pick" name="source" value="{source.pk}"'


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bbc(db):
    return make_publisher(name="BBC News", domain="bbc.co.uk")


@pytest.fixture
def writer_client(writer):
    """An editor (the Editor group): changes reports and adds sources."""
    return client_for(writer)


# Searching


def test_the_search_is_a_partial_for_htmx_and_a_full_page_without(writer_client, report, bbc):
    source = make_source(title="Measles cases rise in Europe", publisher=bbc)

    partial = writer_client.get(search_url(report, "measles"), headers=HTMX)
    full = writer_client.get(search_url(report, "measles"))

    for response in (partial, full):
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        content = response.content.decode()
        assert 'id="cite-results"' in content
        assert "Measles cases rise in Europe" in content
        assert cite_button(source) in content
    assert partial.content.decode().lstrip().startswith('<div class="cite-results"')
    assert "<html" not in partial.content.decode()
    full_content = full.content.decode()
    assert "<html" in full_content
    assert "Back to the report" in page_text(full)
    # Without JavaScript the page's own forms search and cite.
    assert f'<form id="cite-search" class="cite-form" method="get" action="{cite_url(report)}"' in (
        full_content
    )
    assert 'id="cite-pick" class="cite-form" method="post"' in full_content
    assert 'name="csrfmiddlewaretoken"' in full_content
    assert 'value="measles"' in full_content  # the query stays in the box


def test_sources_are_found_by_title_publisher_and_url(writer_client, report, bbc):
    by_title = make_source(title="Vaccine trial results", url="https://example.org/a")
    by_publisher = make_source(title="Something else", publisher=bbc)
    by_url = make_source(title="A third", url="https://stats.example.gov/measles-2024.csv")
    PublisherDomain.objects.create(publisher=bbc, domain="bbc.com")

    def found(query):
        content = writer_client.get(search_url(report, query), headers=HTMX).content.decode()
        return {s for s in (by_title, by_publisher, by_url) if cite_button(s) in content}

    assert found("vaccine TRIAL") == {by_title}
    assert found("bbc news") == {by_publisher}
    assert found("bbc.co.uk") == {by_publisher}
    assert found("measles-2024") == {by_url}
    assert found("stats.example.gov") == {by_url}
    assert found("vaccine bbc") == set()  # every word must match


def test_retired_sources_are_not_offered(writer_client, report, curator):
    active = make_source(title="Climate report, first edition")
    retired = make_source(title="Climate report, retracted")
    retiring.retire(retired, by=curator, reason="Retracted by its authors.")

    content = writer_client.get(search_url(report, "climate report"), headers=HTMX).content.decode()

    assert cite_button(active) in content
    assert "retracted" not in content


def test_sources_the_report_cites_already_show_their_number(writer_client):
    report = make_report(references=2)
    cited = report.references.get(number=2).source
    cited.title = "Already cited study"
    cited.save()
    fresh = make_source(title="Fresh study")

    content = writer_client.get(search_url(report, "study"), headers=HTMX).content.decode()

    assert "Cited as [2]" in content
    assert cite_button(cited) not in content
    assert cite_button(fresh) in content


def test_a_short_or_empty_query_shows_the_hint_and_no_match_says_so(writer_client, report):
    make_source(title="Anything")

    empty = writer_client.get(cite_url(report), headers=HTMX)
    short = writer_client.get(search_url(report, "a"), headers=HTMX)
    none = writer_client.get(search_url(report, "zzzz"), headers=HTMX)

    assert "Type a few words" in page_text(empty)
    assert "Type a little more" in page_text(short)
    assert "No active source matches “zzzz”. Paste its link to add it." in page_text(none)


@pytest.mark.parametrize("count", [1, 10])
def test_the_search_partial_makes_as_many_queries_whatever_the_results(
    writer_client, django_assert_max_num_queries, bbc, count
):
    report = make_report()
    for n in range(count):
        make_source(title=f"Inflation figures {n}", publisher=bbc)
    writer_client.get(search_url(report, "inflation"), headers=HTMX)  # warm the session

    # Session, user, permissions (2), report, the search: none per result.
    with django_assert_max_num_queries(6):
        response = writer_client.get(search_url(report, "inflation"), headers=HTMX)

    assert response.content.decode().count('name="source"') == count


# Pasting a link


def test_pasting_a_known_url_with_tracking_parameters_offers_that_source(writer_client, report):
    source = make_source(title="The known article", url="https://news.example/story?id=7")

    pasted = "https://NEWS.example/story?id=7&utm_source=twitter&fbclid=abc#comments"
    content = writer_client.get(search_url(report, pasted), headers=HTMX).content.decode()

    assert "This link is in the library" in content
    assert cite_button(source) in content
    assert "Add to the library" not in content

    Reference.objects.create(report=report, number=3, source=source)
    again = writer_client.get(search_url(report, pasted), headers=HTMX)
    assert "Cited as [3]" in page_text(again)
    assert cite_button(source) not in again.content.decode()


def test_a_retired_source_pasted_by_url_is_shown_but_not_citable(writer_client, report, curator):
    source = make_source(title="Withdrawn paper", url="https://journal.example/w")
    retiring.retire(source, by=curator, reason="Retracted.")

    content = writer_client.get(
        search_url(report, "https://journal.example/w"), headers=HTMX
    ).content.decode()

    assert "which is retired: Retracted." in content
    assert cite_button(source) not in content
    assert "Add to the library" not in content


def test_pasting_a_new_url_asks_for_its_title_with_a_guess(writer_client, report, bbc):
    pasted = "https://www.bbc.co.uk/news/health-measles-outbreak-66123456?utm_medium=social"

    response = writer_client.get(search_url(report, pasted), headers=HTMX)

    content = response.content.decode()
    assert "Not in the library yet" in content
    assert "Publisher: BBC News (from its domain)" in content
    url = "https://www.bbc.co.uk/news/health-measles-outbreak-66123456"
    assert f'<input type="hidden" name="url" value="{url}" form="cite-pick">' in content
    assert 'name="title" id="cite-new-title" form="cite-pick" value="Health measles outbreak"' in (
        content
    )
    assert " required" in content
    assert Source.objects.count() == 2  # the report's own; nothing is added by looking


def test_something_that_is_not_a_web_address_is_refused(writer_client, report):
    response = writer_client.get(search_url(report, "https://no-domain"), headers=HTMX)

    assert "That does not look like a web address" in page_text(response)


def test_a_new_url_becomes_a_source_with_the_given_title_and_is_cited(writer, writer_client, bbc):
    report = make_report(references=3)
    url = "https://www.bbc.co.uk/news/health-66123456?utm_campaign=x"

    response = writer_client.post(
        cite_url(report),
        {"url": url, "title": "  Measles outbreak   declared ", "create": "1"},
        headers=HTMX,
    )

    assert response.status_code == 200
    source = Source.objects.get(url="https://www.bbc.co.uk/news/health-66123456")
    assert source.title == "Measles outbreak declared"
    assert source.publisher == bbc
    assert source.is_active
    assert "Added from the report editor by writer" in source.notes
    reference = report.references.get(source=source)
    assert reference.number == 4
    text = page_text(response)
    assert "Added as reference [4]: paste [4] where you cite it." in text
    assert "new in the library" in text
    assert LogEntry.objects.filter(object_id=str(source.pk), action_flag=ADDITION).exists()


def test_only_web_addresses_become_sources(writer_client, report):
    response = writer_client.post(
        cite_url(report), {"url": "ftp://files.example/a.pdf", "title": "A file"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "Enter a valid URL." in page_text(response)
    assert report.references.count() == 2


def test_a_new_source_needs_a_title(writer_client, report):
    response = writer_client.post(
        cite_url(report), {"url": "https://fresh.example/page", "title": "   "}, headers=HTMX
    )

    assert response.status_code == 200
    assert "This field is required." in page_text(response)
    assert 'name="url" value="https://fresh.example/page"' in response.content.decode()
    assert not Source.objects.filter(url="https://fresh.example/page").exists()
    assert report.references.count() == 2


def test_adding_a_url_that_is_in_the_library_cites_the_existing_source(writer_client, report):
    source = make_source(url="https://known.example/a")

    writer_client.post(
        cite_url(report),
        {"url": "http://known.example/a?utm_source=x", "title": "Another title"},
        headers=HTMX,
    )

    assert Source.objects.filter(url__contains="known.example").count() == 1
    assert report.references.get(number=3).source == source
    source.refresh_from_db()
    assert source.title != "Another title"


# Citing


def test_citing_adds_the_next_number_and_shows_the_marker(writer, writer_client):
    report = make_report(references=2)
    Reference.objects.create(report=report, number=7)  # numbers need not be contiguous
    source = make_source(title="The cited one")

    response = writer_client.post(cite_url(report), {"source": source.pk}, headers=HTMX)

    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert response.content.decode().lstrip().startswith('<div class="cite-results"')
    text = page_text(response)
    assert "Added as reference [8]: paste [8] where you cite it." in text
    assert "saving the form you have open keeps it" in text
    assert report.references.get(number=8).source == source
    report.refresh_from_db()
    assert report.last_edited_by == writer
    entry = LogEntry.objects.get(object_id=str(report.pk), action_flag=CHANGE)
    assert entry.get_change_message() == "Added reference [8] citing “The cited one”."
    revision = Version.objects.get_for_object(report).first().revision
    assert revision.comment == "Added reference [8] citing “The cited one”."
    assert revision.user == writer


def test_citing_without_javascript_goes_back_to_the_report_with_the_marker(writer_client, report):
    source = make_source()

    response = writer_client.post(cite_url(report), {"source": source.pk}, follow=True)

    assert response.redirect_chain == [(change_url(report), 302)]
    assert "Added as reference [3]: paste [3] where you cite it." in page_text(response)
    # The reference inline now shows it.
    assert f'<option value="{source.pk}" selected>' in response.content.decode()


def test_citing_a_source_twice_shows_its_existing_number(writer_client):
    report = make_report(references=2)
    source = report.references.get(number=2).source

    htmx = writer_client.post(cite_url(report), {"source": source.pk}, headers=HTMX)
    plain = writer_client.post(cite_url(report), {"source": source.pk}, follow=True)

    assert "already cites “" in page_text(htmx)
    assert "as reference [2]: paste [2] where you cite it." in page_text(htmx)
    assert "as reference [2]: paste [2] where you cite it." in page_text(plain)
    assert report.references.count() == 2


def test_citing_a_retired_source_is_refused(writer_client, report, curator):
    source = make_source(title="Gone")
    retiring.retire(source, by=curator, reason="Fabricated.")

    htmx = writer_client.post(cite_url(report), {"source": source.pk}, headers=HTMX)
    plain = writer_client.post(cite_url(report), {"source": source.pk, "q": "gone"}, follow=True)

    assert "“Gone” is retired (Fabricated.) and cannot be cited" in page_text(htmx)
    assert plain.redirect_chain[0][0] == search_url(report, "gone")
    assert "cannot be cited" in page_text(plain)
    assert not report.references.filter(source=source).exists()


def test_citing_an_unknown_source_says_so(writer_client, report):
    response = writer_client.post(cite_url(report), {"source": "999999"}, headers=HTMX)

    assert "That source is no longer in the library" in page_text(response)
    assert report.references.count() == 2


def test_citing_needs_the_csrf_token(writer, report):
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)

    response = client.post(cite_url(report), {"source": make_source().pk}, headers=HTMX)

    assert response.status_code == 403
    assert report.references.count() == 2


# An open change form and a reference added meanwhile


def test_an_open_form_saved_after_citing_keeps_the_new_reference(writer, writer_client):
    report = make_report(claim="Before.")
    opened = change_form_data(report)  # the editor has the form open
    before = report.edit_version
    source = make_source()

    citing.cite(report, source, by=writer)  # from the panel on the same page

    report.refresh_from_db()
    assert report.edit_version == before  # open forms are not made stale
    opened["claim"] = "After."
    opened["summary"] = "The summary now cites it [1] [2] [3]."
    response = writer_client.post(change_url(report), opened)

    assert response.status_code == 302, page_text(response)
    report.refresh_from_db()
    assert report.claim == "After."
    assert list(report.references.values_list("number", "source")) == [
        (1, report.references.get(number=1).source_id),
        (2, report.references.get(number=2).source_id),
        (3, source.pk),
    ]


def test_a_row_typed_with_the_number_just_cited_is_a_form_error_not_a_crash(writer, writer_client):
    report = make_report()
    opened = change_form_data(report)
    citing.cite(report, make_source(), by=writer)
    typed = make_source()
    opened.update(
        {
            "references-TOTAL_FORMS": "3",
            "references-2-number": "3",
            "references-2-source": typed.pk,
            "references-2-report": report.pk,
        }
    )

    response = writer_client.post(change_url(report), opened)

    assert response.status_code == 200
    assert "Reference with this Report and Number already exists." in page_text(response)
    assert report.references.count() == 3


# The panel on the change form


def test_the_change_form_has_the_cite_panel_with_its_forms_outside_the_report_form(
    writer_client, report
):
    content = writer_client.get(change_url(report)).content.decode()

    url = cite_url(report)
    assert '<h2 id="cite-heading">Cite a source</h2>' in content
    assert (
        f'hx-get="{url}" hx-trigger="input changed delay:300ms" hx-target="#cite-results"'
        in content
    )
    report_form_end = content.index("</form>", content.index('id="report_form"'))
    assert report_form_end < content.index('<form id="cite-search"')
    assert report_form_end < content.index('<form id="cite-pick"')
    assert content.index('id="cite-panel"') < report_form_end
    assert " style=" not in content.split("<body", 1)[1]


# Permissions


def test_a_curator_may_not_cite_nor_search_in_reports(curator, report):
    client = client_for(curator)
    source = make_source()

    assert client.get(search_url(report, "source")).status_code == 403
    assert client.post(cite_url(report), {"source": source.pk}).status_code == 403
    assert report.references.count() == 2


def test_anonymous_visitors_are_sent_to_log_in(client, report):
    response = client.post(cite_url(report), {"source": make_source().pk})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert client.get(cite_url(report)).status_code == 302


def test_adding_a_source_needs_the_add_source_permission(report):
    user = make_user("report-only")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="reports", codename__in=["view_report", "change_report"]
        )
    )
    client = client_for(user)
    known = make_source(title="Known story")

    content = client.get(
        search_url(report, "https://new.example/story"), headers=HTMX
    ).content.decode()
    refused = client.post(
        cite_url(report), {"url": "https://new.example/story", "title": "New story"}, headers=HTMX
    )
    allowed = client.post(cite_url(report), {"source": known.pk}, headers=HTMX)

    assert "ask a source curator" in content
    assert 'name="title"' not in content
    assert refused.status_code == 403
    assert not Source.objects.filter(url="https://new.example/story").exists()
    assert "Added as reference [3]" in page_text(allowed)


def test_the_editor_role_may_cite_and_add_sources(writer):
    assert writer.groups.filter(name=roles.EDITOR).exists()
    assert writer.has_perm("reports.change_report")
    assert writer.has_perm("sources.add_source")


# Finding published reports that cite a retired source


def test_the_changelist_filters_reports_citing_a_retired_source(editor_client, curator):
    live = make_report(claim="Live and citing it.")
    publish_now(live)
    draft = make_report(claim="A draft citing it.")
    clean = make_report(claim="Citing nothing retired.")
    publish_now(clean)
    retired = make_source(title="Retired one")
    for report in (live, draft):
        Reference.objects.create(report=report, number=3, source=retired)
        Reference.objects.create(report=report, number=4, source=retired)  # no duplicates
    retiring.retire(retired, by=curator, reason="Debunked.")
    url = reverse("admin:reports_report_changelist")

    live_only = page_text(editor_client.get(url, {"cites_retired": "live"}))
    any_report = editor_client.get(url, {"cites_retired": "yes"})
    unfiltered = page_text(editor_client.get(url))

    assert "cites a retired source" in unfiltered
    assert "Live and citing it." in live_only
    assert "A draft citing it." not in live_only
    assert "Citing nothing retired." not in live_only
    assert "Live and citing it." in page_text(any_report)
    assert "A draft citing it." in page_text(any_report)
    assert "Citing nothing retired." not in page_text(any_report)
    assert any_report.context["cl"].result_count == 2
