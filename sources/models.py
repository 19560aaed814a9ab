"""The source library: publishers and the sources that reports cite."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from sources.normalisation import (
    clean_domain,
    domain_of,
    is_generic_host,
    normalise_doi,
    normalise_url,
    parent_domains,
)

# The longest free text the library takes: far beyond real use (README, "Pathological text").
AUTHORS_LENGTH = 5_000
NOTES_LENGTH = 10_000
REASON_LENGTH = 2_000


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
        """The publisher of `domain` or of its nearest parent (news.bbc.co.uk → bbc.co.uk)."""
        candidates = parent_domains(clean_domain(domain))
        if not candidates:
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
        """Sources whose URL is `url` once both are normalised."""
        return self.filter(url=normalise_url(url))


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
        unique=True,
        help_text="Stored normalised: tracking parameters and fragments are dropped.",
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
        help_text="For papers: “10.1000/xyz123”; stored without “https://doi.org/”.",
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
            models.UniqueConstraint(Lower("doi"), condition=~Q(doi=""), name="source_doi_unique"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.url = normalise_url(self.url)
        self.doi = normalise_doi(self.doi)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("sources:detail", kwargs={"pk": self.pk})

    def clean(self):
        # Normalise before validate_unique runs, so duplicates are caught in forms too.
        self.url = normalise_url(self.url)
        self.doi = normalise_doi(self.doi)
        if self.publisher_id is None and self.url and not is_generic_host(domain_of(self.url)):
            self.publisher = Publisher.objects.for_domain(domain_of(self.url))
        self.clean_retirement()

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


class SourceMerge(models.Model):
    """The record of a duplicate merged into a kept source; old links to it redirect there."""

    kept = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="merges")
    merged_id = models.PositiveBigIntegerField(
        unique=True, help_text="The ID the merged source had, for redirects."
    )
    merged_title = models.CharField(max_length=500)
    merged_url = models.URLField(max_length=2000)
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
