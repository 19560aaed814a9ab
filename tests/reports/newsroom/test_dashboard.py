"""The admin home panels: what each panel lists, for whom, in which order, in how many queries."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports import roles, workflow
from reports.models import Report, Transition, Verdict
from reports.newsroom import dashboard
from tests.conftest import make_report, make_user, publish_now

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def index(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response


def panel(response, key) -> str:
    """The HTML of one panel of the admin home page."""
    match = re.search(
        rf'<section [^>]*id="panel-{key}".*?</section>', response.content.decode(), re.DOTALL
    )
    assert match, f"no {key} panel"
    return match.group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def change_url(report) -> str:
    return reverse("admin:reports_report_change", args=[report.pk])


def draft_of(user, **fields) -> Report:
    return make_report(author=user, last_edited_by=user, **fields)


def submit(report, *, by, at=None) -> Report:
    record = workflow.submit(report, by=by)
    if at is not None:
        Transition.objects.filter(pk=record.pk).update(at=at)
    return report


def edited_at(report, at) -> Report:
    Report.objects.filter(pk=report.pk).update(updated_at=at)
    return report


@pytest.fixture
def other_writer(db):
    return make_user("other-writer", roles.EDITOR)


# My drafts


def test_my_drafts_lists_drafts_i_wrote_or_last_edited_latest_edit_first(
    client, writer, other_writer
):
    written = edited_at(draft_of(writer), NOW - datetime.timedelta(days=2))
    edited = edited_at(
        make_report(author=other_writer, last_edited_by=writer), NOW - datetime.timedelta(hours=1)
    )
    others = draft_of(other_writer)
    in_review = submit(draft_of(writer), by=writer)
    live = draft_of(writer)
    publish_now(live)

    assert list(dashboard.my_drafts(writer)) == [edited, written]
    html = panel(index(client, writer), "drafts")
    assert html.index(edited.claim) < html.index(written.claim)
    assert f'href="{change_url(edited)}"' in html
    for report in (others, in_review, live):
        assert report.claim not in html
    assert "?status__exact=draft" in html
    assert "Edited <time datetime=" in html


def test_empty_panels_say_so(client, writer):
    response = index(client, writer)

    assert "You have no drafts." in text(panel(response, "drafts"))
    assert "Nothing awaiting review." in text(panel(response, "review"))
    assert "Nothing returned to you." in text(panel(response, "returned"))
    assert "Nothing scheduled." in text(panel(response, "scheduled"))
    assert "Nothing published yet." in text(panel(response, "published"))
    assert "Nothing due for a re-check." in text(panel(response, "recheck"))
    assert "See all" not in response.content.decode().split('id="content-main"')[0]


# Awaiting review


def test_awaiting_review_lists_the_longest_waiting_first_by_latest_submission(
    client, writer, reviewer
):
    # Created (and so edited) in the opposite order to their submissions.
    resubmitted = submit(draft_of(writer), by=writer, at=NOW - datetime.timedelta(days=10))
    workflow.return_to_editor(resubmitted, by=reviewer, comment="Add the 2019 figures.")
    submit(resubmitted, by=writer, at=NOW - datetime.timedelta(hours=1))
    later = submit(draft_of(writer), by=writer, at=NOW - datetime.timedelta(days=3))
    oldest = submit(draft_of(writer), by=writer, at=NOW - datetime.timedelta(days=5))
    draft = draft_of(writer)
    scheduled = submit(make_report(), by=writer)
    workflow.schedule(scheduled, by=reviewer, at=NOW + datetime.timedelta(days=1))

    assert list(dashboard.awaiting_review(reviewer)) == [oldest, later, resubmitted]
    html = panel(index(client, reviewer), "review")
    assert html.index(oldest.claim) < html.index(later.claim) < html.index(resubmitted.claim)
    assert draft.claim not in html
    assert scheduled.claim not in html
    assert "Submitted by writer" in text(html)
    assert "5 days ago" in text(html)
    submitted_at = Transition.objects.get(report=oldest, to_status="in_review").at
    assert f'<time datetime="{timezone.localtime(submitted_at).isoformat()}"' in html
    assert "?status__exact=in_review" in html
    assert "Your reports only." not in html


def test_awaiting_review_shows_editors_only_their_own_reports(client, writer, other_writer):
    mine = submit(draft_of(writer), by=writer)
    edited_by_me = submit(make_report(author=other_writer, last_edited_by=writer), by=writer)
    theirs = submit(draft_of(other_writer), by=other_writer)

    assert set(dashboard.awaiting_review(writer)) == {mine, edited_by_me}
    html = panel(index(client, writer), "review")
    assert mine.claim in html
    assert edited_by_me.claim in html
    assert theirs.claim not in html
    assert "Your reports only." in html


def test_publishers_see_every_report_in_review(writer):
    publisher = make_user("publisher")
    publisher.user_permissions.set(
        Permission.objects.filter(codename__in=["view_report", "publish_report"])
    )
    report = submit(draft_of(writer), by=writer)

    assert list(dashboard.awaiting_review(publisher)) == [report]


# Returned to me


def test_returned_to_me_shows_the_reviewers_latest_comment(
    client, writer, other_writer, reviewer, second_reviewer
):
    returned = submit(draft_of(writer), by=writer)
    workflow.return_to_editor(returned, by=second_reviewer, comment="First round of notes.")
    submit(returned, by=writer)
    workflow.return_to_editor(returned, by=reviewer, comment="Cite the census, not the blog.")
    long_comment = "Every figure needs a source. " * 20
    edited_by_me = submit(make_report(author=other_writer, last_edited_by=writer), by=writer)
    workflow.return_to_editor(edited_by_me, by=reviewer, comment=long_comment)
    theirs = submit(draft_of(other_writer), by=other_writer)
    workflow.return_to_editor(theirs, by=reviewer, comment="Not yours.")
    resubmitted = submit(draft_of(writer), by=writer)
    workflow.return_to_editor(resubmitted, by=reviewer, comment="Fix it.")
    submit(resubmitted, by=writer)
    never_submitted = draft_of(writer)
    unpublished = draft_of(writer)
    publish_now(unpublished)
    workflow.unpublish(unpublished, by=reviewer, comment="Published by mistake.")
    from_schedule = submit(draft_of(writer), by=writer)
    workflow.schedule(from_schedule, by=reviewer, at=NOW + datetime.timedelta(days=1))
    workflow.return_to_editor(from_schedule, by=reviewer, comment="Hold it: new data is out.")

    assert list(dashboard.returned_to_me(writer)) == [from_schedule, edited_by_me, returned]
    html = panel(index(client, writer), "returned")
    page = text(html)
    assert "Cite the census, not the blog." in page
    assert "First round of notes." not in page
    assert "Returned by reviewer" in page
    assert long_comment.strip() not in page
    assert "Every figure needs a source." in page
    assert "…" in page
    assert f'href="{change_url(returned)}"' in html
    for report in (theirs, resubmitted, never_submitted, unpublished):
        assert report.claim not in html


# Scheduled


def test_scheduled_lists_the_soonest_first_with_the_time(client, writer, reviewer):
    later = submit(make_report(), by=writer)
    workflow.schedule(later, by=reviewer, at=NOW + datetime.timedelta(days=3))
    sooner = submit(make_report(), by=writer)
    workflow.schedule(sooner, by=reviewer, at=NOW + datetime.timedelta(days=1))
    in_review = submit(make_report(), by=writer)

    assert list(dashboard.scheduled(writer)) == [sooner, later]
    html = panel(index(client, writer), "scheduled")
    assert html.index(sooner.claim) < html.index(later.claim)
    assert in_review.claim not in html
    sooner.refresh_from_db()
    assert f'<time datetime="{timezone.localtime(sooner.publish_at).isoformat()}"' in html
    assert "scheduled by reviewer" in text(html)
    assert "?status__exact=scheduled" in html


# Recently published


def test_recently_published_lists_the_last_ten_live_reports_with_verdict_and_public_page(
    client, writer, reviewer
):
    live = []
    for minutes in range(12):
        report = make_report()
        publish_now(report)
        Report.objects.filter(pk=report.pk).update(
            published_at=NOW - datetime.timedelta(minutes=60 - minutes)
        )
        live.append(report)
    withdrawn = live.pop(5)
    workflow.withdraw(withdrawn, by=reviewer, reason="The source retracted.")
    draft = make_report()
    # The public address is the live version's, even if the working copy's slug changed.
    newest = live[-1]
    public_slug = newest.slug
    Report.objects.filter(pk=newest.pk).update(slug="renamed-draft-slug")

    expected = live[::-1][:10]
    assert list(dashboard.recently_published(writer)) == expected
    html = panel(index(client, writer), "published")
    positions = [html.index(f'href="{change_url(report)}"') for report in expected]
    assert positions == sorted(positions)
    for report in (live[0], withdrawn, draft):
        assert f'href="{change_url(report)}"' not in html
    assert f'href="/reports/{public_slug}/"' in html
    assert "renamed-draft-slug" not in html
    assert Verdict.objects.get(slug="false").name in text(html)
    assert "?live=yes" in html


# Due for re-check


def test_due_for_recheck_lists_live_reports_checked_too_long_ago_oldest_first(
    client, writer, settings
):
    today = timezone.localdate()

    def live_checked(days_ago):
        report = make_report(checked_on=today - datetime.timedelta(days=days_ago))
        publish_now(report)
        return report

    old = live_checked(400)
    oldest = live_checked(800)
    on_the_day = live_checked(365)
    recent = live_checked(100)
    not_live = make_report(checked_on=today - datetime.timedelta(days=1000))

    assert list(dashboard.due_for_recheck(writer)) == [oldest, old]
    html = panel(index(client, writer), "recheck")
    assert html.index(oldest.claim) < html.index(old.claim)
    for report in (on_the_day, recent, not_live):
        assert report.claim not in html
    assert f'<time datetime="{oldest.checked_on.isoformat()}"' in html
    assert "2 years" in text(html)
    assert "more than 365 days ago" in text(html)

    settings.FACTUALLY_RECHECK_AFTER_DAYS = 90

    assert list(dashboard.due_for_recheck(writer)) == [oldest, old, on_the_day, recent]
    html = panel(index(client, writer), "recheck")
    assert recent.claim in html
    assert not_live.claim not in html
    assert "more than 90 days ago" in text(html)


# Who sees what


def test_source_curators_see_no_report_panels(client, curator, writer):
    draft_of(curator)
    submit(draft_of(writer), by=writer)
    publish_now(make_report(checked_on=datetime.date(2000, 1, 1)))

    response = index(client, curator)

    content = response.content.decode()
    assert "newsroom-panels" not in content
    assert "Claim number" not in content
    assert 'id="content-main"' in content
    assert dashboard.panels(curator) == []
    for panel_function in (
        dashboard.my_drafts,
        dashboard.awaiting_review,
        dashboard.returned_to_me,
        dashboard.scheduled,
        dashboard.recently_published,
        dashboard.due_for_recheck,
    ):
        assert list(panel_function(curator)) == []


def test_panels_sit_above_the_app_list_with_accessible_markup(editor_client):
    publish_now(make_report(checked_on=datetime.date(2000, 1, 1)))

    content = editor_client.get(reverse("admin:index")).content.decode()

    panels = content[content.index('class="newsroom-panels"') : content.index('id="content-main"')]
    assert panels.count("<section ") == 7
    for key in ("drafts", "review", "returned", "scheduled", "published", "sources", "recheck"):
        assert f'aria-labelledby="panel-{key}-heading"' in panels
        assert f'<h2 id="panel-{key}-heading">' in panels
    assert "style=" not in panels
    assert "<script" not in panels
    assert "css/admin-panels.css" in content


def test_see_all_links_open_the_filtered_report_list(editor_client):
    today = timezone.localdate()
    due = make_report(checked_on=today - datetime.timedelta(days=400))
    fresh = make_report(checked_on=today - datetime.timedelta(days=10))
    for report in (due, fresh):
        publish_now(report)

    for panel_ in dashboard.panels(editor_client.get(reverse("admin:index")).wsgi_request.user):
        response = editor_client.get(panel_.see_all_url)
        assert response.status_code == 200, panel_.key
        assert "?e=1" not in response.wsgi_request.get_full_path()
        if panel_.key == "recheck":
            assert response.context["cl"].result_count == 1
            assert due.claim in response.content.decode()


# Speed


def newsroom(size, *, viewer, writer, reviewer):
    """`size` reports spread over every panel (all of them from 5 on), some of them `viewer`'s."""
    today = timezone.localdate()
    for n in range(size):
        match n % 5:
            case 0:
                draft_of(viewer)
            case 1:
                submit(draft_of(writer), by=writer)
            case 2:
                report = submit(draft_of(viewer), by=viewer)
                workflow.return_to_editor(report, by=reviewer, comment=f"Notes {n}.")
            case 3:
                report = submit(make_report(), by=writer)
                workflow.schedule(report, by=reviewer, at=NOW + datetime.timedelta(hours=n + 1))
            case 4:
                report = make_report(checked_on=today - datetime.timedelta(days=400 + n))
                publish_now(report)
                if n % 10 == 4:  # a curator swaps the link of a cited source
                    source = report.references.first().source
                    source.url = f"https://swapped.example/{report.pk}"
                    source.save()


@pytest.mark.parametrize("size", [3, 30, 60])
def test_the_home_page_takes_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, writer, reviewer, second_reviewer, size
):
    newsroom(size, viewer=reviewer, writer=writer, reviewer=second_reviewer)
    client.force_login(reviewer)

    # Session, user, the user's and group permissions, recent actions; one query a panel,
    # one for the live versions of the recently published reports and one for the sources
    # of the live reports whose sources changed.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("admin:index"))

    assert response.status_code == 200

    def of_kind(*kinds):
        return min(dashboard.PANEL_SIZE, sum(len(range(kind, size, 5)) for kind in kinds))

    # Returned reports are drafts too.
    expected = {"drafts": of_kind(0, 2), "review": of_kind(1), "returned": of_kind(2)}
    expected |= {"scheduled": of_kind(3), "published": of_kind(4), "recheck": of_kind(4)}
    expected["sources"] = min(dashboard.PANEL_SIZE, len(range(4, size, 10)))
    for key, count in expected.items():
        assert panel(response, key).count("<li>") == count, key


def test_query_count_does_not_grow_with_the_number_of_reports(
    client, writer, reviewer, second_reviewer
):
    def count_queries():
        client.force_login(reviewer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("admin:index")).status_code == 200
        return len(queries)

    newsroom(5, viewer=reviewer, writer=writer, reviewer=second_reviewer)
    few = count_queries()
    newsroom(30, viewer=reviewer, writer=writer, reviewer=second_reviewer)

    assert count_queries() == few
