"""The rating scale in the admin: ratings start at 1 and the scale keeps a best above its worst."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from reports.models import Verdict

pytestmark = pytest.mark.django_db


def verdict_form(**fields) -> dict:
    data = {
        "name": "Pants on fire",
        "slug": "pants-on-fire",
        "definition": "The claim is absurdly false.",
        "order": "9",
        "colour": "#7f1d1d",
        "rating": "",
    }
    data.update(fields)
    return data


def test_a_rating_of_zero_is_refused_in_the_admin_form(editor_client):
    response = editor_client.post(reverse("admin:reports_verdict_add"), verdict_form(rating="0"))

    assert response.status_code == 200
    assert "Ratings start at 1 (the least true verdict)." in response.content.decode()
    assert not Verdict.objects.filter(slug="pants-on-fire").exists()


def test_a_rating_of_one_or_more_is_saved(editor_client):
    response = editor_client.post(reverse("admin:reports_verdict_add"), verdict_form(rating="1"))

    assert response.status_code == 302
    assert Verdict.objects.get(slug="pants-on-fire").rating == 1


def test_a_verdict_without_a_rating_is_saved(editor_client):
    response = editor_client.post(reverse("admin:reports_verdict_add"), verdict_form())

    assert response.status_code == 302
    assert Verdict.objects.get(slug="pants-on-fire").rating is None


def test_a_scale_whose_best_would_equal_its_worst_is_refused(editor_client):
    Verdict.objects.exclude(slug="false").update(rating=None)  # False is rated 1

    response = editor_client.post(reverse("admin:reports_verdict_add"), verdict_form(rating="1"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Every other rated verdict is rated 1 too" in content
    assert not Verdict.objects.filter(slug="pants-on-fire").exists()


def test_editing_the_only_rated_verdict_keeps_its_rating_free(editor_client):
    Verdict.objects.exclude(slug="false").update(rating=None)
    false = Verdict.objects.get(slug="false")

    false.rating = 3
    false.full_clean()  # one rated verdict is not yet a scale: nothing to compare with


def test_model_validation_refuses_a_rating_below_one():
    verdict = Verdict(**{**verdict_form(rating=0, order=9)})

    with pytest.raises(ValidationError) as caught:
        verdict.full_clean()

    assert caught.value.message_dict["rating"] == ["Ratings start at 1 (the least true verdict)."]


def test_the_database_refuses_a_rating_below_one():
    with pytest.raises(IntegrityError), transaction.atomic():
        Verdict.objects.filter(slug="false").update(rating=0)
