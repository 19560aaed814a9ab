"""Security headers on every kind of response: public pages, feeds, the admin and errors.

Requests are made over HTTPS (`secure=True`), as in production, so HSTS is sent too.
Also here: session and CSRF cookie flags, and that no template carries inline script or
style, which the Content-Security-Policy would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from tests.security.conftest import ANONYMOUS, CURATOR, SUPERUSER

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parent.parent.parent
FEATURES_REFUSED = ["camera", "microphone", "geolocation", "interest-cohort", "payment", "usb"]
REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def _boom(request):
    raise RuntimeError("A bug.")


def _database_down(request):
    raise OperationalError("connection refused")


def _framable(request):
    return HttpResponse("<p>plain</p>")


# Used by the error-page tests: the site, plus views that fail.
urlpatterns = [
    path("test-only/boom/", _boom),
    path("test-only/database-down/", _database_down),
    path("", include("factually.urls")),
]


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response) -> None:
    """The headers every response of the site carries, whatever its status or type."""
    where = f"{response.status_code} {response.get('Content-Type')}"
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Referrer-Policy"] in REFERRER_POLICIES, where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    hsts = response["Strict-Transport-Security"]
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age, hsts
    assert int(max_age[1]) >= 31536000, hsts
    assert "includeSubDomains" in hsts, hsts
    permissions = {
        item.split("=")[0].strip(): item.split("=")[1].strip()
        for item in response["Permissions-Policy"].split(",")
    }
    for feature in FEATURES_REFUSED:
        assert permissions.get(feature) == "()", (feature, where)

    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] in (["'self'"], ["'none'"]), where
    assert csp["form-action"] == ["'self'"], where
    for directive in ("script-src", "style-src"):
        values = csp.get(directive, csp["default-src"])
        for value in values:
            assert value in {"'self'", "'none'"} or value.startswith("'nonce-"), (directive, value)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


PUBLIC_PAGES = [
    lambda w: "/",
    lambda w: "/reports/",
    lambda w: "/reports/?q=claim",
    lambda w: f"/reports/{w.live_version.slug}/",
    lambda w: f"/reports/{w.live_version.slug}/history/",
    lambda w: f"/reports/{w.live_version.slug}.json",
    lambda w: f"/reports/{w.live_version.slug}/report-error/",
    lambda w: f"/sources/{w.source.pk}/",
    lambda w: f"/topics/{w.topic.slug}/",
    lambda w: "/methodology/",
    lambda w: "/rating-scale/",
    lambda w: "/suggest/",
    lambda w: "/feeds/latest/rss/",
    lambda w: "/feeds/latest/atom/",
    lambda w: "/feeds/claimreview.json",
    lambda w: "/sitemap.xml",
    lambda w: "/robots.txt",
    lambda w: "/verdicts.css",
    lambda w: "/healthz",
    lambda w: "/accounts/reset/Mg/set-password/",
]


def test_public_pages_feeds_and_json_carry_the_headers(world, clients):
    for url in PUBLIC_PAGES:
        response = clients[ANONYMOUS].get(url(world), secure=True)
        assert response.status_code == 200, url(world)
        assert_security_headers(response)


def test_admin_pages_carry_the_headers(world, clients):
    for url in [
        "/admin/",
        "/admin/reports/report/",
        f"/admin/reports/report/{world.draft.pk}/change/",
        f"/admin/reports/report/{world.draft.pk}/preview/",
        f"/admin/reports/report/{world.live.pk}/export/markdown/",
        "/admin/sources/source/add/",
        "/admin/auth/user/",
    ]:
        response = clients[SUPERUSER].get(url, secure=True)
        assert response.status_code == 200, url
        assert_security_headers(response)
    login = clients[ANONYMOUS].get("/admin/login/", secure=True)
    assert login.status_code == 200
    assert_security_headers(login)


def test_redirects_refusals_and_not_found_pages_carry_the_headers(world, clients):
    for role, method, url, status in [
        (ANONYMOUS, "get", "/admin/", 302),
        (ANONYMOUS, "get", "/no-such-page/", 404),
        (ANONYMOUS, "get", f"/reports/{world.draft.slug}/", 404),
        (ANONYMOUS, "get", f"/reports/{world.withdrawn.slug}/", 410),
        (ANONYMOUS, "post", "/reports/", 405),
        (ANONYMOUS, "post", "/suggest/", 400),  # not what the form sends
        (CURATOR, "get", "/admin/reports/report/", 403),
        (CURATOR, "get", "/admin/no-such-page/", 404),
    ]:
        response = getattr(clients[role], method)(url, secure=True)
        assert response.status_code == status, (role, url)
        assert_security_headers(response)
    no_csrf_token = Client(enforce_csrf_checks=True).post("/suggest/", secure=True)
    assert no_csrf_token.status_code == 403
    assert_security_headers(no_csrf_token)


def test_a_disallowed_host_gets_a_400_with_the_headers(world):
    response = Client(HTTP_HOST="evil.example").get("/", secure=True)
    assert response.status_code == 400
    assert_security_headers(response)


@pytest.mark.urls(__name__)
def test_server_errors_carry_the_headers(world):
    client = Client(raise_request_exception=False)
    crashed = client.get("/test-only/boom/", secure=True)
    assert crashed.status_code == 500
    assert_security_headers(crashed)
    unavailable = client.get("/test-only/database-down/", secure=True)
    assert unavailable.status_code == 503
    assert_security_headers(unavailable)


def test_a_locked_out_login_carries_the_headers(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "an-editor", "password": "wrong"},
            secure=True,
        )
    assert response.status_code == 429
    assert_security_headers(response)


def test_session_and_csrf_cookies_are_secure_and_http_only(world):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/", secure=True)
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"
    response = client.post(
        "/admin/login/",
        {
            "username": "an-editor",
            "password": "correct horse battery",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
        secure=True,
        headers={"Referer": "https://testserver/admin/login/"},
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


# No inline script or style in our templates ----------------------------------------------

TEMPLATE_DIRS = [PROJECT / "templates", PROJECT / "reports", PROJECT / "sources"]
INLINE = {
    # A <script> element without src: inline code (JSON-LD is made by structured_data.json_ld).
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def _templates():
    for folder in TEMPLATE_DIRS:
        yield from (p for p in folder.rglob("*.html") if "migrations" not in p.parts)


def test_no_template_has_inline_script_style_or_event_handlers():
    found = []
    templates = list(_templates())
    assert len(templates) > 30
    for template in templates:
        text = template.read_text()
        for what, pattern in INLINE.items():
            found += [f"{template.relative_to(PROJECT)}: {what}" for _ in pattern.finditer(text)]
    assert found == []


def test_htmx_may_not_evaluate_code_from_responses():
    """htmx is the admin's only script of ours that swaps in HTML: no eval, no script tags."""
    for template in _templates():
        text = template.read_text()
        if "htmx_script" in text:
            assert '"allowEval": false' in text, template
            assert '"allowScriptTags": false' in text, template
