"""generate_reports: realistic, publishable reports in bulk for benchmarks."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from reports import publishing
from reports.demo.generating import generate
from reports.models import PublishedVersion, Report

pytestmark = pytest.mark.django_db


def test_generated_reports_are_live_and_would_pass_every_publish_check():
    assert generate(4, seed=1, sources=60) == 4

    reports = Report.objects.prefetch_related("sections", "references")
    assert reports.count() == 4
    for report in reports:
        assert publishing.check(report) == []
        assert 5 <= report.sections.count() <= 8
        assert 10 <= report.references.count() <= 40
        assert report.is_live
    assert PublishedVersion.objects.live().count() == 4


def test_generated_reports_share_their_sources_and_spread_over_verdicts_and_topics():
    generate(12, seed=2, sources=50)

    versions = PublishedVersion.objects.live()
    cited = [set(v.sources.values_list("pk", flat=True)) for v in versions]
    assert any(a & b for i, a in enumerate(cited) for b in cited[i + 1 :])
    assert versions.values("verdict").distinct().count() > 1
    assert all(v.topics.exists() for v in versions)


def test_the_generated_page_renders_like_a_published_one(client):
    generate(1, seed=3, sources=40)
    version = PublishedVersion.objects.live().get()

    response = client.get(version.get_absolute_url())

    assert response.status_code == 200
    assert 'id="ref-1"' in response.content.decode()


def test_the_command_reports_what_it_made():
    out = StringIO()

    call_command(
        "generate_reports", "--count", "3", "--sources", "40", "--workers", "1", stdout=out
    )

    assert "Generated 3 published reports." in out.getvalue()
    assert Report.objects.count() == 3


def test_a_long_run_with_debug_on_does_not_keep_every_query(settings):
    """DEBUG keeps each query's SQL, and every batch inserts megabytes of rendered HTML."""
    settings.DEBUG = True

    generate(6, seed=4, sources=40, batch_size=2)

    assert sum(len(query["sql"]) for query in connection.queries) < 200_000


def test_generated_versions_are_what_publishing_freezes_claim_details_included():
    generate(3, seed=5, sources=40)

    for version in PublishedVersion.objects.live().select_related("report"):
        frozen = publishing.freeze(version.report)
        assert version.claimant
        assert version.claim_date
        assert version.claim_url
        for field in [
            "slug",
            "claim",
            "claimant",
            "claim_date",
            "claim_url",
            "verdict_id",
            "checked_on",
            "summary_text",
            "body_text",
            "body_html",
        ]:
            assert getattr(version, field) == getattr(frozen, field), field
        assert version.content == json.loads(json.dumps(frozen.content))  # tuples become lists
