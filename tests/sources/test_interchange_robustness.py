"""Whatever a CSL-JSON or BibTeX file holds, reading it ends in entries (each refused with a
readable reason, or not) or in one refusal of the whole file: never an exception, never a
parser's internal message shown as a field's problem."""

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources import interchange
from sources.interchange import ImportRefused

pytestmark = pytest.mark.django_db

# What a Python error would look like if it leaked into a problem.
INTERNALS = re.compile(r"Error\b|Traceback|index out of range|object has no attribute|NoneType")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
csl_keys = st.sampled_from(
    [
        "title",
        "URL",
        "DOI",
        "author",
        "issued",
        "accessed",
        "container-title",
        "publisher",
        "type",
        "language",
        "note",
        "custom",
        "id",
        "ISBN",
        "PMID",
    ]
)
csl_dates = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "date-parts": st.lists(
                st.lists(st.one_of(st.integers(-5, 3000), st.text(max_size=4)), max_size=4),
                max_size=3,
            ),
            "season": json_values,
            "circa": json_values,
            "literal": st.text(max_size=12),
            "raw": st.text(max_size=12),
        },
    ),
)
csl_items = st.dictionaries(csl_keys, st.one_of(json_values, csl_dates), max_size=8)

bib_pieces = st.sampled_from(
    [
        "@article{",
        "@string{",
        "@book{k,",
        "}",
        "{",
        ",",
        "=",
        " and ",
        "#",
        '"',
        "title",
        "author",
        "year",
        "date",
        "crossref",
        "journal",
        "url",
        "doi",
        "\\href{",
        "\\emph{",
        "\\url{",
        "$",
        "%",
        "~",
        "--",
        "/",
        "family=",
        "given=",
        "\n",
        " ",
        "2011",
        "13",
        "x",
        "'",
    ]
)


def assert_readable(entries):
    for entry in entries:
        for error in entry.errors:
            assert not INTERNALS.search(str(error)), str(error)


@settings(max_examples=150, deadline=None)
@given(st.lists(csl_items, max_size=4))
def test_any_csl_items_read_without_an_exception(items):
    entries = interchange.read(json.dumps(items), "csl", "x.json")

    assert len(entries) == len(items)
    assert_readable(entries)


@settings(max_examples=150, deadline=None)
@given(st.lists(bib_pieces, max_size=40).map("".join))
def test_any_bibtex_text_reads_without_an_exception(text):
    try:
        entries = interchange.read(text, "bibtex", "x.bib")
    except ImportRefused:
        return
    assert_readable(entries)
