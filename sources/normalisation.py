"""URL normalisation: the one definition of "the same URL" for the source library."""

from __future__ import annotations

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


def normalise_doi(doi: str) -> str:
    """A DOI without resolver prefix or "doi:", lower-cased: DOIs are case-insensitive."""
    doi = doi.strip()
    for prefix in (
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ):
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :]
            break
    return doi.strip().lower()
