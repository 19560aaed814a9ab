"""Reading what a pasted page says about itself (sources.pagemeta), from pages written the
way publishers write them, served on 127.0.0.1; and the Cite panel prefilled from them.

Host names resolve through a stub of socket.getaddrinfo: the few a test names go to
127.0.0.1, every other name fails to resolve, so nothing here reaches the internet.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import socket
import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from reports.admin.forms import NewSourceForm
from reports.newsroom import citing
from sources import fetching, pagemeta
from sources.models import Publisher, Source
from tests.conftest import make_publisher, make_report, serving

NEWS = """<!DOCTYPE html>
<html lang="en-GB" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Council approves new cycle lanes after heated debate - The Daily Courier</title>
<link rel="canonical" href="https://courier.example/news/cycle-lanes-12345">
<meta property="og:type" content="article">
<meta property="og:title" content="Council approves new cycle lanes after heated debate">
<meta property="og:site_name" content="The Daily Courier">
<meta property="article:published_time" content="2024-03-05T10:00:00+00:00">
<meta property="article:author" content="https://www.facebook.com/dailycourier">
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({"page": "article"});</script>
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "@id": "https://courier.example/#website", "name": "The Daily Courier"},
  {"@type": "NewsMediaOrganization", "@id": "https://courier.example/#org",
   "name": "Courier Media Group", "logo": {"@type": "ImageObject", "url": "/logo.png"}},
  {"@type": "WebPage", "@id": "https://courier.example/news/cycle-lanes-12345",
   "name": "Council approves new cycle lanes after heated debate - The Daily Courier"},
  {"@type": "NewsArticle", "headline": "Council approves new cycle lanes after heated debate",
   "datePublished": "2024-03-05T10:00:00Z", "dateModified": "2024-03-06T08:00:00Z",
   "author": [{"@type": "Person", "name": "Ana Silva", "url": "https://courier.example/ana"},
              {"@id": "https://courier.example/#bo"}],
   "publisher": {"@id": "https://courier.example/#org"},
   "isPartOf": {"@id": "https://courier.example/#website"}},
  {"@type": "Person", "@id": "https://courier.example/#bo", "name": "Bo Chen"}
]}
</script>
</head>
<body><header><nav>…</nav></header><article><h1>Council approves new cycle lanes</h1>
<p>The council voted 7–4 on Tuesday…</p></article></body></html>
"""

JOURNAL = """<!doctype html>
<html><head>
<title>Sleep and memory in adolescents | Journal of Sleep Studies</title>
<meta name="citation_title" content="Sleep duration and memory consolidation in adolescents">
<meta name="citation_author" content="García, María">
<meta name="citation_author" content="Okafor, Chidi">
<meta name="citation_author" content="Lindqvist, Erik">
<meta name="citation_publication_date" content="2023/07/14">
<meta name="citation_journal_title" content="Journal of Sleep Studies">
<meta name="citation_publisher" content="Example Academic Press">
<meta name="citation_doi" content="10.1234/jss.2023.0567">
<meta name="citation_language" content="en">
<meta name="citation_pdf_url" content="/articles/567.pdf">
<meta property="og:title" content="Sleep and memory">
<meta property="og:site_name" content="ExampleJournals Online">
</head><body><div id="app"></div></body></html>
"""

ONLY_TITLE = "<html><head><title>\n  Article title | Mayo Clinic\n</title></head><body>Hi</body>"

# Unclosed tags, a script whose string holds "</title>", entities, a tag inside the title.
BROKEN = """<html><head><meta charset=utf-8>
<script>var t = "</title><title>Not this one</title>"; if (a < b && c > d) {}</script>
<title>Caf&eacute; &amp; bar &ndash; &quot;a review&quot; &#x2014; part&nbsp;2
<meta name=author content="Zo&euml; Ng">
<body><div><p>Unclosed <b>bold <i>italic <table><tr><td>cell
"""

LATIN1 = "<html><head><title>Ação de saúde pública: é fácil?</title></head></html>"
LATIN1_META = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    "<title>Über die Öffentlichkeit</title></head></html>"
)
HUGE_HEAD = (
    '<html><head><meta property="og:title" content="A very long page">'
    '<meta property="og:site_name" content="Long Reads"></head><body>'
)
HUGE_TAIL = "<title>Too late</title></body></html>"
HUGE_SIZE = 20_000_000


@functools.cache
def bomb() -> bytes:
    """Gzip sent though the client asked for none: 200 MB of spaces in about 200 KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header
    spaces = b" " * 1_000_000
    parts = [packer.compress(HUGE_HEAD.encode())]
    parts += [packer.compress(spaces) for _ in range(200)]
    return b"".join([*parts, packer.flush()])


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.stopping = threading.Event()
        self.hits: list[str] = []
        self.user_agents: list[str] = []

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def handle_error(self, request, client_address):
        pass  # a client that stopped reading leaves a broken pipe: expected here


class PageHandler(BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        path = urlsplit(self.path).path
        self.server.hits.append(path)
        self.server.user_agents.append(self.headers.get("User-Agent", ""))
        pages = {
            "/news": (NEWS.encode(), "text/html; charset=utf-8"),
            "/journal": (JOURNAL.encode(), "text/html"),
            "/articles/567": (JOURNAL.encode(), "text/html; charset=UTF-8"),
            "/mayo": (ONLY_TITLE.encode(), "text/html"),
            "/broken": (BROKEN.encode(), "text/html"),
            "/latin1": (LATIN1.encode("iso-8859-1"), "text/html; charset=iso-8859-1"),
            "/latin1-meta": (LATIN1_META.encode("iso-8859-1"), "text/html"),
            "/paper.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
        }
        redirects = {
            "/r1": "/r2",
            "/r2": self.server.url("/journal", host="journal.example"),
            "/10.1234/jss.2023.0567": self.server.url("/articles/567", host="journal.example"),
            "/private": "http://10.0.0.1/admin",
        }
        if path in pages:
            body, content_type = pages[path]
            return self._send(200, body, content_type)
        if path in redirects:
            self.send_response(301 if path == "/r1" else 302)
            self.send_header("Location", redirects[path])
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if path == "/huge":
            return self._huge()
        if path == "/bomb":
            body = bomb()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        if path == "/silent":
            self.server.stopping.wait(5)  # never answers within the test's timeout
            return None
        return self._send(404, b"<html><title>Page not found</title></html>", "text/html")

    def _send(self, code: int, body: bytes, content_type: str):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _huge(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(HUGE_SIZE))
        self.end_headers()
        self.wfile.write(HUGE_HEAD.encode())
        filler = ("<p>" + "lorem ipsum " * 80 + "</p>\n").encode()
        sent = len(HUGE_HEAD)
        try:
            while (
                sent < HUGE_SIZE - len(HUGE_TAIL) - len(filler)
                and not self.server.stopping.is_set()
            ):
                self.wfile.write(filler)
                sent += len(filler)
            self.wfile.write(HUGE_TAIL.encode())
        except OSError:
            pass  # the reader had enough


@pytest.fixture
def server():
    with serving(PageServer()) as server:
        yield server


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def names(monkeypatch, settings) -> dict:
    """Names that resolve to 127.0.0.1 (`names["doi.org"] = True`); no other name resolves."""
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = True  # as for a local demo
    local: dict = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if _is_address(host):  # an address, not a name: nothing to look up
            return real(host, port, *args, **kwargs)
        if host in local:
            return real("127.0.0.1", port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "tests resolve only the names they give")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return local


# Pages as publishers write them


def test_a_news_article_is_read_from_its_json_ld_graph_and_open_graph(server):
    meta = pagemeta.describe(server.url("/news"))

    assert meta.fetched
    assert meta.title == "Council approves new cycle lanes after heated debate"
    assert meta.authors == ["Ana Silva", "Bo Chen"]  # the @id reference followed
    assert meta.published_on == datetime.date(2024, 3, 5)
    assert meta.publisher_name == "Courier Media Group"
    assert meta.site_name == "The Daily Courier"
    assert meta.language == "en-GB"
    assert meta.url == server.url("/news")
    assert "Factually" in server.user_agents[0]


def test_a_journal_article_is_read_from_its_citation_tags(server):
    meta = pagemeta.describe(server.url("/journal"))

    # The citation_* tags win over Open Graph and the <title>.
    assert meta.title == "Sleep duration and memory consolidation in adolescents"
    assert meta.authors == ["García, María", "Okafor, Chidi", "Lindqvist, Erik"]
    assert meta.published_on == datetime.date(2023, 7, 14)
    assert meta.publisher_name == "Example Academic Press"
    assert meta.doi == "10.1234/jss.2023.0567"
    assert meta.language == "en"


def test_a_title_loses_the_site_name_it_ends_with(server):
    meta = pagemeta.describe(server.url("/mayo"))

    assert meta.title == "Article title"
    assert meta.site_name == "Mayo Clinic"
    assert meta.publisher == "Mayo Clinic"
    assert (meta.authors, meta.published_on, meta.doi) == ([], None, "")


def test_broken_html_is_read_as_a_browser_would(server):
    meta = pagemeta.describe(server.url("/broken"))

    # The script's "</title>" is script text; the unclosed title ends at the next tag.
    assert meta.title == 'Café & bar – "a review" — part 2'  # a no-break space is a space
    assert meta.authors == ["Zoë Ng"]


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/latin1", "Ação de saúde pública: é fácil?"),  # charset in the HTTP header
        ("/latin1-meta", "Über die Öffentlichkeit"),  # charset in a <meta> only
    ],
)
def test_a_page_in_another_charset_is_decoded_by_the_charset_it_declares(server, path, title):
    assert pagemeta.describe(server.url(path)).title == title


def test_only_the_start_of_a_huge_page_is_read(server):
    tracemalloc.start()
    try:
        started = time.monotonic()
        meta = pagemeta.describe(server.url("/huge"))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert meta.fetched
    assert meta.truncated
    assert meta.title == "A very long page"  # not the <title> 19 MB further on
    assert meta.site_name == "Long Reads"
    assert peak < 4 * pagemeta.MAX_BYTES + 1_000_000  # not the 20 MB the server sent
    assert elapsed < 3


def test_a_compressed_page_is_inflated_only_up_to_the_cap(server):
    assert len(bomb()) < 1_000_000
    tracemalloc.start()
    try:
        meta = pagemeta.describe(server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert meta.title == "A very long page"
    assert meta.truncated
    assert peak < 4 * pagemeta.MAX_BYTES + 1_000_000  # not the 200 MB it inflates to


def test_redirects_are_followed_to_the_page_and_its_address(server, names):
    names["journal.example"] = True

    meta = pagemeta.describe(server.url("/r1"))

    assert meta.url == server.url("/journal", host="journal.example")
    assert meta.doi == "10.1234/jss.2023.0567"
    assert server.hits == ["/r1", "/r2", "/journal"]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/paper.pdf", "The link is not a web page (application/pdf)."),
        ("/missing", "The site answered 404."),
    ],
)
def test_what_is_not_a_readable_page_says_why(server, path, error):
    meta = pagemeta.describe(server.url(path))

    assert not meta.fetched
    assert meta.error == error
    assert (meta.title, meta.authors) == ("", [])


def test_a_site_that_never_answers_is_given_up_on(server):
    started = time.monotonic()

    meta = pagemeta.describe(server.url("/silent"), timeout=0.3)

    assert meta.error == "The site took too long to answer."
    assert time.monotonic() - started < 2


def test_a_name_that_does_not_resolve_says_the_site_could_not_be_reached():
    meta = pagemeta.describe("https://nowhere.example/article")

    assert meta.error.startswith("The site could not be reached")


def test_the_guard_refuses_private_addresses(server, settings):
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = False

    meta = pagemeta.describe(server.url("/news"))

    assert meta.error == "The address is not on the public internet."
    assert server.hits == []


def test_a_redirect_into_the_private_network_is_not_followed(server, monkeypatch, settings):
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = False
    real = fetching.is_public_address
    # The test server plays a public site; every other address keeps the real rule.
    monkeypatch.setattr(fetching, "is_public_address", lambda a: a == "127.0.0.1" or real(a))

    meta = pagemeta.describe(server.url("/private"))

    assert meta.error == "The address is not on the public internet."
    assert server.hits == ["/private"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", datetime.date(2024, 3, 5)),
        ("2024-03-05T10:00:00Z", datetime.date(2024, 3, 5)),
        ("2024-03-05T23:30:00-05:00", datetime.date(2024, 3, 5)),  # the publisher's own day
        ("2024/3/5", datetime.date(2024, 3, 5)),
        ("March 5, 2024", datetime.date(2024, 3, 5)),
        ("5 March 2024", datetime.date(2024, 3, 5)),
        ("2024", None),  # a year alone is not a date
        ("2024-02-30", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_dates_are_read_in_iso_forms(value, expected):
    assert pagemeta.parse_date(value) == expected


# Pasting a link in the Cite panel


@pytest.fixture
def editor_http(writer) -> Client:
    client = Client()
    client.force_login(writer)
    return client


def cite_panel(client, report, query: str) -> str:
    url = reverse("admin:reports_report_cite", args=[report.pk])
    response = client.get(f"{url}?{urlencode({'q': query})}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_pasting_a_page_prefills_the_new_source_from_it(server, editor_http, writer):
    report = make_report(references=0)

    content = cite_panel(editor_http, report, server.url("/news?utm_source=twitter"))

    assert "Not in the library yet" in content
    assert 'value="Council approves new cycle lanes after heated debate"' in content
    assert ">\nAna Silva\nBo Chen</textarea>" in content
    assert 'type="date" name="published_on" value="2024-03-05"' in content
    assert 'name="publisher_name" value="Courier Media Group"' in content
    assert "Publisher: Courier Media Group (from the page; added to the library" in content
    assert Source.objects.count() == 0  # nothing is added by looking

    # The editor corrects the title and confirms: the source, its publisher and the reference.
    url = reverse("admin:reports_report_cite", args=[report.pk])
    form = NewSourceForm(initial=citing.resolve_url(server.url("/news")).initial())
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(title="Council approves cycle lanes", published_on="2024-03-05", create="1")
    response = editor_http.post(url, data, headers={"HX-Request": "true"})

    assert "Added as reference [1]" in response.content.decode()
    source = Source.objects.get()
    assert source.url == server.url("/news")
    assert source.title == "Council approves cycle lanes"
    assert source.author_list == ["Ana Silva", "Bo Chen"]
    assert source.published_on == datetime.date(2024, 3, 5)
    assert source.publisher.name == "Courier Media Group"
    assert source.publisher.domain == "127.0.0.1"
    assert report.references.get().source == source


@pytest.mark.django_db
def test_the_publisher_the_page_names_is_found_in_the_library_by_name(server, editor_http):
    report = make_report(references=0)
    press = make_publisher(name="Example Academic Press", domain="press.example")

    content = cite_panel(editor_http, report, server.url("/journal"))

    assert "Publisher: Example Academic Press (from the page)" in content
    assert citing.resolve_url(server.url("/journal")).publisher == press
    assert Publisher.objects.count() == 1


@pytest.mark.django_db
def test_a_doi_link_gets_its_details_and_publisher_from_the_page_it_leads_to(server, names):
    names["doi.org"] = names["journal.example"] = True

    resolution = citing.resolve_url(server.url("/10.1234/jss.2023.0567", host="doi.org"))

    assert resolution.is_new
    assert resolution.title == "Sleep duration and memory consolidation in adolescents"
    assert resolution.publisher_name == "Example Academic Press"
    assert resolution.publisher_domain == "journal.example"  # not doi.org
    assert resolution.doi == "10.1234/jss.2023.0567"


@pytest.mark.django_db
def test_a_page_whose_doi_is_in_the_library_finds_that_source(server):
    known = Source.objects.create(
        title="Sleep and memory",
        url="https://doi.org/10.1234/jss.2023.0567",
        doi="10.1234/jss.2023.0567",
    )

    assert citing.resolve_url(server.url("/journal")).source == known


@pytest.mark.django_db
def test_a_page_that_cannot_be_read_is_still_offered_to_fill_in_by_hand(server, editor_http):
    report = make_report(references=0)

    content = cite_panel(editor_http, report, server.url("/missing/measles-outbreak-report"))

    assert "Could not read the page: The site answered 404. Fill in its details by hand." in content
    assert 'value="Measles outbreak report"' in content  # guessed from the link
    assert "Add to the library and cite" in content


@pytest.mark.django_db
def test_what_a_page_says_is_shown_as_text_never_as_markup(server, editor_http, monkeypatch):
    report = make_report(references=0)
    hostile = (
        '<meta property="og:title" content="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'
        '<meta name="author" content="&lt;img src=x onerror=alert(2)&gt;">'
    )
    monkeypatch.setattr(pagemeta, "_decode", lambda body, charset: hostile)

    content = cite_panel(editor_http, report, server.url("/mayo"))

    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content
