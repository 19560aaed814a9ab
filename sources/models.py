"""The source library: publishers and the sources that reports cite."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone

from sources.normalisation import (
    IDENTIFIER_PARSERS,
    InvalidIdentifier,
    clean_domain,
    domain_of,
    is_generic_host,
    match_keys,
    normalise_identifier,
    normalise_url,
    parent_domains,
    url_variants,
)

# The longest free text the library takes: far beyond real use (README, "Pathological text").
AUTHORS_LENGTH = 5_000
NOTES_LENGTH = 10_000
REASON_LENGTH = 2_000
WHERE_TO_FIND_LENGTH = 500

# What identifies a source besides its title: two records sharing any of these are one.
MATCHED_FIELDS = ("url", *IDENTIFIER_PARSERS)
# Identifier → how readers follow it; {} is the identifier as stored.
RESOLVERS = {
    "doi": "https://doi.org/{}",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "arxiv_id": "https://arxiv.org/abs/{}",
    "handle": "https://hdl.handle.net/{}",
}


def _limited(length: int, help_text: str = "") -> dict:
    # As reports.models.limited (sources does not depend on reports): the validator makes
    # model validation refuse longer text, not only the form.
    said = f"At most {length:,} characters."
    return {
        "max_length": length,
        "validators": [MaxLengthValidator(length)],
        "help_text": f"{help_text} {said}" if help_text else said,
    }


class PublisherQuerySet(models.QuerySet):
    def for_domain(self, domain: str) -> Publisher | None:
        """The publisher of `domain` or of its nearest parent (news.bbc.co.uk → bbc.co.uk);
        none for a host of many publishers' documents (doi.org, handle.net: GENERIC_HOSTS)."""
        candidates = parent_domains(clean_domain(domain))
        if not candidates or is_generic_host(domain):
            return None
        matches = {
            d: p
            for p in self.filter(Q(domain__in=candidates) | Q(domains__domain__in=candidates))
            .prefetch_related("domains")
            .distinct()
            for d in [p.domain, *(alias.domain for alias in p.domains.all())]
        }
        return next((matches[d] for d in candidates if d in matches), None)


class Publisher(models.Model):
    """Who publishes sources: an outlet, institution or website, known by its web domain."""

    name = models.CharField(max_length=200)
    domain = models.CharField(
        max_length=253,
        blank=True,
        help_text='Web domain without "www.", e.g. "bbc.co.uk". New sources are matched by it. '
        "Empty for a journal or publisher known only by name (its articles link to doi.org).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublisherQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="publisher_name_lower")]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~Q(domain=""), name="publisher_domain_unique"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.domain = clean_domain(self.domain)
        super().save(*args, **kwargs)


class PublisherDomain(models.Model):
    """Another web domain of a publisher (an old domain, a country site, a short link)."""

    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = "other domain"

    def __str__(self):
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = clean_domain(self.domain)
        super().save(*args, **kwargs)


class SourceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Source.Status.ACTIVE)

    def with_url(self, url: str):
        """Sources whose URL is `url` once both are normalised (http and https alike)."""
        return self.matching(url=url)

    def matching(self, **values: str):
        """Sources that are the one `values` describe (url=, doi=, isbn=, pmid=, arxiv_id=,
        handle=): any shared URL (http and https alike) or identifier. None if all are blank."""
        q = Q(pk__in=[])
        for field, value in values.items():
            q |= _matching_q(field, [value])
        return self.filter(q)

    def matching_many(self, values: dict[str, set[str]], *, batch: int = 500) -> dict:
        """(field, match key) → source, for the sources sharing a field with any of `values`
        (field → raw values), in batched queries: how importers look a whole file up."""
        found = {}
        for field, raw in values.items():
            raw = sorted(v for v in raw if v and v.strip())
            for start in range(0, len(raw), batch):
                for source in self.filter(_matching_q(field, raw[start : start + batch])):
                    found[field, source.match_keys[field]] = source
        return found


def _matching_q(field: str, values: list[str]) -> Q:
    """Sources whose `field` matches one of `values` (raw; normalised here)."""
    if field not in MATCHED_FIELDS:
        raise ValueError(f"Sources are not matched by {field!r}.")
    values = [v for v in values if v and v.strip()]
    if not values:
        return Q(pk__in=[])
    if field == "url":
        return Q(url__in=[u for v in values for u in url_variants(v)])
    stored = [normalise_identifier(field, v) for v in values]
    if field in ("doi", "handle"):
        # As the unique constraints compare them (lower case, not blank), so their partial
        # indexes answer: an index scan rather than reading every row (one DOI among 20,000
        # sources on PostgreSQL: 13 ms → 0.06 ms).
        return Q(In(Lower(field), [v.lower() for v in stored])) & ~Q(**{field: ""})
    return Q(**{f"{field}__in": stored})


class Source(models.Model):
    """One record in the library: a document that reports cite through their references."""

    class Kind(models.TextChoices):
        NEWS_ARTICLE = "news_article", "News article"
        ACADEMIC_PAPER = "academic_paper", "Academic paper"
        BOOK = "book", "Book"
        GOVERNMENT_DOCUMENT = "government_document", "Government document"
        NGO_REPORT = "ngo_report", "NGO or think-tank report"
        PRIMARY_DOCUMENT = "primary_document", "Primary document or testimony"
        DATASET = "dataset", "Dataset"
        AUDIO_VIDEO = "audio_video", "Audio or video"
        REFERENCE_WORK = "reference_work", "Reference work"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    class UrlStatus(models.TextChoices):
        """As Wikipedia's cite web `url-status`: with unfit or usurped, readers get the archive."""

        LIVE = "live", "Live"
        DEAD = "dead", "Dead"
        UNFIT = "unfit", "Unfit (the page now shows something unsuitable)"
        USURPED = "usurped", "Usurped (the domain now belongs to someone else)"

    title = models.CharField(max_length=500)
    url = models.URLField(
        "URL",
        max_length=2000,
        blank=True,
        help_text="Stored normalised: tracking parameters and fragments are dropped. "
        "Leave blank for a book, print article, filing or interview without a stable link.",
    )
    publisher = models.ForeignKey(
        Publisher,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sources",
    )
    authors = models.TextField(blank=True, **_limited(AUTHORS_LENGTH, "One author per line."))
    published_on = models.DateField("publication date", null=True, blank=True)
    # Empty when nobody recorded it (an imported 2008 paper was not "accessed" on import day).
    accessed_on = models.DateField("access date", null=True, blank=True, default=timezone.localdate)
    kind = models.CharField(max_length=32, choices=Kind, default=Kind.OTHER)
    language = models.CharField(
        max_length=35, blank=True, help_text="Language of the source, e.g. “en”, “de”, “pt-BR”."
    )
    doi = models.CharField(
        "DOI",
        max_length=255,
        blank=True,
        help_text="For papers: “10.1000/xyz123” or a short DOI “10/abc12”; stored without "
        "“https://doi.org/”.",
    )
    isbn = models.CharField(
        "ISBN",
        max_length=13,
        blank=True,
        help_text="For books: ISBN-10 or ISBN-13, hyphens allowed; stored as ISBN-13.",
    )
    pmid = models.CharField("PubMed ID", max_length=10, blank=True)
    arxiv_id = models.CharField(
        "arXiv ID",
        max_length=64,
        blank=True,
        help_text="“2101.00001” or “hep-th/9901001”; stored without version.",
    )
    handle = models.CharField(
        max_length=255, blank=True, help_text="A Handle System handle: “prefix/suffix”."
    )
    where_to_find = models.CharField(
        "where to find it",
        blank=True,
        **_limited(
            WHERE_TO_FIND_LENGTH,
            "Shown to readers. For a source without URL or identifier, say where it can be "
            "consulted, e.g. “Interview with the author, 12 May 2026; recording on file”.",
        ),
    )
    archive_url = models.URLField("archive URL", max_length=2000, blank=True)
    archive_date = models.DateField("archive date", null=True, blank=True)
    url_status = models.CharField(
        "URL status", max_length=16, choices=UrlStatus, default=UrlStatus.LIVE
    )
    notes = models.TextField(
        "internal notes", blank=True, **_limited(NOTES_LENGTH, "Never shown to readers.")
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_reason = models.TextField("reason for retiring", blank=True, **_limited(REASON_LENGTH))
    # Link health, written by sources.linkcheck.
    link_checked_at = models.DateTimeField(
        "link last checked", null=True, blank=True, editable=False
    )
    link_status_code = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    link_final_url = models.URLField(max_length=2000, blank=True, editable=False)
    link_error = models.CharField(max_length=300, blank=True, editable=False)
    link_failures = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="Failed checks in a row; dead after several."
    )
    archive_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    archive_status_code = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    archive_error = models.CharField(max_length=300, blank=True, editable=False)
    is_demo = models.BooleanField(
        "demo content", default=False, help_text="Loaded by load_demo; safe to delete."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        permissions = [
            ("merge_source", "Can merge duplicate sources"),
            ("retire_source", "Can retire and reinstate sources"),
        ]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["url_status", "link_checked_at"], name="source_link_health"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="source_url_unique"),
            models.UniqueConstraint(Lower("doi"), condition=~Q(doi=""), name="source_doi_unique"),
            models.UniqueConstraint(
                fields=["isbn"], condition=~Q(isbn=""), name="source_isbn_unique"
            ),
            models.UniqueConstraint(
                fields=["pmid"], condition=~Q(pmid=""), name="source_pmid_unique"
            ),
            models.UniqueConstraint(
                fields=["arxiv_id"], condition=~Q(arxiv_id=""), name="source_arxiv_unique"
            ),
            models.UniqueConstraint(
                Lower("handle"), condition=~Q(handle=""), name="source_handle_unique"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.normalise()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("sources:detail", kwargs={"pk": self.pk})

    def normalise(self) -> None:
        """Store the URL and identifiers in their one form (see sources.normalisation)."""
        self.url = normalise_url(self.url)
        for field in IDENTIFIER_PARSERS:
            setattr(self, field, normalise_identifier(field, getattr(self, field)))

    def clean_fields(self, exclude=None):
        # Normalised first: "978-0-306-40615-7" is too long for the field only as written.
        self.normalise()
        exclude = set(exclude or ())
        errors = {}
        for field, parse in IDENTIFIER_PARSERS.items():
            if field in exclude:
                continue
            try:
                parse(getattr(self, field))
            except InvalidIdentifier as error:
                errors[field] = [str(error)]
        try:
            # A field that is not its identifier is not also told it is too long.
            super().clean_fields(exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean(self):
        # Normalise before validate_unique runs, so duplicates are caught in forms too.
        self.normalise()
        if self.publisher_id is None and self.url:
            self.publisher = Publisher.objects.for_domain(domain_of(self.url))
        self.clean_retirement()

    def validate_constraints(self, exclude=None):
        # Another record with this URL (http or https) or identifier is named on the field,
        # rather than as a broken constraint; the constraints still guard the rest.
        exclude = set(exclude or ())
        errors = self.matching_errors(exclude=exclude)
        try:
            super().validate_constraints(exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def matching_errors(self, *, exclude=()) -> dict[str, list[str]]:
        """Field → why another record is already this source (its URL, http or https, or an
        identifier), so a curator is sent to it rather than make a second one."""
        errors = {}
        others = Source.objects.exclude(pk=self.pk) if self.pk else Source.objects.all()
        keys = self.match_keys
        for field, value in ((f, getattr(self, f)) for f in MATCHED_FIELDS if f in keys):
            if field in exclude:
                continue
            other = others.matching(**{field: value}).first()
            # A saved record whose URL differs only in scheme from another (written before
            # they were matched) stays editable: the duplicate finder offers the pair to merge.
            if other is not None and field == "url" and self.pk and other.url != self.url:
                continue
            if other is not None:
                label = self._meta.get_field(field).verbose_name
                errors[field] = [f"“{other}” (ID {other.pk}) has this {label} already."]
        return errors

    def clean_retirement(self):
        """A retired source says why: curators and the archive import check it."""
        if self.status == self.Status.RETIRED and not self.retired_reason.strip():
            raise ValidationError({"retired_reason": "Say why the source is retired."})

    @property
    def reader_url(self) -> str:
        """The link readers follow: the archive when the original is unfit or usurped."""
        if self.url_status in {self.UrlStatus.UNFIT, self.UrlStatus.USURPED} and self.archive_url:
            return self.archive_url
        return self.url

    @property
    def match_keys(self) -> dict[str, str]:
        """Field → what another record must share on that field to be this source."""
        return match_keys(**{field: getattr(self, field) for field in MATCHED_FIELDS})

    @property
    def identifier_links(self) -> list[tuple[str, str, str]]:
        """(label, identifier, link or "") for each identifier the source has, in order."""
        return identifier_links(self)

    @property
    def has_identifier(self) -> bool:
        return any(getattr(self, field) for field in IDENTIFIER_PARSERS)

    @property
    def link_status(self) -> str:
        """The link's state as curators read it: "no URL", "unchecked" while the link
        checker has never answered for a link nobody marked by hand, else its URL status."""
        if not self.url:
            return "no URL"
        if self.url_status == self.UrlStatus.LIVE and self.link_checked_at is None:
            return "unchecked"
        return self.get_url_status_display()

    @property
    def links_original(self) -> bool:
        return self.url_status not in {self.UrlStatus.UNFIT, self.UrlStatus.USURPED}

    @property
    def needs_attention(self) -> bool:
        """A dead link with no archive: readers cannot follow the evidence."""
        return self.url_status == self.UrlStatus.DEAD and not self.archive_url

    @property
    def author_list(self) -> list[str]:
        return [line.strip() for line in self.authors.splitlines() if line.strip()]

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


def identifier_links(source) -> list[tuple[str, str, str]]:
    """(label, identifier, link or "") of each identifier `source` carries (a Source, or
    anything with the same attributes, such as a frozen citation), in the order shown."""
    found = []
    for field in IDENTIFIER_PARSERS:
        value = getattr(source, field, "")
        if value:
            label = Source._meta.get_field(field).verbose_name
            label = label if label.isupper() or " " in label else label.capitalize()
            link = RESOLVERS[field].format(quote(value, safe="/")) if field in RESOLVERS else ""
            found.append((label, value, link))
    return found


class SourceMerge(models.Model):
    """The record of a duplicate merged into a kept source; old links to it redirect there."""

    kept = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="merges")
    merged_id = models.PositiveBigIntegerField(
        unique=True, help_text="The ID the merged source had, for redirects."
    )
    merged_title = models.CharField(max_length=500)
    merged_url = models.URLField(max_length=2000, blank=True)
    merged_data = models.JSONField(help_text="Every field of the merged source, as it was.")
    references_moved = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"“{self.merged_title}” merged into “{self.kept}”"
