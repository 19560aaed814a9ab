"""The admin's import pages (upload → preview → confirm) and the CSL-JSON export action."""

import csv
import datetime
import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from reports import roles
from sources.interchange import adminviews
from sources.models import Publisher, Source
from tests.conftest import make_source, make_user

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
IMPORT = reverse("admin:sources_source_import")
CHANGELIST = reverse("admin:sources_source_changelist")


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def upload(client, name="zotero.json", content=None, **data):
    content = (FIXTURES / name).read_bytes() if content is None else content
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content), **data})


def payload_of(response) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    assert match, "the preview has no confirm form"
    return match[1]


def logged_in(client, user):
    client.force_login(user)
    return client


def test_upload_shows_a_preview_and_saves_nothing(editor_client):
    existing = make_source(title="Already here", url="https://www.dwd.de/hitzewarnungen")

    response = upload(editor_client)

    assert response.status_code == 200
    text = page_text(response)
    assert "5 to create, 2 matched to existing records, 0 refused" in text
    assert "Nothing has been saved yet" in text
    assert "Create , with a new publisher: The Guardian (theguardian.com)" in text
    assert f'href="{reverse("admin:sources_source_change", args=[existing.pk])}"' in (
        response.content.decode()
    )
    assert "Matched to entry 1 (id “guardian-heatwave”) of this file (same URL): added once" in text
    # A DOI-only paper keeps its journal, a publisher known by name alone.
    assert "Create , with a new publisher: Nature entry 3" in text
    assert Source.objects.count() == 1
    assert Publisher.objects.count() == 0


def test_confirming_the_preview_imports_the_file(editor_client, editor):
    preview = upload(editor_client)

    response = editor_client.post(IMPORT, {"payload": payload_of(preview)}, follow=True)

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert "Imported zotero.json: 6 created, 1 matched existing, 0 refused." in page_text(response)
    assert Source.objects.count() == 6
    entries = LogEntry.objects.filter(action_flag=ADDITION, user=editor)
    assert entries.count() == 6
    assert {entry.change_message for entry in entries} == {"Imported from zotero.json."}


def test_confirming_plans_again_against_the_library_as_it_is_then(editor_client):
    preview = upload(editor_client)
    make_source(url="https://www.dwd.de/hitzewarnungen")  # added by someone in between

    response = editor_client.post(IMPORT, {"payload": payload_of(preview)}, follow=True)

    assert "Imported zotero.json: 5 created, 2 matched existing, 0 refused." in page_text(response)
    assert Source.objects.count() == 6


@pytest.mark.parametrize("name", ["library.bib", "library.csv"])
def test_bibtex_and_csv_files_import_through_the_admin(editor_client, name):
    preview = upload(editor_client, name)
    editor_client.post(IMPORT, {"payload": payload_of(preview)})

    assert Source.objects.count() == {"library.bib": 5, "library.csv": 3}[name]


MIXED = (
    b"title,url,published_on\n"
    b"Good,https://a.example/,2020-01-01\n"
    b"Bad,https://b.example/,someday\n"
    b"Also good,https://c.example/,2021-02-03\n"
)


def test_a_file_with_refused_entries_is_not_imported_whole(editor_client):
    response = upload(editor_client, "list.csv", MIXED)

    text = page_text(response)
    assert "2 to create, 0 matched to existing records, 1 refused" in text
    assert "correct it and upload it again, or import the 2 good entries" in text
    assert "field “published_on”: “someday” is not a date" in text
    assert "Import: create" not in text

    # Confirming without choosing to leave the refused out saves nothing.
    confirmed = editor_client.post(IMPORT, {"payload": payload_of(response)})
    assert confirmed.status_code == 409
    assert Source.objects.count() == 0


def test_the_good_entries_are_imported_with_the_refused_left_out_when_chosen(editor_client):
    preview = upload(editor_client, "list.csv", MIXED)

    response = editor_client.post(
        IMPORT, {"payload": payload_of(preview), "leave_refused": "1", "refused": "1"}
    )

    assert response.status_code == 302
    assert sorted(Source.objects.values_list("title", flat=True)) == ["Also good", "Good"]
    message = page_text(editor_client.get(response.url))
    assert "Imported list.csv: 2 created, 0 matched existing, 1 refused (left out)." in message


def test_leaving_out_other_entries_than_the_preview_showed_saves_nothing(editor_client):
    preview = upload(editor_client, "list.csv", MIXED)

    response = editor_client.post(
        IMPORT, {"payload": payload_of(preview), "leave_refused": "1", "refused": "0"}
    )

    assert response.status_code == 409
    assert Source.objects.count() == 0


def test_the_refused_entries_download_as_csv_with_entry_field_and_problem(editor_client):
    preview = upload(editor_client, "list.csv", MIXED)
    assert "Download the refused entries (CSV)" in page_text(preview)

    response = editor_client.post(
        reverse("admin:sources_source_import_refused"), {"payload": payload_of(preview)}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="list-refused.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["file", "entry", "field", "problem"]
    assert rows[1][:3] == ["list.csv", "line 3", "published_on"]
    assert rows[1][3].startswith("“someday” is not a date")
    assert len(rows) == 2
    assert Source.objects.count() == 0


def test_the_refused_download_needs_a_signed_preview_and_the_right_to_import(editor_client, client):
    forged = editor_client.post(
        reverse("admin:sources_source_import_refused"), {"payload": "forged"}
    )
    assert forged.status_code == 400
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    client.force_login(viewer)
    assert client.post(reverse("admin:sources_source_import_refused")).status_code == 403


def test_a_matched_records_empty_fields_are_filled_only_on_the_rows_ticked(editor_client):
    bare = make_source(
        title="Pasted link",
        url="https://www.theguardian.com/world/2023/jul/18/europe-heatwave-records",
        authors="",
    )
    other = make_source(title="Other", url="https://www.dwd.de/hitzewarnungen", authors="")
    preview = upload(editor_client)
    text = page_text(preview)
    assert "Fill its empty fields from this entry: authors: Jon Henley; Anna van den Berg" in text
    guardian_row = re.search(
        r'name="fill" value="(\d+)" form="import-confirm"> Fill its empty fields from this '
        r"entry: authors: Jon Henley",
        preview.content.decode(),
    )

    response = editor_client.post(
        IMPORT, {"payload": payload_of(preview), "fill": [guardian_row[1]]}
    )

    assert response.status_code == 302
    bare.refresh_from_db()
    other.refresh_from_db()
    assert bare.author_list == ["Jon Henley", "Anna van den Berg"]
    assert bare.published_on == datetime.date(2023, 7, 18)
    assert bare.publisher.name == "The Guardian"
    assert bare.title == "Pasted link"  # a field that holds anything is never overwritten
    assert (other.language, other.publisher) == ("", None)  # its row was not ticked
    change = LogEntry.objects.get(object_id=str(bare.pk), action_flag=CHANGE)
    assert change.change_message.startswith("Filled authors, publisher, publication date")
    message = page_text(editor_client.get(response.url))
    assert "empty fields filled in 1 record." in message


def test_a_malformed_file_is_refused_on_the_upload_page(editor_client):
    response = upload(editor_client, "broken.json", b"[{")

    assert response.status_code == 400
    assert "broken.json, line 1, column 3: not valid JSON" in page_text(response)


def test_the_format_can_be_chosen_when_the_name_does_not_say(editor_client):
    content = (FIXTURES / "library.bib").read_bytes()

    unknown = upload(editor_client, "refs.txt", content)
    chosen = upload(editor_client, "refs.txt", content, format="bibtex")

    assert unknown.status_code == 400
    assert "cannot tell the format from the file name" in page_text(unknown)
    assert "5 to create" in page_text(chosen)


def test_a_tampered_payload_is_refused(editor_client):
    payload = payload_of(upload(editor_client))
    # Swap the text for one the preview never showed, keeping the old signature.
    forged = adminviews.signing.dumps(
        {
            "name": "x.json",
            "format": "csl",
            "text": '[{"title":"Forged","URL":"https://evil.example/"}]',
        },
        compress=True,
    )
    tampered = forged.rsplit(":", 1)[0] + ":" + payload.rsplit(":", 1)[1]

    for bad in (tampered, payload[:-2] + "xx", "not-a-payload"):
        response = editor_client.post(IMPORT, {"payload": bad})
        assert response.status_code == 400
        assert "could not be verified" in page_text(response)
    assert Source.objects.count() == 0


def test_a_payload_signed_for_another_user_is_refused(editor_client, curator):
    payload = payload_of(upload(logged_in(Client(), curator)))

    response = editor_client.post(IMPORT, {"payload": payload})

    assert response.status_code == 400
    assert Source.objects.count() == 0


def test_an_old_preview_must_be_uploaded_again(editor_client, monkeypatch):
    payload = payload_of(upload(editor_client))
    monkeypatch.setattr(adminviews, "PAYLOAD_MAX_AGE", -1)

    response = editor_client.post(IMPORT, {"payload": payload})

    assert response.status_code == 400
    assert "too old" in page_text(response)
    assert Source.objects.count() == 0


def test_a_file_too_large_for_the_form_is_sent_to_the_command(editor_client, monkeypatch):
    monkeypatch.setattr(adminviews, "MAX_UPLOAD_BYTES", 100)

    response = upload(editor_client)

    assert response.status_code == 400
    assert "use manage.py import_sources" in page_text(response)


def test_a_file_whose_signed_copy_would_not_fit_in_the_form_is_refused(editor_client, monkeypatch):
    # Django refuses form bodies over DATA_UPLOAD_MAX_MEMORY_SIZE: better said now than at confirm.
    monkeypatch.setattr(adminviews, "_LIMIT", 16 * 1024 + 200)

    response = upload(editor_client)

    assert response.status_code == 400
    assert "use manage.py import_sources" in page_text(response)


# Permissions


@pytest.mark.parametrize("role", [roles.SOURCE_CURATOR, roles.EDITOR])
def test_curators_and_editors_may_import(client, role):
    client = logged_in(client, make_user("member", role))

    assert client.get(IMPORT).status_code == 200
    client.post(IMPORT, {"payload": payload_of(upload(client))})

    assert Source.objects.count() == 6


def test_staff_without_add_source_may_not_import(client):
    viewer = make_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    client = logged_in(client, viewer)

    assert client.get(IMPORT).status_code == 403
    assert upload(client).status_code == 403
    assert "Import sources" not in client.get(CHANGELIST).content.decode()


def test_a_preview_cannot_be_confirmed_by_someone_who_lost_the_permission(client):
    member = make_user("member", roles.SOURCE_CURATOR)
    client = logged_in(client, member)
    payload = payload_of(upload(client))
    member.groups.clear()

    response = client.post(IMPORT, {"payload": payload})

    assert response.status_code == 403
    assert Source.objects.count() == 0


def test_someone_who_may_not_add_publishers_imports_without_new_ones(client):
    member = make_user("member")
    member.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_source", "view_source"])
    )
    client = logged_in(client, member)

    preview = upload(client)
    client.post(IMPORT, {"payload": payload_of(preview)})

    assert "“The Guardian” is not in the library, and you may not add publishers" in (
        page_text(preview)
    )
    assert Source.objects.count() == 6
    assert Publisher.objects.count() == 0


def test_the_import_page_is_linked_from_the_changelist(client, curator):
    response = logged_in(client, curator).get(CHANGELIST)

    assert f'<a href="{IMPORT}">Import sources</a>' in response.content.decode()


# Export action


def test_exporting_selected_sources_as_csl_json(editor_client):
    chosen = make_source(title="Chosen", doi="10.1000/chosen")
    make_source(title="Not chosen")

    response = editor_client.post(
        CHANGELIST, {"action": "export_selected_as_csl", "_selected_action": [chosen.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.citationstyles.csl+json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sources.json"'
    (item,) = json.loads(response.content)
    assert (item["title"], item["DOI"], item["URL"]) == ("Chosen", "10.1000/chosen", chosen.url)


def test_the_export_action_is_offered_to_curators(client, curator):
    make_source()
    response = logged_in(client, curator).get(CHANGELIST)

    assert 'value="export_selected_as_csl"' in response.content.decode()
