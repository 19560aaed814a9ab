"""The benchmark's ceiling is routed under its settings only (bench/urls.py), never in
production (factually/urls.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

PROJECT = Path(__file__).resolve().parent.parent.parent


def test_production_has_no_ceiling(db):
    assert Client().get("/bench/ceiling/").status_code == 404


@pytest.mark.urls("bench.urls")
def test_the_benchmark_urls_add_the_ceiling_to_the_site(db):
    ceiling = Client().get("/bench/ceiling/")
    assert ceiling.status_code == 200
    assert ceiling.content == b"ok\n"
    assert Client().get("/robots.txt").status_code == 200


def test_the_benchmark_settings_route_the_ceiling():
    code = (
        "from django.conf import settings; from django.urls import resolve; "
        "print(settings.ROOT_URLCONF, resolve('/bench/ceiling/').url_name)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=PROJECT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "bench-test-" + "x" * 50,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["bench.urls", "bench_ceiling"]


def call(path: str) -> tuple[str, dict, bytes]:
    """Ask bench/wsgi.py's application for `path` as gunicorn would."""
    from wsgiref.util import setup_testing_defaults

    from bench import wsgi

    environ = {"PATH_INFO": path, "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    body = b"".join(wsgi.application(environ, start_response))
    return answer["status"], answer["headers"], body


def test_the_bare_ceiling_is_django_without_any_middleware(db):
    status, headers, body = call("/bench/hello/")

    assert (status, body) == ("200 OK", b"ok\n")
    # The site's middleware would have added these to any response.
    assert "X-Frame-Options" not in headers
    assert "Permissions-Policy" not in headers


def test_every_other_path_goes_through_the_sites_middleware(db):
    status, headers, body = call("/robots.txt")

    assert status == "200 OK"
    assert headers["X-Frame-Options"] == "DENY"
