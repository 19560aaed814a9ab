"""The load test: `make load` (or `.venv/bin/python bench/load.py`). See README, "Performance".

Readers and a newsroom at once, as on a busy day. It builds (or reuses) a PostgreSQL database
of LOAD_REPORTS generated reports and serves it as bench/run.py does (gunicorn, one sync worker
per core, production settings from bench/settings.py, the Redis page cache), then for
LOAD_SECONDS seconds:

- wrk holds LOAD_CONNECTIONS connections on the public site (bench/load.lua), cycling through
  hundreds of report pages, list pages with every filter, and hundreds of different searches,
  so that many requests miss the page cache, the more so as every publication makes it stale;
- a thread is the newsroom, over real HTTP as a browser would be: an editor and a reviewer
  (made with `createuser --link`; each sets their password through the link) log in to the
  admin; the editor corrects the summary of a live report in its change form and submits it
  for review, the reviewer publishes it with a change note (two people: the four-eyes rule),
  and an anonymous reader then checks that the report's page shows the correction at once.
  Again and again, LOAD_EDITOR_PAUSE seconds apart.

It prints the figures and writes them to bench/results/load-<timestamp>.md and .json:
requests, requests per second, wrk's latency percentiles (queueing included), errors
(connect, read, write, timeouts, and every response that is not 2xx or 3xx), the server's
own time per kind of page (gunicorn's access log), and every publication with its latency and
whether the correction was visible at once. The exit status is non-zero on any error, any
correction not visible at once, a publication that failed, or a p99 above LOAD_P99_MS.

Settings, from the environment (defaults in brackets):

    LOAD_REPORTS [2000]        reports in the database
    LOAD_SECONDS [60]          seconds of load
    LOAD_CONNECTIONS [64]      wrk connections
    LOAD_THREADS [2]           wrk threads
    LOAD_P99_MS [1000]         the bound on wrk's p99 latency
    LOAD_EDITOR_PAUSE [3]      seconds between one publication and the next correction
    LOAD_DATABASE_URL [postgres://postgres@127.0.0.1:5432/factually_load_<REPORTS>]
    LOAD_CACHE_URL [redis://127.0.0.1:6379/3]   flushed at the start
    BENCH_WORKERS, BENCH_GUNICORN_ARGS          as for bench/run.py

The database is the load test's own: corrections pile up in it (a new version of a few
reports each run) and it gains two accounts a run, so `make bench` never measures it.
`python -m bench.load pages` (which the test runs with Django set up) prints the pages of
the mix and the reports the newsroom corrects.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

ROOT = Path(__file__).resolve().parent.parent
# `python bench/load.py` puts only bench/ on the path; the shared machinery is bench.run.
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.run import log  # noqa: E402

LUA = ROOT / "bench" / "load.lua"

REPORTS = int(os.environ.get("LOAD_REPORTS", "2000"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "64"))
THREADS = int(os.environ.get("LOAD_THREADS", "2"))
P99_MS = float(os.environ.get("LOAD_P99_MS", "1000"))
EDITOR_PAUSE = float(os.environ.get("LOAD_EDITOR_PAUSE", "3"))
DATABASE_URL = os.environ.get(
    "LOAD_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/factually_load_{REPORTS}"
)
CACHE_URL = os.environ.get("LOAD_CACHE_URL", "redis://127.0.0.1:6379/3")

# The mix: distinct pages of each kind (fewer if the database has fewer to offer).
REPORT_PAGES = 600
SEARCHES = 400
CORRECTED_REPORTS = 12
# Marks the answer of `python -m bench.load pages` among whatever else Django prints.
PAGES_PREFIX = "LOAD_PAGES "
# gunicorn's access log, one line a request: status, microseconds in the worker, how the
# page cache served it (X-Factually-Cache), method, path, query string. What wrk cannot
# tell: which pages failed, which were slow, and how many missed the cache.
ACCESS_FORMAT = "%(s)s %(D)s %({x-factually-cache}o)s %(m)s %(U)s %(q)s"
# How long a reader waits for a correction that is not there at once before giving up.
FRESHNESS_PATIENCE = 10.0
# Admin pages wait their turn behind the readers' requests, LOAD_CONNECTIONS of them.
BROWSER_TIMEOUT = 120.0


# The pages readers ask for -------------------------------------------------------------------


def pages_main() -> None:
    """Print the mix (run with Django set up, on the load test's database)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Count

    from reports.models import PublishedVersion

    rng = random.Random(0)
    live = PublishedVersion.objects.live()
    per_page = settings.FACTUALLY_REPORTS_PER_PAGE
    slugs = sorted(live.values_list("slug", flat=True))
    if not slugs:
        sys.exit("No live report in the load test's database.")
    shown = rng.sample(slugs, min(len(slugs), REPORT_PAGES))
    reports = [f"/reports/{quote(slug)}/" for slug in shown]

    def pages(count: int, most: int) -> range:
        """Page numbers after the first, within what `count` results fill."""
        return range(2, min(most, math.ceil(count / per_page)) + 1)

    lists = ["/", "/reports/", "/reports/?period=year", "/reports/?period=month"]
    lists += [f"/?page={n}" for n in pages(len(slugs), 6)]
    lists += [f"/reports/?page={n}" for n in pages(len(slugs), 11)]
    verdicts = live.values_list("verdict__slug").annotate(n=Count("pk")).order_by("verdict__slug")
    for verdict, count in verdicts:
        lists += [f"/reports/?verdict={verdict}", f"/verdicts/{verdict}/"]
        lists += [f"/reports/?verdict={verdict}&page={n}" for n in pages(count, 3)]
    topics = (
        live.exclude(topics=None)
        .values_list("topics__slug")
        .annotate(n=Count("pk"))
        .order_by("topics__slug")
    )
    for topic, count in topics:
        lists += [f"/reports/?topic={topic}", f"/topics/{topic}/"]
        lists += [f"/topics/{topic}/?page={n}" for n in pages(count, 3)]
    for year in live.dates("checked_on", "year"):
        lists.append(f"/reports/?period={year.year}")
    for (verdict, _), (topic, _) in rng.sample(
        [(v, t) for v in verdicts for t in topics], min(30, len(verdicts) * len(topics))
    ):
        lists.append(f"/reports/?verdict={verdict}&topic={topic}")

    searches = [f"/reports/?{query}" for query in _search_queries(live, rng)]
    corrected = rng.sample(shown, min(CORRECTED_REPORTS, len(shown)))
    mix = reports + lists + searches
    rng.shuffle(mix)
    answer = {
        "reports": len(slugs),
        "paths": mix,
        "kinds": {"report": len(reports), "list": len(lists), "search": len(searches)},
        "corrected": corrected,
    }
    print(PAGES_PREFIX + json.dumps(answer))


def _search_queries(live, rng: random.Random) -> list[str]:
    """SEARCHES different query strings, as readers type them: words of the claims and
    summaries, pairs, quoted phrases, a word excluded ("-word"), typos (the similar-words
    path), some with a filter, another order or a second page."""
    sample = live.order_by("pk").values_list("claim", "summary_text")[:3000]
    claims = [claim.lower() for claim, _ in sample]
    words = Counter(
        word
        for claim, summary in sample
        for word in re.findall(r"[a-z]{4,}", f"{claim} {summary}".lower())
    )
    vocabulary = sorted(words)
    queries: set[str] = set(vocabulary)
    while len(queries) < SEARCHES:
        claim_words = re.findall(r"[a-z]{3,}", rng.choice(claims))
        shape = rng.randrange(5)
        if shape == 0 and len(claim_words) >= 2:
            start = rng.randrange(len(claim_words) - 1)
            queries.add('"' + " ".join(claim_words[start : start + 2]) + '"')
        elif shape == 1:
            first, second = rng.sample(vocabulary, 2)
            queries.add(f"{first} -{second}")
        elif shape == 2:
            word = rng.choice([w for w in vocabulary if len(w) >= 6])
            cut = rng.randrange(1, len(word) - 1)
            queries.add(word[:cut] + word[cut + 1 :])  # a letter left out: a typo
        else:
            queries.add(" ".join(rng.sample(vocabulary, 2)))
    ordered = sorted(queries)
    rng.shuffle(ordered)
    strings = []
    extras = ["", "", "", "&sort=newest", "&period=year", "&page=2"]
    for query in ordered[:SEARCHES]:
        strings.append(f"q={quote_plus(query)}{rng.choice(extras)}")
    return strings


def read_pages(env: dict[str, str]) -> dict:
    return run.module_answer(env, "bench.load", "pages", prefix=PAGES_PREFIX)


# The newsroom, in the admin over HTTP ------------------------------------------------------


class StepFailed(Exception):
    """A step of the newsroom's work did not go as it would for a person: the message says how."""


def form_data(html: str, form_id: str) -> list[tuple[str, str]]:
    """What a browser submits for the form `form_id` of `html`, its submit buttons aside.

    Controls belong to the form around them unless their `form` attribute names another
    (the admin's cite panel sits inside the report form but submits its own), disabled ones
    are left out, and a textarea loses the newline that follows its start tag.
    """
    import lxml.html

    document = lxml.html.fromstring(html)
    if not document.xpath("//form[@id=$id]", id=form_id):
        raise StepFailed(f"no form #{form_id} on the page")
    data = []
    for control in document.iter("input", "select", "textarea"):
        owner = control.get("form")
        if owner is None:
            forms = control.xpath("ancestor::form[1]")
            owner = forms[0].get("id") if forms else None
        name = control.get("name")
        if owner != form_id or not name or control.get("disabled") is not None:
            continue
        if control.tag == "textarea":
            text = control.text or ""
            data.append((name, text[2:] if text.startswith("\r\n") else text.removeprefix("\n")))
        elif control.tag == "select":
            options = control.xpath(".//option[not(@disabled)]")
            chosen = [o for o in options if o.get("selected") is not None]
            if not chosen and control.get("multiple") is None and options:
                chosen = options[:1]
            data += [(name, o.get("value", o.text_content())) for o in chosen]
        else:
            kind = (control.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                continue
            if kind in {"checkbox", "radio"} and control.get("checked") is None:
                continue
            data.append((name, control.get("value", "on" if kind in {"checkbox", "radio"} else "")))
    return data


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise StepFailed("no CSRF token in the form")
    return match.group(1)


def page_errors(html: str) -> str:
    """The admin's error notes on a page that was sent back, as one line."""
    import lxml.html

    document = lxml.html.fromstring(html)
    notes = document.xpath(
        '//*[contains(@class, "errornote") or contains(@class, "errorlist")'
        ' or contains(@class, "messagelist")]'
    )
    text = " | ".join(" ".join(note.text_content().split()) for note in notes)
    return text[:1000] or "no error shown"


class Browser:
    """One person's browser: cookies kept, forms posted with their CSRF token and origin,
    redirects followed as a browser follows them (each is a page it loads)."""

    def __init__(self, server: run.Server):
        import httpx

        self.origin = server.url
        self.client = httpx.Client(base_url=server.url, timeout=BROWSER_TIMEOUT)

    def get(self, path: str, *, expect: int = 200):
        response = self.client.get(path)
        if response.status_code != expect:
            raise StepFailed(f"GET {path} answered {response.status_code}, not {expect}")
        return response

    def submit(self, path: str, data, *, expect_location: str | None = None):
        """POST `data` to `path`; the answer must be a redirect (to `expect_location` if
        given), which is followed. Returns the POST's duration in ms and the page landed on."""
        fields: dict[str, list[str]] = {}
        for name, value in data.items() if isinstance(data, dict) else data:
            fields.setdefault(name, []).append(value)
        started = time.perf_counter()
        response = self.client.post(path, data=fields, headers={"Origin": self.origin})
        took = (time.perf_counter() - started) * 1000
        if response.status_code != 302:
            why = page_errors(response.text) if response.status_code == 200 else ""
            raise StepFailed(f"POST {path} answered {response.status_code}: {why}".strip())
        location = response.headers["Location"]
        if expect_location and urlsplit(location).path != expect_location:
            raise StepFailed(f"POST {path} sent to {location}, not {expect_location}")
        return took, self.get(location)

    def log_in(self, username: str, password: str) -> None:
        form = self.get("/admin/login/?next=/admin/")
        self.submit(
            "/admin/login/?next=/admin/",
            {
                "username": username,
                "password": password,
                "next": "/admin/",
                "csrfmiddlewaretoken": csrf_token(form.text),
            },
            expect_location="/admin/",
        )

    def close(self) -> None:
        self.client.close()


def make_account(env: dict[str, str], server: run.Server, role: str, email: str) -> str:
    """A newsroom member as the README makes one: `createuser --link`, then the password
    chosen through the link, in a browser. Returns the password."""
    output = run.manage(
        env, "createuser", "--role", role, "--link", "--base-url", server.url, email, capture=True
    )
    links = re.findall(r"^https?://\S+/accounts/reset/\S+$", output, re.MULTILINE)
    if not links:
        sys.exit(f"createuser printed no link:\n{output}")
    password = secrets.token_urlsafe(18)
    browser = Browser(server)
    try:
        # The link leads to the set-password form (the token moves into the session).
        landing = browser.client.get(urlsplit(links[0]).path, follow_redirects=True)
        if landing.status_code != 200 or 'name="new_password1"' not in landing.text:
            sys.exit(f"The set-password link answered {landing.status_code} with no form.")
        browser.submit(
            landing.url.path,
            {
                "new_password1": password,
                "new_password2": password,
                "csrfmiddlewaretoken": csrf_token(landing.text),
            },
            expect_location="/accounts/reset/done/",
        )
    except StepFailed as failure:
        sys.exit(f"Setting the password of {email} failed: {failure}")
    finally:
        browser.close()
    return password


# A correction the editor makes, recognisable by its wording; the next one replaces it.
CORRECTION = re.compile(r" Rechecked under load: figure \w+ \[\d+\]\.")


def corrected(summary: str, token: str) -> str:
    """The summary with its last paragraph ending in a corrected figure, cited like the rest."""
    from reports import citations  # the one parser of markers; needs no Django set-up

    text = CORRECTION.sub("", summary).rstrip()
    markers = citations.markers(text)
    if not markers:
        raise StepFailed("the summary cites nothing to cite the correction with")
    return f"{text} Rechecked under load: figure {token} [{markers[-1]}]."


class Newsroom(threading.Thread):
    """An editor correcting live reports and a reviewer publishing them, in the admin, until
    stopped; after each publication a reader checks the public page."""

    def __init__(
        self,
        server: run.Server,
        accounts: dict[str, tuple[str, str]],
        slugs: list[str],
        run_id: str,
    ):
        super().__init__(daemon=True)
        self.server = server
        self.accounts = accounts
        self.slugs = list(slugs)
        self.run_id = run_id
        self.publications: list[dict] = []
        self.failure = ""
        self.pks: dict[str, int] = {}
        self._stop = threading.Event()

    def finish(self) -> None:
        self._stop.set()
        self.join(timeout=BROWSER_TIMEOUT * 4)

    def run(self) -> None:
        editor, reviewer = Browser(self.server), Browser(self.server)
        try:
            editor.log_in(*self.accounts["editor"])
            reviewer.log_in(*self.accounts["reviewer"])
            number = 0
            while not self._stop.is_set() and self.slugs:
                number += 1
                slug = self.slugs[(number - 1) % len(self.slugs)]
                publication = {"number": number, "slug": slug, "started": time.time()}
                try:
                    self.correct(editor, reviewer, slug, number, publication)
                except StepFailed as failure:
                    publication["error"] = str(failure)
                    # Its state is unknown now (saved? in review?): correct the others.
                    self.slugs.remove(slug)
                self.publications.append(publication)
                self._stop.wait(EDITOR_PAUSE)
        except Exception as error:  # reported with the figures, never lost
            self.failure = f"{type(error).__name__}: {error}"
        finally:
            editor.close()
            reviewer.close()

    def find(self, editor: Browser, slug: str) -> int:
        """The report's ID, as an editor finds it: the admin's search for its slug."""
        if slug not in self.pks:
            page = editor.get(f"/admin/reports/report/?q={quote_plus(slug)}")
            found = re.findall(r'href="/admin/reports/report/(\d+)/change/', page.text)
            if len(set(found)) != 1:
                raise StepFailed(f"the admin's search for {slug} found {len(set(found))} reports")
            self.pks[slug] = int(found[0])
        return self.pks[slug]

    def correct(self, editor: Browser, reviewer: Browser, slug: str, number: int, out: dict):
        started = time.perf_counter()
        pk = self.find(editor, slug)
        change = f"/admin/reports/report/{pk}/change/"
        token = out["token"] = f"lc{self.run_id}x{number}"
        note = f"Corrected the figure in the summary (load test, correction {number})."

        # The editor corrects the summary in the change form and saves.
        data = form_data(editor.get(change).text, "report_form")
        fields = dict(data)
        if fields.get("slug") != slug:
            raise StepFailed(f"the change form has slug {fields.get('slug')!r}, not {slug!r}")
        data = [(k, corrected(v, token) if k == "summary" else v) for k, v in data]
        out["edit_ms"], _ = editor.submit(
            change, [*data, ("_continue", "Save and continue editing")], expect_location=change
        )

        # ... and submits it for review.
        submit = f"/admin/reports/report/{pk}/transition/submit/"
        form = editor.get(submit)
        out["submit_ms"], _ = editor.submit(
            submit,
            {"comment": "Figure corrected.", "csrfmiddlewaretoken": csrf_token(form.text)},
            expect_location=change,
        )

        # The reviewer publishes it with the change note readers will see.
        publish = f"/admin/reports/report/{pk}/transition/publish/"
        form = reviewer.get(publish)
        out["publish_ms"], landed = reviewer.submit(
            publish,
            {"note": note, "kind": "correction", "csrfmiddlewaretoken": csrf_token(form.text)},
            expect_location=change,
        )
        version = re.search(r"Published version (\d+)", landed.text)
        if not version:
            raise StepFailed(f"no “Published version” after publishing: {page_errors(landed.text)}")
        out["version"] = int(version.group(1))
        published = time.perf_counter()

        # A reader, without cookies, must see the correction on the next request.
        out.update(self.read(slug, token, note, published))
        out["cycle_ms"] = (time.perf_counter() - started) * 1000

    def read(self, slug: str, token: str, note: str, published: float) -> dict:
        import httpx

        path = f"/reports/{quote(slug)}/"
        first = None
        with httpx.Client(base_url=self.server.url, timeout=BROWSER_TIMEOUT) as reader:
            while True:
                response = reader.get(path)
                seen = (
                    response.status_code == 200 and token in response.text and note in response.text
                )
                if first is None:
                    first = {
                        "reader_status": response.status_code,
                        "reader_cache": response.headers.get("X-Factually-Cache", "-"),
                        "reader_ms": response.elapsed.total_seconds() * 1000,
                        "visible_at_once": seen,
                    }
                if response.status_code != 200:
                    raise StepFailed(f"the corrected report's page answered {response.status_code}")
                waited = time.perf_counter() - published
                if seen or waited > FRESHNESS_PATIENCE:
                    return {
                        **first,
                        "visible": seen,
                        "visible_after_ms": waited * 1000 if seen else None,
                    }
                time.sleep(0.25)


# The load ----------------------------------------------------------------------------------


def readers(server: run.Server, paths_file: Path) -> tuple[dict, str]:
    """wrk over the mix for SECONDS: its figures, and its own report (latency distribution)."""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--timeout=10s",
        "--latency",
        f"--script={LUA}",
        server.url + "/",
        "--",
        str(paths_file),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    text = []
    figures = None
    for line in result.stdout.splitlines():
        if line.startswith("LOAD_JSON "):
            figures = json.loads(line.removeprefix("LOAD_JSON "))
        else:
            text.append(line)
    if figures is None:
        sys.exit(f"wrk failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")
    figures["statuses"] = {int(k): v for k, v in sorted(figures["statuses"].items())}
    return figures, "\n".join(text)


KINDS = ["report", "list", "search", "admin", "other"]


def kind_of(path: str, query: str) -> str:
    if path.startswith(("/admin/", "/accounts/")):
        return "admin"
    if path.startswith("/reports/") and path != "/reports/":
        return "report"
    if "q=" in query:
        return "search"
    if path in {"/", "/reports/"} or path.startswith(("/verdicts/", "/topics/")):
        return "list"
    return "other"


def server_side(access_log: Path, offset: int) -> dict:
    """Per kind of page, from gunicorn's access log after `offset`: requests, statuses, how
    the page cache served them and the time the worker spent (what wrk's latency adds to it
    is the wait for a worker)."""
    times: dict[str, list[float]] = {}
    statuses: dict[str, Counter] = {}
    caching: dict[str, Counter] = {}
    failed: list[str] = []
    with access_log.open() as lines:
        lines.seek(offset)
        for line in lines:
            parts = line.rstrip("\n").split(" ", 5)
            if len(parts) < 5:
                continue
            status, micros, cache, _method, path = parts[:5]
            query = parts[5] if len(parts) > 5 and parts[5] != "-" else ""
            kind = kind_of(path, query)
            times.setdefault(kind, []).append(int(micros) / 1000)
            statuses.setdefault(kind, Counter())[status] += 1
            caching.setdefault(kind, Counter())[cache] += 1
            if not status.startswith(("2", "3")) and len(failed) < 20:
                failed.append(f"{status} {path}{'?' + query if query else ''}")
    kinds = {}
    for kind, values in sorted(times.items(), key=lambda item: KINDS.index(item[0])):
        values.sort()
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": run.percentile(values, 50),
            "p99_ms": run.percentile(values, 99),
            "max_ms": values[-1],
            "statuses": dict(sorted(statuses[kind].items())),
            "cache": dict(caching[kind].most_common()),
            "busy_s": sum(values) / 1000,
        }
    return {"kinds": kinds, "failed": failed}


def pages_after(server: run.Server, publications: list[dict]) -> list[str]:
    """Every corrected report, once the load is over: still at its address (200), showing
    its latest correction. Returns what is wrong."""
    import httpx

    latest = {}
    for publication in publications:
        if "version" in publication:
            latest[publication["slug"]] = publication["token"]
    problems = []
    with httpx.Client(base_url=server.url, timeout=60) as reader:
        for slug, token in latest.items():
            response = reader.get(f"/reports/{quote(slug)}/")
            if response.status_code != 200:
                problems.append(f"/reports/{slug}/ answered {response.status_code} after the load")
            elif token not in response.text:
                problems.append(f"/reports/{slug}/ no longer shows its latest correction")
    return problems


# Reporting ---------------------------------------------------------------------------------


def summary_of(publications: list[dict]) -> dict:
    done = [p for p in publications if "version" in p]
    publish = sorted(p["publish_ms"] for p in done)
    cycles = sorted(p["cycle_ms"] for p in done)
    return {
        "attempted": len(publications),
        "published": len(done),
        "failed": [
            f"#{p['number']} {p['slug']}: {p['error']}" for p in publications if "error" in p
        ],
        "visible_at_once": sum(p["visible_at_once"] for p in done),
        "not_visible_at_once": [p["number"] for p in done if not p["visible_at_once"]],
        "publish_p50_ms": statistics.median(publish) if publish else None,
        "publish_max_ms": publish[-1] if publish else None,
        "cycle_p50_ms": statistics.median(cycles) if cycles else None,
        "cycle_max_ms": cycles[-1] if cycles else None,
    }


def failures_of(results: dict) -> list[str]:
    load = results["load"]
    failures = []
    sockets = {k: load[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")}
    if any(sockets.values()):
        failures.append("socket errors: " + ", ".join(f"{k} {v}" for k, v in sockets.items()))
    if load["not_ok"]:
        failures.append(f"{load['not_ok']} responses neither 2xx nor 3xx")
    if load["p99_ms"] > P99_MS:
        failures.append(f"p99 {load['p99_ms']:.0f} ms above the bound of {P99_MS:.0f} ms")
    newsroom = results["publications"]
    if results["newsroom_failure"]:
        failures.append(f"the newsroom stopped: {results['newsroom_failure']}")
    if not newsroom["published"]:
        failures.append("no correction was published")
    failures += [f"publication {failure}" for failure in newsroom["failed"]]
    if newsroom["not_visible_at_once"]:
        failures.append(
            "corrections not visible at once: #"
            + ", #".join(map(str, newsroom["not_visible_at_once"]))
        )
    failures += results["after"]
    return failures


def ms(value) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def markdown(results: dict) -> str:
    m, c, load = results["machine"], results["config"], results["load"]
    pubs = results["publications"]
    statuses = ", ".join(f"{status}: {n}" for status, n in load["statuses"].items())
    lines = [
        f"# Factually load test, {results['started']}",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']},"
        f" Python {m['python']}; commit {m['commit']}. Shared machine: load average (1 min)"
        f" {results['load_before']:.1f} before, {results['load_after']:.1f} after.",
        f"Data: {c['reports']} generated reports ({c['database']}). gunicorn: {c['workers']} sync"
        f" workers {' '.join(c['gunicorn_args'])}, CACHE_URL={c['cache_url']}. wrk from the same"
        f" machine: -t{c['threads']} -c{c['connections']} -d{c['seconds']}s over"
        f" {c['paths']} paths ({c['kinds']['report']} report pages, {c['kinds']['list']} list"
        f" pages, {c['kinds']['search']} searches), while the newsroom corrected"
        f" {c['corrected']} reports in the admin, {c['editor_pause']:g} s apart.",
        "",
        "| figure | measured |",
        "| --- | ---: |",
        f"| requests | {load['requests']} in {load['seconds']:.1f} s |",
        f"| requests per second | {load['rps']:.1f} |",
        f"| latency p50 / p90 / p99 / max | {load['p50_ms']:.0f} / {load['p90_ms']:.0f} /"
        f" {load['p99_ms']:.0f} / {load['max_ms']:.0f} ms |",
        f"| socket errors (connect, read, write, timeout) | {load['connect_errors']},"
        f" {load['read_errors']}, {load['write_errors']}, {load['timeouts']} |",
        f"| responses neither 2xx nor 3xx | {load['not_ok']} |",
        f"| statuses | {statuses} |",
        f"| corrections published | {pubs['published']} of {pubs['attempted']} attempted |",
        f"| visible to readers at once | {pubs['visible_at_once']} of {pubs['published']} |",
        f"| publish (POST) latency p50 / max | {ms(pubs['publish_p50_ms'])} /"
        f" {ms(pubs['publish_max_ms'])} |",
        f"| whole correction (edit, submit, publish, read) p50 / max |"
        f" {ms(pubs['cycle_p50_ms'])} / {ms(pubs['cycle_max_ms'])} |",
        f"| p99 bound | {P99_MS:.0f} ms: {'met' if load['p99_ms'] <= P99_MS else 'NOT MET'} |",
        "",
        "Server time per kind of page (gunicorn's access log: the worker's time, without the"
        " wait for a worker that wrk's latency includes):",
        "",
        "| kind | requests | p50 ms | p99 ms | max ms | worker time | statuses | page cache |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for kind, figures in results["server"]["kinds"].items():
        codes = ", ".join(f"{s}: {n}" for s, n in figures["statuses"].items())
        cache = ", ".join(f"{how} {n}" for how, n in figures["cache"].items())
        lines.append(
            f"| {kind} | {figures['requests']} | {figures['p50_ms']:.1f} | {figures['p99_ms']:.1f}"
            f" | {figures['max_ms']:.1f} | {figures['busy_s']:.1f} s | {codes} | {cache} |"
        )
    lines += [
        "",
        "Corrections (edit: saving the change form; publish: the reviewer's POST; reader: the"
        " first anonymous request for the page afterwards):",
        "",
        "| # | report | version | edit ms | submit ms | publish ms | reader | visible at once |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for p in results["publication_list"]:
        if "error" in p:
            lines.append(f"| {p['number']} | {p['slug'][:40]}… | failed: {p['error']} | | | | | |")
            continue
        lines.append(
            f"| {p['number']} | {p['slug'][:40]}… | {p['version']} | {p['edit_ms']:.0f} |"
            f" {p['submit_ms']:.0f} | {p['publish_ms']:.0f} | {p['reader_status']}"
            f" {p['reader_cache']}, {p['reader_ms']:.0f} ms |"
            f" {'yes' if p['visible_at_once'] else 'NO'} |"
        )
    lines += ["", "## Verdict", ""]
    if results["failures"]:
        lines += [f"- FAILED: {failure}" for failure in results["failures"]]
    else:
        lines.append(
            f"Passed: no errors, p99 {load['p99_ms']:.0f} ms within {P99_MS:.0f} ms, every"
            " correction visible at once."
        )
    if results["server"]["failed"]:
        lines += ["", "Failed requests (access log): " + "; ".join(results["server"]["failed"])]
    lines += ["", "wrk's own report:", "", "```", results["wrk_text"].strip(), "```", ""]
    return "\n".join(lines)


# The test ----------------------------------------------------------------------------------


def main() -> None:
    os.chdir(ROOT)
    run.ensure_tools()
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    env = {**run.base_env(), "DATABASE_URL": DATABASE_URL, "CACHE_URL": CACHE_URL}
    run.ensure_database(env, REPORTS)
    log("collectstatic")
    run.manage(env, "collectstatic", "--no-input", "-v0")
    mix = read_pages(env)
    paths_file = run.RESULTS / f"load-{stamp}-paths.txt"
    paths_file.write_text("\n".join(mix["paths"]) + "\n")
    log(
        f"the mix: {len(mix['paths'])} paths ({mix['kinds']['report']} report pages,"
        f" {mix['kinds']['list']} list pages, {mix['kinds']['search']} searches)"
    )

    import redis

    redis.Redis.from_url(CACHE_URL).flushdb()
    access_log = run.RESULTS / f"load-{stamp}-access.log"
    server = run.Server(
        env,
        run.RESULTS / f"load-{stamp}-gunicorn.log",
        extra_args=(f"--access-logfile={access_log}", f"--access-logformat={ACCESS_FORMAT}"),
    )
    try:
        server.wait_ready()
        run_id = stamp.replace("-", "")
        accounts = {}
        for role in ("editor", "reviewer"):
            email = f"load-{role}-{stamp}@newsroom.example"
            accounts[role] = (email, make_account(env, server, role, email))
            log(f"{role}: {email} (createuser --link, password set through the link)")
        log(f"warm-up: the {len(mix['paths'])} paths once each")
        run.warm_up(server, mix["paths"])

        newsroom = Newsroom(server, accounts, mix["corrected"], run_id)
        load_before = os.getloadavg()[0]
        offset = access_log.stat().st_size
        log(
            f"load: {SECONDS} s, {CONNECTIONS} connections, while the newsroom publishes"
            f" corrections of {len(mix['corrected'])} reports"
        )
        newsroom.start()
        figures, wrk_text = readers(server, paths_file)
        newsroom.finish()
        load_after = os.getloadavg()[0]
        server.drain()
        after = pages_after(server, newsroom.publications)
        if newsroom.is_alive():
            after.append("the newsroom was still at work long after the load stopped")
    finally:
        server.stop()

    figures["not_ok"] = sum(n for s, n in figures["statuses"].items() if not 200 <= s < 400)
    results = {
        "started": started.isoformat(timespec="seconds"),
        "machine": run.machine(),
        "config": {
            "reports": mix["reports"],
            "database": urlsplit(DATABASE_URL).path.lstrip("/"),
            "cache_url": CACHE_URL,
            "workers": run.WORKERS,
            "gunicorn_args": run.GUNICORN_ARGS,
            "threads": THREADS,
            "connections": CONNECTIONS,
            "seconds": SECONDS,
            "paths": len(mix["paths"]),
            "kinds": mix["kinds"],
            "corrected": len(mix["corrected"]),
            "editor_pause": EDITOR_PAUSE,
            "p99_bound_ms": P99_MS,
        },
        "load_before": load_before,
        "load_after": load_after,
        "load": figures,
        "wrk_text": wrk_text,
        "server": server_side(access_log, offset),
        "publications": summary_of(newsroom.publications),
        "publication_list": newsroom.publications,
        "newsroom_failure": newsroom.failure,
        "after": after,
    }
    results["failures"] = failures_of(results)
    text = markdown(results)
    (run.RESULTS / f"load-{stamp}.md").write_text(text)
    (run.RESULTS / f"load-{stamp}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False)
    )
    print()
    print(text)
    log(f"Results: bench/results/load-{stamp}.md and .json")
    if results["failures"]:
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:] == ["pages"]:
        pages_main()
    else:
        main()
