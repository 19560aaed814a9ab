"""Citing from the report editor: find a source (or add one from a URL) and cite it.

`search` finds active sources by title, publisher or URL; `resolve_url` says what a pasted
link is in the library, or reads the page (sources.pagemeta) to prepare a new source that
the editor confirms; `cite` adds the report's next reference. The admin's "Cite a source"
panel only asks and shows.

Citing does not raise the report's `edit_version` (reports.locking): a change form opened
before the reference was added only posts back the references it was given, so saving it
keeps the new one. It does count as an edit (`updated_at`, `last_edited_by`, a revision).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlsplit

import reversion
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from reports import citations, contributing
from reports.models import Reference, Report
from sources import pagemeta
from sources.models import Publisher, Source
from sources.normalisation import (
    IDENTIFIER_PARSERS,
    InvalidIdentifier,
    clean_domain,
    domain_of,
    normalise_doi,
    normalise_url,
)

SEARCH_LIMIT = 10
# Shorter queries match too much to be useful; longer ones are cut, word by word.
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8

# Hosts that resolve DOIs: their domain says nothing about the publisher.
DOI_RESOLVERS = frozenset({"doi.org", "dx.doi.org"})
# A DOI: "10.", a registrant code, "/", a suffix (as sources.interchange reads them).
DOI_RE = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
_URL_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_validate_url = URLValidator(schemes=["http", "https"])

_TITLE_LENGTH = Source._meta.get_field("title").max_length
_URL_LENGTH = Source._meta.get_field("url").max_length
_PUBLISHER_LENGTH = Publisher._meta.get_field("name").max_length
_FILE_SUFFIX_RE = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cfm|pdf)$", re.IGNORECASE)
_WORD_SPLIT_RE = re.compile(r"[-_+.,~\s]+")


class CiteRefused(Exception):
    """The source cannot be cited in this report; the message says why, in an editor's words."""


class AlreadyCited(Exception):
    """The report cites the source already, as `reference`."""

    def __init__(self, reference: Reference):
        self.reference = reference
        super().__init__(f"Already cited as reference [{reference.number}].")


# Finding sources --------------------------------------------------------------------------


def search(query: str, *, report: Report | None = None, limit: int = SEARCH_LIMIT) -> list[Source]:
    """Active sources matching every word of `query` in their title, publisher, authors or URL.

    Best first: the exact title, titles starting with the query, titles containing it, the
    publisher's name or domain, then the rest; newest first within each. Each source carries
    `cite_count`, how many reports cite it, and with `report`, `cited_as`: the number it is
    cited under there, or None. One query.
    """
    query = " ".join(query.split())[:MAX_QUERY_LENGTH]
    if len(query) < MIN_QUERY_LENGTH:
        return []
    matches = Q()
    for term in query.split()[:MAX_TERMS]:
        matches &= (
            Q(title__icontains=term)
            | Q(publisher__name__icontains=term)
            | Q(publisher__domain__icontains=term)
            | Q(authors__icontains=term)
            | Q(url__icontains=term)
        )
    exact = Q(title__iexact=query)
    doi = normalise_doi(query)
    if DOI_RE.match(doi):
        matches |= Q(doi=doi)
        exact |= Q(doi=doi)
    # An ISBN, PubMed ID, arXiv ID or handle, however written, finds its source first.
    for name, parse in IDENTIFIER_PARSERS.items():
        try:
            value = parse(query) if name != "doi" else ""
        except InvalidIdentifier:
            continue
        if value:
            same = Q(**{f"{name}__iexact": value})
            matches |= same
            exact |= same
    sources = Source.objects.active().select_related("publisher").filter(matches)
    sources = sources.annotate(
        rank=Case(
            When(exact, then=Value(0)),
            When(title__istartswith=query, then=Value(1)),
            When(title__icontains=query, then=Value(2)),
            When(
                Q(publisher__name__iexact=query) | Q(publisher__domain__iexact=query),
                then=Value(3),
            ),
            When(publisher__name__icontains=query, then=Value(4)),
            default=Value(5),
            output_field=IntegerField(),
        )
    )
    sources = sources.annotate(cite_count=_cite_count())
    if report is not None:
        sources = sources.annotate(cited_as=_cited_as(report))
    return list(
        sources.order_by("rank", F("published_on").desc(nulls_last=True), "title", "pk")[:limit]
    )


def _cite_count() -> Coalesce:
    """How many reports cite the source: a subquery, so the search stays one query."""
    reports = (
        Reference.objects.filter(source=OuterRef("pk"))
        .order_by()
        .values("source")
        .annotate(n=Count("report", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(reports, output_field=IntegerField()), 0)


def number_for(source_id: int, references: list[tuple[int, int | None]]) -> tuple[int, bool]:
    """The marker that cites `source_id` given the form's (number, source id) references:
    (the number of its reference, True) if one cites it already, else (the next free
    number, False): one more than the highest, as `cite` numbers saved references.
    """
    for number, cited in sorted(references, key=lambda ref: ref[0]):
        if cited == source_id:
            return number, True
    return max((number for number, _ in references), default=0) + 1, False


def _cited_as(report: Report) -> Subquery:
    return Subquery(
        Reference.objects.filter(report=report, source=OuterRef("pk"))
        .order_by("number")
        .values("number")[:1]
    )


def looks_like_url(text: str) -> bool:
    """Whether the editor pasted a link (or a DOI) rather than typed words to search for."""
    text = text.strip()
    return bool(_URL_RE.match(text)) or bool(DOI_RE.match(normalise_doi(text)))


def _as_url(text: str) -> str:
    text = text.strip()
    doi = normalise_doi(text)
    if not _URL_RE.match(text) and DOI_RE.match(doi):
        return f"https://doi.org/{doi}"
    if text.lower().startswith("www."):
        return f"https://{text}"
    return text


@dataclass(frozen=True)
class Resolution:
    """What a pasted URL is in the library: an existing `source`, or a new one to add."""

    url: str  # normalised, as it would be stored
    source: Source | None  # the record with this URL or DOI (it may be retired)
    publisher: Publisher | None  # for a new source: the publisher of the URL's domain
    title: str  # for a new source: from the page, else guessed from the URL's path
    doi: str = ""
    # For a new source, what its page says (sources.pagemeta), for the editor to confirm.
    authors: tuple[str, ...] = ()
    published_on: datetime.date | None = None
    publisher_name: str = ""  # the page's; a publisher to add when `publisher` is None
    publisher_domain: str = ""  # the domain the page was found at (after a doi.org redirect)
    language: str = ""
    page_error: str = ""  # why the page could not be read, if it was fetched and could not

    @property
    def is_new(self) -> bool:
        return self.source is None

    def initial(self) -> dict:
        """The new-source form's initial data."""
        return {
            "url": self.url,
            "title": self.title,
            "authors": "\n".join(self.authors),
            "published_on": self.published_on,
            "publisher_name": self.publisher.name if self.publisher else self.publisher_name,
            "publisher_domain": self.publisher_domain,
            "doi": self.doi,
            "language": self.language,
        }


def resolve_url(url: str, *, report: Report | None = None, fetch: bool = True) -> Resolution:
    """The source a pasted `url` (or DOI) is in the library, or what adding it would create.

    Matches the normalised URL (tracking parameters dropped), the DOI of a doi.org link,
    then the same URL over http/https or with/without a trailing slash. Raises
    ValidationError for anything but an http(s) URL. For a new source, with `fetch`, the
    page is read (through the URL guard) for its title, authors, date, publisher and DOI;
    a page's DOI or final URL may still find a source in the library. Without `fetch`, or
    when the page cannot be read, the title is a guess from the URL's path.
    """
    url = _as_url(url)
    _validate_url(url)
    normalised = normalise_url(url)
    domain = domain_of(normalised)
    doi = normalise_doi(normalised) if domain in DOI_RESOLVERS else ""
    if doi and not DOI_RE.match(doi):
        doi = ""
    if found := _find(normalised, doi, report=report):
        return Resolution(url=normalised, source=found, publisher=None, title="", doi=doi)
    page = pagemeta.describe(normalised) if fetch else None
    if page is None or not page.fetched:
        publisher = None if domain in DOI_RESOLVERS else Publisher.objects.for_domain(domain)
        return Resolution(
            url=normalised,
            source=None,
            publisher=publisher,
            title=guess_title(normalised),
            doi=doi,
            publisher_domain="" if domain in DOI_RESOLVERS else domain,
            page_error=page.error if page else "",
        )
    # The page may be a record's under another address (a redirect) or its DOI.
    final = normalise_url(page.url)
    if found := _find(final, doi or page.doi, report=report):
        return Resolution(url=normalised, source=found, publisher=None, title="", doi=doi)
    page_domain = domain_of(final)
    page_domain = "" if page_domain in DOI_RESOLVERS else page_domain
    return Resolution(
        url=normalised,
        source=None,
        publisher=match_publisher(page.publisher, page_domain),
        title=(page.title or guess_title(normalised))[:_TITLE_LENGTH],
        doi=doi or page.doi,
        authors=tuple(page.authors),
        published_on=page.published_on,
        publisher_name=page.publisher[:_PUBLISHER_LENGTH],
        publisher_domain=page_domain,
        language=page.language,
    )


def _find(url: str, doi: str, *, report: Report | None) -> Source | None:
    """The library's record of `url` (or a variant of it) or of `doi`."""
    same = Q(url__in=_url_variants(url))
    if doi:
        same |= Q(doi=doi)
    candidates = Source.objects.select_related("publisher").filter(same)
    if report is not None:
        candidates = candidates.annotate(cited_as=_cited_as(report))
    found = list(candidates[:10])
    # The exact URL first, then the DOI, then a variant; the oldest record of each.
    found.sort(key=lambda s: (s.url != url, not (doi and s.doi == doi), s.pk))
    return found[0] if found else None


def match_publisher(name: str, domain: str) -> Publisher | None:
    """The publisher a page names (`name`), else the publisher of `domain`.

    The page's own name comes first: an agency's story on a portal is the agency's. A name
    that several publishers share is settled by the domain.
    """
    by_domain = Publisher.objects.for_domain(domain) if domain else None
    named = list(Publisher.objects.filter(name__iexact=name.strip()).order_by("pk")[:2])
    if len(named) == 1:
        return named[0]
    return by_domain or (named[0] if named else None)


def _url_variants(url: str) -> list[str]:
    """`url` and the same page over the other scheme and with(out) a trailing slash."""
    scheme, _, rest = url.partition("://")
    if scheme not in {"http", "https"}:
        return [url]
    rests = {rest}
    # Not for a bare host ("example.org/" is stored with its slash) nor after a query.
    if "?" not in rest and "/" in rest.removesuffix("/"):
        rests.add(rest.removesuffix("/") if rest.endswith("/") else rest + "/")
    return sorted(f"{s}://{r}" for s in ("https", "http") for r in rests)


def guess_title(url: str) -> str:
    """A title guessed from the last meaningful segment of the URL's path, else its host.

    "https://example.org/news/vaccine-trial-results-2021-4456789.html" → "Vaccine trial
    results 2021". Only a starting point: the editor checks it before it is saved.
    """
    parts = urlsplit(url)
    for segment in reversed([s for s in parts.path.split("/") if s]):
        stem = _FILE_SUFFIX_RE.sub("", unquote(segment))
        words = [w for w in _WORD_SPLIT_RE.split(stem) if w]
        # Long numbers are article ids, not words; a year is a word.
        words = [w for w in words if not (w.isdigit() and len(w) > 4)]
        letters = sum(c.isalpha() for w in words for c in w)
        if letters >= 3 and not _looks_like_id(words):
            title = " ".join(words)
            return (title[:1].upper() + title[1:])[:_TITLE_LENGTH]
    return domain_of(url)[:_TITLE_LENGTH]


def _looks_like_id(words: list[str]) -> bool:
    """A single token mixing letters and digits ("a1b2c3d4", "idUSKBN2B20X1") names nothing."""
    return len(words) == 1 and any(c.isdigit() for c in words[0]) and len(words[0]) >= 8


@dataclass
class Lookup:
    """What the Cite panel shows for what the editor typed: matches, or a pasted URL."""

    query: str = ""
    sources: list[Source] = field(default_factory=list)
    resolution: Resolution | None = None
    error: str = ""

    @property
    def too_short(self) -> bool:
        return self.resolution is None and 0 < len(self.query) < MIN_QUERY_LENGTH


def lookup(query: str, *, report: Report | None = None) -> Lookup:
    """Search for `query`, or resolve it when it is a URL or DOI (see `resolve_url`)."""
    query = " ".join(query.split())[:_URL_LENGTH]
    if not query:
        return Lookup()
    if looks_like_url(query):
        try:
            return Lookup(query=query, resolution=resolve_url(query, report=report))
        except ValidationError:
            error = "That does not look like a web address (http or https)."
            return Lookup(query=query, error=error)
    return Lookup(query=query, sources=search(query, report=report))


# Adding sources and citing them --------------------------------------------------------------


def add_source(
    *,
    url: str,
    title: str,
    by,
    report: Report | None = None,
    authors: str = "",
    published_on: datetime.date | None = None,
    publisher_name: str = "",
    publisher_domain: str = "",
    doi: str = "",
    language: str = "",
) -> tuple[Source, bool]:
    """The library's source for `url` (or `doi`), added with these details if it is not there:
    (source, created).

    The publisher is the one named `publisher_name`, else the one of `publisher_domain` or
    the URL's domain; a name the library does not know is added as a publisher with that
    domain (for those who may add publishers). The internal notes say where the record came
    from, so curators can check it.
    """
    _require(by, "sources.add_source")
    resolution = resolve_url(url, fetch=False)
    doi = resolution.doi or normalise_doi(doi)
    if resolution.source is None and doi:
        resolution = replace(resolution, source=_find(resolution.url, doi, report=None))
    if resolution.source is not None:
        return resolution.source, False
    who = f" by {by.get_username()}" if by is not None else ""
    where = f" while citing it in “{report.claim}”" if report is not None else ""
    source = Source(
        title=title.strip()[:_TITLE_LENGTH],
        url=resolution.url,
        authors="\n".join(line.strip() for line in authors.splitlines() if line.strip()),
        published_on=published_on,
        language=language.strip(),
        doi=doi,
        notes=f"Added from the report editor{who}{where}; check its details.",
    )
    source.full_clean(validate_unique=False, validate_constraints=False, exclude=["publisher"])
    domain = clean_domain(publisher_domain) or resolution.publisher_domain
    try:
        with transaction.atomic():
            source.publisher = _publisher(publisher_name, domain, by=by)
            source.save()
    except IntegrityError:
        # Added meanwhile by someone else: that record is the one to cite.
        existing = _find(resolution.url, doi, report=None)
        if existing is None:
            raise
        return existing, False
    return source, True


def _publisher(name: str, domain: str, *, by) -> Publisher | None:
    """The publisher `match_publisher` finds, or a new one named `name` at `domain`."""
    publisher = match_publisher(name, domain)
    if publisher is not None or not (name and domain):
        return publisher
    if by is not None and not by.has_perm("sources.add_publisher"):
        return None
    publisher = Publisher(name=name[:_PUBLISHER_LENGTH], domain=domain)
    publisher.full_clean()
    publisher.save()
    return publisher


def cite(report: Report, source: Source, *, by) -> Reference:
    """Add a reference to `source` under the report's next number, and return it.

    Raises AlreadyCited when the report cites the source already, CiteRefused when the
    source is retired. The report's row is locked, so two editors citing at once get
    different numbers; `edit_version` stays, so open forms of the report still save.
    """
    _require(by, "reports.change_report")
    with transaction.atomic():
        locked = Report.objects.select_for_update(of=("self",)).get(pk=report.pk)
        # Locked too, so the source cannot be retired between this check and the insert.
        current = Source.objects.select_for_update().filter(pk=source.pk).first()
        if current is None:
            raise CiteRefused("That source is no longer in the library: find it again.")
        if not current.is_active:
            reason = f" ({current.retired_reason.strip()})" if current.retired_reason else ""
            raise CiteRefused(
                f"“{current.title}” is retired{reason} and cannot be cited: cite another source."
            )
        existing = locked.references.filter(source=current).order_by("number").first()
        if existing is not None:
            raise AlreadyCited(existing)
        number = locked.references.aggregate(n=Coalesce(Max("number"), 0))["n"] + 1
        if not citations.is_valid_number(number):
            raise CiteRefused(f"This report has too many references to add [{number}].")
        with reversion.create_revision():
            reference = Reference.objects.create(report=locked, number=number, source=current)
            # An edit, for review and scheduling (updated_at) and the four-eyes rule
            # (a contribution); not a new edit_version: see the module docstring.
            Report.objects.filter(pk=locked.pk).update(updated_at=timezone.now(), last_edited_by=by)
            contributing.record(locked, by=by, what=f"Added reference [{number}].")
            locked.refresh_from_db()
            reversion.add_to_revision(locked)  # follows its sections, references, questions
            reversion.set_user(by)
            reversion.set_comment(f"Added reference [{number}] citing “{current.title}”.")
    return reference


@transaction.atomic
def cite_url(report: Report, *, url: str, title: str, by, **details) -> tuple[Reference, bool]:
    """Cite the source at `url`, adding it to the library (with `title` and the other
    `details` of `add_source`) if it is not there.

    Returns (reference, whether the source was added). All or nothing: a source added for
    a citation that is then refused is not kept. AlreadyCited and CiteRefused as `cite`.
    """
    _require(by, "reports.change_report")
    source, created = add_source(url=url, title=title, by=by, report=report, **details)
    return cite(report, source, by=by), created


def _require(user, permission: str) -> None:
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(f"{user} lacks the permission {permission}.")


# Reviewing reports -------------------------------------------------------------------------


def citing_retired_sources(queryset=None):
    """Reports whose references point at a retired source (their next publish is refused)."""
    queryset = Report.objects.all() if queryset is None else queryset
    retired = Reference.objects.filter(report=OuterRef("pk"), source__status=Source.Status.RETIRED)
    return queryset.filter(Exists(retired))
