"""Reading CSL-JSON, BibTeX and CSV into entries and plans: mappings, dates, refusals."""

import datetime
import json
from pathlib import Path

import pytest

from sources import interchange
from sources.interchange import Action, ImportRefused
from sources.interchange.common import PartialDate, stored_date
from sources.models import Publisher, PublisherDomain, Source
from tests.conftest import make_publisher, make_source

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def plan_of(name: str, text: str | None = None, fmt: str = ""):
    if text is None:
        text = interchange.decode((FIXTURES / name).read_bytes(), name)
    return interchange.plan_file(text, interchange.format_for(name, fmt), name)


def csl(*items) -> str:
    return json.dumps(list(items))


def item(**fields):
    return {
        "id": "x",
        "type": "webpage",
        "title": "A page",
        "URL": "https://example.org/a",
        **fields,
    }


def only_problem(plan) -> str:
    problems = plan.problems()
    assert len(problems) == 1, problems
    return problems[0]


# Formats by file name


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.json", "csl"), ("A.BIB", "bibtex"), ("dir/x.csv", "csv"), ("x.txt", "csl")],
)
def test_the_format_comes_from_the_extension_unless_given(name, expected):
    chosen = "csl" if name.endswith(".txt") else ""
    assert interchange.format_for(name, chosen) == expected


def test_an_unknown_extension_is_refused_with_the_known_ones():
    with pytest.raises(ImportRefused, match=r"notes\.txt: cannot tell the format.*\.bib"):
        interchange.format_for("notes.txt")


def test_text_that_is_not_utf8_is_refused_with_its_line():
    with pytest.raises(ImportRefused, match=r"x\.csv, line 2: not UTF-8 text"):
        interchange.decode(b"title,url\n\xff\xfe,https://a.example/\n", "x.csv")


# CSL-JSON


def test_a_zotero_csl_file_maps_every_field():
    plan = plan_of("zotero.json")

    assert plan.ok
    assert plan.summary() == "6 created, 1 matched existing, 0 refused"
    guardian, nature, cdc, who, dwd, video, again = plan.entries
    fields = guardian.entry.source_fields()
    assert fields["title"] == "Europe’s heatwave broke records across the continent"
    assert fields["url"] == "https://www.theguardian.com/world/2023/jul/18/europe-heatwave-records"
    assert fields["authors"] == "Jon Henley\nAnna van den Berg"
    assert fields["published_on"] == datetime.date(2023, 7, 18)
    assert fields["accessed_on"] == datetime.date(2024, 1, 5)
    assert fields["language"] == "en-GB"
    assert fields["kind"] == Source.Kind.NEWS_ARTICLE
    assert str(guardian.publisher) == "The Guardian (theguardian.com)"
    assert guardian.new_publisher
    # No URL: the DOI link stands in; the DOI is stored normalised.
    assert nature.entry.url == "https://doi.org/10.1038/s41586-019-1234-5"
    assert nature.entry.doi == "10.1038/s41586-019-1234-5"
    assert nature.entry.kind == Source.Kind.ACADEMIC_PAPER
    # doi.org is no publisher's domain: the journal is kept, known by its name alone.
    assert (nature.publisher.name, nature.publisher.domain) == ("Nature", "")
    assert cdc.entry.kind == Source.Kind.GOVERNMENT_DOCUMENT
    assert cdc.entry.authors == ["Centers for Disease Control and Prevention"]
    assert who.entry.kind == Source.Kind.DATASET
    assert who.entry.published.value == datetime.date(2022, 11, 3)
    assert dwd.entry.kind == Source.Kind.OTHER
    assert dwd.entry.language == "de"
    assert video.entry.kind == Source.Kind.AUDIO_VIDEO
    # A date range: the source is dated where it starts.
    assert video.entry.published.value == datetime.date(2020, 5, 4)
    assert again.action == Action.MATCH
    assert again.same_as is guardian
    assert again.reason == "same URL"


@pytest.mark.parametrize(
    ("csl_type", "url", "kind"),
    [
        ("article-newspaper", "https://a.example/", Source.Kind.NEWS_ARTICLE),
        ("article-magazine", "https://a.example/", Source.Kind.NEWS_ARTICLE),
        ("article-journal", "https://a.example/", Source.Kind.ACADEMIC_PAPER),
        ("book", "https://a.example/", Source.Kind.BOOK),
        ("report", "https://www.gov.uk/report", Source.Kind.GOVERNMENT_DOCUMENT),
        ("report", "https://www.insee.gouv.fr/r", Source.Kind.GOVERNMENT_DOCUMENT),
        ("report", "https://ec.europa.eu/r", Source.Kind.GOVERNMENT_DOCUMENT),
        ("report", "https://www.amnesty.org/r", Source.Kind.NGO_REPORT),
        ("dataset", "https://a.example/", Source.Kind.DATASET),
        ("webpage", "https://a.example/", Source.Kind.OTHER),
        ("motion_picture", "https://a.example/", Source.Kind.AUDIO_VIDEO),
        ("broadcast", "https://a.example/", Source.Kind.AUDIO_VIDEO),
        ("song", "https://a.example/", Source.Kind.AUDIO_VIDEO),
        ("legal_case", "https://a.example/", Source.Kind.PRIMARY_DOCUMENT),
        ("legislation", "https://a.example/", Source.Kind.PRIMARY_DOCUMENT),
        ("entry-encyclopedia", "https://a.example/", Source.Kind.REFERENCE_WORK),
        ("something-new", "https://a.example/", Source.Kind.OTHER),
    ],
)
def test_csl_types_map_to_kinds(csl_type, url, kind):
    plan = plan_of("x.json", csl(item(type=csl_type, URL=url)))

    assert plan.entries[0].entry.kind == kind


def test_not_json_is_refused_with_line_and_column():
    with pytest.raises(ImportRefused) as refusal:
        plan_of("broken.json", '[\n  {"title": "A",\n  }\n]')

    assert str(refusal.value) == (
        "broken.json, line 2, column 16: "
        "not valid JSON (Illegal trailing comma before end of object)."
    )


def test_json_nested_too_deep_is_refused():
    with pytest.raises(ImportRefused, match="nest too deep"):
        plan_of("deep.json", "[" * 100_000 + "]" * 100_000)


def test_json_that_is_not_a_list_is_refused():
    with pytest.raises(
        ImportRefused, match=r"object\.json: CSL-JSON is a list of items.*an object"
    ):
        plan_of("object.json", json.dumps(item()))


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"title": ""}, "entry 1 (id “x”), field “title”: missing"),
        ({"title": None}, "entry 1 (id “x”), field “title”: missing"),
        ({"title": {"a": 1}}, "entry 1 (id “x”), field “title”: is an object, not text."),
        (
            {"issued": {"date-parts": [[2020, 17, 1]]}},
            "entry 1 (id “x”), field “issued”: 17 is not a month (1 to 12).",
        ),
        (
            {"issued": {"date-parts": [[2021, 2, 29]]}},
            "entry 1 (id “x”), field “issued”: 2021-02-29 is not a day of the calendar.",
        ),
        (
            {"accessed": "last Tuesday"},
            "entry 1 (id “x”), field “accessed”: “last Tuesday” is not a date",
        ),
        (
            {"issued": {"date-parts": [["spring"]]}},
            "entry 1 (id “x”), field “issued”: the year “spring” is not a number.",
        ),
        ({"URL": "not a url"}, "entry 1 (id “x”), field “URL”: “not a url”: Enter a valid URL."),
        ({"title": "", "URL": ""}, "entry 1 (id “x”), field “title”: missing"),
        ({"ISBN": "978-0-306-40615-8"}, "field “ISBN”: “978-0-306-40615-8” is not an ISBN"),
        ({"DOI": "978-3-16-148410-0"}, "entry 1 (id “x”), field “DOI”: “978-3-16-148410-0” is not"),
        ({"author": "Smith"}, "entry 1 (id “x”), field “author”: is text, not a list of names."),
        ({"author": [{}]}, "field “author”: name 1 has no family, given or literal name."),
        ({"title": "x" * 501}, "field “title”: Ensure this value has at most 500 characters"),
        (
            {"custom": {"factually": {"kind": "rumour"}}},
            "field “custom.factually.kind”: “rumour” is not a kind.",
        ),
    ],
)
def test_a_bad_csl_entry_is_refused_with_its_entry_and_field(fields, problem):
    plan = plan_of("bad.json", csl(item(id="ok", URL="https://ok.example/"), item(**fields)))

    assert not plan.ok
    assert [planned.action for planned in plan.entries] == [Action.CREATE, Action.REFUSE]
    message = only_problem(plan)
    assert message.startswith("bad.json, entry 2 (id “x”), "), message
    assert problem.replace("entry 1", "entry 2") in message


def test_an_item_that_is_not_an_object_is_refused():
    plan = plan_of("bad.json", json.dumps([item(), "just text"]))

    assert only_problem(plan) == "bad.json, entry 2, is text, not an item ({…})."


# Partial dates: the first of the month or year, and a line in the notes that says so.


@pytest.mark.parametrize(
    ("issued", "stored", "note"),
    [
        ({"date-parts": [[2020, 3, 5]]}, datetime.date(2020, 3, 5), ""),
        (
            {"date-parts": [[2020, 3]]},
            datetime.date(2020, 3, 1),
            "known to the month only: 2020-03.",
        ),
        ({"date-parts": [[2020]]}, datetime.date(2020, 1, 1), "known to the year only: 2020."),
        ("2020-03", datetime.date(2020, 3, 1), "known to the month only: 2020-03."),
        ({"raw": "2020"}, datetime.date(2020, 1, 1), "known to the year only: 2020."),
    ],
)
def test_a_partial_date_is_stored_as_its_first_day_with_a_note(issued, stored, note):
    plan = plan_of("x.json", csl(item(issued=issued)))

    fields = plan.entries[0].entry.source_fields()
    assert fields["published_on"] == stored
    assert fields["notes"] == (f"Publication date {note}" if note else "")


def test_a_stored_partial_date_is_read_back_with_its_precision():
    source = make_source(
        published_on=datetime.date(2020, 3, 1),
        notes="Checked by phone.\nPublication date known to the month only: 2020-03.",
    )
    assert stored_date(source, "published_on") == PartialDate(datetime.date(2020, 3, 1), "month")
    # A note that no longer matches the date (a curator corrected it) is ignored.
    source.published_on = datetime.date(2020, 3, 17)
    assert stored_date(source, "published_on") == PartialDate(datetime.date(2020, 3, 17))


# Publishers


def test_the_publisher_the_file_names_comes_before_the_urls_domain():
    make_publisher(name="Nature Reviews Materials", domain="nature.com")
    energy = make_publisher(name="Nature Energy", domain="nature-energy.example")

    plan = plan_of(
        "x.json",
        csl(
            item(
                type="article-journal",
                URL="https://www.nature.com/articles/s41560-020-1",
                **{"container-title": "Nature Energy"},
            )
        ),
    )

    assert plan.entries[0].publisher == energy


def test_a_journal_not_in_the_library_is_added_by_name_not_given_the_hosts_domain():
    materials = make_publisher(name="Nature Reviews Materials", domain="nature.com")

    plan = plan_of(
        "x.json",
        csl(
            item(
                id="energy",
                type="article-journal",
                URL="https://www.nature.com/articles/s41560-020-1",
                **{"container-title": "Nature Energy"},
            ),
            item(id="untitled", URL="https://www.nature.com/articles/s41560-020-2"),
            item(
                id="same",
                URL="https://www.nature.com/articles/3",
                publisher="Nature Reviews Materials",
            ),
        ),
    )

    energy, untitled, same = plan.entries
    assert (energy.publisher.name, energy.publisher.domain) == ("Nature Energy", "")
    # Naming no publisher, or the domain's own, the domain still tells.
    assert untitled.publisher == same.publisher == materials


@pytest.mark.parametrize(
    "url",
    [
        "https://hdl.handle.net/10779/abc",
        "https://handle.net/10779/abc",
        "https://web.archive.org/web/2020/https://x.example/",
        "https://arxiv.org/abs/2101.00001",
    ],
)
def test_no_publisher_is_given_the_domain_of_a_host_of_many(url):
    handle = make_publisher(name="A repository named by mistake", domain="handle.net")

    plan = plan_of("x.json", csl(item(id="a", URL=url, publisher="Leiden University")))

    planned = plan.entries[0]
    assert planned.publisher != handle
    assert (planned.publisher.name, planned.publisher.domain) == ("Leiden University", "")


def test_a_source_saved_on_a_host_of_many_is_not_given_its_publisher():
    make_publisher(name="Handle", domain="handle.net")
    source = Source(title="Thesis", url="https://hdl.handle.net/1887/1")

    source.clean()

    assert source.publisher is None


def test_the_publisher_is_found_by_another_of_its_domains():
    bbc = make_publisher(name="BBC", domain="bbc.co.uk")
    PublisherDomain.objects.create(publisher=bbc, domain="bbc.com")

    plan = plan_of("x.json", csl(item(URL="https://www.bbc.com/news/1")))

    assert plan.entries[0].publisher == bbc


def test_the_publisher_is_found_by_name_in_any_case_when_the_domain_is_unknown():
    nature = make_publisher(name="Nature", domain="nature.com")

    plan = plan_of(
        "x.json", csl(item(URL="https://doi.org/10.1038/x1", **{"container-title": "NATURE"}))
    )

    assert plan.entries[0].publisher == nature


def test_a_new_publisher_is_planned_once_for_the_whole_file():
    plan = plan_of(
        "x.json",
        csl(
            item(id="a", URL="https://news.example/1", publisher="Example News"),
            item(id="b", URL="https://news.example/2", publisher="Example News"),
        ),
    )

    first, second = plan.entries
    assert first.new_publisher
    assert second.publisher is first.publisher
    assert Publisher.objects.count() == 0  # planning saves nothing


# BibTeX


def test_a_bibtex_file_maps_every_field():
    plan = plan_of("library.bib")

    assert plan.ok, plan.problems()
    assert plan.summary() == "5 created, 0 matched existing, 0 refused"
    lancet, bbc, oecd, noaa, doi_only = (planned.entry for planned in plan.entries)
    assert lancet.where == "@article{smith2020} (line 4)"
    assert lancet.title == "Café culture and COVID-19 transmission"
    assert lancet.authors == ["John Smith", "Jörg Müller", "World Health Organization"]
    assert lancet.publisher_name == "The Lancet"  # through the @string
    assert lancet.published == PartialDate(datetime.date(2020, 3, 1), "month")
    assert lancet.accessed.value == datetime.date(2024, 2, 3)
    assert lancet.doi == "10.1016/s0140-6736(20)30000-0"
    assert lancet.kind == Source.Kind.ACADEMIC_PAPER
    assert bbc.publisher_name == "BBC News"
    assert bbc.published == PartialDate(datetime.date(2023, 11, 1), "month")
    assert bbc.language == "english"
    assert oecd.kind == Source.Kind.NGO_REPORT
    assert oecd.published == PartialDate(datetime.date(2021, 1, 1), "year")
    assert noaa.url == "https://www.ncei.noaa.gov/access/monitoring/global-temperature-anomalies"
    assert noaa.notes == ["Monthly series since 1850"]
    assert doi_only.url == "https://doi.org/10.1126/science.abc1234"
    assert doi_only.published.value == datetime.date(2018, 12, 7)


def test_bibtex_urls_are_verbatim_apart_from_escaped_characters():
    plan = plan_of(
        "refs.bib",
        r"@misc{u, title = {U}, url = {https://a.example/a\_b?q=100\%25&x=%20},"
        r" doi = {10.1000/a\_b}}",
    )

    entry = plan.entries[0].entry
    assert (entry.url, entry.doi) == ("https://a.example/a_b?q=100%25&x=%20", "10.1000/a_b")


def test_broken_bibtex_syntax_is_refused_with_its_line_and_key():
    text = (
        "@article{good, title = {Fine}, url = {https://a.example/1}}\n"
        "\n"
        "@article{broken,\n"
        "  title = {Never closed,\n"
        "  url = {https://a.example/2}\n"
        "}\n"
        "@misc{after, title = {After}, url = {https://a.example/3}}\n"
    )

    plan = plan_of("refs.bib", text)

    assert not plan.ok
    message = only_problem(plan)
    assert message.startswith("refs.bib, @article{broken} (line 3), broken BibTeX: "), message


def test_a_bibtex_entry_without_title_is_refused_with_key_and_field():
    plan = plan_of("refs.bib", "@misc{untitled,\n  url = {https://a.example/1},\n}\n")

    assert only_problem(plan) == (
        "refs.bib, @misc{untitled} (line 1), field “title”: missing: every source needs a title."
    )


def test_a_field_given_twice_is_refused():
    plan = plan_of("refs.bib", "@misc{twice, title = {A}, title = {B}, url = {https://a.example/}}")

    assert (
        only_problem(plan)
        == "refs.bib, @misc{twice} (line 1), field “title”: appears twice in this entry."
    )


def test_a_bad_bibtex_month_is_refused_with_its_field():
    plan = plan_of(
        "refs.bib",
        "@misc{m, title = {A}, url = {https://a.example/}, year = 2020, month = {Smarch}}",
    )

    assert only_problem(plan) == (
        "refs.bib, @misc{m} (line 1), field “month”: the month “Smarch” is not a number."
    )


def test_bibtex_news_articles_and_government_reports():
    plan = plan_of(
        "refs.bib",
        "@article{n, title = {N}, url = {https://n.example/}, entrysubtype = {newspaper}}\n"
        "@techreport{g, title = {G}, url = {https://www.whitehouse.gov/r}}\n",
    )

    assert [p.entry.kind for p in plan.entries] == [
        Source.Kind.NEWS_ARTICLE,
        Source.Kind.GOVERNMENT_DOCUMENT,
    ]


# CSV


def test_a_csv_file_maps_every_column():
    plan = plan_of("library.csv")

    assert plan.ok, plan.problems()
    reuters, ipcc, monsoons = (planned.entry for planned in plan.entries)
    assert reuters.where == "line 2"
    assert reuters.title == "Floods in Pakistan, explained"
    assert reuters.authors == ["Jane Doe", "Ali Khan"]
    assert reuters.published.value == datetime.date(2022, 8, 30)
    assert reuters.accessed.value == datetime.date(2024, 1, 10)
    assert reuters.archive_date.value == datetime.date(2023, 1, 2)
    assert reuters.archive_url.startswith("https://web.archive.org/web/2023/")
    assert reuters.kind == Source.Kind.NEWS_ARTICLE
    assert ipcc.kind == Source.Kind.NGO_REPORT  # by its label
    assert ipcc.published == PartialDate(datetime.date(2023, 3, 1), "month")
    assert monsoons.url == "https://doi.org/10.1126/science.xyz987"


def test_a_csv_header_without_a_required_column_is_refused():
    with pytest.raises(ImportRefused) as refusal:
        plan_of("x.csv", "url,publisher\nhttps://a.example/,B\n")

    assert str(refusal.value).startswith(
        "x.csv, line 1 (the header): the header has no column “title”."
    )


def test_an_unknown_csv_column_is_refused_rather_than_ignored():
    with pytest.raises(ImportRefused, match=r"unknown column “publised_on”"):
        plan_of("x.csv", "title,url,publised_on\nA,https://a.example/,2020-01-01\n")


def test_a_bad_date_on_line_3_names_line_3_and_the_field():
    text = (
        "title,url,published_on\n"
        "Good,https://a.example/1,2020-01-02\n"
        "Bad,https://a.example/2,2020-02-30\n"
    )

    plan = plan_of("dates.csv", text)

    assert only_problem(plan) == (
        "dates.csv, line 3, field “published_on”: 2020-02-30 is not a day of the calendar."
    )


def test_csv_lines_are_counted_across_quoted_line_breaks():
    text = (
        "title,url,kind\n"
        '"Two\nlines",https://a.example/1,news_article\n'
        "Bad kind,https://a.example/2,rumour\n"
    )

    plan = plan_of("x.csv", text)

    assert only_problem(plan).startswith("x.csv, line 4, field “kind”: “rumour” is not a kind")


def test_a_csv_row_with_too_many_values_is_refused():
    plan = plan_of("x.csv", "title,url\nA,https://a.example/,extra\n")

    assert only_problem(plan) == "x.csv, line 2, has 3 values but the header has 2 columns."


def test_an_empty_csv_is_refused():
    with pytest.raises(ImportRefused, match="the file is empty"):
        plan_of("x.csv", "")


# Duplicates


def test_an_entry_with_a_url_in_the_library_is_matched_to_it():
    existing = make_source(
        url="https://www.theguardian.com/world/2023/jul/18/europe-heatwave-records"
    )

    plan = plan_of("zotero.json")

    first = plan.entries[0]
    assert first.action == Action.MATCH
    assert first.existing == existing
    assert first.reason == "same URL"
    # The repeat later in the file goes to the same record.
    assert plan.entries[-1].action == Action.MATCH
    assert plan.entries[-1].existing == existing


def test_an_entry_with_a_doi_in_the_library_is_matched_to_it():
    existing = make_source(url="https://www.nature.com/articles/x", doi="10.1038/s41586-019-1234-5")

    plan = plan_of("zotero.json")

    nature = plan.entries[1]
    assert (nature.action, nature.existing, nature.reason) == (Action.MATCH, existing, "same DOI")


def test_url_and_doi_of_two_different_records_is_refused():
    by_url = make_source(title="By URL", url="https://a.example/1")
    make_source(title="By DOI", url="https://b.example/1", doi="10.1000/abc")

    plan = plan_of("x.json", csl(item(URL="https://a.example/1", DOI="10.1000/ABC")))

    assert plan.entries[0].action == Action.REFUSE
    assert f"matches more than one record of the library: its URL “{by_url}”; its DOI “By DOI”" in (
        only_problem(plan)
    )


def test_the_same_doi_twice_in_a_file_is_created_once():
    plan = plan_of(
        "x.json",
        csl(
            item(id="a", URL="https://a.example/1", DOI="10.1000/abc"),
            item(id="b", URL="https://b.example/1", DOI="doi:10.1000/ABC"),
        ),
    )

    assert [p.action for p in plan.entries] == [Action.CREATE, Action.MATCH]
    assert (plan.entries[1].reason, plan.entries[1].same_as) == ("same DOI", plan.entries[0])
