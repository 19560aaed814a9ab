"""The footer every page shares, the rating scale page and the outdated-check notice."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import Verdict
from tests.conftest import make_report, publish_now

pytestmark = pytest.mark.django_db

FOOTER_LINKS = {
    "Methodology": "/methodology/",
    "Rating scale": "/rating-scale/",
    "Corrections policy": "/corrections/",
    "About": "/about/",
    "Contact": "/contact/",
}


def published(**fields):
    report = make_report(**fields)
    publish_now(report)
    return report


def footer(content: str) -> str:
    return re.search(r'<footer class="site-footer">(.*?)</footer>', content, re.S).group(1)


# Footer


@pytest.mark.parametrize("page", ["home", "report", "flat page", "rating scale", "history"])
def test_every_page_links_to_the_policies_from_its_footer(client, page):
    published(slug="footer-report")
    url = {
        "home": "/",
        "report": "/reports/footer-report/",
        "flat page": "/about/",
        "rating scale": "/rating-scale/",
        "history": "/reports/footer-report/history/",
    }[page]

    response = client.get(url)

    assert response.status_code == 200
    found = re.findall(r'<a href="([^"]+)">([^<]+)</a>', footer(response.content.decode()))
    links = {text: href for href, text in found}
    for text, href in FOOTER_LINKS.items():
        assert links[text] == href


@pytest.mark.parametrize("path", list(FOOTER_LINKS.values()))
def test_every_footer_link_leads_to_a_page(client, path):
    assert client.get(path).status_code == 200


def test_the_named_flat_page_routes_resolve_to_their_pages():
    assert reverse("about") == "/about/"
    assert reverse("corrections") == "/corrections/"
    assert reverse("contact") == "/contact/"


# Rating scale


def test_rating_scale_lists_each_verdict_with_badge_and_definition_in_scale_order(client):
    response = client.get("/rating-scale/")

    assert response.status_code == 200
    content = response.content.decode()
    verdicts = list(Verdict.objects.all())
    assert [v.slug for v in verdicts][:2] == ["true", "mostly-true"]
    positions = []
    for verdict in verdicts:
        badge = f'<span class="verdict verdict--{verdict.slug}">'
        assert badge in content
        assert verdict.definition in content
        assert f'id="verdict-{verdict.slug}"' in content
        positions.append(content.index(badge))
    assert positions == sorted(positions)


def test_rating_scale_follows_the_curated_order_and_definitions(client):
    Verdict.objects.filter(slug="unproven").update(order=0, definition="We cannot tell yet.")

    content = client.get("/rating-scale/").content.decode()

    assert "We cannot tell yet." in content
    assert content.index("verdict--unproven") < content.index("verdict--true")


def test_rating_scale_runs_one_query(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert client.get("/rating-scale/").status_code == 200


# Outdated notice

NOTICE = "This fact-check may be outdated."


def report_page(client, days_ago: int) -> str:
    checked_on = timezone.localdate() - datetime.timedelta(days=days_ago)
    report = published(checked_on=checked_on)
    return client.get(f"/reports/{report.slug}/").content.decode()


def test_a_report_checked_longer_ago_than_the_recheck_period_says_it_may_be_outdated(
    client, settings
):
    settings.FACTUALLY_RECHECK_AFTER_DAYS = 30

    content = report_page(client, days_ago=31)

    notice = re.search(r'<p class="outdated-notice" role="note">(.*?)</p>', content, re.S)
    assert notice is not None
    assert NOTICE in notice.group(1)
    assert "more than 30 days ago" in notice.group(1)
    # Near the top: before the report itself.
    assert content.index(NOTICE) < content.index('<article class="report">')


def test_a_report_checked_exactly_the_recheck_period_ago_is_not_outdated(client, settings):
    settings.FACTUALLY_RECHECK_AFTER_DAYS = 30

    assert NOTICE not in report_page(client, days_ago=30)


def test_a_recent_report_has_no_outdated_notice(client, settings):
    settings.FACTUALLY_RECHECK_AFTER_DAYS = 365

    assert NOTICE not in report_page(client, days_ago=0)
    assert NOTICE not in report_page(client, days_ago=365)
    assert NOTICE in report_page(client, days_ago=366)


def test_the_outdated_notice_follows_the_setting(client, settings):
    settings.FACTUALLY_RECHECK_AFTER_DAYS = 365
    report = published(checked_on=timezone.localdate() - datetime.timedelta(days=100))
    url = f"/reports/{report.slug}/"

    assert NOTICE not in client.get(url).content.decode()
    settings.FACTUALLY_RECHECK_AFTER_DAYS = 99
    assert NOTICE in client.get(url).content.decode()
