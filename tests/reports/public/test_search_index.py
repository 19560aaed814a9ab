"""The search table follows publishing; search reads it, and corrects typos from its words."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from reports import workflow
from reports.demo.generating import generate
from reports.models import Report, Section, Verdict
from reports.public import fulltext, search_index
from reports.public.models import SearchEntry, SearchWord
from tests.conftest import make_report, make_topic, publish_now
from tests.reports.public.test_search import claims

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full-text and trigram search"
)


def published(claim: str, *, body: str = "", summary: str = "", topics=(), **fields) -> Report:
    if summary:
        fields["summary"] = f"{summary} [1]"
    report = make_report(sections=1, references=1, questions=0, claim=claim, **fields)
    if body:
        Section.objects.filter(report=report).update(body=f"{body} [1]")
    report.topics.set(topics)
    publish_now(report)
    return report


def entry(report: Report) -> SearchEntry | None:
    return SearchEntry.objects.filter(report=report).first()


# The table follows publishing


def test_publishing_adds_the_live_version_to_the_search_table():
    report = published("Owls can turn their heads all the way round.", summary="They cannot.")

    found = entry(report)
    live = report.versions.get(is_live=True)
    assert (found.version_id, found.claim, found.checked_on) == (
        live.pk,
        live.claim,
        live.checked_on,
    )
    assert found.verdict_id == live.verdict_id
    assert found.excerpt.startswith("They cannot.")


def test_a_correction_replaces_the_entry_with_the_new_version(client):
    report = published("Owls can turn their heads all the way round.")
    Report.objects.filter(pk=report.pk).update(
        claim="Owls can turn their heads three quarters of the way.",
        verdict=Verdict.objects.get(slug="true"),
        updated_at=F("published_at") + datetime.timedelta(seconds=1),
    )
    report.refresh_from_db()

    publish_now(report, note="The claim was misquoted.")

    assert SearchEntry.objects.filter(report=report).count() == 1
    found = entry(report)
    assert found.version_id == report.versions.get(is_live=True).pk
    assert found.claim == "Owls can turn their heads three quarters of the way."
    assert found.verdict.slug == "true"
    if connection.vendor == "postgresql":
        assert claims(client.get("/reports/", {"q": "quarters"})) == [found.claim]
        assert claims(client.get("/reports/", {"q": "round"})) == []


@pytest.mark.parametrize("step", ["unpublish", "withdraw"])
def test_a_report_taken_down_leaves_the_search_table_and_is_not_found(client, reviewer, step):
    report = published("Owls can swivel their necks all the way round.")
    other = published("Owls hoot at night.")

    if step == "unpublish":
        workflow.unpublish(report, by=reviewer, comment="Published by mistake.")
    else:
        workflow.withdraw(report, by=reviewer, reason="The claim was never made.")

    assert entry(report) is None
    assert entry(other) is not None
    assert claims(client.get("/reports/", {"q": "owls"})) == ["Owls hoot at night."]
    # Nor is it found through the words only it held ("swivel"): they count no report now.
    assert claims(client.get("/reports/", {"q": "swivel"})) == []
    assert claims(client.get("/reports/", {"q": "swivle"})) == []


def test_deleting_a_report_deletes_its_entry():
    report = published("Owls can turn their heads all the way round.")

    report.delete()

    assert not SearchEntry.objects.exists()


def test_rebuild_search_restores_the_table_and_drops_words_no_live_report_holds(reviewer):
    kept = published("Penguins cannot fly.", body="Flightless seabirds swim instead.")
    gone = published("Ostriches bury their heads.", body="A myth about sand.")
    workflow.unpublish(gone, by=reviewer, comment="Mistake.")
    SearchEntry.objects.all().delete()

    out = StringIO()
    call_command("rebuild_search", stdout=out)

    assert list(SearchEntry.objects.values_list("report_id", flat=True)) == [kept.pk]
    assert "1 live reports" in out.getvalue()
    if connection.vendor == "postgresql":
        words = set(SearchWord.objects.values_list("word", flat=True))
        assert {"penguin", "flightless", "seabird"} <= words
        assert "ostrich" not in words


def test_generated_reports_are_in_the_search_table():
    generate(3, seed=2, sources=40)

    assert SearchEntry.objects.count() == 3
    if connection.vendor == "postgresql":
        assert SearchWord.objects.filter(word="evid").exists()  # "evidence", stemmed


@postgresql_only
# VACUUM runs outside a transaction only; the rows the migrations made are put back after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bulk_load_leaves_the_search_table_counted_and_all_visible():
    generate(30, seed=3, sources=40)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples, relpages, relallvisible FROM pg_class"
            " WHERE oid = 'reports_searchentry'::regclass"
        )
        tuples, pages, all_visible = cursor.fetchone()
    assert tuples == 30
    # Index-only scans over the entries (the window's first day) read no table pages.
    assert pages > 0
    assert all_visible == pages


# Search reads it (PostgreSQL)


@postgresql_only
def test_publishing_adds_the_words_of_the_claim_summary_and_body():
    published("Penguins cannot fly.", summary="Seabirds swim.", body="Flightless birds dive deep.")

    words = set(SearchWord.objects.values_list("word", flat=True))
    assert {"penguin", "fli", "seabird", "swim", "flightless", "dive", "deep"} <= words
    # Stop words and numbers are not words anyone needs corrected.
    assert not words & {"the", "1"}


@postgresql_only
def test_a_typo_of_a_word_only_in_the_body_is_corrected(client):
    published("Cats sleep a lot.", body="Felines sleep for sixteen hours a day.")
    published("Dogs bark.")

    response = client.get("/reports/", {"q": "sixteeen hours"})

    assert claims(response) == ["Cats sleep a lot."]
    assert "These reports have similar words." in response.content.decode()
    assert "<mark>sixteen</mark> <mark>hours</mark>" in response.content.decode()


@postgresql_only
def test_the_corrected_query_names_the_archive_words_similar_to_each_word():
    published("The Eiffel Tower grows in summer.")
    published("Vaccines cause autism.")

    assert search_page("eifel vacine").corrected == "'eiffel' & 'vaccin'"
    assert search_page("xqzvw").corrected is None


@postgresql_only
def test_every_form_written_for_a_word_searched_is_marked(client):
    published(
        "Vaccinated children ran, a trial says.",
        summary="The vaccines and a vaccine-led trial; nothing vaccinal.",
    )

    content = client.get("/reports/", {"q": "vaccination -autism"}).content.decode()

    assert "<mark>Vaccinated</mark> children ran, a trial says." in content
    assert "The <mark>vaccines</mark> and a <mark>vaccine</mark>-led trial" in content
    assert "nothing <mark>vaccinal</mark>." in content  # English stemming: "vaccin" too
    assert client.get("/reports/", {"q": "vaccination -trial"}).content.count(b"<mark>") == 0


@postgresql_only
def test_the_words_marked_follow_a_correction(client):
    report = published("Owls can turn their heads all the way round.")
    Report.objects.filter(pk=report.pk).update(
        claim="Owls rotate their heads by three quarters.",
        updated_at=F("published_at") + datetime.timedelta(seconds=1),
    )
    report.refresh_from_db()
    publish_now(report, note="The claim was misquoted.")

    content = client.get("/reports/", {"q": "rotating owl"}).content.decode()

    assert "<mark>Owls</mark> <mark>rotate</mark> their heads by three quarters." in content
    assert entry(report).claim == "Owls rotate their heads by three quarters."


@postgresql_only
def test_a_word_beyond_the_excerpt_is_found_and_the_summary_shown(client):
    body = "Padding words here. " * (search_index.EXCERPT_CHARACTERS // 10) + "Narwhals."
    published("Unicorns are real.", summary="A short summary.", body=body)

    response = client.get("/reports/", {"q": "narwhals"})

    assert claims(response) == ["Unicorns are real."]
    assert "A short summary." in response.content.decode()


@postgresql_only
def test_a_search_with_filters_reads_only_the_search_table(client):
    health = make_topic(name="Health", slug="health")
    false, true = Verdict.objects.get(slug="false"), Verdict.objects.get(slug="true")
    published("Sugar makes children hyperactive.", verdict=false, topics=[health])
    published("Sugar is sweet.", verdict=true, topics=[health])
    published("Sugar is a poison.", verdict=false)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/reports/", {"q": "sugar", "verdict": "false", "topic": "health"})

    assert claims(response) == ["Sugar makes children hyperactive."]
    searches = [query["sql"] for query in queries if "@@" in query["sql"]]
    assert len(searches) == 1
    # The wide versions table only by its primary key, for the row shown (its address).
    scans = plan_scans("sugar", verdict_id=false.pk, topic_id=health.pk)
    assert [scan for scan in scans if scan[0] == "reports_publishedversion"] == [
        ("reports_publishedversion", "Index Scan", "reports_publishedversion_pkey", 1)
    ]


@postgresql_only
@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("bread", {}),  # a word in most reports: the date index walked
        ("sourdough", {"since": datetime.date(2000, 1, 1)}),  # a rarer one: the GIN index
        ("sourdugh", {"verdict_id": 1}),  # a typo: the similar words' index, then either
    ],
)
def test_a_search_never_reads_a_whole_table(query, params):
    """Testing a row's vector is an out-of-line read: every table is read by an index."""
    for n in range(4):
        published(f"Bread claim {n}.")
    published("Sourdough bread claim.")
    search_index.analyze()

    scans = plan_scans(query, **params)

    assert scans
    assert not [scan for scan in scans if scan[1] == "Seq Scan"]


@postgresql_only
@pytest.mark.parametrize("query", ["bread", "sourdough", "sourdugh"])
def test_a_search_is_planned_without_parallel_workers_and_leaves_the_setting_as_it_was(query):
    """Workers cost more than they save when every reader searches at once."""
    for n in range(4):
        published(f"Bread claim {n}.")
    published("Sourdough bread claim.")
    search_index.analyze()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 4")

        settings = plan(query)["Settings"]  # those not at their defaults, as planned
        search_page(query)

        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone()[0] == "4"
    assert settings["max_parallel_workers_per_gather"] == "0"
    assert settings["enable_seqscan"] == "off"


@postgresql_only
def test_every_search_runs_one_plan_prepared_once_per_connection():
    """Parsing and planning the statement cost more than running it: it is prepared the
    first time a connection searches, and every search runs its one generic plan."""
    for n in range(3):
        published(f"Bread claim {n}.")
    search_index.analyze()
    counted = """
        SELECT count(*), coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)
        FROM pg_prepared_statements WHERE statement LIKE '%%reports_searchword%%'
    """
    with connection.cursor() as cursor:
        cursor.execute(counted)
        _, generic_before, custom_before = cursor.fetchone()

        for query in ["bread", "sourdough", "claim bread", "breadd", '"bread claim"']:
            search_page(query)

        cursor.execute(counted)
        statements, generic, custom = cursor.fetchone()
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        assert cursor.fetchone()[0] == "auto"  # as before the searches
    assert (statements, generic - generic_before, custom - custom_before) == (1, 5, 0)


@postgresql_only
def test_a_search_parses_its_query_once_not_for_every_entry_it_walks():
    """The one generic plan cannot fold the query's parsing into a constant: written where
    the walk tests each entry, websearch_to_tsquery ran for every row read."""
    for n in range(4):
        published(f"Bread claim {n}.")
    search_index.analyze()
    sql, params = fulltext.statement("bread", ranked=True, page_number=1, per_page=20)
    connection.ensure_connection()
    # Bound on the server, as search_page runs it: planned with parameters, not values.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(fulltext._PLANNED_BY_INDEXES)
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (explained,) = cursor.fetchone()
        cursor.execute(fulltext._PLANNED_AS_BEFORE)

    walked = [
        node["Filter"]
        for node in _nodes(explained[0]["Plan"])
        if node.get("Index Name") == "search_entry_order" and node.get("Actual Loops")
    ]
    assert walked  # "bread" is in every report: the date index is walked
    assert "websearch_to_tsquery" not in walked[0]
    assert re.search(r"ts_match_vq\(search_vector, \$\d+\)", walked[0])


def search_page(text: str, **options) -> fulltext.SearchPage:
    return fulltext.search_page(text, ranked=True, page_number=1, per_page=20, **options)


def plan_scans(text: str, **options) -> list[tuple[str, str, str | None, int]]:
    """(table, scan, index, loops) of each table read by the search statement as it ran."""
    return [
        (node["Relation Name"], node["Node Type"], node.get("Index Name"), node["Actual Loops"])
        for node in _plan(text, **options)
        if "Relation Name" in node
    ]


def _plan(text: str, **options) -> list[dict]:
    """Every step of the search statement's plan as it ran."""
    return _nodes(plan(text, **options)["Plan"])


def _nodes(node: dict) -> list[dict]:
    return [node, *(found for child in node.get("Plans", []) for found in _nodes(child))]


def plan(text: str, **options) -> dict:
    """The search statement's plan as it ran (EXPLAIN ANALYZE), with the settings it was
    planned with that are not at their defaults."""
    sql, params = fulltext.statement(text, ranked=True, page_number=1, per_page=20, **options)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{fulltext._PLANNED_BY_INDEXES}; EXPLAIN (ANALYZE, SETTINGS, FORMAT JSON) {sql}; "
            f"{fulltext._PLANNED_AS_BEFORE}",
            params,
        )
        cursor.nextset()
        (explained,) = cursor.fetchone()
        cursor.nextset()
    return explained[0]


@postgresql_only
@pytest.mark.parametrize("query", ["sugar", "suggar children", "sugar -sweet", '"sugar makes"'])
def test_a_search_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, query):
    for n in range(30):
        published(f"Sugar makes children hyperactive {n}.", body="Sugar and more sugar.")

    # The filter choices, and one statement for the page: its rows, highlights and topics,
    # the similar words and the corrected search.
    with django_assert_max_num_queries(2):
        response = client.get("/reports/", {"q": query})

    assert response.status_code == 200
    assert len(claims(response)) == 20


@postgresql_only
def test_the_words_count_the_live_reports_that_hold_them(reviewer):
    first = published("Penguins cannot fly.")
    published("Penguins swim.")
    documents = lambda word: SearchWord.objects.get(word=word).documents  # noqa: E731
    assert documents("penguin") == 2

    workflow.unpublish(first, by=reviewer, comment="Published by mistake.")
    assert documents("penguin") == 1
    assert documents("fli") == 0

    call_command("rebuild_search", stdout=StringIO())
    assert documents("penguin") == 1
    assert not SearchWord.objects.filter(word="fli").exists()


@postgresql_only
@pytest.mark.parametrize("walk_share", [0.0, 2.0])
def test_walking_the_date_index_or_sorting_the_matches_lists_the_same(
    client, monkeypatch, walk_share
):
    """A common word walks the date index, a rarer one sorts the GIN index's matches."""
    monkeypatch.setattr(fulltext, "MAX_RANKED", 3)
    monkeypatch.setattr(fulltext, "WALK_SHARE", walk_share)
    for age in range(6):
        published(f"Bread claim {age}.", checked_on=datetime.date(2026, 1, 10 - age))
    published("Cheese claim.", checked_on=datetime.date(2026, 1, 10))

    response = client.get("/reports/", {"q": "bread", "sort": "newest"})

    assert claims(response) == ["Bread claim 0.", "Bread claim 1.", "Bread claim 2."]


@postgresql_only
@pytest.mark.parametrize(
    ("margin", "window_read"),
    [(1.0, True), (0.25, False)],  # the window holds the four newest matches, or too few
)
def test_a_word_in_some_reports_lists_its_newest_matches_from_the_newest_entries(
    client, monkeypatch, margin, window_read
):
    """The window of newest entries is read alone when it holds enough matches; when it
    does not (the word was common long ago), every match is, and the list is the same."""
    monkeypatch.setattr(fulltext, "MAX_RANKED", 3)
    monkeypatch.setattr(fulltext, "FEW", 1)  # four found: no similar words looked for
    monkeypatch.setattr(fulltext, "WALK_SHARE", 0.9)
    monkeypatch.setattr(fulltext, "WINDOW_SHARE", 0.1)
    monkeypatch.setattr(fulltext, "WINDOW_MARGIN", margin)
    for age in range(8):  # a bread claim every other day
        published(f"Bread claim {age}.", checked_on=datetime.date(2026, 1, 20) - 2 * DAY * age)
        published(f"Other claim {age}.", checked_on=datetime.date(2026, 1, 19) - 2 * DAY * age)
    search_index.analyze()  # the share (half the reports) is read from the word table

    response = client.get("/reports/", {"q": "bread", "sort": "newest"})

    assert claims(response) == ["Bread claim 0.", "Bread claim 1.", "Bread claim 2."]
    assert "More than 3 fact-checks" in response.content.decode()
    # Rows fetched through the words' index: a Bitmap Heap Scan over its Bitmap Index Scan.
    fetched = [
        node["Actual Rows"]
        for node in _plan("bread")
        if node["Node Type"] == "Bitmap Heap Scan"
        and node["Actual Loops"]
        and any(child.get("Index Name") == "search_entry_vector" for child in node["Plans"])
    ]
    # Four candidates (three listed, one to tell there are more); bread in half the reports.
    if window_read:  # since the 9th newest entry (4 × 1 ÷ ½ before it): 5 of the 8 matches
        assert fetched == [5]
    else:  # since the 3rd (4 × ¼ ÷ ½ before it): 2 matches, too few; then all 8
        assert fetched == [2, 8]


@postgresql_only
def test_a_corrected_query_is_as_common_as_its_similar_words_together(monkeypatch):
    """A typo's alternatives match if any does: 'bread' | 'breadth' is as common as both
    (it once counted as rare as the rarer and sorted every match of the common word)."""
    monkeypatch.setattr(fulltext, "FEW", 1)
    for n in range(2):
        published(f"Bread claim {n}.")
        published(f"Breadth claim {n}.")
    for n in range(6):
        published(f"Other claim {n}.")
    search_index.analyze()

    typo = search_page("breadh")
    assert typo.corrected == "'bread' | 'breadth'"
    assert typo.walked  # 4 of 10 reports
    assert not search_page("bread").walked  # 2 of 10
    assert search_page("claim").walked
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone()[0] == "on"  # as before the search


@postgresql_only
def test_the_vector_index_takes_new_entries_at_once_not_into_a_pending_list():
    """A pending list is read in full by every search until VACUUM merges it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'search_entry_vector'")
        (options,) = cursor.fetchone()
    assert "fastupdate=off" in options
