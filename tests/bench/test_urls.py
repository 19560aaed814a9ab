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
