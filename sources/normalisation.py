"""URL and identifier normalisation: the one definition of "the same source" for the library.

URLs are stored as given apart from what never changes the page (case of scheme and host,
default ports, fragments, tracking parameters); http and https are kept as written, since
that is where readers are sent, but count as the same URL when matching (`url_match_key`).
Identifiers are stored in one form each: DOIs lower-cased without resolver (short DOIs such
as 10/fqd6hj included), ISBNs as ISBN-13 digits, PMIDs as digits, arXiv ids without "arXiv:"
and version, handles as "prefix/suffix". The `parse_*` functions raise `InvalidIdentifier`
with a reader's message; the `normalise_*` ones never raise (bad input comes back stripped,
for the model's validation to report).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Query parameters that only track the reader; they never change what a page says.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "_hsenc",
        "_hsmi",
        "ref_src",
    }
)
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": "80", "https": "443"}


def is_tracking_parameter(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def normalise_url(url: str) -> str:
    """Return the canonical form of `url`: lower-cased scheme and host, no default
    port, no fragment, no tracking parameters; path and remaining query kept as given."""
    url = url.strip()
    if not url:
        return url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and DEFAULT_PORTS.get(scheme) != str(parts.port):
        host = f"{host}:{parts.port}"
    # Built from the hostname alone, so credentials pasted into a URL are dropped too.
    path = parts.path or "/"
    # Filter the raw pairs rather than re-encoding them, so the rest stays byte-for-byte.
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not is_tracking_parameter(unquote_plus(pair.partition("=")[0]))
    )
    return urlunsplit((scheme, host, path, query, ""))


def domain_of(url: str) -> str:
    """The host of `url` without a leading "www.", for matching sources to publishers."""
    host = (urlsplit(url.strip()).hostname or "").lower()
    return host.removeprefix("www.")


# Hosts that serve documents of many publishers (resolvers, repositories, archives, search
# engines): their domain says nothing about who published a source, so no publisher is
# matched or created by it; one made for handle.net would capture every later handle.net link.
GENERIC_HOSTS = frozenset(
    {
        "doi.org",
        "dx.doi.org",
        "handle.net",
        "hdl.handle.net",
        "arxiv.org",
        "export.arxiv.org",
        "archive.org",
        "web.archive.org",
        "archive.ph",
        "archive.today",
        "webcitation.org",
        "books.google.com",
        "scholar.google.com",
        "drive.google.com",
        "docs.google.com",
        "ncbi.nlm.nih.gov",
        "pubmed.ncbi.nlm.nih.gov",
        "europepmc.org",
        "semanticscholar.org",
        "researchgate.net",
        "academia.edu",
        "ssrn.com",
        "papers.ssrn.com",
        "jstor.org",
        "zenodo.org",
        "figshare.com",
        "osf.io",
        "worldcat.org",
        "purl.org",
        "n2t.net",
        "identifiers.org",
        "dropbox.com",
        "github.com",
    }
)


def is_generic_host(domain: str) -> bool:
    """Whether `domain` (or a parent of it) hosts many publishers' documents: see GENERIC_HOSTS."""
    domain = clean_domain(domain)
    return any(candidate in GENERIC_HOSTS for candidate in [domain, *parent_domains(domain)])


def clean_domain(domain: str) -> str:
    """A domain as publishers are keyed: lower case, no "www.", no trailing dot."""
    return domain.strip().lower().rstrip(".").removeprefix("www.")


def parent_domains(domain: str) -> list[str]:
    """`domain` and each parent with at least two labels, nearest first."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] if len(labels) > 1 else []


def url_match_key(url: str) -> str:
    """What two URLs share when they are the same page: the normalised URL without its
    scheme, so http://x/a and https://x/a match (an import never creates the other one)."""
    url = normalise_url(url)
    scheme, _, rest = url.partition("://")
    return "//" + rest if scheme in DEFAULT_PORTS else url


def url_variants(url: str) -> list[str]:
    """The stored URLs that match `url`: its normalised form first, then its other scheme."""
    url = normalise_url(url)
    if not url:
        return []
    scheme, _, rest = url.partition("://")
    other = {"http": "https", "https": "http"}.get(scheme)
    return [url, f"{other}://{rest}"] if other else [url]


class InvalidIdentifier(ValueError):
    """Text that is not the identifier it is given as; the message says why, for readers."""


def normalise_doi(doi: str) -> str:
    """A DOI without resolver prefix or "doi:", lower-cased: DOIs are case-insensitive."""
    doi = doi.strip()
    for prefix in (
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi.org/",
        "doi:",
    ):
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :]
            break
    return doi.strip().lower()


# "10.", a registrant code of digits (and dots), "/", a suffix; or a short DOI, "10/abcd".
DOI_PATTERN = re.compile(r"^10(?:\.\d{4,9}(?:\.\d+)*|)/\S+$")


def parse_doi(text: str) -> str:
    doi = normalise_doi(text)
    if doi and not DOI_PATTERN.match(doi):
        raise InvalidIdentifier(
            f"“{doi}” is not a DOI (they look like 10.1000/xyz123 or 10/abc12)."
        )
    return doi


def parse_isbn(text: str) -> str:
    """An ISBN-10 or ISBN-13, with or without hyphens and spaces, as ISBN-13 digits. Of
    several (Zotero writes "0306406152 9780306406157"), the first."""
    try:
        return _parse_one_isbn(text)
    except InvalidIdentifier:
        tokens = re.split(r"[\s,;]+", text.strip())
        if len(tokens) > 1:
            try:
                first = _parse_one_isbn(tokens[0])
            except InvalidIdentifier:
                first = ""
            if first:
                return first
        raise


def _parse_one_isbn(text: str) -> str:
    isbn = re.sub(r"[\s\-]", "", text.strip()).upper().removeprefix("ISBN:").removeprefix("ISBN")
    if not isbn:
        return ""
    if re.fullmatch(r"\d{9}[\dX]", isbn):
        digits = [10 if c == "X" else int(c) for c in isbn]
        if sum((10 - i) * d for i, d in enumerate(digits)) % 11:
            raise InvalidIdentifier(f"“{text.strip()}” is not an ISBN: its check digit is wrong.")
        isbn = "978" + isbn[:9]
        return isbn + str(_isbn13_check(isbn))
    if re.fullmatch(r"97[89]\d{10}", isbn):
        if int(isbn[-1]) != _isbn13_check(isbn[:12]):
            raise InvalidIdentifier(f"“{text.strip()}” is not an ISBN: its check digit is wrong.")
        return isbn
    raise InvalidIdentifier(
        f"“{text.strip()}” is not an ISBN (10 or 13 digits, e.g. 978-0-306-40615-7)."
    )


def _isbn13_check(first12: str) -> int:
    return (10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(first12)) % 10) % 10


def parse_pmid(text: str) -> str:
    """A PubMed ID: digits, possibly written "PMID: 123"."""
    pmid = re.sub(r"^pmid:?\s*", "", text.strip(), flags=re.IGNORECASE)
    if pmid and not re.fullmatch(r"[1-9]\d{0,9}", pmid):
        raise InvalidIdentifier(f"“{text.strip()}” is not a PubMed ID (digits, e.g. 31452104).")
    return pmid


# New style (since 2007): 0704.0001, 2101.00001; old style: hep-th/9901001, math.GT/0309136.
ARXIV_NEW = re.compile(r"\d{4}\.\d{4,5}")
ARXIV_OLD = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z]{2})?/\d{7}")


def parse_arxiv(text: str) -> str:
    """An arXiv identifier without "arXiv:", resolver or version: 2101.00001, hep-th/9901001."""
    arxiv = text.strip()
    arxiv = re.sub(r"^https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/", "", arxiv, flags=re.I)
    arxiv = re.sub(r"^arxiv:", "", arxiv, flags=re.IGNORECASE).removesuffix(".pdf")
    arxiv = re.sub(r"v\d+$", "", arxiv)
    if arxiv and not (ARXIV_NEW.fullmatch(arxiv) or ARXIV_OLD.fullmatch(arxiv)):
        raise InvalidIdentifier(
            f"“{text.strip()}” is not an arXiv identifier (e.g. 2101.00001 or hep-th/9901001)."
        )
    return arxiv


def parse_handle(text: str) -> str:
    """A Handle System handle, "prefix/suffix", without "hdl:" or the resolver."""
    handle = text.strip()
    handle = re.sub(r"^https?://hdl\.handle\.net/", "", handle, flags=re.IGNORECASE)
    handle = re.sub(r"^hdl:", "", handle, flags=re.IGNORECASE)
    if handle and not re.fullmatch(r"[^\s/]+/\S+", handle):
        raise InvalidIdentifier(
            f"“{text.strip()}” is not a handle (prefix/suffix, e.g. 2027/mdp.1)."
        )
    return handle


# Model field → its parser, in the order citations show them.
IDENTIFIER_PARSERS = {
    "doi": parse_doi,
    "isbn": parse_isbn,
    "pmid": parse_pmid,
    "arxiv_id": parse_arxiv,
    "handle": parse_handle,
}


def normalise_identifier(field: str, text: str) -> str:
    """`text` in the stored form of identifier `field`, or stripped if it is not valid."""
    try:
        return IDENTIFIER_PARSERS[field](text)
    except InvalidIdentifier:
        return text.strip()


def match_keys(**values: str) -> dict[str, str]:
    """Field → the key two sources share when that field says they are one: the URL
    (without scheme) and each identifier, normalised; blank ones left out."""
    keys = {}
    for field, value in values.items():
        if not value or not value.strip():
            continue
        if field == "url":
            keys[field] = url_match_key(value)
        elif field == "handle":
            keys[field] = normalise_identifier(field, value).lower()
        else:
            keys[field] = normalise_identifier(field, value)
    return keys
