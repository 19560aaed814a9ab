"""An archive is untrusted input: a tampered export is refused, or restored safe, never trusted.

Each attack starts from a real export of the newsroom (tests/reports/formats/test_archive.py), edits
the JSON as an attacker with the file would, and imports it into an empty database.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from reports.formats import archive_import
from reports.formats.errors import JsonFormatError
from reports.models import PublishedVersion, Report, Section, Topic, Verdict
from sources.models import Publisher, Source, SourceMerge
from tests.reports.formats.test_archive import empty_the_newsroom, export, newsroom  # noqa: F401

# Every test starts from the newsroom of test_archive.py, exported.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("newsroom")]


def tampered(mutate) -> str:
    """A real export of the newsroom, edited by `mutate`, with the database emptied for it."""
    data = json.loads(export())
    mutate(data)
    empty_the_newsroom()
    return json.dumps(data)


def report_index(data: dict, status: str) -> int:
    return next(i for i, r in enumerate(data["reports"]) if r["status"] == status)


def live_version(data: dict) -> tuple[int, int]:
    """(report, version) positions of a live version in the archive."""
    for i, report in enumerate(data["reports"]):
        for j, version in enumerate(report["versions"]):
            if version["is_live"]:
                return i, j
    raise AssertionError("no live version in the export")


def refusal(text: str) -> tuple[str, str]:
    """The first (path, message) the import refuses `text` with."""
    with pytest.raises(JsonFormatError) as error:
        archive_import.import_archive(text)
    return error.value.problems[0]


def state() -> dict:
    """Everything an import could touch, to prove a refused one changed nothing."""
    return {
        "verdicts": list(Verdict.objects.order_by("pk").values()),
        "topics": list(Topic.objects.order_by("pk").values()),
        "publishers": Publisher.objects.count(),
        "sources": Source.objects.count(),
        "merges": SourceMerge.objects.count(),
        "reports": Report.objects.count(),
        "sections": Section.objects.count(),
        "versions": PublishedVersion.objects.count(),
        "users": list(User.objects.order_by("pk").values_list("username", flat=True)),
        "groups": list(Group.objects.order_by("pk").values_list("name", flat=True)),
    }


# Stored HTML is never trusted


def test_a_script_in_a_versions_stored_html_is_replaced_by_html_rendered_from_its_content(client):
    genuine = json.loads(export())
    i, j = live_version(genuine)

    def plant_script(data):
        version = data["reports"][i]["versions"][j]
        version["body_html"] = "<script>alert(document.cookie)</script>" + version["body_html"]
        version["summary_text"] = "<script>alert(1)</script>"
        version["body_text"] = "Nothing of the kind."

    text = tampered(plant_script)

    summary = archive_import.import_archive(text)

    version = PublishedVersion.objects.get(pk=genuine["reports"][i]["versions"][j]["id"])
    expected = genuine["reports"][i]["versions"][j]
    assert version.body_html == expected["body_html"]
    assert version.summary_text == expected["summary_text"]
    assert version.body_text == expected["body_text"]
    page = client.get(version.get_absolute_url())
    assert page.status_code == 200
    assert "alert(document.cookie)" not in page.content.decode()
    assert summary.rerendered == 1
    assert "rendered again from its content" in str(summary)


def test_a_script_in_a_versions_content_is_rendered_as_text(client):
    genuine = json.loads(export())
    i, j = live_version(genuine)

    def plant_script(data):
        content = data["reports"][i]["versions"][j]["content"]
        content["sections"][0]["body"] = '<script>alert(1)</script> <img src=x onerror="alert(2)">'

    archive_import.import_archive(tampered(plant_script))

    version = PublishedVersion.objects.get(pk=genuine["reports"][i]["versions"][j]["id"])
    assert "<script>" not in version.body_html
    assert "<img" not in version.body_html
    assert "&lt;script&gt;" in version.body_html
    assert "<script>alert" not in client.get(version.get_absolute_url()).content.decode()


def rename_topic(data: dict, slug: str) -> None:
    """Give the first topic `slug`, wherever it is named."""
    old = data["topics"][0]["slug"]
    data["topics"][0]["slug"] = slug
    for report in data["reports"]:
        for holder in [report, *report["versions"]]:
            holder["topics"] = [slug if s == old else s for s in holder["topics"]]


# Links: web addresses only


@pytest.mark.parametrize(
    ("where", "url"),
    [
        ("url", "javascript:alert(document.cookie)"),
        ("archive_url", "data:text/html,<script>alert(1)</script>"),
        ("link_final_url", "ftp://files.example/report.pdf"),
    ],
)
def test_a_source_link_that_is_not_a_web_address_is_refused(where, url):
    text = tampered(lambda d: d["sources"][1].update({where: url}))

    path, message = refusal(text)

    assert path == f"sources[1].{where}"
    assert "http or https" in message
    assert not Source.objects.exists()


def test_a_claim_link_that_is_not_a_web_address_is_refused():
    def plant(data):
        data["reports"][0]["claim_url"] = "javascript:alert(1)"

    assert refusal(tampered(plant))[0] == "reports[0].claim_url"


def test_a_javascript_link_frozen_in_a_versions_content_is_refused():
    genuine = json.loads(export())
    i, j = live_version(genuine)
    k = next(
        k
        for k, r in enumerate(genuine["reports"][i]["versions"][j]["content"]["references"])
        if r["source"]
    )

    def plant(data):
        reference = data["reports"][i]["versions"][j]["content"]["references"][k]
        reference["source"]["url"] = "javascript:alert(document.cookie)"

    path, message = refusal(tampered(plant))

    assert path == f"reports[{i}].versions[{j}].content.references[{k}].source.url"
    assert "http or https" in message


def test_a_versions_content_naming_a_source_by_something_other_than_an_id_is_refused():
    genuine = json.loads(export())
    i, j = live_version(genuine)
    k = next(
        k
        for k, r in enumerate(genuine["reports"][i]["versions"][j]["content"]["references"])
        if r["source"]
    )

    def plant(data):
        data["reports"][i]["versions"][j]["content"]["references"][k]["source"]["id"] = "../x"

    path, _ = refusal(tampered(plant))

    assert path == f"reports[{i}].versions[{j}].content.references[{k}].source.id"


# Fields as the forms check them


def test_a_verdict_colour_that_is_not_a_hex_colour_is_refused():
    def plant(data):
        data["verdicts"][2]["colour"] = "red}body{display:none"

    path, message = refusal(tampered(plant))

    assert path == "verdicts[2].colour"
    assert "hex colour" in message


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["reports"][1].update(slug="a b/<i>"), "reports[1].slug"),
        (lambda d: rename_topic(d, "x{}"), "topics[0].slug"),
        (lambda d: d["verdicts"][0].update(slug="false .verdict"), "verdicts[0].slug"),
    ],
)
def test_a_slug_with_other_characters_is_refused(mutate, path):
    problem_path, message = refusal(tampered(mutate))

    assert problem_path == path
    assert "slug" in message.lower()


def test_an_over_long_field_is_refused_with_its_place_and_the_limit():
    def plant(data):
        data["reports"][3]["sections"][1]["heading"] = "x" * 301

    assert refusal(tampered(plant)) == (
        "reports[3].sections[1].heading",
        "Ensure this value has at most 300 characters (it has 301).",
    )


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["sources"][0].update(kind="pamphlet"), "sources[0].kind"),
        (lambda d: d["reports"][0].update(status="live"), "reports[0].status"),
        (
            lambda d: d["reports"][0]["sections"][0].update(heading=""),
            "reports[0].sections[0].heading",
        ),
        (
            lambda d: d["reports"][0]["references"][0].update(number=0),
            "reports[0].references[0].number",
        ),
        (lambda d: d["sources"][0].update(link_status_code=2**64), "sources[0].link_status_code"),
        (
            lambda d: d["sources"][0].update(status="retired", retired_reason=""),
            "sources[0].retired_reason",
        ),
    ],
)
def test_a_value_the_forms_would_refuse_is_refused(mutate, path):
    assert refusal(tampered(mutate))[0] == path


def test_two_references_with_one_number_in_a_report_are_refused():
    def plant(data):
        references = data["reports"][0]["references"]
        references[1]["number"] = references[0]["number"]

    path, message = refusal(tampered(plant))

    assert path == "reports[0].references[1].number"
    assert "reports[0].references[0]" in message


def test_two_sources_with_one_url_are_refused():
    def plant(data):
        data["sources"][2]["url"] = data["sources"][0]["url"]

    path, message = refusal(tampered(plant))

    assert path == "sources[2].url"
    assert "sources[0]" in message


def test_a_version_citing_a_source_not_in_the_archive_is_refused():
    genuine = json.loads(export())
    i, j = live_version(genuine)
    k = len(genuine["reports"][i]["versions"][j]["sources"])

    path, message = refusal(
        tampered(lambda d: d["reports"][i]["versions"][j]["sources"].append(999999))
    )

    assert path == f"reports[{i}].versions[{j}].sources[{k}]"
    assert "not in the archive" in message


# What is public


def test_a_live_version_of_a_draft_report_is_refused():
    genuine = json.loads(export())
    i, j = live_version(genuine)

    def unpublish_but_keep_live(data):
        data["reports"][i].update(status="draft", published_at=None)

    path, message = refusal(tampered(unpublish_but_keep_live))

    assert path == f"reports[{i}].versions[{j}].is_live"
    assert "draft" in message
    assert not PublishedVersion.objects.exists()


def test_a_version_made_live_beside_a_withdrawn_report_is_refused():
    def make_live(data):
        i = report_index(data, "withdrawn")
        data["reports"][i]["versions"][-1]["is_live"] = True

    path, message = refusal(tampered(make_live))

    assert path.endswith(".is_live")
    assert "withdrawn" in message


def test_a_draft_report_claiming_to_be_live_is_refused():
    def make_live(data):
        i = report_index(data, "draft")
        data["reports"][i]["published_at"] = data["exported_at"]

    path, _ = refusal(tampered(make_live))

    assert path.endswith(".published_at")


def test_two_live_versions_of_one_report_are_refused():
    genuine = json.loads(export())
    i = next(i for i, r in enumerate(genuine["reports"]) if len(r["versions"]) == 2)

    def make_both_live(data):
        for version in data["reports"][i]["versions"]:
            version["is_live"] = True

    path, message = refusal(tampered(make_both_live))

    assert path == f"reports[{i}].versions[1].is_live"
    assert "only one" in message


# All or nothing


def test_a_bad_object_late_in_the_file_leaves_the_database_as_it_was():
    def spoil_the_last_report(data):
        data["reports"][-1]["claim"] = "x" * 501

    text = tampered(spoil_the_last_report)
    # The verdicts a migrated database has, reworded here: the archive's must not win.
    Verdict.objects.filter(slug="false").update(definition="Reworded here.", colour="#000000")
    before = state()

    path, _ = refusal(text)

    assert path == "reports[4].claim"
    assert state() == before


# The command


def test_import_archive_names_the_file_and_the_place_and_exits_with_status_1(tmp_path):
    target = tmp_path / "tampered.json"
    target.write_text(
        tampered(lambda d: d["sources"][0].update(url="javascript:alert(1)")), encoding="utf-8"
    )
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was saved") as error:
        call_command("import_archive", str(target), stdout=io.StringIO(), stderr=err)

    assert error.value.returncode == 1
    assert f"{target}: sources[0].url: " in err.getvalue()
    assert "http or https" in err.getvalue()
    assert not Source.objects.exists()


# Fast enough


def test_validation_adds_no_query_per_object(django_assert_max_num_queries):
    text = tampered(lambda d: None)

    # Verdicts and topics are matched one by one (a few queries each); the rest is inserted
    # in batches: the count does not grow with the reports, sections and sources. The search
    # table, the archive's words and ANALYZE take three statements at the end; saving each
    # verdict empties the stored articles that show verdicts (two statements per verdict).
    with django_assert_max_num_queries(80):
        archive_import.import_archive(text)
