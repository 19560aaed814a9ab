"""Similar claims: live reports like this claim, with pg_trgm or without, and opposite verdicts."""

from __future__ import annotations

import pytest
from django.db import connection

from reports.models import Report, Verdict
from reports.newsroom import similar
from tests.conftest import make_report, publish_now

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="compares with pg_trgm itself"
)


def published(claim: str, verdict: str = "false") -> Report:
    report = make_report(claim=claim, verdict=Verdict.objects.get(slug=verdict))
    publish_now(report)
    return report


def test_similar_claims_finds_live_reports_most_similar_first(db):
    wall = published("The Great Wall of China is visible from the Moon.")
    published("Napoleon was short.")
    close = published("The Great Wall is visible from the Moon.")

    found = similar.similar_claims("The Great Wall of China can be seen from the Moon.")

    assert [item.version.report_id for item in found] == [wall.pk, close.pk]
    assert found[0].similarity > found[1].similarity >= similar.SIMILARITY_THRESHOLD


def test_similar_claims_leave_out_the_report_itself_and_what_is_not_live(db):
    own = published("The Great Wall of China is visible from the Moon.")
    make_report(claim="The Great Wall of China is visible from the Moon, a draft.")

    found = similar.similar_claims(own.claim, exclude_report_id=own.pk)

    assert found == []


def test_the_python_fallback_finds_the_same_claims_as_the_database(db, monkeypatch):
    published("The Great Wall of China is visible from the Moon.")
    published("Humans use only ten percent of their brain.")
    query = "Is the Great Wall visible from the Moon?"

    in_database = similar.similar_claims(query)
    monkeypatch.setattr(similar.connection, "vendor", "sqlite")
    in_python = similar.similar_claims(query)

    assert [i.version.pk for i in in_python] == [i.version.pk for i in in_database]


@on_postgresql
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Great Wall of China is visible from the Moon.", "Great Wall visible from space?"),
        ("Humans use only ten percent of their brain.", "We only use 10 percent of our brains"),
        ("Napoleon was short.", "napoleon WAS short!!"),
        ("", "Anything"),
    ],
)
def test_the_python_trigram_similarity_matches_pg_trgm(db, a, b):
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", [a, b])
        expected = cursor.fetchone()[0]

    assert similar.trigram_similarity(a, b) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "opposite"),
    [
        ("true", "false", True),
        ("mostly-true", "mostly-false", True),
        ("mostly-true", "true", False),
        ("false", "mostly-false", False),
        ("mixed", "misleading", False),  # 4 and 3: both inside the neutral band
        ("mostly-true", "misleading", False),
        ("unproven", "false", False),
        ("unproven", "true", False),
    ],
)
def test_opposite_verdicts_sit_either_side_of_a_neutral_middle(db, a, b, opposite):
    scale = similar.rating_scale()

    assert scale.midpoint == 3.5
    assert (
        similar.are_opposite(Verdict.objects.get(slug=a), Verdict.objects.get(slug=b), scale=scale)
        is opposite
    )


def test_without_ratings_opposites_fall_back_to_the_verdict_slugs(db):
    Verdict.objects.update(rating=None)
    true, false, mixed = (Verdict.objects.get(slug=s) for s in ("mostly-true", "false", "mixed"))

    assert similar.are_opposite(true, false, scale=similar.rating_scale())
    assert not similar.are_opposite(true, mixed, scale=None)


def test_a_similar_claim_with_the_opposite_verdict_is_flagged(db):
    published("The Great Wall of China is visible from the Moon.", verdict="false")
    published("The Great Wall of China can be seen from the Moon.", verdict="mostly-false")

    found = similar.similar_claims(
        "The Great Wall of China is visible from the Moon!",
        verdict=Verdict.objects.get(slug="true"),
    )

    assert [item.opposite for item in found] == [True, True]
    same_side = similar.similar_claims(
        "The Great Wall of China is visible from the Moon!",
        verdict=Verdict.objects.get(slug="false"),
    )
    assert [item.opposite for item in same_side] == [False, False]
