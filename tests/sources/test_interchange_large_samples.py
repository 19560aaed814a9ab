"""Importing large realistic samples (tests/sources/large_samples.py) end to end: every
usable item in, repeats and known records matched, the broken ones refused and named."""

import io

import pytest
from django.core.management import call_command

from sources.models import Publisher, Source
from sources.normalisation import GENERIC_HOSTS
from tests.conftest import make_source
from tests.sources import large_samples

pytestmark = pytest.mark.django_db

KNOWN_URLS = ["https://www.bbc.co.uk/news/known-1", "http://www.theguardian.com/known-2"]
KNOWN_DOIS = ["10.1000/known.1", "10/known2"]


@pytest.fixture
def library(db):
    for url in KNOWN_URLS:
        make_source(url=url.replace("http://", "https://"))
    for doi in KNOWN_DOIS:
        make_source(doi=doi)


def import_leaving_refused_out(path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sources", str(path), "--leave-refused", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue().splitlines()


def test_a_zotero_export_of_200_items_imports_every_usable_item(library, tmp_path):
    path = tmp_path / "zotero.json"
    path.write_text(large_samples.zotero_export(KNOWN_URLS, KNOWN_DOIS), encoding="utf-8")

    out, problems = import_leaving_refused_out(path)

    assert out == f"{path}: 200 created, 7 matched existing, 3 refused (left out).\n"
    assert [problem.split(", ", 1)[1] for problem in problems] == [
        "entry 208 (id “no-title”), field “title”: missing: every source needs a title.",
        "entry 209 (id “bad-doi”), field “DOI”: “n/a” is not a DOI "
        "(they look like 10.1000/xyz123 or 10/abc12).",
        "entry 210 (id “bad-date”), field “issued”: “someday” is not a date "
        "(write YYYY-MM-DD, YYYY-MM or YYYY, or a range of them).",
    ]
    assert Source.objects.count() == 204
    # Zotero gave an access date to newspaper items only: nothing else has one.
    imported = Source.objects.filter(title__startswith="On ")
    assert imported.count() == 200
    assert imported.exclude(accessed_on=None).count() == 20
    assert not Source.objects.filter(title__contains="<").exists()
    # Theses on hdl.handle.net have their university as publisher, which does not own the host.
    assert not Publisher.objects.filter(domain__in=GENERIC_HOSTS).exists()
    assert Source.objects.filter(publisher__name="University of Leiden").count() == 20


def test_a_bib_file_of_200_entries_imports_every_usable_entry(library, tmp_path):
    path = tmp_path / "library.bib"
    text = large_samples.bibliography(KNOWN_URLS, KNOWN_DOIS)
    path.write_text(text, encoding="utf-8")
    line = {
        key: text.splitlines().index(f"@{key},") + 1
        for key in ("misc{no-title", "article{undefined", "book{bad-month")
    }

    out, problems = import_leaving_refused_out(path)

    assert out == f"{path}: 201 created, 5 matched existing, 3 refused (left out).\n"
    assert [problem.split(", ", 1)[1] for problem in problems] == [
        f"@misc{{no-title}} (line {line['misc{no-title']}), field “title”: "
        "missing: every source needs a title.",
        f"@article{{undefined}} (line {line['article{undefined']}), field “journal”: "
        "uses @string “nosuch”, which the file does not define.",
        f"@book{{bad-month}} (line {line['book{bad-month']}), field “month”: "
        "the month “Smarch” is not a number.",
    ]
    # Two entries under the key "entry2" are two sources; "entry0" again is matched.
    assert Source.objects.filter(title="Another book under a repeated key").exists()
    assert not Source.objects.filter(title__contains="\\").exists()
    assert Source.objects.get(title="On sea level rise: study 0").author_list == [
        "John Smith",
        "Bob d'Jones",
    ]
    assert Source.objects.count() == 205
    assert not Publisher.objects.filter(domain__in=GENERIC_HOSTS).exists()
    # A crossref child takes its proceedings' date and container.
    child = Source.objects.get(title="On migration statistics: study 7")
    assert (child.published_on.isoformat(), child.publisher.name) == (
        "2013-06-01",
        "Proceedings of Workshop 3",
    )
