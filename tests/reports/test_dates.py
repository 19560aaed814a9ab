"""One date format wherever people read a date: "February 12, 2026", as fact-checks write
"Checked on" (factually/formats/). The version history and change notes: test_history.py."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from reports import workflow
from reports.models import Reference
from tests.conftest import make_publisher, make_report, make_source, publish_now

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 2, 12, 14, 30, tzinfo=datetime.UTC)


def test_the_report_page_writes_its_dates_as_month_day_year(client):
    report = make_report(references=1, checked_on=datetime.date(2026, 2, 12))
    source = make_source(publisher=make_publisher(), published_on=datetime.date(2025, 3, 5))
    Reference.objects.filter(report=report).update(source=source)
    publish_now(report)

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert '<time datetime="2026-02-12">February 12, 2026</time>' in content
    assert '<time datetime="2025-03-05">March 5, 2025</time>' in content


def test_the_admin_workflow_timeline_writes_month_day_year_and_time(writer, reviewer):
    report = make_report()
    workflow.submit(report, by=writer, comment="Ready.")
    report.transitions.update(at=AT)
    client = Client()
    client.force_login(reviewer)

    content = client.get(reverse("admin:reports_report_change", args=[report.pk])).content
    timeline = re.search(
        r'<section class="module workflow-timeline".*?</section>', content.decode(), re.S
    )[0]

    assert '<time datetime="2026-02-12T14:30:00+00:00">February 12, 2026, 14:30</time>' in timeline


def test_the_schedule_comment_in_the_timeline_uses_the_same_format(writer, reviewer):
    report = make_report()
    workflow.submit(report, by=writer)
    at = datetime.datetime.now(datetime.UTC).replace(year=2099, month=2, day=12, hour=14, minute=30)

    workflow.schedule(report, by=reviewer, at=at)

    assert report.transitions.first().comment == "Scheduled for February 12, 2099, 14:30."
