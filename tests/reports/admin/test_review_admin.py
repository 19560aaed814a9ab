"""Review support in the admin: checklist, preview highlights, changes, similar claims, drafts."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from reports import workflow
from reports.models import FollowUpQuestion, Reference, Report, Section, Verdict
from tests.conftest import make_report, make_user, publish_now, shown_approval

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def change_url(report):
    return reverse("admin:reports_report_change", args=[report.pk])


def checklist_url(report):
    return reverse("admin:reports_report_checklist", args=[report.pk])


def similar_url(report=None):
    if report is None:
        return reverse("admin:reports_report_similar_new")
    return reverse("admin:reports_report_similar", args=[report.pk])


def draft_url(question):
    return reverse("admin:reports_report_draft_question", args=[question.report_id, question.pk])


def transition_url(report, name="publish"):
    return reverse("admin:reports_report_transition", args=[report.pk, name])


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def published(claim: str, verdict: str = "false") -> Report:
    report = make_report(claim=claim, verdict=Verdict.objects.get(slug=verdict))
    publish_now(report)
    return report


@pytest.fixture
def viewer_client(client, django_user_model):
    """Staff who may only view reports."""
    user = make_user("viewer")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="reports", codename="view_report")
    )
    client.force_login(user)
    return client


@pytest.fixture
def bare_staff_client(client):
    """Staff without any permission on reports."""
    client.force_login(make_user("bare"))
    return client


# The publish checklist


def test_the_checklist_for_htmx_is_a_partial_and_without_htmx_a_full_page(editor_client, report):
    partial = editor_client.get(checklist_url(report), headers=HTMX)
    full = editor_client.get(checklist_url(report))

    for response in (partial, full):
        assert response.status_code == 200
        assert 'id="publish-checklist"' in response.content.decode()
        assert "Passes every publish check" in page_text(response)
        assert "HX-Request" in response["Vary"]
    assert "<html" not in partial.content.decode()
    assert partial.content.decode().lstrip().startswith("<section")
    assert "<html" in full.content.decode()
    assert "Back to the report" in page_text(full)


def test_checklist_problems_link_to_the_field_or_inline_to_fix(editor_client):
    report = make_report(verdict=None, linked=False)
    Section.objects.filter(report=report, position=1).update(body="Uncited.")

    content = editor_client.get(checklist_url(report), headers=HTMX).content.decode()

    url = change_url(report)
    assert f'<a href="{url}#id_verdict">No verdict is chosen.</a>' in content
    assert f'<a href="{url}#sections-group">Section 1, paragraph 1 has no citation.</a>' in content
    assert f'href="{url}#references-group">Reference [1] is not linked' in content
    assert "Passes every publish check" not in content


def test_the_change_form_shows_the_checklist_with_a_check_button_that_works_without_js(
    editor_client,
):
    report = make_report(checked_on=None)

    content = editor_client.get(change_url(report)).content.decode()

    assert 'id="publish-checklist"' in content
    assert f'<a href="{change_url(report)}#id_checked_on">' in content
    url = checklist_url(report)
    assert f'<a class="button" href="{url}" hx-get="{url}" hx-target="#publish-checklist"' in (
        content
    )


def test_the_change_form_loads_htmx_with_the_csp_nonce_and_no_inline_styles(editor_client, report):
    response = editor_client.get(change_url(report))

    content = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert re.search(rf'<script src="[^"]*htmx-2\.min\.js"[^>]*nonce="{nonce}"', content)
    assert '"includeIndicatorStyles": false' in content
    assert "admin-extra/review.css" in content
    assert " style=" not in content.split("<body", 1)[1]


def test_the_checklist_refreshes_after_a_save(editor_client):
    from tests.conftest import change_form_data

    report = make_report(verdict=None)
    data = change_form_data(report)
    data["verdict"] = Verdict.objects.get(slug="false").pk
    data["_continue"] = "Save and continue editing"

    response = editor_client.post(change_url(report), data, follow=True)

    assert "No verdict is chosen." not in page_text(response)
    assert "Passes every publish check" in page_text(response)


@pytest.mark.parametrize("size", [1, 8])
def test_the_change_form_makes_as_many_queries_whatever_the_report_size(
    editor_client, django_assert_max_num_queries, size
):
    other = published("The Great Wall of China is visible from the Moon.")
    report = make_report(
        claim="The Great Wall is visible from the Moon.",
        sections=size,
        references=size,
        questions=size,
    )
    publish_now(report)
    report.summary = "An uncited edit."
    report.save()
    report.questions.filter(position__gt=size // 2).update(answered_by=other)
    workflow.submit(report, by=None)

    # Session, user, report, inlines, checks, similar claims, timeline, the four-eyes rule
    # (for the steps offered and for the checklist), a cache invalidation still pending, the
    # workflow header (the live version, the last editor): none per row.
    with django_assert_max_num_queries(30):
        response = editor_client.get(change_url(report))

    assert response.status_code == 200
    text = page_text(response)
    assert "Executive summary, paragraph 1 has no citation." in text
    assert "The Great Wall of China is visible from the Moon." in text
    assert text.count("Draft a report") == size // 2
    assert f'<option value="{report.references.first().source_id}" selected>' in (
        response.content.decode()
    )


# Preview highlights


def test_the_preview_highlights_uncited_sentences_with_a_legend(editor_client):
    report = make_report()
    Section.objects.filter(report=report, position=1).update(
        body="Khrushchev spoke in 1956 [1]. Nobody recorded it. It leaked [2]."
    )

    response = editor_client.get(reverse("admin:reports_report_preview", args=[report.pk]))

    content = response.content.decode()
    assert '<mark class="uncited">Nobody recorded it.</mark>' in content
    assert content.split("<article", 1)[1].count('<mark class="uncited">') == 1
    assert "Highlighted sentences carry no citation (advisory" in page_text(response)
    assert "1 sentence highlighted." in page_text(response)
    assert "admin-extra/review.css" in content


def test_uncited_sentences_never_stop_publishing_nor_reach_readers(editor_client, client):
    report = make_report()
    Section.objects.filter(report=report, position=1).update(
        body="Cited [1] [2]. But this sentence is not."
    )
    workflow.submit(report, by=None)

    page = editor_client.get(transition_url(report))
    editor_client.post(transition_url(report), shown_approval(page))

    report.refresh_from_db()
    assert report.is_live
    public = client.get(f"/reports/{report.slug}/").content.decode()
    assert "But this sentence is not." in public
    assert "<mark" not in public
    assert "uncited" not in public
    assert "carry no citation" not in public
    assert "<mark" not in report.versions.get().body_html


def test_hostile_section_text_stays_escaped_in_the_highlighted_preview(editor_client):
    report = make_report()
    Section.objects.filter(report=report, position=1).update(
        body='No cite <script>alert(1)</script>. "><img src=x onerror=alert(2)> also none.'
    )

    content = editor_client.get(
        reverse("admin:reports_report_preview", args=[report.pk])
    ).content.decode()

    assert "<script>alert" not in content
    assert "<img src=x" not in content
    assert '<mark class="uncited">No cite &lt;script&gt;alert(1)&lt;/script&gt;.</mark>' in content


# Changes since the live version


def test_the_publish_page_of_a_live_report_shows_what_changed(editor_client):
    report = make_report()
    publish_now(report)
    Section.objects.filter(report=report, position=1).update(body="Rewritten body [1] [2].")
    Section.objects.create(report=report, position=9, heading="<b>Added</b>", body="New [1].")
    report.save()
    workflow.submit(report, by=None)

    content = editor_client.get(transition_url(report)).content.decode()

    assert "Changes since the live version (version 1)" in content
    assert "<del>Body of section 1</del><ins>Rewritten body</ins> [1] [2]." in content
    assert "Section 3 (new): <span" in content
    assert "<ins>&lt;b&gt;Added&lt;/b&gt;</ins>" in content
    assert '<details class="diff-part diff-unchanged"><summary>Section 2: ' in content
    assert '<details class="diff-part diff-unchanged"><summary>Claim: ' in content


def test_the_schedule_page_shows_changes_too_and_a_first_publication_shows_none(editor_client):
    live = make_report()
    publish_now(live)
    live.claim = "An edited claim."
    live.save()
    workflow.submit(live, by=None)
    draft = make_report()
    workflow.submit(draft, by=None)

    scheduled = editor_client.get(transition_url(live, "schedule")).content.decode()
    first = editor_client.get(transition_url(draft)).content.decode()

    assert "Changes since the live version" in scheduled
    assert "<ins>An edited claim" in scheduled.replace("\n", "")
    assert "Changes since the live version" not in first


# Similar claims


def test_the_change_form_lists_similar_published_claims_and_warns_of_opposite_verdicts(
    editor_client,
):
    other = published("The Great Wall of China is visible from the Moon.", verdict="false")
    published("Napoleon was short.", verdict="true")
    report = make_report(
        claim="The Great Wall of China can be seen from the Moon.",
        verdict=Verdict.objects.get(slug="true"),
    )

    response = editor_client.get(change_url(report))

    content = response.content.decode()
    similar = content[content.index('id="similar-claims"') :]
    assert f'<a href="/reports/{other.slug}/">{other.claim}</a>' in similar
    assert "Napoleon was short." not in similar
    assert "A similar published claim has the opposite verdict" in page_text(response)
    assert "opposite verdict" in similar


def test_a_report_is_not_similar_to_its_own_live_version(editor_client):
    report = published("The Great Wall of China is visible from the Moon.")

    content = editor_client.get(change_url(report)).content.decode()

    assert "No published report has a similar claim." in content


def test_the_claim_field_refreshes_similar_claims_as_it_is_typed(editor_client, report):
    content = editor_client.get(change_url(report)).content.decode()

    claim_input = re.search(r'<input[^>]*name="claim"[^>]*>', content).group()
    assert f'hx-get="{similar_url(report)}"' in claim_input
    assert 'hx-trigger="keyup changed delay:500ms, change"' in claim_input
    assert 'hx-target="#similar-claims"' in claim_input
    assert 'hx-include="[name=verdict]"' in claim_input


def test_the_similar_endpoint_answers_htmx_with_a_partial(editor_client, report):
    other = published("The Great Wall of China is visible from the Moon.", verdict="true")
    params = {"claim": "Great Wall of China visible from the Moon", "verdict": ""}

    partial = editor_client.get(similar_url(report), params, headers=HTMX)
    opposite = editor_client.get(
        similar_url(report),
        {**params, "verdict": Verdict.objects.get(slug="false").pk},
        headers=HTMX,
    )
    full = editor_client.get(similar_url(report), params)

    assert "<html" not in partial.content.decode()
    assert other.claim in partial.content.decode()
    assert "opposite verdict" not in partial.content.decode()
    assert "opposite verdict" in opposite.content.decode()
    assert "<html" in full.content.decode()
    assert other.claim in full.content.decode()


def test_the_add_form_has_its_own_similar_endpoint(editor_client):
    published("The Great Wall of China is visible from the Moon.")

    form = editor_client.get(reverse("admin:reports_report_add")).content.decode()
    response = editor_client.get(
        similar_url(), {"claim": "The Great Wall is visible from the Moon"}, headers=HTMX
    )

    assert f'hx-get="{similar_url()}"' in form
    assert "Type the claim to see published reports" in form
    assert response.status_code == 200
    assert "The Great Wall of China is visible from the Moon." in response.content.decode()


# Drafting a report from a follow-up question


def test_one_click_drafts_a_report_from_a_question(editor_client, editor):
    report = make_report(questions=0)
    question = FollowUpQuestion.objects.create(report=report, question="Did Stalin sign it?")

    page = editor_client.get(change_url(report)).content.decode()
    response = editor_client.post(draft_url(question), follow=True)

    assert f'action="{draft_url(question)}" id="draft-question-{question.pk}"' in page
    assert f'form="draft-question-{question.pk}">Draft a report</button>' in page
    draft = Report.objects.get(claim="Did Stalin sign it?")
    assert response.redirect_chain[-1][0] == change_url(draft)
    assert "Drafted a report from the question of" in page_text(response)
    assert (draft.status, draft.author, draft.last_edited_by) == ("draft", editor, editor)
    question.refresh_from_db()
    assert question.answered_by == draft
    assert LogEntry.objects.filter(object_id=str(draft.pk), action_flag=ADDITION).exists()
    assert LogEntry.objects.filter(object_id=str(report.pk), action_flag=CHANGE).exists()


def test_a_second_click_is_refused_with_a_link_to_the_answer(editor_client):
    report = make_report(questions=1)
    question = report.questions.get()
    editor_client.post(draft_url(question))
    draft = Report.objects.exclude(pk=report.pk).get()

    response = editor_client.post(draft_url(question), follow=True)

    assert response.redirect_chain[-1][0] == change_url(report)
    assert f'is already answered by <a href="{change_url(draft)}">' in response.content.decode()
    assert Report.objects.count() == 2
    page = editor_client.get(change_url(report)).content.decode()
    assert f'id="draft-question-{question.pk}"' not in page


def test_drafting_is_post_only_and_only_for_this_reports_questions(editor_client):
    report = make_report(questions=1)
    foreign = make_report(questions=1).questions.get()

    assert editor_client.get(draft_url(report.questions.get())).status_code == 405
    url = reverse("admin:reports_report_draft_question", args=[report.pk, foreign.pk])
    assert editor_client.post(url).status_code == 404
    assert Report.objects.count() == 2


def test_drafting_needs_the_csrf_token(client, editor, report):
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(editor)

    assert client.post(draft_url(report.questions.get())).status_code == 403
    assert Report.objects.count() == 1


# Permissions


def new_view_urls(report):
    return {
        "checklist": ("get", checklist_url(report)),
        "similar": ("get", similar_url(report)),
        "similar-new": ("get", similar_url()),
        "draft": ("post", draft_url(report.questions.get())),
    }


@pytest.mark.parametrize("view", ["checklist", "similar", "similar-new", "draft"])
def test_anonymous_visitors_are_sent_to_log_in(client, report, view):
    method, url = new_view_urls(report)[view]

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert Report.objects.count() == 1


@pytest.mark.parametrize("view", ["checklist", "similar", "similar-new", "draft"])
def test_staff_without_permissions_on_reports_are_refused(bare_staff_client, report, view):
    method, url = new_view_urls(report)[view]

    response = getattr(bare_staff_client, method)(url, headers=HTMX)

    assert response.status_code == 403
    assert Report.objects.count() == 1


def test_staff_who_may_only_view_see_the_checklist_but_cannot_draft(viewer_client, report):
    question = report.questions.get()

    assert viewer_client.get(checklist_url(report), headers=HTMX).status_code == 200
    assert viewer_client.get(similar_url(report), headers=HTMX).status_code == 200
    assert viewer_client.post(draft_url(question)).status_code == 403
    assert "Draft a report" not in viewer_client.get(change_url(report)).content.decode()
    question.refresh_from_db()
    assert question.answered_by is None


def test_editors_by_role_may_draft(client, writer, report):
    client.force_login(writer)

    response = client.post(draft_url(report.questions.get()))

    assert response.status_code == 302
    assert Report.objects.count() == 2


def test_a_reference_without_source_shows_in_the_checklist(editor_client, report):
    Reference.objects.filter(report=report, number=1).update(source=None)

    content = editor_client.get(checklist_url(report), headers=HTMX).content.decode()

    assert "Reference [1] is not linked to a source." in content
