"""The source finder's endpoints: search, the marker to insert, renumbering, still cited.

They answer from the unsaved form the editor's browser posts, so a report never saved can
cite; each needs the permission to change reports, and the POSTs need the CSRF token.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from reports import roles
from sources.models import Publisher, Source
from tests.conftest import make_report, make_source, make_user

pytestmark = pytest.mark.django_db


def url(name: str) -> str:
    return reverse(f"admin:reports_report_desk_cite_{name}")


def post_json(client, name: str, data) -> object:
    return client.post(url(name), json.dumps(data), content_type="application/json")


@pytest.fixture
def writer_client(client, writer):
    client.force_login(writer)
    return client


def test_search_finds_sources_by_author_and_says_how_many_reports_cite_each(
    writer_client, django_assert_max_num_queries
):
    publisher = Publisher.objects.create(name="The Civic Ledger", domain="ledger.example")
    cited = make_source(
        title="Fountain costs",
        authors="Ana Rivera",
        publisher=publisher,
        published_on=datetime.date(2026, 2, 12),
    )
    for _ in range(3):
        report = make_report(references=1)
        report.references.update(source=cited)
    make_source(title="Another Rivera study", authors="Luis Rivera")
    make_source(title="Nothing to do with it", authors="Jo Marsh")

    # The session, the user, their permissions (two), then one query for the search and its
    # counts, however many sources match.
    with django_assert_max_num_queries(5):
        response = writer_client.get(url("find"), {"q": "rivera"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Fountain costs" in page
    assert "Another Rivera study" in page
    assert "Nothing to do with it" not in page
    assert "The Civic Ledger · February 12, 2026 · cited in 3 reports" in page
    assert "cited in 0 reports" in page


def test_the_marker_is_the_forms_own_number_for_a_source_it_cites_already(writer_client):
    source = make_source()
    response = post_json(
        writer_client, "number", {"source": source.pk, "references": [[1, None], [4, source.pk]]}
    )
    assert response.json()["number"] == 4
    assert response.json()["existing"] is True


def test_a_new_source_gets_the_next_free_number_of_the_unsaved_form(writer_client):
    source = make_source(title="A new study")
    response = post_json(
        writer_client, "number", {"source": source.pk, "references": [[2, None], [7, None]]}
    )
    answer = response.json()
    assert answer["number"] == 8
    assert answer["existing"] is False
    assert answer["source"]["title"] == "A new study"
    assert answer["source"]["admin_url"] == reverse("admin:sources_source_change", args=[source.pk])
    # A blank new report: the first marker.
    assert post_json(writer_client, "number", {"source": source.pk}).json()["number"] == 1


def test_a_retired_source_cannot_be_cited(writer_client):
    source = make_source(status=Source.Status.RETIRED, retired_reason="Gone.")
    response = post_json(writer_client, "number", {"source": source.pk, "references": []})
    assert response.status_code == 409
    assert "retired" in response.json()["error"]


def test_renumbering_follows_the_first_citations_of_the_unsaved_texts(writer_client):
    texts = [
        ["summary", "First [3]. Then [1][3]."],
        ["sections-0-body", "A list:\n\n- item [2]\n\nAnd \\[1] is no marker."],
        ["conclusion", "All [1] [2] [3] [9]."],
    ]
    response = post_json(writer_client, "renumber", {"texts": texts, "numbers": [1, 2, 3, 4]})
    answer = response.json()
    assert answer["texts"] == {
        "summary": "First [1]. Then [2][1].",
        "sections-0-body": "A list:\n\n- item [3]\n\nAnd \\[1] is no marker.",
        "conclusion": "All [2] [3] [1] [5].",
    }
    # [4] is cited nowhere: after the cited ones; the unresolved [9] after every reference.
    assert answer["numbers"] == [2, 3, 1, 4]


def test_removing_a_reference_says_where_the_unsaved_texts_still_cite_it(writer_client):
    texts = [
        ["summary", "One [1].\n\nTwo [2]."],
        ["sections-0-body", "Not here."],
        ["sections-1-body", "Intro.\n\nHere [1] [2].\n\nAnd here [2]."],
        ["conclusion", "So [2]."],
    ]
    response = post_json(writer_client, "still_cited", {"texts": texts, "number": 2})
    assert response.json()["places"] == [
        "Summary ¶2",
        "Section 2 ¶2",
        "Section 2 ¶3",
        "Conclusion ¶1",
    ]


def test_a_pasted_link_that_is_new_is_prefilled_then_added_to_the_library(writer_client):
    link = "https://news.example/2026/fountain-costs-rise"
    found = writer_client.get(url("find"), {"q": link})  # not fetched: no such host
    assert 'name="title"' in found.content.decode()
    assert "Fountain costs rise" in found.content.decode()

    added = writer_client.post(url("add_source"), {"url": link, "title": "Fountain costs rise"})
    source = Source.objects.get(url=link)
    assert f'data-source="{source.pk}" data-autopick' in added.content.decode()


def test_malformed_posts_are_refused(writer_client):
    assert post_json(writer_client, "renumber", {"texts": "x", "numbers": []}).status_code == 400
    assert post_json(writer_client, "number", {"source": "1"}).status_code == 400
    assert (
        writer_client.post(url("number"), "{", content_type="application/json").status_code == 400
    )


def test_only_those_who_may_change_reports_use_the_finder(client, curator):
    client.force_login(curator)
    assert client.get(url("find"), {"q": "fountain"}).status_code == 403
    assert post_json(client, "renumber", {"texts": [], "numbers": []}).status_code == 403


def test_the_finder_posts_need_the_csrf_token(writer):
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(writer)
    response = checked.post(
        url("renumber"), json.dumps({"texts": [], "numbers": []}), content_type="application/json"
    )
    assert response.status_code == 403


def test_the_add_form_carries_the_finder_and_each_reference_row_its_source(writer_client):
    report = make_report(references=2)
    assert (
        'id="desk-cite-dialog"'
        in writer_client.get(reverse("admin:reports_report_add")).content.decode()
    )
    page = writer_client.get(reverse("admin:reports_report_change", args=[report.pk]))
    html = page.content.decode()
    for reference in report.references.select_related("source"):
        admin_url = reverse("admin:sources_source_change", args=[reference.source.pk])
        assert f'href="{admin_url}"' in html


def test_an_editor_without_source_rights_is_told_to_ask_a_curator(client):
    user = make_user("limited", roles.EDITOR)
    user.user_permissions.clear()
    user.groups.get().permissions.remove(
        *user.groups.get().permissions.filter(codename="add_source")
    )
    client.force_login(user)
    response = client.get(url("find"), {"q": "https://news.example/a-new-page"})
    assert "ask a source curator" in response.content.decode()
