"""Importing sources without a URL, and matching imports on identifiers and URL variants.

The samples are written as Zotero, BibLaTeX users and spreadsheets write them: books and
print articles with an ISBN or nothing but a title, preprints with an arXiv eprint.
"""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sources import interchange
from sources.interchange import Action
from sources.models import Source
from tests.conftest import make_source

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:sources_source_import")

ZOTERO_BOOKS = [
    {
        "id": "http://zotero.org/users/123/items/ABCD1234",
        "type": "book",
        "title": "The Road to Serfdom",
        "publisher": "University of Chicago Press",
        "publisher-place": "Chicago",
        "ISBN": "0-226-32061-8 978-0-226-32061-8",
        "author": [{"family": "Hayek", "given": "F. A."}],
        "issued": {"date-parts": [["1944"]]},
    },
    {
        "id": "http://zotero.org/users/123/items/EFGH5678",
        "type": "article-newspaper",
        "title": "Council votes to close the library",
        "container-title": "The Evening Gazette",
        "page": "A3",
        "issued": {"date-parts": [[2019, 3, 14]]},
    },
    {
        "id": "http://zotero.org/users/123/items/PUBMED01",
        "type": "article-journal",
        "title": "Heat-related mortality in Europe during the summer of 2022",
        "container-title": "Nature Medicine",
        "PMID": "37429922",
        "DOI": "10.1038/s41591-023-02419-z",
    },
]

BIBLATEX = r"""
@book{kahneman2011,
  author    = {Kahneman, Daniel},
  title     = {Thinking, Fast and Slow},
  publisher = {Farrar, Straus and Giroux},
  year      = {2011},
  isbn      = {978-0374275631},
}

@online{vaswani2017,
  author       = {Vaswani, Ashish and Shazeer, Noam},
  title        = {Attention Is All You Need},
  date         = {2017-06-12},
  eprinttype   = {arxiv},
  eprint       = {1706.03762v7},
  eprintclass  = {cs.CL},
}

@misc{oldphysics,
  author        = {Maldacena, Juan},
  title         = {The Large N Limit of Superconformal Field Theories and Supergravity},
  year          = {1997},
  archivePrefix = {arXiv},
  eprint        = {hep-th/9711200},
}

@report{ilri2015,
  title       = {Livestock and climate change},
  institution = {International Livestock Research Institute},
  year        = {2015},
  hdl         = {10568/68124},
}

@article{interview,
  author  = {Doe, Jane},
  title   = {An interview with the harbour master},
  journal = {Port News},
  year    = {2021},
}
"""


def plan_of(name: str, text: str):
    return interchange.plan_file(text, interchange.format_for(name), name)


def test_a_zotero_file_of_books_and_print_articles_is_accepted_without_urls():
    plan = plan_of("library.json", json.dumps(ZOTERO_BOOKS))

    assert plan.problems() == []
    book, article, paper = (planned.entry for planned in plan.entries)
    assert (book.url, book.isbn) == ("", "9780226320618")
    assert (article.url, article.title) == ("", "Council votes to close the library")
    assert (paper.pmid, paper.doi) == ("37429922", "10.1038/s41591-023-02419-z")
    assert plan.summary() == "3 created, 0 matched existing, 0 refused"


def test_biblatex_identifiers_are_read_from_isbn_eprint_and_hdl():
    plan = plan_of("refs.bib", BIBLATEX)

    assert plan.problems() == []
    entries = {planned.entry.title: planned.entry for planned in plan.entries}
    assert entries["Thinking, Fast and Slow"].isbn == "9780374275631"
    assert entries["Attention Is All You Need"].arxiv_id == "1706.03762"
    superconformal = "The Large N Limit of Superconformal Field Theories and Supergravity"
    assert entries[superconformal].arxiv_id == "hep-th/9711200"
    assert entries["Livestock and climate change"].handle == "10568/68124"
    assert entries["An interview with the harbour master"].url == ""
    assert plan.created == 5


def test_an_entry_is_matched_to_the_record_with_its_isbn_written_otherwise():
    existing = make_source(url="", title="The Road to Serfdom", isbn="0-226-32061-8")

    plan = plan_of("library.json", json.dumps(ZOTERO_BOOKS[:1]))

    assert (plan.entries[0].action, plan.entries[0].existing) == (Action.MATCH, existing)
    assert plan.entries[0].reason == "same ISBN"


def test_an_http_link_with_tracking_matches_the_https_record():
    existing = make_source(url="https://example.org/a", title="The page")
    item = {
        "id": "p",
        "type": "webpage",
        "title": "The page",
        "URL": "http://example.org/a?utm_source=x",
    }

    plan = plan_of("pages.json", json.dumps([item]))

    assert (plan.entries[0].action, plan.entries[0].existing) == (Action.MATCH, existing)
    assert plan.entries[0].reason == "same URL"


def test_the_same_arxiv_preprint_twice_in_a_file_is_created_once():
    twice = (
        BIBLATEX
        + "\n@article{again, title = {Attention}, eprinttype = {arXiv}, eprint = {1706.03762}}\n"
    )

    plan = plan_of("refs.bib", twice)

    again = plan.entries[-1]
    assert (again.action, again.reason) == (Action.MATCH, "same arXiv ID")
    assert again.same_as.entry.title == "Attention Is All You Need"


def test_an_entry_matching_two_records_by_different_identifiers_is_refused():
    make_source(url="", title="By ISBN", isbn="9780226320618")
    make_source(url="", title="By PMID", pmid="37429922")
    item = {**ZOTERO_BOOKS[0], "PMID": "37429922"}

    plan = plan_of("library.json", json.dumps([item]))

    assert plan.entries[0].action == Action.REFUSE
    assert "its ISBN “By ISBN”; its PubMed ID “By PMID”" in plan.problems()[0]


def test_a_bad_isbn_is_refused_with_the_files_field_name():
    item = {**ZOTERO_BOOKS[0], "ISBN": "978-0-226-32061-0"}

    plan = plan_of("library.json", json.dumps([item]))

    assert plan.problems() == [
        "library.json, entry 1 (id “http://zotero.org/users/123/items/ABCD1234”), field “ISBN”: "
        "“978-0-226-32061-0” is not an ISBN: its check digit is wrong."
    ]


def test_exporting_and_reading_back_keeps_identifiers_and_the_note():
    source = make_source(
        url="",
        title="Interview with the mayor",
        isbn="",
        arxiv_id="2101.00001",
        handle="2027/mdp.1",
        pmid="31452104",
        where_to_find="Recording on file",
    )
    text = interchange.csl.dumps([source])
    Source.objects.all().delete()

    entry = plan_of("back.json", text).entries[0].entry

    assert "URL" not in json.loads(text)[0]
    assert (entry.url, entry.arxiv_id, entry.handle, entry.pmid) == (
        "",
        "2101.00001",
        "2027/mdp.1",
        "31452104",
    )
    assert entry.where_to_find == "Recording on file"


# Through the admin


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_csv_of_url_less_items_imports_through_the_admin(editor_client):
    csv = (
        "title,authors,publisher,published_on,isbn,where_to_find\n"
        "Thinking Fast and Slow,Daniel Kahneman,,2011,978-0374275631,\n"
        "Interview with the harbour master,,,2021-05-12,,Recording on file at the newsroom\n"
    )
    preview = editor_client.post(IMPORT, {"file": SimpleUploadedFile("books.csv", csv.encode())})
    assert "2 to create, 0 matched to existing records, 0 refused" in page_text(preview)
    payload = re.search(r'name="payload" value="([^"]+)"', preview.content.decode())[1]

    response = editor_client.post(IMPORT, {"payload": payload}, follow=True)

    assert "Imported books.csv: 2 created, 0 matched existing, 0 refused." in page_text(response)
    book = Source.objects.get(isbn="9780374275631")
    interview = Source.objects.get(title="Interview with the harbour master")
    assert (book.url, interview.url) == ("", "")
    assert interview.where_to_find == "Recording on file at the newsroom"


def test_a_csl_file_without_urls_imports_through_the_admin(editor_client):
    data = json.dumps(ZOTERO_BOOKS).encode()
    preview = editor_client.post(IMPORT, {"file": SimpleUploadedFile("zotero.json", data)})
    payload = re.search(r'name="payload" value="([^"]+)"', preview.content.decode())[1]

    editor_client.post(IMPORT, {"payload": payload})

    assert Source.objects.filter(url="").count() == 2
    assert Source.objects.get(isbn="9780226320618").title == "The Road to Serfdom"
