"""Publishing is bound to what the reviewer saw: the report and its cited sources as shown.

Each test plays the attack with real accounts over HTTP: while a reviewer has the publish
(or schedule) page open, or after they scheduled, an editor edits the report or a curator
swaps a cited source's link or merges it away. What the reviewer did not see never goes live.
"""

import datetime
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports import workflow
from reports.models import ChangeKind, PublishedVersion, Report
from reports.newsroom import dashboard
from sources.models import Source
from tests.conftest import change_form_data, make_report, make_source, shown_approval

pytestmark = pytest.mark.django_db

MALICIOUS = "https://malware.example/drive-by"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    content = response.content.decode() if hasattr(response, "content") else response
    plain = re.sub(r"<[^>]+>", " ", content).replace("&#x27;", "'").replace("&quot;", '"')
    return re.sub(r"\s+", " ", plain)


def step_url(report, name="publish") -> str:
    return reverse("admin:reports_report_transition", args=[report.pk, name])


@pytest.fixture
def in_review(writer):
    report = make_report(author=writer, last_edited_by=writer, claim="The bridge cost 3 billion.")
    workflow.submit(report, by=writer)
    return report


def edit_summary(user, report, summary: str) -> None:
    report.refresh_from_db()
    data = dict(change_form_data(report), summary=summary)
    response = client_for(user).post(reverse("admin:reports_report_change", args=[report.pk]), data)
    assert response.status_code == 302, text(response)[:2000]


def swap_url(user, source: Source, url: str = MALICIOUS) -> None:
    """A curator edits the source in the admin: same title, another link."""
    response = client_for(user).post(
        reverse("admin:sources_source_change", args=[source.pk]),
        {
            "title": source.title,
            "url": url,
            "kind": source.kind,
            "accessed_on": source.accessed_on.isoformat(),
            "url_status": source.url_status,
            "status": source.status,
        },
    )
    assert response.status_code == 302, text(response)[:2000]


def merge_away(user, source: Source) -> Source:
    """A curator merges `source` into another record, keeping the other's link."""
    kept = make_source(title="Another record", url=MALICIOUS)
    response = client_for(user).post(
        reverse("admin:sources_source_merge", args=[kept.pk, source.pk]),
        {"title": "kept", "url": "kept"},
    )
    assert response.status_code == 302, text(response)[:2000]
    return kept


def first_source(report) -> Source:
    return report.references.get(number=1).source


# Publishing now


def test_a_report_edited_after_the_publish_page_opened_is_not_published(
    in_review, writer, reviewer
):
    publisher = client_for(reviewer)
    page = publisher.get(step_url(in_review))
    edit_summary(writer, in_review, "The bridge cost 30 billion [1] [2].")

    refused = publisher.post(step_url(in_review), shown_approval(page))

    assert refused.status_code == 200
    assert "The report was edited by writer on" in text(refused)
    assert "after you opened this page" in text(refused)
    assert not PublishedVersion.objects.exists()
    assert Report.objects.get(pk=in_review.pk).status == Report.Status.IN_REVIEW

    # Reloaded, the reviewer sees the edited report and publishes exactly that.
    page = publisher.get(step_url(in_review))
    response = publisher.post(step_url(in_review), shown_approval(page))
    assert response.status_code == 302
    assert "30 billion" in PublishedVersion.objects.live().get().summary_text


def test_a_cited_source_swapped_after_the_publish_page_opened_is_not_published(
    in_review, curator, reviewer
):
    source = first_source(in_review)
    publisher = client_for(reviewer)
    page = publisher.get(step_url(in_review))
    swap_url(curator, source)

    refused = publisher.post(step_url(in_review), shown_approval(page))

    assert refused.status_code == 200
    assert f"Source [1] “{source.title}” changed: URL." in text(refused)
    assert not PublishedVersion.objects.exists()

    # The refusal page carries the report as it is now: publishing from it is deliberate.
    response = publisher.post(step_url(in_review), shown_approval(refused))
    assert response.status_code == 302
    version = PublishedVersion.objects.live().get()
    assert version.content["references"][0]["source"]["url"] == MALICIOUS


def test_a_cited_source_merged_away_after_the_publish_page_opened_is_not_published(
    in_review, curator, reviewer
):
    publisher = client_for(reviewer)
    page = publisher.get(step_url(in_review))
    merge_away(curator, first_source(in_review))

    refused = publisher.post(step_url(in_review), shown_approval(page))

    assert refused.status_code == 200
    assert "Reference [1] now cites another source: “Another record”" in text(refused)
    assert not PublishedVersion.objects.exists()
    page = publisher.get(step_url(in_review))
    assert publisher.post(step_url(in_review), shown_approval(page)).status_code == 302


def test_the_reviewer_sees_the_changed_source_in_the_diff_against_the_live_version(
    writer, curator, reviewer
):
    report = make_report(author=writer)
    workflow.submit(report, by=writer)
    workflow.publish(report, by=reviewer)
    edit_summary(writer, report, "An update [1] [2].")
    workflow.submit(report, by=writer)
    publisher = client_for(reviewer)
    page = publisher.get(step_url(report))
    source = first_source(report)
    swap_url(curator, source)

    refused = publisher.post(
        step_url(report), {"note": "Updated.", "kind": ChangeKind.UPDATE, **shown_approval(page)}
    )

    assert "Source details changed" in text(refused)
    assert MALICIOUS in text(refused)
    assert PublishedVersion.objects.live().get().number == 1


def test_a_publish_page_posted_without_what_it_showed_is_refused(in_review, reviewer):
    response = client_for(reviewer).post(step_url(in_review))

    assert response.status_code == 200
    assert "This page is out of date: open it again." in text(response)
    assert not PublishedVersion.objects.exists()


def test_publish_report_refuses_a_report_edited_since_the_version_the_operator_expects(
    in_review, reviewer
):
    seen = in_review.edit_version
    in_review.summary = "Changed behind the operator's back [1] [2]."
    in_review.save()

    with pytest.raises(CommandError, match="The report was edited"):
        call_command("publish_report", in_review.slug, by="reviewer", expect_version=seen)
    assert not PublishedVersion.objects.exists()

    call_command("publish_report", in_review.slug, by="reviewer", expect_version=seen + 1)
    assert PublishedVersion.objects.live().get().report == in_review


# Scheduled publishing


def schedule_over_http(reviewer, report) -> None:
    publisher = client_for(reviewer)
    page = publisher.get(step_url(report, "schedule"))
    at = timezone.localtime() + datetime.timedelta(hours=2)
    response = publisher.post(
        step_url(report, "schedule"),
        {"at": at.strftime("%Y-%m-%dT%H:%M"), **shown_approval(page)},
    )
    assert response.status_code == 302, text(response)[:2000]
    # Its time has come.
    Report.objects.filter(pk=report.pk).update(publish_at=timezone.now())


def assert_sent_back(report, reason: str) -> None:
    report.refresh_from_db()
    assert report.status == Report.Status.IN_REVIEW
    assert not report.is_live
    assert not PublishedVersion.objects.filter(report=report).exists()
    latest = report.transitions.first()
    assert latest.to_status == Report.Status.IN_REVIEW
    assert latest.comment.startswith("Not published as scheduled:")
    assert reason in latest.comment


def test_a_scheduled_report_whose_source_was_swapped_goes_back_to_review(
    in_review, curator, reviewer
):
    schedule_over_http(reviewer, in_review)
    source = first_source(in_review)
    swap_url(curator, source)

    call_command("publish_scheduled")

    assert_sent_back(in_review, f"Source [1] “{source.title}” changed: URL.")


def test_a_scheduled_report_whose_source_was_merged_away_goes_back_to_review(
    in_review, curator, reviewer
):
    schedule_over_http(reviewer, in_review)
    merge_away(curator, first_source(in_review))

    call_command("publish_scheduled")

    assert_sent_back(in_review, "Reference [1] now cites another source: “Another record”")


def test_a_scheduled_report_edited_after_scheduling_goes_back_to_review(
    in_review, writer, reviewer
):
    schedule_over_http(reviewer, in_review)
    edit_summary(writer, in_review, "Quietly changed after approval [1] [2].")

    call_command("publish_scheduled")

    assert_sent_back(in_review, "It was edited after it was approved (by writer on")


def test_a_scheduled_report_left_alone_goes_live(in_review, reviewer):
    schedule_over_http(reviewer, in_review)

    call_command("publish_scheduled")

    in_review.refresh_from_db()
    assert in_review.is_live


# Live reports


def test_the_live_page_keeps_the_frozen_source_until_republished(in_review, curator, reviewer):
    workflow.publish(in_review, by=reviewer)
    source = first_source(in_review)
    old_url, old_title = source.url, source.title
    response = client_for(curator).post(
        reverse("admin:sources_source_change", args=[source.pk]),
        {
            "title": "A different title",
            "url": MALICIOUS,
            "kind": source.kind,
            "accessed_on": source.accessed_on.isoformat(),
            "url_status": source.url_status,
            "status": source.status,
        },
    )
    assert response.status_code == 302

    public = Client().get(f"/reports/{in_review.slug}/").content.decode()

    assert old_url in public
    assert old_title in public
    assert MALICIOUS not in public
    assert "A different title" not in public


def test_the_dashboard_lists_live_reports_whose_sources_changed_until_republished(
    in_review, writer, curator, reviewer, second_reviewer
):
    workflow.publish(in_review, by=reviewer)
    home = client_for(second_reviewer)
    assert in_review.claim not in panel(home.get(reverse("admin:index")))

    source = first_source(in_review)
    swap_url(curator, source)

    listed = panel(home.get(reverse("admin:index")))
    assert in_review.claim in listed
    assert f"Source [1] “{source.title}” changed: URL." in text(listed)

    # Reviewed and republished: what readers see matches the library again.
    edit_summary(writer, in_review, "Rechecked the sources [1] [2].")
    workflow.submit(in_review, by=writer)
    page = home.get(step_url(in_review))
    home.post(
        step_url(in_review),
        {"note": "New link.", "kind": ChangeKind.UPDATE, **shown_approval(page)},
    )
    assert PublishedVersion.objects.live().get().number == 2
    assert in_review.claim not in panel(home.get(reverse("admin:index")))


def test_the_dashboard_lists_live_reports_whose_source_was_merged_or_retired(
    curator, reviewer, writer
):
    merged, retired = make_report(author=writer), make_report(author=writer)
    for report in (merged, retired):
        workflow.submit(report, by=writer)
        workflow.publish(report, by=reviewer)
    merge_away(curator, first_source(merged))
    gone = first_source(retired)
    response = client_for(curator).post(
        reverse("admin:sources_source_retire", args=[gone.pk]), {"reason": "Retracted."}
    )
    assert response.status_code == 302

    listed = dashboard.sources_changed_since_publication(reviewer)

    changes = {report.pk: report.source_changes for report in listed}
    assert "was merged into another source or deleted" in changes[merged.pk][0]
    assert changes[retired.pk] == [f"Source [1] “{gone.title}” changed: status."]


def test_the_sources_panel_is_for_reviewers(in_review, curator, reviewer, writer):
    workflow.publish(in_review, by=reviewer)
    swap_url(curator, first_source(in_review))

    assert dashboard.sources_changed_since_publication(writer) == []
    assert (
        'id="panel-sources"' not in client_for(writer).get(reverse("admin:index")).content.decode()
    )


def panel(response) -> str:
    match = re.search(
        r'<section [^>]*id="panel-sources".*?</section>', response.content.decode(), re.DOTALL
    )
    assert match, "no sources panel"
    return match.group(0)
