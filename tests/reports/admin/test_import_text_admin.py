"""The admin's "Import from text" page: paste or upload, preview (nothing saved), confirm."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from reversion.models import Version

from reports.content import ReportContent
from reports.formats.textformat import export_text
from reports.models import Report
from tests.reports.formats.test_layouts import CUT_OFF, OLDER
from tests.reports.formats.test_textformat import EXAMPLE

pytestmark = pytest.mark.django_db

URL = reverse("admin:reports_report_import_text")


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return html.unescape(re.sub(r"\s+", " ", text))


def confirm_data(response) -> dict:
    """What the preview's confirm form posts, read from the page as a browser would."""
    page = response.content.decode()
    button = page.index('name="confirm"')
    form = page[page.rindex("<form", 0, button) : button]
    textarea = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', form, re.S)
    # A browser drops the one newline that follows <textarea>.
    data = {"text": html.unescape(textarea[1]).removeprefix("\n"), "confirm": "Create the draft"}
    data["filename"] = html.unescape(re.search(r'name="filename" value="([^"]*)"', form)[1])
    if 'name="partial" value="on"' in form:
        data["partial"] = "on"
    return data


@pytest.fixture
def adding_client(client, django_user_model):
    """Staff who may add and change reports, and nothing more."""
    user = django_user_model.objects.create_user(
        username="importer", password="correct horse battery", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="reports",
            codename__in=["add_report", "change_report", "view_report"],
        )
    )
    client.force_login(user)
    client.user = user
    return client


def test_the_report_list_links_to_the_import_page(adding_client):
    response = adding_client.get(reverse("admin:reports_report_changelist"))

    assert f'href="{URL}"' in response.content.decode()
    assert "Import from text" in page_text(response)


def test_the_import_page_shows_the_paste_form(adding_client):
    response = adding_client.get(URL)

    assert response.status_code == 200
    assert '<textarea name="text"' in response.content.decode()
    assert 'type="file" name="file"' in response.content.decode()
    assert 'name="partial"' in response.content.decode()


def test_previewing_shows_the_structured_draft_and_creates_nothing(adding_client):
    response = adding_client.post(URL, {"text": EXAMPLE})

    assert response.status_code == 200
    assert Report.objects.count() == 0
    text = page_text(response)
    assert "Preview: nothing has been saved yet" in text
    assert "The de-Stalinisation movement was a conspiracy of falsehoods" in text
    assert "January 27, 2026" in text
    assert "Section 1: Documented abuses and the factual basis for denunciation" in text
    assert "Section 4: Consequences in the Eastern Bloc" in text
    assert "Conclusion: neither total conspiracy nor unalloyed moral cleansing" in text
    assert "What evidence do survivors and camp literature provide" in text
    assert "[1] [2] [3] [4] [5] [6] [7] [8] [9]: each becomes a reference" in text
    assert "None, besides choosing a verdict and linking the references" in text


def test_confirming_creates_the_draft_and_redirects_to_it(adding_client):
    preview = adding_client.post(URL, {"text": EXAMPLE})

    response = adding_client.post(URL, confirm_data(preview))

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_report_change", args=[report.pk])
    assert report.status == Report.Status.DRAFT
    assert report.author == adding_client.user
    assert report.last_edited_by == adding_client.user
    # The text went to the browser and back unchanged: the draft exports to the example.
    assert export_text(ReportContent.from_report(report)) == EXAMPLE + "\n"
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.user, entry.object_id) == (
        ADDITION,
        adding_client.user,
        str(report.pk),
    )
    revision = Version.objects.get_for_object(report).get().revision
    assert (revision.user, revision.comment) == (adding_client.user, "Imported from pasted text.")
    page = page_text(adding_client.get(response["Location"]))
    assert "Imported “The de-Stalinisation movement" in page
    assert "link its 9 references to sources" in page


def test_an_uploaded_file_previews_and_imports_under_its_name(adding_client):
    upload = SimpleUploadedFile("older.txt", ("\ufeff" + OLDER).encode(), "text/plain")

    preview = adding_client.post(URL, {"file": upload})
    data = confirm_data(preview)
    response = adding_client.post(URL, data)

    text = page_text(preview)
    assert "Read as older “Fact check:” layout" in text
    assert "“1. Summary of the results” became the executive summary." in text
    assert "The older layout has no conclusion" in text
    assert "The conclusion is empty." in text
    assert data["filename"] == "older.txt"
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.claim == "Drinking eight glasses of water a day is necessary for good health."
    assert report.sections.first().body.startswith("- A 1945 recommendation")
    assert report.conclusion == ""


def test_a_cut_off_text_is_refused_with_its_line_unless_imported_as_partial(adding_client):
    refused = adding_client.post(URL, {"text": CUT_OFF})

    assert refused.status_code == 400
    text = page_text(refused)
    assert "Nothing was imported: pasted text, line 16: the text stops in the middle" in text
    assert "16 A park ranger in Virginia" in text  # the line, numbered, with its neighbours
    assert Report.objects.count() == 0

    preview = adding_client.post(URL, {"text": CUT_OFF, "partial": "on"})
    assert preview.status_code == 200
    text = page_text(preview)
    assert "The text stops in the middle of a sentence, on line 16" in text
    assert "Missing where the text stops: the conclusion and the follow-up questions." in text
    assert Report.objects.count() == 0

    data = confirm_data(preview)
    assert data["partial"] == "on"
    response = adding_client.post(URL, data)
    report = Report.objects.get()
    assert response.status_code == 302
    assert report.sections.count() == 2
    assert report.conclusion == ""
    page = page_text(adding_client.get(response["Location"]))
    assert "Missing where the text stops: the conclusion and the follow-up questions." in page


def test_a_text_altered_before_confirming_is_read_again_and_refused(adding_client):
    response = adding_client.post(
        URL, {"text": EXAMPLE.replace("Executive summary", "Executive sumary"), "confirm": "1"}
    )

    assert response.status_code == 400
    assert 'line 6: expected "Executive summary", found "Executive sumary"' in page_text(response)
    assert Report.objects.count() == 0


def test_nothing_pasted_and_no_file_is_asked_for_again(adding_client):
    response = adding_client.post(URL, {"text": "  \n "})

    assert response.status_code == 400
    assert "Paste the text of a report, or choose a file." in page_text(response)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(adding_client):
    upload = SimpleUploadedFile("latin1.txt", "Claim\n\nCaf\u00e9".encode("latin-1"))

    response = adding_client.post(URL, {"file": upload})

    assert response.status_code == 400
    assert "latin1.txt, line 3: not UTF-8 text." in page_text(response)


def test_staff_without_add_permission_may_not_import(client, django_user_model):
    user = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="reports", codename__in=["view_report", "change_report"]
        )
    )
    client.force_login(user)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"text": EXAMPLE, "confirm": "1"}).status_code == 403
    assert Report.objects.count() == 0
    assert "Import from text" not in page_text(
        client.get(reverse("admin:reports_report_changelist"))
    )
