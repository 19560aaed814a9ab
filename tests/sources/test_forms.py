"""The source library's admin forms (sources/forms.py), without the pages around them."""

import pytest

from sources import merging
from sources.forms import MergeForm, RetireForm, SourceForm
from sources.models import Source
from tests.conftest import make_source

pytestmark = pytest.mark.django_db


def test_the_merge_form_offers_a_choice_for_differing_fields_only():
    kept = make_source(title="Obesity statistics", notes="")
    duplicate = make_source(title="Obesity statistics", notes="Checked with the author.")

    form = MergeForm(kept=kept, duplicate=duplicate)

    assert "notes" in form.fields
    assert "title" not in form.fields
    assert form.fields["notes"].initial == merging.DUPLICATE  # the richer value
    rows = {row["label"]: row for row in form.rows()}
    assert len(rows) == len(merging.MERGED_FIELDS)
    assert rows["Title"]["choice"] is None
    assert rows[form.fields["notes"].label]["kept"] == "(empty)"


def test_the_retire_form_needs_a_reason():
    assert not RetireForm({"reason": ""}).is_valid()
    assert RetireForm({"reason": "Found to be fabricated."}).is_valid()


def test_the_source_form_refuses_a_url_already_in_the_library():
    listed = make_source(url="https://example.org/report")
    form = SourceForm(
        {
            "title": "The same report",
            "url": "https://example.org/report",
            "kind": listed.kind,
            "status": listed.status,
        },
        instance=Source(),
    )

    assert not form.is_valid()
    assert "already in the library" in str(form.errors["url"])
