"""Read replicas: only anonymous public reads may leave the primary."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from factually import routers
from factually.routers import RECENT_WRITE_COOKIE, PublicReadsMiddleware, ReplicaRouter
from reports.models import Report

router = ReplicaRouter()


def read_alias_during(request):
    """The alias the router picks for a read made while serving `request`."""
    seen = {}

    def view(request):
        seen["alias"] = router.db_for_read(Report)
        return HttpResponse("ok")

    response = PublicReadsMiddleware(view)(request)
    return seen["alias"], response


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(routers, "has_replica", lambda: True)


rf = RequestFactory()


def test_an_anonymous_public_read_goes_to_the_replica(with_replica):
    alias, _ = read_alias_during(rf.get("/reports/some-claim/"))

    assert alias == "replica"


@pytest.mark.parametrize(
    "request_",
    [
        rf.get("/admin/reports/report/"),
        rf.post("/reports/some-claim/report-error/"),
        rf.get("/reports/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=abc"),
        rf.get("/reports/", HTTP_COOKIE=f"{RECENT_WRITE_COOKIE}=1"),
    ],
    ids=["admin", "a write", "a signed-in browser", "just after a write"],
)
def test_everything_else_reads_the_primary(with_replica, request_):
    alias, _ = read_alias_during(request_)

    assert alias == "default"


def test_without_a_replica_everything_reads_the_primary():
    alias, _ = read_alias_during(rf.get("/reports/"))

    assert alias == "default"


def test_outside_a_request_commands_and_tests_read_the_primary(with_replica):
    assert router.db_for_read(Report) == "default"


def test_a_write_keeps_the_browser_on_the_primary_for_a_while(with_replica):
    _, response = read_alias_during(rf.post("/suggest/"))

    cookie = response.cookies[RECENT_WRITE_COOKIE]
    assert cookie["max-age"] > 0
    assert cookie["httponly"]


def test_writes_and_migrations_only_ever_touch_the_primary(with_replica):
    assert router.db_for_write(Report) == "default"
    assert router.allow_migrate("replica", "reports") is False
    assert router.allow_migrate("default", "reports") is True
