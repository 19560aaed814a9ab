"""`import_sources` and `export_sources`: summaries, all-or-nothing files, round trips."""

import datetime
import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sources.interchange import csl
from sources.models import Publisher, Source
from tests.conftest import make_publisher, make_source

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sources", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_sources", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), str(error.value)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Importing


@pytest.mark.parametrize(
    ("name", "summary", "sources", "publishers"),
    [
        ("zotero.json", "6 created, 1 matched existing, 0 refused", 6, 5),
        ("library.bib", "5 created, 0 matched existing, 0 refused", 5, 4),
        ("library.csv", "3 created, 0 matched existing, 0 refused", 3, 3),
    ],
)
def test_each_format_imports_with_a_summary(name, summary, sources, publishers):
    out, err = run(FIXTURES / name)

    assert out == f"{FIXTURES / name}: {summary}.\n"
    assert err == ""
    assert Source.objects.count() == sources
    assert Publisher.objects.count() == publishers


def test_imported_records_hold_the_files_fields():
    run(FIXTURES / "zotero.json")

    guardian = Source.objects.get(url__contains="theguardian.com")
    assert guardian.title == "Europe’s heatwave broke records across the continent"
    assert guardian.author_list == ["Jon Henley", "Anna van den Berg"]
    assert guardian.published_on == datetime.date(2023, 7, 18)
    assert guardian.accessed_on == datetime.date(2024, 1, 5)
    assert guardian.kind == Source.Kind.NEWS_ARTICLE
    assert (guardian.publisher.name, guardian.publisher.domain) == (
        "The Guardian",
        "theguardian.com",
    )
    nature = Source.objects.get(doi="10.1038/s41586-019-1234-5")
    assert nature.url == "https://doi.org/10.1038/s41586-019-1234-5"
    assert nature.published_on == datetime.date(2019, 6, 1)
    assert nature.notes == "Publication date known to the month only: 2019-06."
    # A DOI-only paper keeps its journal, as a publisher known by name alone.
    assert (nature.publisher.name, nature.publisher.domain) == ("Nature", "")


def test_an_entry_without_access_date_gets_none_rather_than_the_import_day():
    run(FIXTURES / "library.csv")

    ipcc = Source.objects.get(title="IPCC Sixth Assessment Report")
    assert ipcc.accessed_on is None


def test_importing_the_same_file_twice_matches_everything_the_second_time():
    run(FIXTURES / "zotero.json")
    out, _ = run(FIXTURES / "zotero.json")

    assert "0 created, 7 matched existing, 0 refused" in out
    assert Source.objects.count() == 6


def test_existing_url_and_doi_are_matched_and_left_as_they_are():
    by_url = make_source(
        title="Our own title",
        url="https://www.theguardian.com/world/2023/jul/18/europe-heatwave-records",
    )
    by_doi = make_source(url="https://www.nature.com/articles/x", doi="10.1038/s41586-019-1234-5")

    out, _ = run(FIXTURES / "zotero.json")

    assert "4 created, 3 matched existing, 0 refused" in out
    by_url.refresh_from_db()
    by_doi.refresh_from_db()
    assert by_url.title == "Our own title"
    assert by_doi.url == "https://www.nature.com/articles/x"
    assert Source.objects.count() == 6


def test_a_refused_entry_saves_nothing_from_its_file(tmp_path):
    path = write(
        tmp_path,
        "mixed.json",
        json.dumps(
            [
                {"id": "a", "type": "webpage", "title": "Fine", "URL": "https://a.example/1"},
                {
                    "id": "b",
                    "type": "webpage",
                    "title": "Bad",
                    "URL": "https://a.example/2",
                    "issued": {"date-parts": [[2020, 2, 31]]},
                },
                {
                    "id": "c",
                    "type": "webpage",
                    "title": "",
                    "URL": "https://a.example/3",
                    "publisher": "New Publisher",
                },
            ]
        ),
    )

    out, err, error = refused(path)

    assert out == ""
    assert err.splitlines() == [
        f"{path}, entry 2 (id “b”), field “issued”: 2020-02-31 is not a day of the calendar.",
        f"{path}, entry 3 (id “c”), field “title”: missing: every source needs a title.",
        f"{path}: 2 of 3 entries refused; nothing from this file was saved.",
    ]
    assert error == "1 of 1 file(s) could not be imported; nothing from them was saved."
    assert Source.objects.count() == 0
    assert Publisher.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.json", "{not json", "a.json, line 1, column 2: not valid JSON"),
        ("a.json", '{"title": "x"}', "a.json: CSL-JSON is a list of items"),
        (
            "a.csv",
            "name,url\nA,https://a.example/\n",
            "a.csv, line 1 (the header): the header has no column “title”",
        ),
        (
            "a.bib",
            "@misc{k, url = {https://a.example/}}",
            "a.bib, @misc{k} (line 1), field “title”: missing",
        ),
        (
            "a.bib",
            "@misc{k, title = {A}\n",
            "a.bib, @misc{k} (line 1), broken BibTeX: Unexpectedly reached end of file",
        ),
    ],
)
def test_malformed_files_are_refused_and_nothing_is_saved(tmp_path, name, text, message):
    path = write(tmp_path, name, text)

    _, err, _ = refused(path)

    assert err.startswith(f"{tmp_path}/{message}"), err
    assert Source.objects.count() == 0


def test_other_files_are_imported_when_one_is_refused(tmp_path):
    bad = write(
        tmp_path,
        "bad.csv",
        "title,url,published_on\nA,https://a.example/,2020\nB,https://b.example/,13/01/2020\n",
    )

    out, err, error = refused(bad, FIXTURES / "library.bib")

    assert f"{bad}, line 3, field “published_on”: “13/01/2020” is not a date" in err
    assert f"{FIXTURES / 'library.bib'}: 5 created" in out
    assert "5 created, 0 matched existing, 1 refused." in out
    assert error.startswith("1 of 2 file(s) could not be imported")
    assert Source.objects.count() == 5


def test_a_later_file_matches_what_an_earlier_one_created(tmp_path):
    again = write(
        tmp_path,
        "again.csv",
        "title,url\nLancet again,https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(20)30000-0/fulltext\n",
    )

    out, _ = run(FIXTURES / "library.bib", again)

    assert f"{again}: 0 created, 1 matched existing, 0 refused." in out
    assert Source.objects.count() == 5


def test_dry_run_saves_nothing():
    out, _ = run(FIXTURES / "zotero.json", "--dry-run")

    assert out.splitlines() == [
        f"{FIXTURES / 'zotero.json'}: 6 created, 1 matched existing, 0 refused.",
        "Dry run: nothing was saved.",
    ]
    assert Source.objects.count() == 0
    assert Publisher.objects.count() == 0


def test_the_format_option_overrides_the_extension(tmp_path):
    path = tmp_path / "export.txt"
    shutil.copy(FIXTURES / "library.csv", path)

    _, err, _ = refused(path)
    out, _ = run(path, "--format", "csv")

    assert err.startswith(f"{path}: cannot tell the format from the file name")
    assert "3 created" in out


def test_an_unreadable_file_is_named(tmp_path):
    _, err, _ = refused(tmp_path / "missing.json")

    assert err.startswith(f"{tmp_path}/missing.json: cannot read the file")


def test_a_progress_bar_is_drawn_on_a_terminal_only(monkeypatch, capsys):
    from sources.management.commands import import_sources

    calls = []
    real = import_sources.tqdm

    def spy(iterable, **kwargs):
        calls.append(kwargs)
        return real(iterable, **kwargs)

    monkeypatch.setattr(import_sources, "tqdm", spy)
    run(FIXTURES / "zotero.json")

    assert calls
    assert all(call["disable"] is None and call["unit"] == "entry" for call in calls)


# Exporting


def export() -> list:
    out = io.StringIO()
    call_command("export_sources", stdout=out)
    return json.loads(out.getvalue())


# The CSL-JSON types (CSL 1.0.2) and the item fields this library writes.
CSL_TYPES = {
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "bill",
    "book",
    "broadcast",
    "chapter",
    "classic",
    "collection",
    "dataset",
    "document",
    "entry",
    "entry-dictionary",
    "entry-encyclopedia",
    "figure",
    "graphic",
    "hearing",
    "interview",
    "legal_case",
    "legislation",
    "manuscript",
    "map",
    "motion_picture",
    "musical_score",
    "pamphlet",
    "paper-conference",
    "patent",
    "performance",
    "periodical",
    "personal_communication",
    "post",
    "post-weblog",
    "regulation",
    "report",
    "review",
    "review-book",
    "software",
    "song",
    "speech",
    "standard",
    "thesis",
    "treaty",
    "webpage",
}
CSL_STRING_FIELDS = {"title", "URL", "DOI", "container-title", "publisher", "language"}
CSL_DATE_FIELDS = {"issued", "accessed"}


def assert_valid_csl(items):
    assert isinstance(items, list)
    ids = [entry["id"] for entry in items]
    assert len(set(ids)) == len(ids)
    for entry in items:
        assert entry["type"] in CSL_TYPES
        assert (
            set(entry) <= {"id", "type", "author", "custom"} | CSL_STRING_FIELDS | CSL_DATE_FIELDS
        )
        for key in CSL_STRING_FIELDS & entry.keys():
            assert isinstance(entry[key], str)
        for key in CSL_DATE_FIELDS & entry.keys():
            (parts,) = entry[key]["date-parts"]
            assert 1 <= len(parts) <= 3
            assert all(isinstance(part, int) for part in parts)
        for name in entry.get("author", []):
            assert set(name) == {"literal"}
        assert isinstance(entry["custom"], dict)


def test_export_writes_valid_csl_json():
    publisher = make_publisher(name="Le Monde", domain="lemonde.fr")
    make_source(
        title="Un article",
        url="https://www.lemonde.fr/a",
        publisher=publisher,
        authors="Marie Curie\nOrganisation mondiale de la santé",
        published_on=datetime.date(2021, 4, 1),
        accessed_on=datetime.date(2024, 5, 6),
        language="fr",
        kind=Source.Kind.NEWS_ARTICLE,
        doi="10.1000/lemonde",
        notes="Publication date known to the month only: 2021-04.",
    )
    make_source(title="Bare", url="https://bare.example/")

    items = export()

    assert_valid_csl(items)
    article = next(entry for entry in items if entry["title"] == "Un article")
    assert article["type"] == "article-newspaper"
    assert article["URL"] == "https://www.lemonde.fr/a"
    assert article["DOI"] == "10.1000/lemonde"
    assert article["author"] == [
        {"literal": "Marie Curie"},
        {"literal": "Organisation mondiale de la santé"},
    ]
    assert article["issued"] == {"date-parts": [[2021, 4]]}
    assert article["accessed"] == {"date-parts": [[2024, 5, 6]]}
    assert article["container-title"] == "Le Monde"
    assert article["language"] == "fr"


def test_export_to_a_file(tmp_path):
    make_source()
    out = io.StringIO()

    call_command("export_sources", "--output", str(tmp_path / "library.json"), stdout=out)

    assert out.getvalue() == f"Wrote 1 source to {tmp_path / 'library.json'}\n"
    assert len(json.loads((tmp_path / "library.json").read_text(encoding="utf-8"))) == 1


ROUND_TRIP_FIELDS = [
    "title",
    "url",
    "authors",
    "published_on",
    "accessed_on",
    "language",
    "kind",
    "doi",
    "archive_url",
    "archive_date",
    "url_status",
    "notes",
]


def snapshot():
    return {
        source.url: (
            {field: getattr(source, field) for field in ROUND_TRIP_FIELDS},
            (source.publisher.name, source.publisher.domain) if source.publisher else None,
        )
        for source in Source.objects.select_related("publisher")
    }


def test_export_then_import_recreates_the_same_records(tmp_path):
    run(FIXTURES / "zotero.json")
    run(FIXTURES / "library.bib")
    run(FIXTURES / "library.csv")
    nature = make_publisher(name="Nature", domain="nature.com")
    make_source(
        title="A paper at its DOI, published by Nature",
        url="https://doi.org/10.1038/nature-1",
        doi="10.1038/nature-1",
        publisher=nature,
        kind=Source.Kind.GOVERNMENT_DOCUMENT,  # not what its domain suggests: kept anyway
        url_status=Source.UrlStatus.DEAD,
        archive_url="https://web.archive.org/web/2020/https://doi.org/10.1038/nature-1",
        archive_date=datetime.date(2020, 1, 1),
        notes="Line one.\nArchive date known to the year only: 2020.",
        authors="Ana Silva\nBo Chen",
        language="pt-BR",
    )
    before = snapshot()
    path = tmp_path / "library.json"
    call_command("export_sources", "--output", str(path), stdout=io.StringIO())

    Source.objects.all().delete()
    Publisher.objects.all().delete()
    out, _ = run(path)

    assert out == f"{path}: {len(before)} created, 0 matched existing, 0 refused.\n"
    assert snapshot() == before
    assert csl.dumps([]) == "[]\n"
