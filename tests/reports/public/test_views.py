"""Public pages: the home list, the report page, methodology and the verdict stylesheet."""

import datetime
import re

import pytest

from reports.models import FollowUpQuestion, Reference, Section, Verdict
from tests.conftest import make_publisher, make_report, make_source, publish_now

pytestmark = pytest.mark.django_db


def published(**fields):
    report = make_report(**fields)
    publish_now(report)
    return report


def page_text(response) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


# Home


def test_home_lists_published_verdicts_with_badge_claim_date_and_summary(client):
    published(
        claim="The Eiffel Tower grows in summer.",
        verdict=Verdict.objects.get(slug="mostly-true"),
        summary="Steel expands in the heat [1] [2].",
    )

    response = client.get("/")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="verdict verdict--mostly-true"' in content
    text = page_text(response)
    assert "The Eiffel Tower grows in summer." in text
    assert "Mostly true" in text
    assert "Checked on January 27, 2026" in text
    assert "Steel expands in the heat." in text
    assert "[1]" not in text


def test_home_leaves_out_drafts(client):
    make_report(claim="A draft nobody should see.")
    published(claim="A published check.")

    text = page_text(client.get("/"))

    assert "A published check." in text
    assert "A draft nobody should see." not in text


def test_home_orders_checks_newest_first(client):
    published(claim="Older check.", checked_on=datetime.date(2025, 1, 1))
    published(claim="Newer check.", checked_on=datetime.date(2026, 1, 1))

    text = page_text(client.get("/"))

    assert text.index("Newer check.") < text.index("Older check.")


def test_home_shows_twenty_reports_per_page_and_links_to_the_next(client):
    for n in range(21):
        published(claim=f"Paged claim {n:02d}.", references=1, sections=1, questions=0)

    first = client.get("/")
    second = client.get("/", {"page": 2})

    assert first.content.decode().count('class="report-card"') == 20
    assert 'rel="next" href="?page=2"' in first.content.decode()
    assert "Page 1 of 2" in page_text(first)
    assert second.content.decode().count('class="report-card"') == 1
    assert 'rel="prev"' in second.content.decode()


def test_home_says_so_when_nothing_is_published(client):
    assert "No fact-checks have been published yet." in page_text(client.get("/"))


@pytest.mark.parametrize("count", [3, 25])
def test_home_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, count):
    for _ in range(count):
        published(sections=1, references=1, questions=0)

    with django_assert_max_num_queries(2):
        response = client.get("/")

    assert response.status_code == 200


# Report page


def test_report_page_is_laid_out_like_the_example(client):
    report = published(
        claim="The de-Stalinisation movement was a conspiracy.",
        summary="It does not stand up [1] [2].",
        sections=2,
        conclusion_heading="Conclusion: neither total conspiracy nor cleansing",
    )

    response = client.get(f"/reports/{report.slug}/")

    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<h1[^>]*>The de-Stalinisation movement was a conspiracy.</h1>", content)
    text = page_text(response)
    expected_order = [
        "The de-Stalinisation movement was a conspiracy.",
        "False",
        "Checked on January 27, 2026",
        "Disclaimer: Factually can make mistakes.",
        "Learn more",
        "Executive summary",
        "It does not stand up",
        "1. Heading 1",
        "2. Heading 2",
        "3. Conclusion: neither total conspiracy nor cleansing",
        "Want to dive deeper?",
        "What about question 1?",
        "Sources",
        "Source ",
    ]
    positions = [text.index(part) for part in expected_order]
    assert positions == sorted(positions)
    assert re.search(r'<a href="/methodology/">Learn more</a>', content)


def test_report_markers_link_to_the_numbered_reference_list(client):
    publisher = make_publisher(name="The Archive Times")
    source = make_source(
        title="Khrushchev's Secret Speech",
        url="https://archive-times.example/speech",
        publisher=publisher,
        published_on=datetime.date(1956, 2, 25),
        archive_url="https://web.archive.org/web/2020/https://archive-times.example/speech",
    )
    report = make_report(references=2)
    Reference.objects.filter(report=report, number=2).update(source=source)
    publish_now(report)

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert 'href="#ref-1"' in content
    assert 'href="#ref-2"' in content
    item = re.search(r'<li id="ref-2" value="2">(.*?)</li>', content, re.S).group(1)
    assert 'href="https://archive-times.example/speech"' in item
    assert "Khrushchev&#x27;s Secret Speech" in item
    assert "The Archive Times" in item
    assert "February 25, 1956" in item
    assert 'href="https://web.archive.org/web/2020/https://archive-times.example/speech"' in item


def test_a_version_frozen_before_the_reference_mark_still_shows_its_references(client):
    report = published()
    version = report.versions.get()
    version.body_html = version.body_html.replace("<!-- references -->", "")
    version.save()

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert content.count('<li id="ref-') == 2
    assert "Want to dive deeper?" in content


def test_follow_up_question_links_only_to_a_published_answer(client):
    answer = published(claim="The answer.", slug="the-answer")
    unpublished_answer = make_report(claim="Draft answer.", slug="draft-answer")
    report = make_report(questions=0)
    FollowUpQuestion.objects.create(
        report=report, position=1, question="Answered?", answered_by=answer
    )
    FollowUpQuestion.objects.create(
        report=report, position=2, question="Not yet answered?", answered_by=unpublished_answer
    )
    publish_now(report)

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert '<a href="/reports/the-answer/">Answered?</a>' in content
    assert "Not yet answered?" in content
    assert "/reports/draft-answer/" not in content


def test_an_unpublished_report_is_not_found(client):
    report = make_report()

    assert client.get(f"/reports/{report.slug}/").status_code == 404


def test_an_unpublished_report_is_not_found_even_for_staff(editor_client):
    report = make_report()

    assert editor_client.get(f"/reports/{report.slug}/").status_code == 404


def test_an_unknown_report_is_not_found(client):
    assert client.get("/reports/no-such-report/").status_code == 404


def test_editing_a_published_report_changes_nothing_until_it_is_published_again(client):
    report = published(claim="Original claim.")
    Section.objects.filter(report=report, position=1).update(body="Edited body [1] [2].")
    report.claim = "Edited claim."
    report.save()

    before = page_text(client.get(f"/reports/{report.slug}/"))
    assert "Original claim." in before
    assert "Edited claim." not in before
    assert "Edited body" not in before
    assert "Original claim." in page_text(client.get("/"))

    publish_now(report)

    after = page_text(client.get(f"/reports/{report.slug}/"))
    assert "Edited claim." in after
    assert "Edited body" in after


def test_a_script_in_a_section_body_is_escaped_on_the_public_page(client):
    report = make_report()
    Section.objects.filter(report=report, position=1).update(
        heading="<script>alert('heading')</script>",
        body="<script>alert('body')</script> Text [1] [2].",
    )
    publish_now(report)

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert "<script>" not in content
    assert "&lt;script&gt;alert(&#x27;heading&#x27;)&lt;/script&gt;" in content


@pytest.mark.parametrize(("sections", "references"), [(2, 2), (12, 30)])
def test_report_page_runs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, sections, references
):
    answer = published(questions=0)
    report = make_report(sections=sections, references=references, questions=0)
    for position in range(1, 6):
        FollowUpQuestion.objects.create(
            report=report, position=position, question=f"Q{position}?", answered_by=answer
        )
    publish_now(report)

    with django_assert_max_num_queries(2):
        response = client.get(f"/reports/{report.slug}/")

    assert response.status_code == 200
    assert response.content.decode().count('<li id="ref-') == references


def test_a_report_whose_slug_changed_moves_when_republished(client):
    report = published(slug="old-slug")
    report.slug = "new-slug"
    report.save()
    publish_now(report)

    assert client.get("/reports/old-slug/").status_code == 404
    assert client.get("/reports/new-slug/").status_code == 200


# Other pages


def test_methodology_page_renders(client):
    response = client.get("/methodology/")

    assert response.status_code == 200
    assert "How we check" in page_text(response)


def test_verdict_stylesheet_serves_the_badge_colours(client):
    response = client.get("/verdicts.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert ".verdict--false { background: #a40e26; color: #ffffff; }" in css
    for verdict in Verdict.objects.all():
        assert f".verdict--{verdict.slug} " in css
