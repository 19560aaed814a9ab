"""The source library: publishers and the sources that reports cite."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from sources.normalisation import domain_of, normalise_url


class Publisher(models.Model):
    """Who publishes sources: an outlet, institution or website, known by its web domain."""

    name = models.CharField(max_length=200)
    domain = models.CharField(
        max_length=253,
        unique=True,
        help_text='Web domain without "www.", e.g. "bbc.co.uk". New sources are matched by it.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="publisher_name_lower")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().removeprefix("www.")
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
    authors = models.TextField(blank=True, help_text="One author per line.")
    published_on = models.DateField("publication date", null=True, blank=True)
    accessed_on = models.DateField("access date", default=timezone.localdate)
    kind = models.CharField(max_length=32, choices=Kind, default=Kind.OTHER)
    archive_url = models.URLField("archive URL", max_length=2000, blank=True)
    notes = models.TextField("internal notes", blank=True, help_text="Never shown to readers.")
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    is_demo = models.BooleanField(
        "demo content", default=False, help_text="Loaded by load_demo; safe to delete."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.url = normalise_url(self.url)
        super().save(*args, **kwargs)

    def clean(self):
        # Normalise before validate_unique runs, so duplicates are caught in forms too.
        self.url = normalise_url(self.url)
        if self.publisher_id is None and self.url:
            self.publisher = Publisher.objects.filter(domain=domain_of(self.url)).first()

    @property
    def author_list(self) -> list[str]:
        return [line.strip() for line in self.authors.splitlines() if line.strip()]

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
