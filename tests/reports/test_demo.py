"""Demo content: what a newcomer sees on the first run."""

from io import StringIO

import pytest
from django.core.management import call_command

from reports import publishing
from reports.models import PublishedVersion, Report
from sources.models import Source

pytestmark = pytest.mark.django_db


def load_demo():
    call_command("load_demo", stdout=StringIO())


def test_load_demo_publishes_at_least_three_reports_with_different_verdicts():
    load_demo()

    live = PublishedVersion.objects.live()
    assert live.count() >= 3
    assert live.values("verdict").distinct().count() >= 3
    assert all(version.report.is_demo for version in live.select_related("report"))


def test_demo_references_point_at_real_public_sources():
    load_demo()

    urls = list(Source.objects.filter(references__isnull=False).values_list("url", flat=True))
    assert urls
    assert all(url.startswith("https://") and ".example" not in url for url in urls)
    assert Source.objects.filter(url__startswith="https://en.wikipedia.org/").exists()


def test_the_example_is_loaded_as_a_draft_that_the_publish_check_refuses():
    load_demo()

    example = Report.objects.get(slug="destalinisation")
    problems = [str(p) for p in publishing.check(example)]

    assert example.status == Report.Status.DRAFT
    assert example.is_demo
    assert "Reference [1] is not linked to a source." in problems
    assert not PublishedVersion.objects.filter(report=example).exists()


def test_loading_the_demo_twice_adds_nothing_the_second_time():
    load_demo()
    counts = (Report.objects.count(), Source.objects.count(), PublishedVersion.objects.count())

    load_demo()

    assert (
        Report.objects.count(),
        Source.objects.count(),
        PublishedVersion.objects.count(),
    ) == counts


def test_demo_reports_are_reachable_from_the_home_page(client):
    load_demo()

    home = client.get("/")

    for version in PublishedVersion.objects.live():
        assert version.get_absolute_url() in home.text
        assert client.get(version.get_absolute_url()).status_code == 200
