"""Merging duplicate sources: citations move, richer details stay, the old ID redirects."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from reports import publishing, roles
from reports.models import PublishedVersion, Reference
from sources import merging
from sources.models import Source, SourceMerge
from tests.conftest import make_publisher, make_report, make_source, make_user, publish_now

pytestmark = pytest.mark.django_db


def citing(source, **fields):
    report = make_report(references=1, questions=0, **fields)
    report.references.update(source=source)
    return report


# The service


def test_every_reference_moves_to_the_kept_source(curator):
    kept, duplicate = make_source(), make_source()
    first, second = citing(duplicate), citing(duplicate)
    already = citing(kept)

    record = merging.merge(kept, duplicate, by=curator)

    assert record.references_moved == 2
    assert set(Reference.objects.filter(source=kept).values_list("report", flat=True)) == {
        first.pk,
        second.pk,
        already.pk,
    }
    assert not Source.objects.filter(pk=duplicate.pk).exists()
    assert record.reports_citing_both == []


def test_nothing_that_cited_the_merged_source_loses_its_citation(curator):
    kept, duplicate = make_source(), make_source(title="The duplicate record")
    report = citing(duplicate)
    publish_now(report)
    frozen = list(PublishedVersion.objects.values("pk", "content", "body_html"))

    merging.merge(kept, duplicate, by=curator)

    report.refresh_from_db()
    assert publishing.check(report) == []
    assert list(PublishedVersion.objects.values("pk", "content", "body_html")) == frozen
    assert "The duplicate record" in PublishedVersion.objects.get().body_html
    # And it can be published again, now citing the kept source.
    report.save()
    version = publish_now(report)
    assert version.content["references"][0]["source"]["id"] == kept.pk


def test_a_report_citing_both_keeps_two_references_and_the_result_says_so(curator):
    kept, duplicate = make_source(), make_source()
    report = make_report(references=2, questions=0)
    report.references.filter(number=1).update(source=kept)
    report.references.filter(number=2).update(source=duplicate)

    record = merging.merge(kept, duplicate, by=curator)

    assert record.reports_citing_both == [report]
    assert list(report.references.values_list("number", "source")) == [(1, kept.pk), (2, kept.pk)]
    assert publishing.check(report) == []


def test_the_richer_value_of_each_field_is_kept(curator):
    publisher = make_publisher()
    kept = make_source(
        title="Record high",
        url="http://example.org/record",
        authors="A. Author",
        published_on=None,
        accessed_on=datetime.date(2025, 5, 5),
        notes="A long curator note about this record.",
    )
    duplicate = make_source(
        title="Temperatures hit a record high",
        url="https://example.org/record",
        url_status=Source.UrlStatus.DEAD,
        publisher=publisher,
        authors="A. Author\nB. Author",
        published_on=datetime.date(2024, 1, 2),
        accessed_on=datetime.date(2025, 1, 1),
        kind=Source.Kind.NEWS_ARTICLE,
        language="en",
        doi="10.1000/record",
        archive_url="https://archive.example/record",
        archive_date=datetime.date(2024, 2, 2),
        notes="Short.",
    )

    merging.merge(kept, duplicate, by=curator)

    kept.refresh_from_db()
    assert kept.title == "Temperatures hit a record high"  # longer text
    assert kept.url == "https://example.org/record"  # longer text...
    assert kept.url_status == Source.UrlStatus.DEAD  # ...with the status of that URL
    assert kept.publisher == publisher  # non-empty
    assert kept.author_list == ["A. Author", "B. Author"]  # more names
    assert kept.published_on == datetime.date(2024, 1, 2)  # the non-null date
    assert kept.accessed_on == datetime.date(2025, 5, 5)  # both set: the kept one's
    assert kept.kind == Source.Kind.NEWS_ARTICLE  # a kind beats the default "Other"
    assert kept.language == "en"
    assert kept.doi == "10.1000/record"  # the duplicate's DOI, free once it is deleted
    assert kept.archive_url == "https://archive.example/record"
    assert kept.archive_date == datetime.date(2024, 2, 2)
    assert kept.notes == "A long curator note about this record."


def test_the_kept_values_stay_when_they_are_as_rich(curator):
    kept = make_source(title="Same length A", authors="One\nTwo", kind=Source.Kind.BOOK)
    duplicate = make_source(title="Same length B", authors="Three\nFour", kind=Source.Kind.DATASET)

    merging.merge(kept, duplicate, by=curator)

    kept.refresh_from_db()
    assert (kept.title, kept.author_list, kept.kind) == ("Same length A", ["One", "Two"], "book")


def test_the_curators_choices_are_honoured(curator):
    kept = make_source(title="A much longer and better title", url="https://example.org/a")
    duplicate = make_source(title="Short", url="http://example.org/a", language="fr")

    merging.merge(
        kept,
        duplicate,
        by=curator,
        choices={"title": merging.DUPLICATE, "url": merging.DUPLICATE, "language": merging.KEPT},
    )

    kept.refresh_from_db()
    assert kept.title == "Short"
    assert kept.url == "http://example.org/a"
    assert kept.language == ""


def test_unknown_choices_are_refused(curator):
    kept, duplicate = make_source(), make_source()

    with pytest.raises(merging.MergeRefused):
        merging.merge(kept, duplicate, by=curator, choices={"is_demo": merging.DUPLICATE})
    with pytest.raises(merging.MergeRefused):
        merging.merge(kept, duplicate, by=curator, choices={"title": "both"})
    assert Source.objects.filter(pk=duplicate.pk).exists()


def test_a_source_cannot_be_merged_into_itself(curator):
    source = make_source()

    with pytest.raises(merging.MergeRefused):
        merging.merge(source, source, by=curator)


def test_merging_an_already_merged_source_is_refused(curator):
    kept, duplicate = make_source(), make_source()
    stale = Source.objects.get(pk=duplicate.pk)
    merging.merge(kept, duplicate, by=curator)

    with pytest.raises(merging.MergeRefused):
        merging.merge(kept, stale, by=curator)


def test_the_merge_is_recorded_with_every_field_of_the_duplicate(curator):
    kept = make_source()
    duplicate = make_source(
        title="The duplicate", doi="10.1/dup", published_on=datetime.date(2020, 2, 29)
    )
    citing(duplicate)
    merged_id = duplicate.pk

    record = merging.merge(kept, duplicate, by=curator)

    record.refresh_from_db()
    assert record.kept == kept
    assert record.by == curator
    assert record.merged_id == merged_id
    assert record.merged_title == "The duplicate"
    assert record.merged_url == duplicate.url
    assert record.references_moved == 1
    assert record.at is not None
    every_field = {f.name for f in Source._meta.concrete_fields}
    assert set(record.merged_data) == every_field
    assert record.merged_data["id"] == merged_id
    assert record.merged_data["doi"] == "10.1/dup"
    assert record.merged_data["published_on"] == "2020-02-29"
    log = LogEntry.objects.get(object_id=str(kept.pk))
    assert log.user == curator
    assert "The duplicate" in log.get_change_message()


def test_the_merged_id_redirects_to_the_kept_source(client, curator):
    kept, duplicate = make_source(), make_source()
    publish_now(citing(kept))  # only a cited source has a public page
    merged_id = duplicate.pk

    merging.merge(kept, duplicate, by=curator)

    response = client.get(f"/sources/{merged_id}/")
    assert response.status_code == 301
    assert response["Location"] == f"/sources/{kept.pk}/"


def test_redirects_follow_a_source_merged_again(client, curator):
    first, second, third = make_source(), make_source(), make_source()
    first_id = first.pk
    merging.merge(second, first, by=curator)

    merging.merge(third, second, by=curator)
    publish_now(citing(third))

    assert SourceMerge.objects.filter(kept=third).count() == 2
    response = client.get(f"/sources/{first_id}/")
    assert response.status_code == 301
    assert response["Location"] == third.get_absolute_url()


def test_a_failure_halfway_changes_nothing(curator, monkeypatch):
    kept = make_source(title="Kept")
    duplicate = make_source(title="The longer duplicate title", doi="10.1/x")
    report = citing(duplicate)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Saving the kept source comes after the references moved and the duplicate went.
    monkeypatch.setattr(Source, "save", fail)
    with pytest.raises(RuntimeError):
        merging.merge(kept, duplicate, by=curator)
    monkeypatch.undo()

    assert Source.objects.get(pk=duplicate.pk).doi == "10.1/x"
    assert Source.objects.get(pk=kept.pk).title == "Kept"
    assert report.references.get().source_id == duplicate.pk
    assert not SourceMerge.objects.exists()


def test_a_demo_source_stays_demo_only_if_both_were(curator):
    kept = make_source(is_demo=True)
    duplicate = make_source(is_demo=False)

    merging.merge(kept, duplicate, by=curator)

    kept.refresh_from_db()
    assert kept.is_demo is False


# Admin


def merge_url(kept, duplicate):
    return reverse("admin:sources_source_merge", args=[kept.pk, duplicate.pk])


def test_the_merge_page_shows_both_sources_with_the_richer_value_chosen(client, curator):
    client.force_login(curator)
    kept = make_source(title="Short", url="https://example.org/same-a")
    duplicate = make_source(title="A longer title", url="https://example.org/same-b")

    response = client.get(merge_url(kept, duplicate))

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.fields) == {"title", "url"}
    assert form["title"].initial == merging.DUPLICATE
    content = response.content.decode()
    assert "Short" in content
    assert "A longer title" in content
    assert 'type="radio" name="title" value="duplicate"' in content


def test_posting_the_merge_page_merges_with_the_chosen_values(client, curator):
    client.force_login(curator)
    kept = make_source(title="Short", url="https://example.org/a")
    duplicate = make_source(title="A longer title", url="https://example.org/b")
    report = citing(duplicate)

    response = client.post(
        merge_url(kept, duplicate), {"title": merging.KEPT, "url": merging.DUPLICATE}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:sources_source_change", args=[kept.pk])
    kept.refresh_from_db()
    assert (kept.title, kept.url) == ("Short", "https://example.org/b")
    assert report.references.get().source == kept
    assert SourceMerge.objects.get().by == curator


def test_the_merge_page_of_a_missing_source_is_not_found(client, curator):
    client.force_login(curator)
    source = make_source()

    assert (
        client.get(reverse("admin:sources_source_merge", args=[source.pk, 98765])).status_code
        == 404
    )
    assert client.get(merge_url(source, source)).status_code == 404


def test_the_merge_action_opens_the_merge_page_for_two_sources(client, curator):
    client.force_login(curator)
    older, newer = make_source(), make_source()

    response = client.post(
        reverse("admin:sources_source_changelist"),
        {"action": "merge_selected", "_selected_action": [older.pk, newer.pk]},
    )

    assert response.status_code == 302
    assert response["Location"] == merge_url(older, newer)


def test_the_merge_action_needs_exactly_two_sources(client, curator):
    client.force_login(curator)
    sources = [make_source(), make_source(), make_source()]

    response = client.post(
        reverse("admin:sources_source_changelist"),
        {"action": "merge_selected", "_selected_action": [s.pk for s in sources]},
        follow=True,
    )

    assert "Select exactly two sources" in response.content.decode()
    assert Source.objects.count() == 3


def test_editors_without_the_merge_permission_cannot_merge(client, writer):
    client.force_login(writer)
    kept, duplicate = make_source(), make_source()

    assert client.get(merge_url(kept, duplicate)).status_code == 403
    assert client.post(merge_url(kept, duplicate), {}).status_code == 403
    changelist = client.get(reverse("admin:sources_source_changelist")).content.decode()
    assert "merge_selected" not in changelist
    assert Source.objects.filter(pk=duplicate.pk).exists()


def test_reviewers_cannot_merge_either(client):
    client.force_login(make_user("a-reviewer", roles.REVIEWER))
    kept, duplicate = make_source(), make_source()

    assert client.post(merge_url(kept, duplicate), {}).status_code == 403


def test_merges_are_listed_read_only(client, curator):
    client.force_login(curator)
    kept, duplicate = make_source(), make_source(title="Gone now")
    record = merging.merge(kept, duplicate, by=curator)

    listing = client.get(reverse("admin:sources_sourcemerge_changelist"))
    detail = client.get(reverse("admin:sources_sourcemerge_change", args=[record.pk]))

    assert listing.status_code == 200
    assert "Gone now" in listing.content.decode()
    assert detail.status_code == 200
    assert "Gone now" in detail.content.decode()
    assert client.get(reverse("admin:sources_sourcemerge_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:sources_sourcemerge_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert SourceMerge.objects.filter(pk=record.pk).exists()


def test_the_merge_page_preselects_the_values_of_the_more_cited_record(client, curator):
    client.force_login(curator)
    cited = make_source(title="Short", url="https://example.org/cited", authors="")
    uncited = make_source(title="A longer title", url="", authors="A. Writer", isbn="9780306406157")
    citing(cited)
    citing(cited)

    # Whichever way round the page is opened, the cited record's values are offered first.
    for kept, duplicate in ((uncited, cited), (cited, uncited)):
        form = client.get(merge_url(kept, duplicate)).context["form"]
        side = merging.KEPT if kept == cited else merging.DUPLICATE
        other = merging.DUPLICATE if side == merging.KEPT else merging.KEPT
        assert form["title"].initial == side
        assert form["url"].initial == side
        # The cited record has no authors or ISBN: those come from the other one.
        assert form["authors"].initial == other
        assert form["isbn"].initial == other


def test_the_merge_message_names_both_records(client, curator):
    client.force_login(curator)
    kept = make_source(title="Heat report", url="https://example.org/heat")
    duplicate = make_source(title="Heat report", url="", doi="10.1000/heat")

    choices = {"url": merging.KEPT, "doi": merging.DUPLICATE}
    response = client.post(merge_url(kept, duplicate), choices, follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert shown[0].startswith(
        f"Merged “Heat report” (ID {duplicate.pk}, DOI 10.1000/heat) into "
        f"“Heat report” (ID {kept.pk}, https://example.org/heat): 0 reference(s) moved"
    )
