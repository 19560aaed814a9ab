"""What a web page says about itself: title, authors, date, publisher, DOI, language.

`describe(url)` fetches the page through the one URL guard (sources.fetching: public
addresses only, redirects followed hop by hop, a short timeout) and reads at most
`MAX_BYTES` of HTML: the metadata publishers put in the head comes first, so the rest of a
huge page is ignored. Each field is taken from the first of these that has it, the order
reference managers (Zotero, Citoid) trust them in:

1. Highwire / Google Scholar `citation_*` meta tags (journals, repositories);
2. schema.org JSON-LD (news sites), `@graph` arrays and `@id` references included;
3. Open Graph (`og:*`, `article:*`);
4. Dublin Core (`DC.*`) and `<meta name="author">`;
5. the `<title>`, less a " | Site name" suffix.

The page is parsed with the standard library's streaming `html.parser`: linear in the
input, and it never gives up on broken HTML. A page that cannot be read gives a
`PageMeta` whose `error` says why, in words an editor understands.
"""

from __future__ import annotations

import codecs
import datetime
import html
import json
import re
import time
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx

from sources import fetching
from sources.normalisation import domain_of, normalise_doi

TIMEOUT = 5.0
MAX_BYTES = 1_000_000
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
USER_AGENT = "Mozilla/5.0 (compatible; FactuallyCitation/1.0)"

# What we keep of one value: titles are at most 500 characters in the library.
_VALUE_LENGTH = 1_000
_MAX_AUTHORS = 50
_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " • ")
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_ISO_DATE_RE = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:$|[T\s])")
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y")
# schema.org types whose headline or name is the page's own title.
_WORK_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "ScholarlyArticle",
        "MedicalScholarlyArticle",
        "BlogPosting",
        "Report",
        "TechArticle",
        "MedicalWebPage",
        "WebPage",
        "CreativeWork",
        "Dataset",
        "Book",
        "Chapter",
        "VideoObject",
        "PodcastEpisode",
    }
)


@dataclass
class PageMeta:
    """What the page at `url` (the final URL, after redirects) says about itself."""

    url: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published_on: datetime.date | None = None
    publisher_name: str = ""  # who publishes it: JSON-LD publisher, citation_publisher, journal
    site_name: str = ""  # the website's own name: og:site_name, or the title's suffix
    doi: str = ""
    language: str = ""
    error: str = ""  # why the page could not be read; empty when it was
    truncated: bool = False  # only the first MAX_BYTES were read

    @property
    def fetched(self) -> bool:
        return not self.error

    @property
    def publisher(self) -> str:
        """The best name for the publisher: the page's publisher, else the site's name."""
        return self.publisher_name or self.site_name


def describe(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> PageMeta:
    """Fetch `url` through the URL guard and read its metadata; `error` says what failed."""
    try:
        final_url, body, charset, truncated = _fetch(url, timeout=timeout, max_bytes=max_bytes)
    except _Unreadable as exc:
        return PageMeta(url=exc.url or url, error=str(exc))
    except fetching.BlockedAddress:
        return PageMeta(url=url, error="The address is not on the public internet.")
    except fetching.RefusedURL:
        return PageMeta(url=url, error="Only http and https links are fetched.")
    except httpx.TimeoutException:
        return PageMeta(url=url, error="The site took too long to answer.")
    except httpx.TooManyRedirects:
        return PageMeta(url=url, error="The link redirects too many times.")
    except httpx.HTTPError as exc:
        return PageMeta(url=url, error=f"The site could not be reached ({type(exc).__name__}).")
    meta = parse(_decode(body, charset), url=final_url)
    meta.truncated = truncated
    return meta


class _Unreadable(Exception):
    def __init__(self, message: str, url: str = ""):
        super().__init__(message)
        self.url = url


def _fetch(url: str, *, timeout: float, max_bytes: int) -> tuple[str, bytes, str, bool]:
    """(final URL, at most `max_bytes` of the body, declared charset, whether it was cut)."""
    # Asking for no compression; a server that compresses anyway is inflated here, bounded,
    # so a small compressed body cannot fill the memory.
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml;q=0.9",
        "Accept-Encoding": "identity",
    }
    deadline = time.monotonic() + timeout * 3  # a slow trickle of bytes ends too
    with (
        fetching.guarded_client(timeout=timeout, headers=headers) as client,
        fetching.fetch(client, "GET", url) as response,
    ):
        final_url = str(response.url)
        if response.status_code >= 400:
            raise _Unreadable(f"The site answered {response.status_code}.", final_url)
        mime = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if mime and mime not in HTML_TYPES:
            raise _Unreadable(f"The link is not a web page ({mime}).", final_url)
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in {"identity", "gzip", "x-gzip", "deflate"}:
            raise _Unreadable(f"The page is sent in an unreadable encoding ({encoding}).")
        # wbits 47: a gzip or zlib header, whichever the server sent.
        inflate = None if encoding == "identity" else zlib.decompressobj(wbits=47)
        body = bytearray()
        for chunk in response.iter_raw(chunk_size=65_536):
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk, max_bytes + 1 - len(body))
                except zlib.error:
                    raise _Unreadable("The page arrived garbled.", final_url) from None
            body += chunk
            if len(body) > max_bytes:
                return final_url, bytes(body[:max_bytes]), response.charset_encoding or "", True
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the page kept trickling in")
    return final_url, bytes(body), response.charset_encoding or "", False


def _decode(body: bytes, charset: str) -> str:
    """The body as text: the HTTP charset, else a `<meta charset>` near the top, else UTF-8."""
    if not charset:
        match = _CHARSET_RE.search(body[:4096])
        charset = match.group(1).decode("ascii") if match else "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    if charset.lower().replace("_", "-") in {"iso-8859-1", "latin-1", "latin1", "us-ascii"}:
        charset = "cp1252"  # what browsers read these labels as (WHATWG Encoding)
    return body.decode(charset, errors="replace")


# Parsing ---------------------------------------------------------------------------------


class _HeadReader(HTMLParser):
    """Collects meta tags, JSON-LD scripts, `<html lang>` and the first `<title>`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.json_ld: list[str] = []
        self.title: str | None = None
        self.lang = ""
        self._in_title = False
        self._title_parts: list[str] = []
        self._in_json_ld = False
        self._script_parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if self._in_title:
            self._end_title()  # an unclosed <title> ends where the next tag starts
        if tag == "meta":
            key = attributes.get("property") or attributes.get("name") or ""
            content = attributes.get("content", "")
            if key and content.strip():
                values = self.meta.setdefault(key.strip().lower(), [])
                if len(values) < _MAX_AUTHORS:
                    values.append(content.strip()[:_VALUE_LENGTH])
        elif tag == "title" and self.title is None:
            self._in_title = True
        elif tag == "script":
            kind = attributes.get("type", "").split(";", 1)[0].strip().lower()
            self._in_json_ld = kind == "application/ld+json"
            self._script_parts = []
        elif tag == "html" and not self.lang:
            self.lang = attributes.get("lang", "") or attributes.get("xml:lang", "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_json_ld = False

    def handle_endtag(self, tag):
        if tag == "title" and self._in_title:
            self._end_title()
        elif tag == "script" and self._in_json_ld:
            self.json_ld.append("".join(self._script_parts))
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_title:
            if sum(map(len, self._title_parts)) < _VALUE_LENGTH:
                self._title_parts.append(data)
        elif self._in_json_ld:
            self._script_parts.append(data)

    def _end_title(self):
        self._in_title = False
        self.title = _clean("".join(self._title_parts))

    def close(self):
        super().close()
        if self._in_title:
            self._end_title()


def parse(text: str, *, url: str) -> PageMeta:
    """The metadata of the page whose HTML is `text`, found at `url`."""
    reader = _HeadReader()
    reader.feed(text)
    reader.close()
    meta, ld = reader.meta, _json_ld(reader.json_ld)

    def first(*keys: str) -> str:
        for key in keys:
            for value in meta.get(key, ()):
                if _clean(value):
                    return _clean(value)
        return ""

    site_name = first("og:site_name", "application-name") or ld.get("site_name", "")
    publisher_name = (
        first("citation_publisher", "citation_journal_title", "dc.publisher")
        or ld.get("publisher", "")
        or first("citation_conference_title")
    )
    title = first("citation_title") or ld.get("title", "") or first("og:title", "twitter:title")
    title = title or first("dc.title")
    page_title = reader.title or ""
    if not site_name and page_title:
        site_name = _suffix_site_name(page_title, url)
    title = title or page_title
    title = _without_site_name(title, [site_name, publisher_name])

    authors = _names(meta.get("citation_author", ())) or ld.get("authors", [])
    authors = authors or _names(v for v in meta.get("article:author", ()) if not _looks_like_url(v))
    authors = authors or _names(meta.get("dc.creator", ())) or _names(meta.get("author", ()))

    published_on = None
    for value in [
        *meta.get("citation_publication_date", ()),
        *meta.get("citation_date", ()),
        *meta.get("citation_online_date", ()),
        ld.get("date", ""),
        *meta.get("article:published_time", ()),
        *meta.get("dc.date", ()),
        *meta.get("dc.date.issued", ()),
    ]:
        published_on = parse_date(value)
        if published_on:
            break

    doi = normalise_doi(first("citation_doi", "dc.identifier", "prism.doi") or ld.get("doi", ""))
    if not re.match(r"^10\.\d{4,9}/\S+$", doi):
        doi = ""
    language = first("citation_language", "dc.language") or ld.get("language", "")
    language = language or _clean(reader.lang) or first("og:locale").replace("_", "-")
    return PageMeta(
        url=url,
        title=title,
        authors=authors[:_MAX_AUTHORS],
        published_on=published_on,
        publisher_name=publisher_name,
        site_name=site_name,
        doi=doi,
        language=language[:35],
    )


def _json_ld(scripts: list[str]) -> dict:
    """The work a page's JSON-LD describes: title, authors, date, publisher, site name."""
    nodes: list[dict] = []
    for text in scripts:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue  # broken JSON-LD is common: ignore that script, keep the page
        _collect(data, nodes, depth=0)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}

    def resolve(value):
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in by_id:
            return by_id[value["@id"]]
        return value

    def types(node) -> set[str]:
        kind = node.get("@type", ())
        return {kind} if isinstance(kind, str) else {k for k in kind if isinstance(k, str)}

    works = [n for n in nodes if types(n) & _WORK_TYPES]
    # An article over the page that holds it: the WebPage is the fallback.
    works.sort(key=lambda n: (not (types(n) - {"WebPage", "CreativeWork"}), "headline" not in n))
    found: dict = {}
    for node in works:
        title = _text(node.get("headline")) or _text(node.get("name"))
        if title and "title" not in found:
            found["title"] = title
        authors = node.get("author") or node.get("creator")
        if authors and "authors" not in found:
            authors = authors if isinstance(authors, list) else [authors]
            names = [_author_name(resolve(a)) for a in authors]
            if names := [n for n in _names(names) if not _looks_like_url(n)]:
                found["authors"] = names
        date = _text(node.get("datePublished")) or _text(node.get("dateCreated"))
        if date and "date" not in found:
            found["date"] = date
        publisher = resolve(node.get("publisher"))
        if isinstance(publisher, list) and publisher:
            publisher = resolve(publisher[0])
        name = _text(publisher.get("name")) if isinstance(publisher, dict) else _text(publisher)
        if name and "publisher" not in found:
            found["publisher"] = name
        language = _text(node.get("inLanguage"))
        if language and "language" not in found:
            found["language"] = language
        identifier = node.get("identifier") or node.get("sameAs")
        if isinstance(identifier, str) and "doi" not in found and "10." in identifier:
            found["doi"] = identifier
    for node in nodes:
        if "WebSite" in types(node) and _text(node.get("name")):
            found.setdefault("site_name", _text(node.get("name")))
            break
    return found


def _author_name(author) -> str:
    """A Person or Organization's name, or the author given as a plain string."""
    return _text(author.get("name")) if isinstance(author, dict) else _text(author)


def _collect(data, nodes: list[dict], depth: int) -> None:
    """Every object of a JSON-LD document that has a type, through lists and `@graph`."""
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data[:200]:
            _collect(item, nodes, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data or "@id" in data:
            nodes.append(data)
        if "@graph" in data:
            _collect(data["@graph"], nodes, depth + 1)
        # An article nested in the page that holds it ("mainEntity").
        for key in ("mainEntity", "mainEntityOfPage"):
            if isinstance(data.get(key), dict) and "@type" in data[key]:
                _collect(data[key], nodes, depth + 1)


def _text(value) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    if isinstance(value, dict):
        value = value.get("@value", "")
    # Many sites HTML-escape the strings of their JSON-LD ("Q&amp;A").
    return _clean(html.unescape(value)) if isinstance(value, str) else ""


def _clean(text: str) -> str:
    return " ".join(text.split())[:_VALUE_LENGTH]


def _names(values) -> list[str]:
    """Distinct non-empty names, in order."""
    seen: dict[str, None] = {}
    for value in values:
        name = _clean(value) if isinstance(value, str) else ""
        if name and name.lower() not in {s.lower() for s in seen}:
            seen[name] = None
    return list(seen)[:_MAX_AUTHORS]


def _looks_like_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://", "www."))


def _suffix_site_name(title: str, url: str) -> str:
    """The site's name when the title ends with one: " | Name", or " - Name" naming the domain.

    A pipe almost always sets off the site's name; a dash often belongs to the title itself
    ("Vaccines - what you need to know"), so then the name must match the domain's letters.
    """
    squeezed_domain = re.sub(r"[^a-z0-9]", "", domain_of(url))
    for separator in _SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if not found or not head.strip() or not tail.strip() or len(tail) > 60:
            continue
        squeezed = re.sub(r"[^a-z0-9]", "", tail.lower())
        if separator == " | " or (len(squeezed) >= 3 and squeezed in squeezed_domain):
            return tail.strip()
    return ""


def _without_site_name(title: str, names: list[str]) -> str:
    """`title` less a trailing (or leading) " | Site name" that repeats the site's name."""
    for name in filter(None, names):
        for separator in _SEPARATORS:
            if title.lower().endswith((separator + name).lower()):
                return title[: -len(separator + name)].strip()
            if title.lower().startswith((name + separator).lower()):
                return title[len(name + separator) :].strip()
    return title


def parse_date(value: str) -> datetime.date | None:
    """A date from ISO forms ("2024-03-05", "2024-03-05T10:00:00Z", "2024/03/05") or "March 5,
    2024"; None for anything else, including a year or month alone."""
    value = (value or "").strip()
    match = _ISO_DATE_RE.match(value)
    try:
        if match:
            return datetime.date(*map(int, match.groups()))
        for form in _TEXT_DATE_FORMATS:
            try:
                return datetime.datetime.strptime(value[:40], form).date()
            except ValueError:
                continue
    except ValueError:  # 2024-02-30
        return None
    return None
