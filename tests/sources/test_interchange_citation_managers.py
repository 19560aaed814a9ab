"""CSL-JSON and BibTeX as citation managers and people write them: nothing crashes, valid
data is accepted, nothing is invented, publishers come from what the file says."""

import datetime
import json
from pathlib import Path

import pytest

from sources import interchange
from sources.interchange import Action, bibtex, csl
from sources.models import Source
from tests.conftest import make_publisher

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"


def plan_of(name: str, text: str | None = None):
    if text is None:
        text = interchange.decode((SAMPLES / name).read_bytes(), name)
    return interchange.plan_file(text, interchange.format_for(name), name)


def by_where(plan) -> dict:
    return {planned.entry.where.split(" (")[0]: planned for planned in plan.entries}


def one_csl(**fields):
    item = {"id": "x", "type": "article-journal", "title": "A paper", **fields}
    return plan_of("x.json", json.dumps([item])).entries[0]


def one_bib(text: str):
    return plan_of("x.bib", text).entries[0]


# Never a crash, never the parser's internals


def test_a_bibtex_file_with_a_repeated_key_reads_every_entry():
    plan = plan_of("duplicate_keys.bib")

    assert plan.summary() == "2 created, 1 matched existing, 0 refused"
    first, second, again = plan.entries
    assert [p.entry.where for p in plan.entries] == [
        "@article{smith2020} (line 1)",
        "@article{smith2020} (line 9)",
        "@article{smith2020} (line 17)",
    ]
    assert second.entry.authors == ["John Smith", "Amy Brown"]
    assert second.entry.title == "Second paper under the same key"
    assert (again.action, again.same_as) == (Action.MATCH, first)


def test_a_title_with_href_reads_as_the_links_text():
    planned = by_where(plan_of("messy.bib"))["@misc{href-title}"]

    assert planned.action == Action.CREATE
    assert planned.entry.title == "Slides at the project page and Über-notes"
    assert planned.entry.url == "https://example.org/slides"


def test_an_undefined_string_macro_is_refused_with_key_line_and_field():
    plan = plan_of("messy.bib")

    assert plan.problems() == [
        "messy.bib, @article{undefined-macro} (line 64), field “journal”: "
        "uses @string “nosuchjournal”, which the file does not define."
    ]


def test_latex_as_people_write_it_is_read_as_far_as_it_makes_sense():
    planned = one_bib(
        "@article{k, title = {\\textit{Costs} of $5 and a 50% rise in {CO2}}, year = 2020}"
    )

    assert planned.action == Action.CREATE
    assert planned.entry.title == "Costs of $5 and a 50% rise in CO2"


def test_an_unforeseen_failure_in_a_bibtex_entry_names_the_entry_not_the_exception(monkeypatch):
    def broken(name):
        raise IndexError("list index out of range")

    monkeypatch.setattr(bibtex, "display_name", broken)

    plan = plan_of("x.bib", "@book{k, author = {Smith, J.}, title = {T}}\n@book{ok, title = {U}}")

    assert plan.problems() == [
        "x.bib, @book{k} (line 1), this entry could not be read; check its fields."
    ]
    assert plan.entries[1].action == Action.CREATE


def test_an_unforeseen_failure_in_a_csl_item_names_the_item_not_the_exception(monkeypatch):
    def broken(entry, names):
        raise IndexError("list index out of range")

    monkeypatch.setattr(csl, "_names", broken)

    plan = plan_of("x.json", json.dumps([{"id": "a", "title": "T"}]))

    assert plan.problems() == [
        "x.json, entry 1, this item could not be read; check its fields against CSL-JSON."
    ]


# Valid data is accepted


@pytest.mark.parametrize(
    ("issued", "kept", "note"),
    [
        ({"date-parts": [[2001, 13]]}, (2001,), "given as “Spring 2001”"),
        ({"date-parts": [["2001", "16"]]}, (2001,), "given as “Winter 2001”"),
        ({"date-parts": [[2019, 22]]}, (2019,), "given as “Summer 2019”"),
        ({"date-parts": [[2000]], "season": 3}, (2000,), "given as “Autumn 2000”"),
        ({"date-parts": [[2000]], "season": "Winter"}, (2000,), "given as “Winter 2000”"),
        ({"date-parts": [[1829], [1830]]}, (1829,), "given as “1829/1830”"),
        ({"date-parts": [[2020, 3, 1], [2020, 3, 5]]}, (2020, 3, 1), "“2020-3-1/2020-3-5”"),
        ({"date-parts": [[1850]], "circa": 1}, (1850,), "given as “circa 1850”"),
        ({"literal": "(in press)"}, None, "given as “(in press)”; the library keeps no date"),
        ({"date-parts": [[]], "literal": "in press"}, None, "given as “in press”"),
        ({"date-parts": [[""]], "literal": "May 2011"}, (2011, 5), "given as “May 2011”"),
        ({"raw": "2011-05-25"}, (2011, 5, 25), None),
        ({"raw": "25 May 2011"}, (2011, 5, 25), None),
        ("2011-05-25~", (2011, 5, 25), "given as “2011-05-25~”"),
        ("2011?", (2011,), "given as “2011?”"),
        ("2004-06/2006-08", (2004, 6), "given as “2004-06/2006-08”"),
        ("2020-03-05T10:00:00Z", (2020, 3, 5), None),
        ("2001-21", (2001,), "given as “2001-21”"),
    ],
)
def test_csl_dates_as_tools_write_them_keep_the_first_date_and_note_the_rest(issued, kept, note):
    planned = one_csl(issued=issued)

    assert planned.action == Action.CREATE, planned.errors
    published = planned.entry.published
    assert (tuple(published.parts) if published else None) == kept
    said = [line for line in planned.entry.notes if "given as" in line]
    if note is None:
        assert said == []
    else:
        (line,) = said
        assert note in line
        assert line.startswith("Publication date ")


@pytest.mark.parametrize(
    ("fields", "kept", "note"),
    [
        ("year = {1829--1830}", (1829,), "given as “1829--1830”; the library keeps 1829."),
        ("year = {1829-1830}", (1829,), "given as “1829-1830”"),
        ("year = {circa 1850}", (1850,), "given as “circa 1850”"),
        ("year = {c. 1850}", (1850,), "given as “c. 1850”"),
        ("date = {2011-05-25~}", (2011, 5, 25), "given as “2011-05-25~”"),
        ("date = {2019/2020}", (2019,), "given as “2019/2020”"),
        ("date = {2011-05-25T08:00:00+02:00}", (2011, 5, 25), None),
        ("year = 2020, month = jun, day = 5", (2020, 6, 5), None),
        ("year = {2020a}", (2020,), None),
        ("year = {in press}", None, "given as “in press”; the library keeps no date."),
        ("year = {n.d.}", None, "given as “n.d.”; the library keeps no date."),
    ],
)
def test_bibtex_dates_keep_the_first_date_and_note_the_rest(fields, kept, note):
    planned = one_bib(f"@book{{k, title = {{T}}, {fields}}}")

    assert planned.action == Action.CREATE, planned.errors
    published = planned.entry.published
    assert (tuple(published.parts) if published else None) == kept
    said = [line for line in planned.entry.notes if "given as" in line]
    if note is None:
        assert said == []
    else:
        (line,) = said
        assert note in line


def test_a_bibtex_access_date_with_a_time_is_read_as_its_day():
    planned = by_where(plan_of("messy.bib"))["@online{approx}"]

    assert planned.entry.accessed.value == datetime.date(2024, 2, 3)


@pytest.mark.parametrize("doi", ["10/fqd6hj", "https://doi.org/10/fqd6hj", "doi:10/FQD6HJ"])
def test_a_short_doi_is_accepted_and_linked(doi):
    planned = one_csl(DOI=doi)

    assert planned.action == Action.CREATE, planned.errors
    assert planned.entry.doi == "10/fqd6hj"
    assert planned.entry.url == "https://doi.org/10/fqd6hj"


def test_biblatex_extended_names_and_apostrophes_read_as_written():
    jones = by_where(plan_of("messy.bib"))["@article{jones2001}"]

    assert jones.entry.authors == ["Bob d'Jones", "Vincent van Gogh"]


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Smith, Jr., John", ["John Smith, Jr."]),
        (
            "von Neumann, John and Ludwig van Beethoven",
            ["John von Neumann", "Ludwig van Beethoven"],
        ),
        ("{Barnes and Noble} and O'Brien, Flann", ["Barnes and Noble", "Flann O'Brien"]),
        ("family={de la Cruz}, given=Juana Inés", ["Juana Inés de la Cruz"]),
        ('M{\\"u}ller, J{\\"o}rg AND Doe, J.', ["Jörg Müller", "J. Doe"]),
    ],
)
def test_bibtex_names_in_every_form(author, expected):
    assert one_bib(f"@book{{k, title = {{T}}, author = {{{author}}}}}").entry.authors == expected


def test_string_macros_joined_with_hash():
    planned = one_bib(
        '@string{pre = "Journal of "}\n'
        '@article{k, title = {T}, journal = pre # {Things} # " and " # "More", year = 2020}'
    )

    assert planned.entry.publisher_name == "Journal of Things and More"


def test_a_crossref_child_takes_its_parents_date_publisher_and_container():
    entries = by_where(plan_of("messy.bib"))
    child = entries["@inproceedings{child2005}"].entry

    assert child.published.parts == [2005, 6]
    assert child.title == "A Paper in the Proceedings"
    # The proceedings are the container: its title, as CSL's container-title would be.
    assert child.publisher_name == "Proceedings of the Tenth Workshop on Things"
    assert child.authors == ["John Smith, Jr.", "Jane Doe"]


def test_a_crossref_to_a_missing_entry_is_refused_with_the_field():
    planned = one_bib("@inproceedings{k, title = {T}, crossref = {nowhere}}")

    assert [str(error) for error in planned.errors] == [
        "field “crossref”: names “nowhere”, not in this file."
    ]


# Nothing is invented


def test_a_zotero_export_without_access_dates_is_imported_without_them():
    plan = plan_of("zotero_seasons.json")
    assert plan.ok, plan.problems()

    plan.apply()

    assert Source.objects.count() == 9
    assert list(Source.objects.exclude(accessed_on=None).values_list("title", flat=True)) == [
        "Heat records, explained"
    ]
    heat = Source.objects.get(title="Heat records, explained")
    assert heat.accessed_on == datetime.date(2024, 2, 3)


def test_a_doi_only_article_keeps_its_journal():
    plan = plan_of("zotero_seasons.json")
    plan.apply()

    paper = Source.objects.get(doi="10/fqd6hj")
    assert paper.url == "https://doi.org/10/fqd6hj"
    assert (paper.publisher.name, paper.publisher.domain) == ("Journal of Human Evolution", "")
    assert paper.notes == (
        "Publication date given as “Spring 2001”; the library keeps 2001.\n"
        "Publication date known to the year only: 2001."
    )


def test_the_journal_named_beats_another_journal_on_the_same_host():
    make_publisher(name="Nature Reviews Materials", domain="nature.com")
    plan = plan_of("zotero_seasons.json")
    plan.apply()

    energy = Source.objects.get(doi="10.1038/s41560-019-0001-1")
    assert energy.publisher.name == "Nature Energy"


def test_a_report_on_a_handle_link_gets_its_publisher_without_capturing_handle_net():
    plan = plan_of("zotero_seasons.json")
    plan.apply()

    report = Source.objects.get(title="Heat and health & the city")
    assert (report.publisher.name, report.publisher.domain) == ("Wellcome Trust", "")
    later = Source(title="Another thesis", url="https://hdl.handle.net/1887/2")
    later.clean()
    assert later.publisher is None


@pytest.mark.parametrize(
    ("entry", "publisher"),
    [
        ("@article{k, title={T}, journal={The Lancet}, publisher={Elsevier}}", "The Lancet"),
        ("@book{k, title={T}, publisher={Penguin}}", "Penguin"),
        ("@techreport{k, title={T}, institution={OECD}}", "OECD"),
        ("@phdthesis{k, title={T}, school={University of Leiden}}", "University of Leiden"),
    ],
)
def test_the_bibtex_publisher_comes_from_journal_publisher_institution_or_school(entry, publisher):
    assert one_bib(entry).entry.publisher_name == publisher


# Rich text


@pytest.mark.parametrize(
    ("title", "plain"),
    [
        ('<i>Homo sapiens</i> in the <span class="nocase">UK</span>', "Homo sapiens in the UK"),
        ("CO<sub>2</sub> and m<sup>3</sup>", "CO2 and m3"),
        ("<b>Bold</b> claims &amp; <sc>small caps</sc>", "Bold claims & small caps"),
        ("x < y and y > z", "x < y and y > z"),
    ],
)
def test_csl_rich_text_becomes_plain_text(title, plain):
    assert one_csl(title=title).entry.title == plain


def test_bibtex_and_csl_give_the_same_title_for_the_same_item():
    from_csl = plan_of("zotero_seasons.json").entries[0].entry
    from_bib = by_where(plan_of("messy.bib"))["@article{jones2001}"].entry

    assert (
        from_csl.title
        == from_bib.title
        == ("Dispersal of Homo sapiens out of Africa and the mtDNA record")
    )
    assert from_csl.authors == from_bib.authors
    assert from_csl.doi == from_bib.doi
    assert from_csl.publisher_name == from_bib.publisher_name


# Leaving the refused out, filling matched records


def test_a_failure_while_saving_the_good_entries_saves_none_of_them(monkeypatch):
    from sources.interchange import filling

    existing = Source.objects.create(
        title="Bare", url="https://www.bbc.co.uk/news/science-environment-1"
    )
    plan = plan_of(
        "x.bib",
        "@misc{a, title={A}, url={https://a.example/}}\n"
        "@misc{b, title={}}\n"
        "@misc{c, title={Heat}, url={https://www.bbc.co.uk/news/science-environment-1},"
        " author={Doe, Jane}}\n",
    )
    assert plan.summary() == "1 created, 1 matched existing, 1 refused"
    (fills,) = [p.fills for p in plan.entries if p.action == Action.MATCH]
    assert [fill.field for fill in fills] == ["authors"]

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(filling, "fill", broken)
    with pytest.raises(RuntimeError):
        plan.apply(leave_refused=True, fill={3})

    assert list(Source.objects.all()) == [existing]


def test_without_leave_refused_a_plan_with_refusals_saves_nothing():
    plan = plan_of("x.bib", "@misc{a, title={A}, url={https://a.example/}}\n@misc{b, title={}}")

    with pytest.raises(interchange.ImportRefused, match="1 entries are refused; nothing was saved"):
        plan.apply()

    assert Source.objects.count() == 0
    assert plan.apply(leave_refused=True)[0].title == "A"
