"""Fact-check reports: the editable working copy and the immutable versions readers see."""

from __future__ import annotations

import datetime

import reversion
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator, RegexValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Cast, Concat, JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from sources.models import Source

# The longest text each editor field takes: far beyond what a newsroom writes, small enough
# that the parser, renderer, review aids and admin pages stay fast at the limit (README,
# "Pathological text"). Forms, the text and JSON imports and archives all read these limits
# from the fields' max_length.
SUMMARY_LENGTH = 20_000
SECTION_LENGTH = 50_000
CONCLUSION_LENGTH = 20_000
NOTE_LENGTH = 10_000
DESCRIPTION_LENGTH = 5_000


def limited(length: int, help_text: str = "") -> dict:
    """Field options for a TextField of at most `length` characters, said in its help text.

    A TextField's max_length limits only its form field; the validator makes model
    validation (imports, archives) refuse longer text too.
    """
    said = f"At most {length:,} characters."
    return {
        "max_length": length,
        "validators": [MaxLengthValidator(length)],
        "help_text": f"{help_text} {said}" if help_text else said,
    }


class Verdict(models.Model):
    """One step of the rating scale, curated in the admin."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    definition = models.TextField(
        **limited(DESCRIPTION_LENGTH, "Shown to readers on the rating scale.")
    )
    order = models.PositiveSmallIntegerField(default=0, help_text="Position on the scale.")
    colour = models.CharField(
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #b91c1c.")],
        help_text="Badge background; the text colour is chosen for contrast.",
    )
    rating = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1, "Ratings start at 1 (the least true verdict).")],
        help_text="Numeric rating for structured data: 1 for the least true, higher is truer; "
        "empty for none (such as “Unproven”).",
    )

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            # Google's rule for ClaimReview: worstRating is at least 1.
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1), name="verdict_rating_from_1"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """The scale stays one search engines accept: ratings from 1, best above worst."""
        super().clean()
        if self.rating is None or self.rating < 1:
            return
        others = set(
            Verdict.objects.exclude(pk=self.pk)
            .filter(rating__isnull=False)
            .values_list("rating", flat=True)
        )
        if others == {self.rating}:
            raise ValidationError(
                {
                    "rating": f"Every other rated verdict is rated {self.rating} too: a scale "
                    "needs a best rating above its worst. Give this verdict another rating, "
                    "or none."
                }
            )

    @property
    def text_colour(self) -> str:
        """Black or white, whichever reads better on the badge colour (WCAG luminance)."""
        channels = [int(self.colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


class ClaimantType(models.TextChoices):
    """Who made a claim, as the editor says: structured data types the claimant by it."""

    PERSON = "person", "A person"
    ORGANISATION = "organisation", "An organisation"
    UNKNOWN = "unknown", "Other or not known"


CLAIMANT_TYPE_HELP = (
    "Search engines are told the claimant is this; never guessed from the name "
    "(a newspaper, a film and a person can share words)."
)


class TopicQuerySet(models.QuerySet):
    def live(self):
        """Topics of at least one live version: the only ones readers may see."""
        # A subquery with LIMIT 1, not EXISTS: PostgreSQL turns EXISTS into a semi-join that
        # reads every version of each topic (14 ms for 12 topics at 100,000 reports, on every
        # list and search page); this stops at each topic's first live version (0.2 ms).
        one_live = PublishedVersion.topics.through.objects.filter(
            topic=models.OuterRef("pk"), publishedversion__is_live=True
        ).values("topic_id")[:1]
        return self.alias(one_live=models.Subquery(one_live)).filter(one_live__isnull=False)


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, **limited(DESCRIPTION_LENGTH))

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Report(models.Model):
    """The working copy of a fact-check, edited in the admin; readers never see it directly."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # Set only by reports.workflow, never by a form: see save().
    WORKFLOW_FIELDS = frozenset(
        {
            "status",
            "published_at",
            "publish_at",
            "scheduled_note",
            "scheduled_note_kind",
            "scheduled_by",
            "scheduled_edit_version",
            "scheduled_fingerprint",
            "withdrawn_at",
            "withdrawal_reason",
        }
    )

    claim = models.CharField(max_length=500, help_text="The statement being checked.")
    slug = models.SlugField(max_length=120, unique=True)
    verdict = models.ForeignKey(
        Verdict, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    checked_on = models.DateField("checked on", null=True, blank=True)
    summary = models.TextField(
        "executive summary",
        blank=True,
        **limited(SUMMARY_LENGTH, "Paragraphs separated by blank lines; cite with [1], [2]…"),
    )
    conclusion_heading = models.CharField(max_length=300, default="Conclusion", blank=True)
    conclusion = models.TextField(blank=True, **limited(CONCLUSION_LENGTH))
    topics = models.ManyToManyField(Topic, blank=True, related_name="reports")
    claimant = models.CharField(max_length=200, blank=True, help_text="Who made the claim.")
    claimant_type = models.CharField(
        "the claimant is",
        max_length=16,
        choices=ClaimantType,
        default=ClaimantType.UNKNOWN,
        help_text=CLAIMANT_TYPE_HELP,
    )
    claim_date = models.DateField("claim made on", null=True, blank=True)
    claim_url = models.URLField("where the claim appeared", max_length=2000, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT, editable=False)
    published_at = models.DateTimeField(
        "live since", null=True, blank=True, editable=False, help_text="Empty when not public."
    )
    publish_at = models.DateTimeField("scheduled for", null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    scheduled_note = models.TextField(blank=True, editable=False)
    scheduled_note_kind = models.CharField(max_length=16, blank=True, editable=False)
    # What the reviewer approved when scheduling: publish_due publishes exactly that or nothing.
    scheduled_edit_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    scheduled_fingerprint = models.TextField(
        blank=True, editable=False, help_text="The cited sources as approved (publishing.py)."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_reason = models.TextField(blank=True, editable=False)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Who created it: never eligible to publish it (reports.contributing), whatever `author` says.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    edit_version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every save; guards against lost edits."
    )
    is_demo = models.BooleanField(
        "demo content", default=False, help_text="Loaded by load_demo; safe to delete."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        permissions = [
            ("review_report", "Can return reports in review to their editors"),
            ("publish_report", "Can publish and schedule reports"),
            ("withdraw_report", "Can unpublish and withdraw published reports"),
        ]
        indexes = [
            models.Index(
                fields=["publish_at"],
                condition=Q(status="scheduled"),
                name="report_due_for_publishing",
            )
        ]

    def __str__(self):
        return self.claim

    def save(self, *args, **kwargs):
        # Workflow state belongs to reports.workflow; an edit saved from a form loaded
        # before a transition must not put the report back to its old state.
        if not self._state.adding and "update_fields" not in kwargs:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.WORKFLOW_FIELDS
            ]
            # Raised in the database, so a form opened before this save sees the conflict
            # (reports.locking) even if this instance was stale.
            self.edit_version = models.F("edit_version") + 1
            super().save(*args, **kwargs)
            self.refresh_from_db(fields=["edit_version"])
            return
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", kwargs={"slug": self.slug})

    @property
    def is_live(self) -> bool:
        """Whether readers see a version of this report now."""
        return self.published_at is not None

    @property
    def has_unpublished_changes(self) -> bool:
        return self.published_at is not None and self.updated_at > self.published_at


# A slug made from a claim: long enough to tell reports apart, short enough for a readable URL.
SLUG_LENGTH = 80
# Saves tried under a free slug before giving up: another save may take it meanwhile.
_SLUG_ATTEMPTS = 5


def free_slug(claim: str, *, fallback: str = "report") -> str:
    """A slug for `claim` that no report and no live version uses: the one slug rule.

    At most `SLUG_LENGTH` characters, cut at a word boundary; then `-2`, `-3`… until free.
    `fallback` stands in for a claim with nothing slugify keeps (all punctuation, say).
    """
    full = slugify(claim) or fallback
    candidate, number = _cut_slug(full, SLUG_LENGTH), 1
    while _slug_taken(candidate):
        number += 1
        suffix = f"-{number}"
        candidate = _cut_slug(full, SLUG_LENGTH - len(suffix)) + suffix
    return candidate


def create_with_free_slug(*, fallback: str = "report", **fields) -> Report:
    """Save a new report under `free_slug(claim)`, again if another save takes it first."""
    for _attempt in range(_SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                slug = free_slug(fields["claim"], fallback=fallback)
                return Report.objects.create(slug=slug, **fields)
        except IntegrityError:
            continue
    raise IntegrityError(f"No free slug for “{fields['claim']}”.")


def _slug_taken(slug: str) -> bool:
    # A live version keeps the slug it was published under even if its working copy's
    # slug has changed since; publishing a new report under it would clash.
    return (
        Report.objects.filter(slug=slug).exists()
        or PublishedVersion.objects.live().filter(slug=slug).exists()
    )


def _cut_slug(slug: str, length: int) -> str:
    """`slug` cut to `length` characters at a word boundary, if it has one to cut at."""
    if len(slug) <= length:
        return slug
    cut = slug[: length + 1]  # keep the next character, to see if a word ends at `length`
    words = cut.rsplit("-", 1)[0] if "-" in cut else ""
    return (words or slug[:length]).strip("-")


class Transition(models.Model):
    """One step of a report through the workflow: who moved it, when, from where to where."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=Report.Status)
    to_status = models.CharField(max_length=16, choices=Report.Status)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (scheduled publishing, demo loading).",
    )
    at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["report", "-at"], name="transition_timeline")]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class Contribution(models.Model):
    """A save that changed a report's content, and who made it (reports.contributing)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="contributions")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    what = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["report", "by", "at"], name="contribution_by_report")]

    def __str__(self):
        return f"{self.by} changed “{self.report}”"


class Section(models.Model):
    """A numbered section of a report; its number is its place in the order."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField(default=0)
    heading = models.CharField(max_length=300)
    body = models.TextField(
        **limited(SECTION_LENGTH, "Paragraphs separated by blank lines; cite with [1], [2]…")
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.heading


class Reference(models.Model):
    """A numbered citation inside one report, pointing at a source in the library."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="references")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="references",
        help_text="Leave empty while drafting; publishing needs an active source.",
    )
    pinpoint = models.CharField(
        max_length=500, blank=True, help_text="A page, a timestamp or a short quote."
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="reference_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="reference_number_positive"),
        ]

    def __str__(self):
        return f"[{self.number}] in “{self.report}”"


class FollowUpQuestion(models.Model):
    """A "Want to dive deeper?" question, linked to the report that answers it, if any."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=500)
    answered_by = models.ForeignKey(
        Report,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_questions",
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "follow-up question"

    def __str__(self):
        return self.question


class ChangeKind(models.TextChoices):
    """What kind of change a republished version makes, shown to readers with its note."""

    CORRECTION = "correction", "Correction"
    UPDATE = "update", "Update"
    CLARIFICATION = "clarification", "Clarification"


def recheck_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Reports checked before this date are due for a re-check (`FACTUALLY_RECHECK_AFTER_DAYS`).

    One rule for the newsroom's re-check panel and the notice readers see on an old report.
    """
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.FACTUALLY_RECHECK_AFTER_DAYS)


class PublishedVersionQuerySet(models.QuerySet):
    def live(self):
        """What the public may see: the current version of each published report."""
        return self.filter(is_live=True)

    def with_topic_links(self):
        """With the topics readers can open (those of a live version) for `topic_links`, in
        the same query: the report page stays one query. A JSON array built by any database
        (`make run` uses SQLite, whose aggregates may not sort: `topic_links` sorts)."""
        link = Cast(JSONObject(name="name", slug="slug"), models.TextField())
        topics = (
            Topic.objects.live()
            .filter(versions=models.OuterRef("pk"))
            .order_by()
            .values("versions")
            .values(links=models.StringAgg(link, delimiter=models.Value(",")))
        )
        array = Concat(
            models.Value("["),
            models.Subquery(topics),
            models.Value("]"),
            output_field=models.TextField(),
        )
        return self.annotate(topics_json=Cast(array, models.JSONField()))


class PublishedVersion(models.Model):
    """An immutable snapshot of a report as published: content, source details and HTML."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    is_live = models.BooleanField(default=True)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    change_note = models.TextField(blank=True)
    change_kind = models.CharField(max_length=16, choices=ChangeKind, blank=True)
    verdict_changed = models.BooleanField(
        default=False, help_text="The verdict differs from the previous version's."
    )
    # Frozen copies of what lists and feeds need, so they never touch the working copy.
    slug = models.SlugField(max_length=120)
    claim = models.CharField(max_length=500)
    claimant = models.CharField(max_length=200, blank=True)
    claimant_type = models.CharField(
        max_length=16, choices=ClaimantType, default=ClaimantType.UNKNOWN
    )
    claim_date = models.DateField(null=True, blank=True)
    claim_url = models.URLField(max_length=2000, blank=True)
    verdict = models.ForeignKey(Verdict, on_delete=models.PROTECT, related_name="+")
    checked_on = models.DateField()
    summary_text = models.TextField(help_text="Plain-text summary for lists and previews.")
    body_text = models.TextField(
        blank=True, help_text="Plain text of the sections and conclusion, for search."
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="versions")
    sources = models.ManyToManyField(
        Source, blank=True, related_name="cited_in_versions", help_text="What this version cites."
    )
    content = models.JSONField(help_text="The structured report, with resolved sources.")
    body_html = models.TextField(help_text="Rendered once, at publishing.")
    objects = PublishedVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_on", "-published_at"]
        get_latest_by = "published_at"
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["report"], condition=Q(is_live=True), name="one_live_version"
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(is_live=True), name="live_slug_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["-checked_on", "-published_at"],
                condition=Q(is_live=True),
                name="live_version_order",
            ),
            # A verdict's list (/verdicts/<slug>/, ?verdict=): newest first from the index
            # alone. Through the order above, a verdict given to one report in six read some
            # 6,000 rows of this wide table to count the newest thousand (10 ms at 100,000).
            models.Index(
                fields=["verdict", "-checked_on", "-published_at"],
                condition=Q(is_live=True),
                name="live_version_by_verdict",
            ),
        ]

    def __str__(self):
        return f"{self.claim} (version {self.number})"

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", kwargs={"slug": self.slug})

    @property
    def topic_links(self) -> list[dict]:
        """`{"name", "slug"}` of each topic readers can open, by name, if the version was read
        `with_topic_links` (or the preview set `topics_json`); else none."""
        topics = getattr(self, "topics_json", None) or []
        return sorted(topics, key=lambda topic: (topic["name"].casefold(), topic["name"]))


# A revision keeps the whole report: its sections, references and questions too. Workflow
# state is left out, so restoring an old text never changes what is live (reports.revisions).
reversion.register(
    Report,
    follow=["sections", "references", "questions"],
    exclude=sorted(Report.WORKFLOW_FIELDS | {"edit_version", "created_by"}),
)
for _part in (Section, Reference, FollowUpQuestion):
    reversion.register(_part)


class StoredArticle(models.Model):
    """A live report's whole page as an anonymous reader gets it, rendered once from its
    version alone, with marks where what varies by request goes (reports/rendering.py,
    "Stored pages"). Derived, never archived: emptied when curated data it shows changes,
    rendered again at the next view, or when the build it was rendered with is replaced."""

    version = models.OneToOneField(
        PublishedVersion, on_delete=models.CASCADE, primary_key=True, related_name="stored_article"
    )
    page = models.TextField(blank=True, help_text="The HTML document; empty until rendered.")
    # The address every absolute URL of the page starts with, random per render (so no
    # report's text can contain it): the request puts its own scheme and host there.
    origin = models.CharField(max_length=64, blank=True)
    notice = models.TextField(blank=True, help_text="The notice shown once the check is old.")
    outdated_from = models.DateField(
        null=True, blank=True, help_text="The first day the notice shows (re-check period)."
    )
    links = models.TextField(
        blank=True, help_text="The reports the follow-up questions link to while live: ids, a,b."
    )
    build = models.CharField(
        max_length=64, blank=True, help_text="Fingerprint of the templates, static files, code."
    )
    # Raised each time the page is emptied: a render begun before is not stored.
    epoch = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"page of {self.version_id}"


class PendingInvalidation(models.Model):
    """Cached pages that must go stale and that the shared cache has not yet been told of.

    Recorded in the transaction of the change (a take-down, a publication, curated data),
    deleted once the cache has the new counters; until then it is retried (reports/caching.py).
    """

    report = models.ForeignKey(
        Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    everything = models.BooleanField(default=False, help_text="Every page, not one report's.")
    slugs = models.JSONField(default=list, help_text="The addresses whose pages go stale.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"cache purge {self.pk}: {'every page' if self.everything else self.slugs}"


class PendingPurge(models.Model):
    """Surrogate keys the front cache (Varnish) must drop and has not yet confirmed dropping.

    Recorded in the transaction of the change, beside its `PendingInvalidation`, and
    deleted once every front cache confirmed the purge; until then retried
    (reports/caching.py). Only recorded when a front cache is configured.
    """

    report = models.ForeignKey(
        Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    keys = models.JSONField(default=list, help_text="The surrogate keys to purge.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"front cache purge {self.pk}: {' '.join(self.keys)}"


# Registered with the reports app from here (Django loads an app's models from its models
# module); it lives beside the reader feedback it belongs to.
from reports.public.models import ReaderMessage  # noqa: E402, F401
