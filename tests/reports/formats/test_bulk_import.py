"""`manage.py import_report` in bulk: files and folders, one transaction each, a summary."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connections

from reports.management.commands import import_report as command
from reports.models import Report, Section
from tests.reports.formats.test_layouts import CUT_OFF, DASHES, FURNITURE, OLDER
from tests.reports.formats.test_textformat import EXAMPLE

pytestmark = pytest.mark.django_db


def claim_text(claim: str) -> str:
    """The example with another claim on its first line."""
    return claim + EXAMPLE[EXAMPLE.index("\n") :]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args) -> tuple[str, str, CommandError | None]:
    """The command's stdout and stderr lines, and the CommandError it ended with (if any)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import_report", *map(str, args), stdout=stdout, stderr=stderr)
    except CommandError as error:
        return stdout.getvalue(), stderr.getvalue(), error
    return stdout.getvalue(), stderr.getvalue(), None


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder of reports, a bad one in the middle, and files that are not reports."""
    write(tmp_path / "a-first.txt", claim_text("The first claim."))
    write(tmp_path / "b-bad.txt", EXAMPLE.replace("Executive summary", "Executive sumary"))
    write(tmp_path / "c-older" / "water.txt", OLDER)
    write(tmp_path / "c-older" / "deeper" / "goldfish.txt", FURNITURE)
    write(tmp_path / "d-last.txt", claim_text("The last claim."))
    write(tmp_path / "notes.md", "Not a report.")
    write(tmp_path / ".git" / "stray.txt", "Not a report either.")
    return tmp_path


def test_a_folder_is_imported_recursively_around_a_bad_file_with_a_summary(folder):
    out, err, error = run(folder)

    assert sorted(Report.objects.values_list("claim", flat=True)) == [
        "Drinking eight glasses of water a day is necessary for good health.",
        "Goldfish only remember things for three seconds.",
        "The first claim.",
        "The last claim.",
    ]
    lines = out.splitlines()
    assert lines[0] == (
        f'Imported "The first claim." as draft the-first-claim from {folder}/a-first.txt '
        "(9 references to link)"
    )
    assert lines[-1] == "4 imported, 1 refused"
    assert err.splitlines() == [
        f'Refused: {folder}/b-bad.txt:6: expected "Executive summary", found "Executive sumary"'
    ]
    assert str(error) == "1 of 5 file(s) could not be imported."


def test_the_notes_of_each_import_follow_its_line(folder):
    out, _, _ = run(folder / "c-older" / "water.txt")

    assert out.splitlines()[1:4] == [
        "  Note: Older “Fact check:” layout: the title line became the claim, without its "
        "quotation marks.",
        "  Note: “1. Summary of the results” became the executive summary.",
        "  Note: Sections 2 and 3 became sections 1 and 2, headings kept.",
    ]
    assert "  To do: The conclusion is empty." in out.splitlines()


def test_the_exit_status_is_non_zero_when_a_file_is_refused(folder, capsys, monkeypatch):
    # As from a shell; the command closes every connection when it ends, which would end
    # the test's transaction too.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "import_report", str(folder)])

    assert exited.value.code == 1
    assert "CommandError: 1 of 5 file(s) could not be imported." in capsys.readouterr().err
    assert Report.objects.count() == 4


def test_all_imported_means_success_and_a_summary(tmp_path):
    first = write(tmp_path / "one.txt", claim_text("One claim."))
    second = write(tmp_path / "two.txt", DASHES)

    out, err, error = run(first, second)

    assert error is None
    assert err == ""
    assert out.splitlines()[-1] == "2 imported, 0 refused"


def test_files_and_folders_mix_and_a_file_named_twice_is_imported_once(folder):
    out, _, _ = run(folder / "a-first.txt", folder / "c-older", folder / "a-first.txt")

    assert out.splitlines()[-1] == "3 imported, 0 refused"
    assert Report.objects.filter(claim="The first claim.").count() == 1


def test_a_missing_path_and_an_unreadable_file_are_refused_not_a_traceback(tmp_path):
    missing = tmp_path / "missing.txt"
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(claim_text("Caf\u00e9 claim.").encode("latin-1", errors="replace"))
    good = write(tmp_path / "good.txt", EXAMPLE)

    out, err, error = run(missing, latin1, good)

    assert out.splitlines()[-1] == "1 imported, 2 refused"
    assert err.splitlines() == [
        f"Refused: {missing}: no such file or folder.",
        f"Refused: {latin1}:1: not UTF-8 text.",
    ]
    assert str(error) == "2 of 3 file(s) could not be imported."


def test_a_cut_off_file_is_refused_at_its_line_without_partial(tmp_path):
    path = write(tmp_path / "cut-off.txt", CUT_OFF)

    _, err, error = run(path)

    assert err.startswith(f"Refused: {path}:16: the text stops in the middle of a sentence")
    assert error is not None
    assert Report.objects.count() == 0


def test_with_partial_a_cut_off_file_becomes_a_draft_listing_what_is_missing(tmp_path):
    path = write(tmp_path / "cut-off.txt", CUT_OFF)

    out, err, error = run(path, "--partial")

    assert error is None
    report = Report.objects.get()
    assert report.status == Report.Status.DRAFT
    assert report.sections.count() == 2
    assert report.conclusion == ""
    assert "  To do: The text stops in the middle of a sentence, on line 16: " in out
    assert (
        "  To do: Missing where the text stops: the conclusion and the follow-up questions." in out
    )
    assert "  To do: The conclusion is empty." in out
    assert out.splitlines()[-1] == "1 imported, 0 refused"


def test_each_file_is_its_own_transaction(tmp_path, monkeypatch):
    """A failure while saving one file (here, the database) leaves nothing of it behind."""
    real = Section.objects.bulk_create

    def fail_for_the_second(objs, *args, **kwargs):
        objs = list(objs)
        if objs and objs[0].report.claim == "Second.":
            raise RuntimeError("database went away")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Section.objects, "bulk_create", fail_for_the_second)
    paths = [write(tmp_path / f"{n}.txt", claim_text(f"{c}.")) for n, c in enumerate("FST")]
    paths[1] = write(tmp_path / "1.txt", claim_text("Second."))

    out, err, _ = run(*paths)

    assert sorted(Report.objects.values_list("claim", flat=True)) == ["F.", "T."]
    assert err == (
        f"Refused: {paths[1]}: could not be imported (RuntimeError: database went away)\n"
    )
    assert out.splitlines()[-1] == "2 imported, 1 refused"


def test_the_author_is_recorded_as_author_and_last_editor(tmp_path, editor):
    path = write(tmp_path / "report.txt", EXAMPLE)

    run(path, "--author", "editor")

    report = Report.objects.get()
    assert (report.author, report.last_edited_by) == (editor, editor)


def test_an_unknown_author_stops_before_importing_anything(tmp_path):
    path = write(tmp_path / "report.txt", EXAMPLE)

    _, _, error = run(path, "--author", "nobody")

    assert str(error) == "No user “nobody”."
    assert Report.objects.count() == 0


def test_a_progress_bar_is_drawn_on_a_terminal(folder, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    run(folder)

    assert "5/5" in terminal.getvalue()
    assert "file/s" in terminal.getvalue()


def test_quiet_output_says_only_what_was_refused(folder):
    out, err, _ = run(folder, "--verbosity", "0")

    assert out == ""
    assert err.startswith("Refused: ")


# JSON files: handed to reports.formats.json_import, whose own tests cover its format.


def test_without_the_json_importer_folders_skip_json_and_a_named_json_file_is_refused(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(command, "_json_available", lambda: False)
    write(tmp_path / "report.txt", EXAMPLE)
    named = write(tmp_path / "report.json", "{}")

    out, _, _ = run(tmp_path)
    _, err, error = run(named)

    assert out.splitlines()[-1] == "1 imported, 0 refused"
    assert err == (
        f"Refused: {named}: JSON import is not available in this version of Factually.\n"
    )
    assert error is not None


def test_json_files_go_to_the_json_importer_with_its_refusals_listed(tmp_path, monkeypatch):
    """The dispatch, with a stand-in for reports.formats.json_import's import_json."""

    class JsonFormatError(ValueError):
        pass

    def import_json(text, *, filename):
        if text == "bad":
            raise JsonFormatError(f"{filename}: claim: this field is required")
        return Report.objects.create(claim="From JSON.", slug="from-json")

    fake = types.SimpleNamespace(import_json=import_json, JsonFormatError=JsonFormatError)
    monkeypatch.setattr(command, "_json_available", lambda: True)
    monkeypatch.setattr(command, "_json_module", lambda: fake)
    good, bad = write(tmp_path / "a.json", "good"), write(tmp_path / "b.json", "bad")
    write(tmp_path / "c.txt", EXAMPLE)

    out, err, _ = run(tmp_path)

    assert out.splitlines()[0] == (
        f'Imported "From JSON." as draft from-json from {good} (0 references to link)'
    )
    assert out.splitlines()[-1] == "2 imported, 1 refused"
    assert err == f"Refused: {bad}: claim: this field is required\n"


# A JSON document, hand-written as another newsroom's tool might: two references come with
# their sources, one without (a draft's reference not linked yet).
PARTLY_LINKED_JSON = """{
  "schema": "factually.report/1",
  "slug": "bridge-collapse",
  "claim": "The old bridge collapsed twice in 1990.",
  "verdict": {"slug": "false"},
  "checked_on": "2026-02-03",
  "summary": "It collapsed once [1] [2] [3].",
  "sections": [{"heading": "The record", "body": "One collapse is recorded [1] [2] [3]."}],
  "conclusion": {"heading": "Conclusion", "text": "Once, not twice [1] [2] [3]."},
  "references": [
    {"number": 1, "source": {"title": "Bridge inspection report 1991",
                             "url": "https://roads.example.org/reports/1991-bridge"}},
    {"number": 2, "pinpoint": "p. 3", "source": {"title": "Collapse, then silence",
                                                   "url": "https://news.example.com/bridge"}},
    {"number": 3, "pinpoint": "interview notes", "source": null}
  ]
}
"""


def test_a_json_import_counts_only_the_references_left_to_link(tmp_path):
    path = write(tmp_path / "bridge.json", PARTLY_LINKED_JSON)

    out, err, error = run(path)

    assert error is None, err
    assert out.splitlines()[0] == (
        f'Imported "The old bridge collapsed twice in 1990." as draft bridge-collapse '
        f"from {path} (1 reference to link; 2 linked to sources)"
    )
    report = Report.objects.get(slug="bridge-collapse")
    assert report.references.filter(source__isnull=True).count() == 1
