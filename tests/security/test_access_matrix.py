"""Access control: every URL of the site, for every role, with the status it must get.

`ROUTES` has a row for each URL pattern the site resolves (the admin's included), and
`test_every_url_pattern_is_in_the_table` fails when a pattern is added, removed or renamed
without updating it: a new page must say who may see it. Model admins get their standard
pages (list, add, change, delete, history) from `MODEL_ADMINS`, the permissions each role
holds on the model; every other page is listed by hand.

The second half checks that nothing unpublished reaches a reader: drafts, returned, in
review, scheduled, unpublished and withdrawn reports, and the unpublished edits of a live
one, each carry a word (conftest.SECRETS) that no public response may contain.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

from sources.models import Source
from tests.security.conftest import (
    ANONYMOUS,
    CURATOR,
    EDITOR,
    READER,
    REVIEWER,
    ROLES,
    SECRETS,
    SUPERUSER,
    World,
)

pytestmark = pytest.mark.django_db

LOGIN = "login"  # redirected to the admin login page


def all_routes() -> list[str]:
    """Every URL pattern of the site, as its full route ("admin/reports/report/add/")."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                assert isinstance(pattern, URLPattern)
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns, ""))


@dataclasses.dataclass(frozen=True)
class Case:
    """One GET of a route: its URL in the test world and the status for each role."""

    url: Callable[[World], str]
    expected: tuple  # one per role, in ROLES order: a status code or LOGIN
    label: str = ""


def everyone(status=200) -> tuple:
    return (status,) * len(ROLES)


def staff(editor, reviewer, curator, superuser=200) -> tuple:
    """An admin page: anonymous and non-staff users are sent to log in."""
    return (LOGIN, LOGIN, editor, reviewer, curator, superuser)


# The permissions each role holds on each model admin: view, add, change, delete
# (for editor, reviewer, curator, superuser). reports/roles.py grants them; a model admin
# may refuse some to everyone (published versions and merges are a record, readers' messages
# come only from readers, axes writes its own logs).
MODEL_ADMINS: dict[str, tuple[str, str, str, str]] = {
    "auth/group": ("", "", "", "vacd"),
    "auth/user": ("", "", "", "vacd"),
    "sites/site": ("", "", "", "vacd"),
    "flatpages/flatpage": ("", "", "", "vacd"),
    "axes/accessattempt": ("", "", "", "vcd"),
    "axes/accesslog": ("", "", "", "vcd"),
    "axes/accessfailurelog": ("", "", "", "vcd"),
    "sources/publisher": ("va", "va", "vacd", "vacd"),
    "sources/sourcemerge": ("", "", "v", "v"),
    "sources/source": ("vac", "vac", "vacd", "vacd"),
    "reports/report": ("vac", "vacd", "", "vacd"),
    "reports/verdict": ("v", "v", "", "vacd"),
    "reports/topic": ("va", "vac", "", "vacd"),
    "reports/publishedversion": ("v", "v", "", "v"),
    "reports/readermessage": ("vc", "vc", "", "vcd"),
    "reports/shareimage": ("", "", "", "vacd"),
}

# The object each model admin's pages are opened on.
OBJECTS: dict[str, Callable[[World], object]] = {
    "auth/group": lambda w: w.group,
    "auth/user": lambda w: w.user,
    "sites/site": lambda w: w.site,
    "flatpages/flatpage": lambda w: w.flatpage,
    "axes/accessattempt": lambda w: w.attempt,
    "axes/accesslog": lambda w: w.access_log,
    "axes/accessfailurelog": lambda w: w.failure_log,
    "sources/publisher": lambda w: w.publisher,
    "sources/sourcemerge": lambda w: w.merge,
    "sources/source": lambda w: w.source,
    "reports/report": lambda w: w.draft,
    "reports/verdict": lambda w: w.verdict,
    "reports/topic": lambda w: w.topic,
    "reports/publishedversion": lambda w: w.live_version,
    "reports/readermessage": lambda w: w.message,
    "reports/shareimage": lambda w: share_image(),
}


def share_image():
    """The default share image, made on first use (the world has none)."""
    from reports.public import sharing
    from reports.public.models import ShareImage
    from tests.reports.public.test_sharing import image_bytes

    return ShareImage.objects.first() or ShareImage.objects.create(
        **sharing.read_image(image_bytes("PNG"))
    )


def _model_routes() -> dict[str, list[Case]]:
    routes = {}
    for model, perms in MODEL_ADMINS.items():
        base = f"admin/{model}/"
        obj = OBJECTS[model]

        def expect(allowed: Callable[[str], bool], perms=perms) -> tuple:
            return staff(*(200 if allowed(p) else 403 for p in perms))

        def at(suffix: str, obj=obj, base=base) -> Callable[[World], str]:
            return lambda w: f"/{base}{obj(w).pk}/{suffix}"

        viewer = expect(lambda p: "v" in p or "c" in p)
        routes[base] = [Case(lambda w, base=base: f"/{base}", viewer)]
        routes[base + "add/"] = [
            Case(lambda w, base=base: f"/{base}add/", expect(lambda p: "a" in p))
        ]
        routes[base + "<path:object_id>/change/"] = [Case(at("change/"), viewer)]
        routes[base + "<path:object_id>/history/"] = [Case(at("history/"), viewer)]
        routes[base + "<path:object_id>/delete/"] = [
            Case(at("delete/"), expect(lambda p: "d" in p))
        ]
        # The bare object URL redirects to its change page (which then checks permissions).
        routes[base + "<path:object_id>/"] = [Case(at(""), staff(302, 302, 302, 302))]
    return routes


def _reset_link(w: World) -> str:
    return "/accounts/reset/Mg/set-password/"


def _autocomplete(w: World) -> str:
    params = {
        "app_label": "reports",
        "model_name": "reference",
        "field_name": "source",
        "term": "source",
    }
    return f"/admin/autocomplete/?{urlencode(params)}"


def _view_on_site(w: World) -> str:
    return f"/admin/r/{ContentType.objects.get_for_model(Source).pk}/{w.source.pk}/"


REPORT = "admin/reports/report/"
SOURCE = "admin/sources/source/"

ROUTES: dict[str, list[Case]] = {
    **_model_routes(),
    # The admin site's own pages.
    "admin/": [Case(lambda w: "/admin/", staff(200, 200, 200))],
    "admin/login/": [Case(lambda w: "/admin/login/", (200, 200, 302, 302, 302, 302))],
    # Logging out takes a POST; a GET only shows someone logged out the way in.
    "admin/logout/": [Case(lambda w: "/admin/logout/", (302, 302, 405, 405, 405, 405))],
    "admin/password_change/": [Case(lambda w: "/admin/password_change/", staff(200, 200, 200))],
    "admin/password_change/done/": [
        Case(lambda w: "/admin/password_change/done/", staff(200, 200, 200))
    ],
    # Lists sources, which every staff role may view.
    "admin/autocomplete/": [Case(_autocomplete, staff(200, 200, 200))],
    "admin/jsi18n/": [Case(lambda w: "/admin/jsi18n/", staff(200, 200, 200))],
    "admin/r/<path:content_type_id>/<path:object_id>/": [
        Case(_view_on_site, staff(302, 302, 302, 302))
    ],
    "admin/^(?P<app_label>auth|sites|flatpages|axes|sources|reports)/$": [
        Case(lambda w: "/admin/reports/", staff(200, 200, 404), "reports"),
        Case(lambda w: "/admin/sources/", staff(200, 200, 200), "sources"),
        Case(lambda w: "/admin/auth/", staff(404, 404, 404), "auth"),
        Case(lambda w: "/admin/axes/", staff(404, 404, 404), "axes"),
    ],
    "admin/(?P<url>.*)$": [Case(lambda w: "/admin/no-such-page/", staff(404, 404, 404, 404))],
    "admin/auth/user/<id>/password/": [
        Case(lambda w: f"/admin/auth/user/{w.user.pk}/password/", staff(403, 403, 403))
    ],
    # Reports: workflow steps, preview, checklist, similar claims, citing, export, import.
    REPORT + "<path:object_id>/transition/<str:name>/": [
        Case(lambda w: f"/{REPORT}{w.draft.pk}/transition/submit/", staff(200, 200, 403), "submit"),
        Case(
            lambda w: f"/{REPORT}{w.in_review.pk}/transition/publish/",
            staff(403, 200, 403),
            "publish",
        ),
        Case(
            lambda w: f"/{REPORT}{w.live.pk}/transition/withdraw/",
            staff(403, 200, 403),
            "withdraw",
        ),
    ],
    REPORT + "<path:object_id>/preview/": [
        Case(lambda w: f"/{REPORT}{w.draft.pk}/preview/", staff(200, 200, 403))
    ],
    # The live version against the working copy; a report that is not live has none.
    REPORT + "<path:object_id>/changes/": [
        Case(lambda w: f"/{REPORT}{w.live.pk}/changes/", staff(200, 200, 403), "live"),
        Case(lambda w: f"/{REPORT}{w.draft.pk}/changes/", staff(404, 404, 403, 404), "draft"),
    ],
    REPORT + "<path:object_id>/checklist/": [
        Case(lambda w: f"/{REPORT}{w.draft.pk}/checklist/", staff(200, 200, 403))
    ],
    REPORT + "similar/": [Case(lambda w: f"/{REPORT}similar/?claim=vote", staff(200, 200, 403))],
    REPORT + "<path:object_id>/similar/": [
        Case(lambda w: f"/{REPORT}{w.draft.pk}/similar/", staff(200, 200, 403))
    ],
    # POST only: a GET is refused before anything is looked up.
    REPORT + "<path:object_id>/questions/<int:question_id>/draft/": [
        Case(
            lambda w: f"/{REPORT}{w.draft.pk}/questions/{w.draft.questions.get().pk}/draft/",
            staff(405, 405, 405, 405),
        )
    ],
    # The report editor's live feedback: POST only (tests/reports/admin/test_desk_live.py).
    REPORT + "live/": [Case(lambda w: f"/{REPORT}live/", staff(405, 405, 405, 405))],
    REPORT + "<path:object_id>/live/": [
        Case(lambda w: f"/{REPORT}{w.draft.pk}/live/", staff(405, 405, 405, 405))
    ],
    REPORT + "<path:object_id>/cite/": [
        Case(lambda w: f"/{REPORT}{w.draft.pk}/cite/?q=source", staff(200, 200, 403))
    ],
    # The editor's source finder: it serves the add form too, so it needs no report.
    REPORT + "desk-cite/find/": [
        Case(lambda w: f"/{REPORT}desk-cite/find/?q=source", staff(200, 200, 403))
    ],
    # POST only: a GET by someone who may change reports is refused as such.
    **{
        REPORT + f"desk-cite/{name}/": [
            Case(lambda w, name=name: f"/{REPORT}desk-cite/{name}/", staff(405, 405, 403, 405))
        ]
        for name in ("add-source", "number", "renumber", "still-cited")
    },
    REPORT + "<path:object_id>/export/<str:format_name>/": [
        Case(lambda w: f"/{REPORT}{w.live.pk}/export/json/", staff(200, 200, 403), "json"),
        # A draft has nothing published to export.
        Case(lambda w: f"/{REPORT}{w.draft.pk}/export/json/", staff(404, 404, 403, 404), "draft"),
    ],
    REPORT + "import-text/": [Case(lambda w: f"/{REPORT}import-text/", staff(200, 200, 403))],
    # django-reversion: deleted reports, recovering one, an earlier revision.
    REPORT + "^recover/$": [Case(lambda w: f"/{REPORT}recover/", staff(200, 200, 403))],
    REPORT + "^recover/(\\d+)/$": [
        Case(lambda w: f"/{REPORT}recover/{w.deleted_version_id}/", staff(200, 200, 403))
    ],
    REPORT + "^([^/]+)/history/(\\d+)/$": [
        Case(lambda w: f"/{REPORT}{w.live.pk}/history/{w.revision_id}/", staff(200, 200, 403))
    ],
    # Sources: curation is the curators'; importing is anyone's who may add sources.
    SOURCE + "duplicates/": [Case(lambda w: f"/{SOURCE}duplicates/", staff(403, 403, 200))],
    SOURCE + "<int:kept_id>/merge/<int:duplicate_id>/": [
        Case(
            lambda w: f"/{SOURCE}{w.merge.kept.pk}/merge/{w.duplicate.pk}/",
            staff(403, 403, 200),
        )
    ],
    SOURCE + "<path:object_id>/retire/": [
        Case(lambda w: f"/{SOURCE}{w.source.pk}/retire/", staff(403, 403, 200))
    ],
    SOURCE + "<path:object_id>/reinstate/": [
        Case(lambda w: f"/{SOURCE}{w.retired.pk}/reinstate/", staff(403, 403, 200))
    ],
    SOURCE + "import/": [Case(lambda w: f"/{SOURCE}import/", staff(200, 200, 200))],
    # The refused list is a POST of the previewed file; a GET goes back to the import page.
    SOURCE + "import/refused/": [
        Case(lambda w: f"/{SOURCE}import/refused/", staff(302, 302, 302, 302))
    ],
    # The public site: the same for everyone.
    "": [Case(lambda w: "/", everyone())],
    "reports/": [
        Case(lambda w: "/reports/", everyone()),
        Case(lambda w: "/reports/?q=claim", everyone(), "search"),
    ],
    "topics/<slug:slug>/": [Case(lambda w: f"/topics/{w.topic.slug}/", everyone())],
    "verdicts/<slug:slug>/": [Case(lambda w: f"/verdicts/{w.verdict.slug}/", everyone())],
    "reports/<slug:slug>/": [
        Case(lambda w: f"/reports/{w.live_version.slug}/", everyone()),
        Case(lambda w: f"/reports/{w.draft.slug}/", everyone(404), "draft"),
        Case(lambda w: f"/reports/{w.withdrawn.slug}/", everyone(410), "withdrawn"),
    ],
    "reports/<slug:slug>.json": [
        Case(lambda w: f"/reports/{w.live_version.slug}.json", everyone()),
        Case(lambda w: f"/reports/{w.scheduled.slug}.json", everyone(404), "scheduled"),
    ],
    "reports/<slug:slug>/history/": [
        Case(lambda w: f"/reports/{w.live_version.slug}/history/", everyone()),
        Case(lambda w: f"/reports/{w.unpublished.slug}/history/", everyone(404), "unpublished"),
    ],
    "reports/<slug:slug>/versions/<int:number>/": [
        Case(lambda w: f"/reports/{w.live_version.slug}/versions/1/", everyone(), "superseded"),
        Case(lambda w: f"/reports/{w.live_version.slug}/versions/2/", everyone(302), "live"),
        Case(lambda w: f"/reports/{w.withdrawn.slug}/versions/1/", everyone(404), "withdrawn"),
    ],
    "reports/<slug:slug>/versions/<int:number>/card.png": [
        Case(
            lambda w: f"/reports/{w.live_version.slug}/versions/{w.live_version.number}/card.png",
            everyone(),
        ),
        Case(lambda w: f"/reports/{w.draft.slug}/versions/1/card.png", everyone(404), "draft"),
        Case(
            lambda w: f"/reports/{w.withdrawn.slug}/versions/1/card.png", everyone(404), "withdrawn"
        ),
        Case(
            lambda w: f"/reports/{w.unpublished.slug}/versions/1/card.png",
            everyone(404),
            "unpublished",
        ),
    ],
    "share/site-image": [Case(lambda w: "/share/site-image", everyone())],
    "verdicts.css": [Case(lambda w: "/verdicts.css", everyone())],
    "rating-scale/": [Case(lambda w: "/rating-scale/", everyone())],
    "feeds/latest/rss/": [Case(lambda w: "/feeds/latest/rss/", everyone())],
    "feeds/latest/atom/": [Case(lambda w: "/feeds/latest/atom/", everyone())],
    "feeds/claimreview.json": [Case(lambda w: "/feeds/claimreview.json", everyone())],
    "topics/<slug:slug>/feed/": [Case(lambda w: f"/topics/{w.topic.slug}/feed/", everyone())],
    "topics/<slug:slug>/feed/atom/": [
        Case(lambda w: f"/topics/{w.topic.slug}/feed/atom/", everyone())
    ],
    "verdicts/<slug:slug>/feed/": [Case(lambda w: f"/verdicts/{w.verdict.slug}/feed/", everyone())],
    "verdicts/<slug:slug>/feed/atom/": [
        Case(lambda w: f"/verdicts/{w.verdict.slug}/feed/atom/", everyone())
    ],
    "reports/<slug:slug>/report-error/": [
        Case(lambda w: f"/reports/{w.live_version.slug}/report-error/", everyone()),
        Case(lambda w: f"/reports/{w.in_review.slug}/report-error/", everyone(404), "in review"),
    ],
    "reports/<slug:slug>/report-error/thanks/": [
        Case(lambda w: f"/reports/{w.live_version.slug}/report-error/thanks/", everyone())
    ],
    "suggest/": [Case(lambda w: "/suggest/", everyone())],
    "suggest/thanks/": [Case(lambda w: "/suggest/thanks/", everyone())],
    "sources/<int:pk>/": [
        Case(lambda w: f"/sources/{w.source.pk}/", everyone()),
        Case(
            lambda w: f"/sources/{w.hidden_source.pk}/",
            everyone(404),
            "cited by hidden reports only",
        ),
    ],
    "methodology/": [Case(lambda w: "/methodology/", everyone())],
    "about/": [Case(lambda w: "/about/", everyone())],
    "corrections/": [Case(lambda w: "/corrections/", everyone())],
    "contact/": [Case(lambda w: "/contact/", everyone())],
    "sitemap.xml": [Case(lambda w: "/sitemap.xml", everyone())],
    "robots.txt": [Case(lambda w: "/robots.txt", everyone())],
    "favicon.ico": [Case(lambda w: "/favicon.ico", everyone(301))],
    # The set-password links `createuser --link` prints; a wrong link says so, to anyone.
    "accounts/reset/<uidb64>/<token>/": [Case(_reset_link, everyone())],
    "accounts/reset/done/": [Case(lambda w: "/accounts/reset/done/", everyone())],
    # Operations: what is down (no login, by design). bench/ceiling/ is bench.urls only.
    "healthz": [Case(lambda w: "/healthz", everyone())],
}


def test_every_url_pattern_is_in_the_table():
    routes = all_routes()
    assert len(routes) == len(set(routes)), "two patterns share a route"
    missing = sorted(set(routes) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(routes))
    assert not missing, (
        f"New URL patterns: add each to ROUTES (or its model to MODEL_ADMINS) in "
        f"{__file__}, with who may open it: {missing}"
    )
    assert not stale, f"ROUTES lists patterns the site no longer has: {stale}"


CASES = [
    pytest.param(route, case, id=f"{route or '/'}{' [' + case.label + ']' if case.label else ''}")
    for route, cases in ROUTES.items()
    for case in cases
]


@pytest.mark.parametrize(("route", "case"), CASES)
def test_each_role_gets_the_expected_status(world, clients, route, case):
    url = case.url(world)
    got = {}
    for role, expected in zip(ROLES, case.expected, strict=True):
        response = clients[role].get(url)
        if expected == LOGIN:
            ok = response.status_code == 302 and response["Location"].startswith(
                "/admin/login/?next="
            )
            got[role] = LOGIN if ok else response.status_code
        else:
            got[role] = response.status_code
        if response.status_code in {302, 403, 404, 405}:
            # Refusals and redirects show nothing of what they refuse.
            text = response.content.decode(errors="replace")
            assert world.draft.claim not in text, (role, url)
    assert got == dict(zip(ROLES, case.expected, strict=True)), url


# Nothing unpublished leaks --------------------------------------------------------------


def _public_urls(world: World) -> list[str]:
    """Every public URL of the table, plus searches and each hidden report's own addresses."""
    urls = [
        case.url(world)
        for route, cases in ROUTES.items()
        if not route.startswith("admin/")
        for case in cases
    ]
    for secret in SECRETS.values():
        word = secret.split()[0]
        urls += [
            f"/reports/?{urlencode({'q': word})}",
            f"/reports/?{urlencode({'q': word, 'sort': 'newest'})}",
            f"/topics/{world.topic.slug}/?{urlencode({'q': word})}",
        ]
    for slug in world.hidden_slugs:
        urls += [
            f"/reports/{slug}/",
            f"/reports/{slug}.json",
            f"/reports/{slug}/history/",
            f"/reports/{slug}/versions/1/",
            f"/reports/{slug}/report-error/",
            f"/reports/{slug}/report-error/thanks/",
        ]
    urls += [
        "/feeds/claimreview.json?page=2",
        f"/sources/{world.hidden_source.pk}/",
        f"/topics/{world.topic.slug}/feed/",
        f"/verdicts/{world.verdict.slug}/?topic={world.topic.slug}",
    ]
    return urls


def test_nothing_unpublished_appears_in_any_public_response(world, clients):
    # A link to a hidden report's page (its own address may appear in the page's canonical link).
    hidden_links = [
        f'/reports/{slug}/"' for slug in world.hidden_slugs if slug != world.withdrawn.slug
    ]
    checked = 0
    for role in (ANONYMOUS, READER):
        for url in _public_urls(world):
            response = clients[role].get(url, follow=True)
            assert response.status_code in {200, 404, 410}, (role, url, response.status_code)
            if response["Content-Type"].startswith("image/"):
                # Share cards are pictures: tests/reports/public/test_sharing.py checks they
                # are drawn from the published version only.
                continue
            text = response.content.decode()
            searched = "q=" in url  # a search page shows the words searched for
            for state, secret in SECRETS.items():
                assert secret not in text, f"{state} text in {url} for {role}"
                if not searched:
                    assert secret.split()[0] not in text, f"{state} word in {url} for {role}"
            for link in hidden_links:
                assert link not in text, f"a link to {link} in {url} for {role}"
            checked += 1
    assert checked > 100
    # The check can fail: what is live is there.
    assert world.live_version.claim in clients[ANONYMOUS].get("/reports/").content.decode()


def test_the_live_page_shows_the_published_text_not_the_working_copy(world, clients):
    response = clients[ANONYMOUS].get(f"/reports/{world.live_version.slug}/")
    text = response.content.decode()
    assert "The live claim everyone may read." in text
    assert SECRETS["unpublished edit"] not in text
    assert SECRETS["unpublished section"] not in text


def test_staff_see_unpublished_text_only_in_the_admin(world, clients):
    """The preview shows the working copy, to staff who may view reports, never cached."""
    url = f"/admin/reports/report/{world.draft.pk}/preview/"
    response = clients[EDITOR].get(url)
    assert SECRETS["draft"] in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    for role in (ANONYMOUS, READER, CURATOR):
        assert SECRETS["draft"] not in clients[role].get(url, follow=True).content.decode()


def test_feeds_and_sitemap_list_only_live_reports(world, clients):
    for url in ["/feeds/latest/rss/", "/feeds/latest/atom/", "/sitemap.xml"]:
        text = clients[ANONYMOUS].get(url).content.decode()
        for slug in world.hidden_slugs:
            assert f"/reports/{slug}/" not in text, (url, slug)
        assert f"/reports/{world.live_version.slug}/" in text
    feed = clients[ANONYMOUS].get("/feeds/claimreview.json").json()
    assert [item["title"] for item in feed["items"]] == [world.live_version.claim]


@pytest.mark.parametrize("role", [SUPERUSER, REVIEWER])
def test_signed_in_staff_get_the_same_public_pages_as_readers(world, clients, role):
    """Being logged in as staff never turns a public page into a preview."""
    for url in ["/", "/reports/", f"/reports/{world.draft.slug}/", "/feeds/latest/rss/"]:
        text = clients[role].get(url).content.decode()
        assert SECRETS["draft"] not in text
        assert not re.search(r"Zanzibarquill|Tamarindglacier|Marzipanorbit", text)
