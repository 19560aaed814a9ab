"""Retiring and reinstating sources, and what that means for the reports citing them."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from reports import publishing, workflow
from sources import retiring
from sources.models import Source
from tests.conftest import make_report, make_source, publish_now

pytestmark = pytest.mark.django_db


def citing(source, **fields):
    report = make_report(references=1, questions=0, **fields)
    report.references.update(source=source)
    return report


# The service


def test_retiring_sets_the_status_date_and_reason(curator):
    source = make_source()

    retiring.retire(source, by=curator, reason="  Retracted by the journal.  ")

    for copy in (source, Source.objects.get(pk=source.pk)):
        assert copy.status == Source.Status.RETIRED
        assert copy.retired_at is not None
        assert copy.retired_reason == "Retracted by the journal."
    assert "Retracted by the journal." in LogEntry.objects.get(user=curator).get_change_message()


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_reason_is_required(curator, reason):
    source = make_source()

    with pytest.raises(retiring.RetireRefused):
        retiring.retire(source, by=curator, reason=reason)

    source.refresh_from_db()
    assert source.is_active
    assert source.retired_at is None


def test_retiring_twice_is_refused(curator):
    source = make_source()
    retiring.retire(source, by=curator, reason="Wrong.")

    with pytest.raises(retiring.RetireRefused):
        retiring.retire(source, by=curator, reason="Still wrong.")
    assert Source.objects.get(pk=source.pk).retired_reason == "Wrong."


def test_retiring_leaves_other_fields_alone(curator):
    source = make_source(title="Original")
    stale = Source.objects.get(pk=source.pk)
    Source.objects.filter(pk=source.pk).update(title="Edited meanwhile")

    retiring.retire(stale, by=curator, reason="Wrong.")

    assert Source.objects.get(pk=source.pk).title == "Edited meanwhile"


def test_reinstating_makes_the_source_active_again(curator):
    source = make_source()
    retiring.retire(source, by=curator, reason="Wrong.")

    retiring.reinstate(source, by=curator)

    source.refresh_from_db()
    assert source.is_active
    assert source.retired_at is None
    assert source.retired_reason == ""


def test_reinstating_an_active_source_is_refused(curator):
    with pytest.raises(retiring.RetireRefused):
        retiring.reinstate(make_source(), by=curator)


def test_a_report_citing_a_retired_source_cannot_be_published(curator):
    source = make_source(title="The retracted study")
    report = citing(source)
    retiring.retire(source, by=curator, reason="Retracted.")

    problems = [str(p) for p in publishing.check(report)]

    assert problems == ["Reference [1] cites a retired source: “The retracted study”."]
    workflow.submit(report, by=None)
    with pytest.raises(workflow.PublishRefused):
        workflow.publish(report, by=None)
    assert not report.versions.exists()


def test_a_live_report_citing_a_retired_source_cannot_be_published_again(curator):
    source = make_source()
    report = citing(source)
    publish_now(report)
    retiring.retire(source, by=curator, reason="Retracted.")
    report.summary += " Updated."
    report.save()

    with pytest.raises(workflow.PublishRefused):
        publish_now(report)
    # What readers see stays up until the reference is replaced and the report republished.
    assert report.versions.live().count() == 1

    report.references.update(source=make_source())
    assert publishing.check(report) == []


def test_reinstating_allows_publishing_again(curator):
    source = make_source()
    report = citing(source)
    retiring.retire(source, by=curator, reason="Retracted.")
    retiring.reinstate(source, by=curator)

    assert publishing.check(report) == []
    assert publish_now(report).is_live


def test_published_reports_citing_lists_live_reports_only(curator, reviewer):
    source = make_source()
    live = citing(source, claim="Live")
    publish_now(live)
    citing(source, claim="Draft")
    taken_down = citing(source, claim="Taken down")
    publish_now(taken_down)
    workflow.unpublish(taken_down, by=reviewer, comment="Mistake.")

    found = retiring.published_reports_citing(source)

    assert found == [live]
    assert found[0].live_slug == live.slug


# Admin


def change_url(source):
    return reverse("admin:sources_source_change", args=[source.pk])


def retire_url(source):
    return reverse("admin:sources_source_retire", args=[source.pk])


def test_curators_retire_with_a_reason(client, curator):
    client.force_login(curator)
    source = make_source()

    page = client.get(retire_url(source))
    response = client.post(retire_url(source), {"reason": "Retracted by the journal."})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == change_url(source)
    source.refresh_from_db()
    assert source.status == Source.Status.RETIRED
    assert source.retired_reason == "Retracted by the journal."


def test_retiring_without_a_reason_shows_the_form_again(client, curator):
    client.force_login(curator)
    source = make_source()

    response = client.post(retire_url(source), {"reason": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert Source.objects.get(pk=source.pk).is_active


def test_the_retire_page_lists_the_published_reports_that_cite_it(client, curator):
    client.force_login(curator)
    source = make_source()
    report = citing(source, claim="A live claim citing it.")
    publish_now(report)

    content = client.get(retire_url(source)).content.decode()

    assert "A live claim citing it." in content
    assert f'href="{report.get_absolute_url()}"' in content


def test_curators_reinstate(client, curator):
    client.force_login(curator)
    source = make_source()
    retiring.retire(source, by=curator, reason="Wrong.")
    url = reverse("admin:sources_source_reinstate", args=[source.pk])

    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert Source.objects.get(pk=source.pk).is_active


def test_a_retired_sources_change_page_lists_the_published_reports_citing_it(
    client, editor, curator
):
    client.force_login(editor)
    source = make_source()
    live = citing(source, claim="A live claim citing it.")
    publish_now(live)
    citing(source, claim="A draft claim citing it.")
    retiring.retire(source, by=curator, reason="Retracted by the journal.")

    content = client.get(change_url(source)).content.decode()

    assert "Retracted by the journal." in content
    assert "A live claim citing it." in content
    assert f'href="{reverse("admin:reports_report_change", args=[live.pk])}"' in content
    assert "A draft claim citing it." not in content
    assert f'href="{reverse("admin:sources_source_reinstate", args=[source.pk])}"' in content


def test_an_active_sources_change_page_offers_retiring_to_curators_only(client, curator, writer):
    source = make_source()
    link = f'href="{retire_url(source)}"'

    client.force_login(curator)
    assert link in client.get(change_url(source)).content.decode()
    client.force_login(writer)
    assert link not in client.get(change_url(source)).content.decode()


def test_editors_without_the_retire_permission_cannot_retire(client, writer):
    client.force_login(writer)
    source = make_source()

    assert client.get(retire_url(source)).status_code == 403
    assert client.post(retire_url(source), {"reason": "Because."}).status_code == 403
    reinstate = reverse("admin:sources_source_reinstate", args=[source.pk])
    assert client.post(reinstate).status_code == 403
    assert Source.objects.get(pk=source.pk).is_active


def test_the_status_cannot_be_changed_in_the_source_form(client, writer):
    client.force_login(writer)
    source = make_source(title="Kept active", url="https://example.org/kept")

    response = client.post(
        change_url(source),
        {
            "title": "Kept active",
            "url": "https://example.org/kept",
            "kind": Source.Kind.OTHER,
            "accessed_on": "2026-01-27",
            "status": Source.Status.RETIRED,
        },
    )

    assert response.status_code == 302
    assert Source.objects.get(pk=source.pk).is_active
    page = client.get(change_url(source))
    assert 'name="status"' not in page.content.decode()
