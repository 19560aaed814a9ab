"""Report admin: editing, filtering, previewing and publishing through the admin."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from reports import publishing, workflow
from reports.models import (
    ClaimantType,
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Verdict,
)
from tests.conftest import (
    change_form_data,
    make_report,
    make_source,
    make_topic,
    publish_now,
    shown_approval,
)

pytestmark = pytest.mark.django_db


def publish_url(report):
    return reverse("admin:reports_report_transition", args=[report.pk, "publish"])


def in_review(report):
    workflow.submit(report, by=None)
    return report


def preview_url(report):
    return reverse("admin:reports_report_preview", args=[report.pk])


def change_url(report):
    return reverse("admin:reports_report_change", args=[report.pk])


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def staff_client(client, django_user_model):
    """Staff who may edit reports but not publish them."""
    user = django_user_model.objects.create_user(
        username="writer", password="correct horse battery", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="reports",
            codename__in=["view_report", "change_report", "add_report"],
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def member_client(client, django_user_model):
    """A signed-in reader who is not staff."""
    user = django_user_model.objects.create_user(username="reader", password="x")
    client.force_login(user)
    return client


# The change form


def test_change_form_shows_sections_in_order_with_references_and_questions(editor_client):
    report = make_report(sections=0, questions=0)
    Section.objects.create(report=report, position=2, heading="Second heading", body="B [1] [2].")
    Section.objects.create(report=report, position=1, heading="First heading", body="A [1] [2].")
    FollowUpQuestion.objects.create(report=report, question="Who said it first?")

    response = editor_client.get(change_url(report))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("First heading") < content.index("Second heading")
    assert "Who said it first?" in content
    assert 'name="references-0-source"' in content
    assert "admin-autocomplete" in content


def test_change_form_links_to_publish_and_preview(editor_client, report):
    in_review(report)
    content = editor_client.get(change_url(report)).content.decode()

    assert f'href="{publish_url(report)}"' in content
    assert "Publish…" in content
    assert f'href="{preview_url(report)}"' in content


def test_change_form_hides_the_publish_link_from_staff_who_may_not_publish(staff_client, report):
    in_review(report)
    response = staff_client.get(change_url(report))

    assert response.status_code == 200
    assert publish_url(report) not in response.content.decode()


def test_reference_source_autocomplete_finds_sources_by_title(editor_client):
    make_source(title="Secret Speech transcript")
    make_source(title="A secret archive")
    make_source(title="Unrelated")

    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "reports",
            "model_name": "reference",
            "field_name": "source",
            "term": "secret",
        },
    )

    assert response.status_code == 200
    titles = [r["text"] for r in response.json()["results"]]
    assert titles == ["A secret archive", "Secret Speech transcript"]


def test_saving_a_new_report_through_the_admin_keeps_its_sections(editor_client, editor):
    data = {
        "claim": "A new claim.",
        "slug": "a-new-claim",
        "verdict": Verdict.objects.get(slug="false").pk,
        "checked_on": "2026-01-27",
        "summary": "Summary [1].",
        "conclusion_heading": "Conclusion",
        "conclusion": "Done [1].",
        "sections-TOTAL_FORMS": "2",
        "sections-INITIAL_FORMS": "0",
        "sections-0-position": "1",
        "sections-0-heading": "First",
        "sections-0-body": "One [1].",
        "sections-1-position": "2",
        "sections-1-heading": "Second",
        "sections-1-body": "Two [1].",
        "references-TOTAL_FORMS": "1",
        "references-INITIAL_FORMS": "0",
        "references-0-number": "1",
        "references-0-source": make_source().pk,
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
    }

    response = editor_client.post(reverse("admin:reports_report_add"), data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    report = Report.objects.get(slug="a-new-claim")
    assert report.author == editor
    assert [s.heading for s in report.sections.all()] == ["First", "Second"]
    assert publishing.check(report) == []


# The changelist


def test_changelist_filters_by_status_and_what_is_live(editor_client):
    draft = make_report(claim="Still a draft.")
    live = make_report(claim="Already live.")
    publish_now(live)
    changed = make_report(claim="Live and since edited.")
    publish_now(changed)
    changed.summary = "Edited [1] [2]."
    changed.save()

    url = reverse("admin:reports_report_changelist")
    drafts = page_text(editor_client.get(url, {"status__exact": "draft"}))
    published = page_text(editor_client.get(url, {"live": "yes"}))
    edited = page_text(editor_client.get(url, {"live": "changed"}))
    not_live = page_text(editor_client.get(url, {"live": "no"}))

    assert draft.claim in drafts
    assert live.claim not in drafts
    assert live.claim in published
    assert changed.claim in published
    assert draft.claim not in published
    assert changed.claim in edited
    assert live.claim not in edited
    assert draft.claim in not_live
    assert live.claim not in not_live


def test_changelist_filters_by_verdict_topic_and_author(editor_client, editor):
    topic = make_topic(name="History")
    true = Verdict.objects.get(slug="true")
    by_verdict = make_report(claim="Rated true.", verdict=true)
    by_topic = make_report(claim="About history.")
    by_topic.topics.add(topic)
    by_author = make_report(claim="Written by the editor.", author=editor)
    url = reverse("admin:reports_report_changelist")

    verdict_page = page_text(editor_client.get(url, {"verdict__id__exact": true.pk}))
    topic_page = page_text(editor_client.get(url, {"topics__id__exact": topic.pk}))
    author_page = page_text(editor_client.get(url, {"author__id__exact": editor.pk}))

    assert by_verdict.claim in verdict_page
    assert by_topic.claim not in verdict_page
    assert by_topic.claim in topic_page
    assert by_verdict.claim not in topic_page
    assert by_author.claim in author_page
    assert by_topic.claim not in author_page


def test_changelist_search_finds_claims(editor_client):
    make_report(claim="The Great Wall is visible from the Moon.")
    make_report(claim="Napoleon was short.")

    text = page_text(
        editor_client.get(reverse("admin:reports_report_changelist"), {"q": "great wall"})
    )

    assert "The Great Wall is visible from the Moon." in text
    assert "Napoleon was short." not in text


# Publishing


def test_publish_page_lists_every_problem_at_once(editor_client):
    report = make_report(verdict=None, references=2)
    Reference.objects.filter(report=report, number=2).update(source=None)
    Section.objects.filter(report=report, position=1).update(
        body="Cited [1] [2].\n\nAn uncited paragraph."
    )

    response = editor_client.get(publish_url(report))

    assert response.status_code == 200
    text = page_text(response)
    assert "No verdict is chosen." in text
    assert "Section 1, paragraph 2 has no citation." in text
    assert "Reference [2] is not linked to a source." in text
    assert "these 3 problems" in text


def test_posting_a_broken_report_publishes_nothing(editor_client):
    report = make_report(verdict=None)
    Section.objects.filter(report=report, position=1).update(body="Not cited.")
    in_review(report)

    response = editor_client.post(publish_url(report))

    assert response.status_code == 200
    text = page_text(response)
    assert "No verdict is chosen." in text
    assert "Section 1, paragraph 1 has no citation." in text
    assert not PublishedVersion.objects.exists()
    report.refresh_from_db()
    assert report.status == Report.Status.IN_REVIEW


def test_publishing_a_good_report_makes_it_public(editor_client, editor, client):
    report = in_review(make_report(claim="A well-cited claim."))

    page = editor_client.get(publish_url(report))
    assert "Every check passes." in page_text(page)
    response = editor_client.post(publish_url(report), shown_approval(page), follow=True)

    assert response.redirect_chain[-1][0] == change_url(report)
    assert "Published version 1." in page_text(response)
    version = PublishedVersion.objects.live().get(report=report)
    assert version.published_by == editor
    report.refresh_from_db()
    assert report.status == Report.Status.PUBLISHED
    client.logout()
    public = client.get(f"/reports/{report.slug}/")
    assert public.status_code == 200
    assert "A well-cited claim." in page_text(public)


def test_republishing_replaces_the_live_version_and_keeps_the_change_note(editor_client):
    report = in_review(make_report())
    editor_client.post(publish_url(report), shown_approval(editor_client.get(publish_url(report))))
    report.claim = "A corrected claim."
    report.save()
    in_review(report)

    page = editor_client.get(publish_url(report))
    editor_client.post(
        publish_url(report),
        {"note": "Corrected the claim.", "kind": "correction", **shown_approval(page)},
    )

    live = PublishedVersion.objects.live().get(report=report)
    assert live.number == 2
    assert live.change_note == "Corrected the claim."
    assert live.change_kind == "correction"
    assert PublishedVersion.objects.filter(report=report).count() == 2


def test_publishing_is_recorded_in_the_admin_history(editor_client, report):
    in_review(report)
    editor_client.post(publish_url(report), shown_approval(editor_client.get(publish_url(report))))

    history = editor_client.get(reverse("admin:reports_report_history", args=[report.pk]))

    assert "Published version 1." in page_text(history)


def admin_view_url(report, view):
    if view == "preview":
        return preview_url(report)
    return publish_url(report)


@pytest.mark.parametrize("view", ["publish", "preview"])
def test_anonymous_visitors_are_sent_to_log_in(client, report, view):
    url = admin_view_url(report, view)

    get = client.get(url)
    post = client.post(url)

    for response in (get, post):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert not PublishedVersion.objects.exists()


@pytest.mark.parametrize("view", ["publish", "preview"])
def test_signed_in_non_staff_are_sent_to_log_in(member_client, report, view):
    url = admin_view_url(report, view)

    response = member_client.post(url) if view == "publish" else member_client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not PublishedVersion.objects.exists()


def test_staff_without_the_publish_permission_are_refused(staff_client, report):
    assert staff_client.get(publish_url(report)).status_code == 403
    assert staff_client.post(publish_url(report)).status_code == 403
    assert not PublishedVersion.objects.exists()


def test_publish_page_of_an_unknown_report_is_not_found(editor_client):
    assert editor_client.get("/admin/reports/report/999999/transition/publish/").status_code == 404


def test_bulk_publish_action_publishes_good_reports_and_names_refused_ones(editor_client):
    good = make_report(claim="Good one.")
    bad = make_report(claim="Bad one.", verdict=None)
    in_review(good), in_review(bad)

    response = editor_client.post(
        reverse("admin:reports_report_changelist"),
        {"action": "publish_selected", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )

    text = page_text(response)
    assert "Published 1 report(s)." in text
    assert "“Bad one.” was not published: No verdict is chosen." in text
    assert PublishedVersion.objects.live().filter(report=good).exists()
    assert not PublishedVersion.objects.filter(report=bad).exists()


# Preview


def test_preview_renders_the_working_copy_and_is_never_cached(editor_client):
    report = make_report(claim="Published claim.")
    publish_now(report)
    report.claim = "Working copy claim."
    report.save()
    Section.objects.filter(report=report, position=1).update(heading="A new heading")

    response = editor_client.get(preview_url(report))

    assert response.status_code == 200
    assert "reports/detail.html" in [t.name for t in response.templates]
    text = page_text(response)
    assert "Working copy claim." in text
    assert "1. A new heading" in text
    assert "Readers cannot see this page." in text
    cache_control = response["Cache-Control"]
    assert "no-cache" in cache_control
    assert "no-store" in cache_control
    assert "private" in cache_control
    assert response["X-Robots-Tag"] == "noindex"


def test_preview_of_an_incomplete_draft_still_renders(editor_client):
    report = make_report(verdict=None, checked_on=None, linked=False, sections=0)

    response = editor_client.get(preview_url(report))

    assert response.status_code == 200
    text = page_text(response)
    assert "No verdict yet" in text
    assert "Not yet linked to a source." in text


def test_staff_who_may_view_reports_can_preview(staff_client, report):
    assert staff_client.get(preview_url(report)).status_code == 200


def test_a_script_in_a_section_body_is_escaped_in_the_preview(editor_client):
    report = make_report()
    Section.objects.filter(report=report, position=1).update(
        heading="<script>alert(1)</script>", body="<script>alert(2)</script> Text [1] [2]."
    )

    content = editor_client.get(preview_url(report)).content.decode()

    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_editing_a_published_report_in_the_admin_changes_nothing_public(editor_client, client):
    report = make_report(claim="What readers see.")
    publish_now(report)
    data = change_form_data(report)
    data["claim"] = "An edit in progress."
    data["sections-0-heading"] = "A rewritten heading"

    response = editor_client.post(change_url(report), data)

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.claim == "An edit in progress."
    assert report.status == Report.Status.PUBLISHED
    assert report.has_unpublished_changes
    client.logout()
    public = page_text(client.get(f"/reports/{report.slug}/"))
    assert "What readers see." in public
    assert "A rewritten heading" not in public


def test_publish_problems_link_to_where_they_are_fixed(editor_client):
    report = make_report(verdict=None, linked=False)

    content = editor_client.get(publish_url(report)).content.decode()

    assert f'<a href="{change_url(report)}#id_verdict">No verdict is chosen.</a>' in content
    assert f'href="{change_url(report)}#references-group">Reference [1]' in content


def test_view_on_site_opens_the_live_page_even_after_the_slug_is_edited(editor_client):
    report = make_report(slug="published-slug")
    publish_now(report)
    report.slug = "edited-slug"
    report.save()

    content = editor_client.get(change_url(report)).content.decode()

    assert "/reports/published-slug/" in content
    assert "/reports/edited-slug/" not in content


def test_view_on_site_is_absent_for_a_draft(editor_client, report):
    assert f"/reports/{report.slug}/" not in editor_client.get(change_url(report)).content.decode()


def test_the_editor_chooses_the_claimants_type_on_the_report_form(editor_client):
    report = make_report(claimant="Daily Express")
    url = reverse("admin:reports_report_change", args=[report.pk])

    form = editor_client.get(url).content.decode()
    response = editor_client.post(
        url, {**change_form_data(report), "claimant_type": "organisation"}
    )

    assert 'name="claimant_type"' in form
    assert "An organisation" in form
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.claimant_type == ClaimantType.ORGANISATION


def test_a_claimant_type_that_is_not_a_choice_is_refused(editor_client):
    report = make_report()
    url = reverse("admin:reports_report_change", args=[report.pk])

    response = editor_client.post(url, {**change_form_data(report), "claimant_type": "robot"})

    assert response.status_code == 200
    assert "Select a valid choice. robot is not one of the available choices." in (
        response.content.decode()
    )
    report.refresh_from_db()
    assert report.claimant_type == ClaimantType.UNKNOWN
