"""What readers send the newsroom: error reports and claim suggestions (`ReaderMessage`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# reports.models imports this module at its end, once these are defined.
from reports.models import NOTE_LENGTH, limited


class ReaderMessage(models.Model):
    """What a reader sent: an error in a report, or a claim to check. Editors work the queue.

    The reader's text is kept as typed and only ever shown escaped; nothing identifying the
    sender is stored but the email address they chose to give.
    """

    class Kind(models.TextChoices):
        ERROR = "error", "Error report"
        SUGGESTION = "suggestion", "Claim suggestion"

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        ANSWERED = "answered", "Answered"
        DISMISSED = "dismissed", "Dismissed"

    kind = models.CharField(max_length=16, choices=Kind)
    status = models.CharField(max_length=16, choices=Status, default=Status.NEW)
    # Error reports: the report and the version the reader was shown.
    report = models.ForeignKey(
        "reports.Report",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reader_messages",
    )
    version_number = models.PositiveIntegerField(
        "version shown", null=True, blank=True, help_text="The version the reader was reading."
    )
    location = models.CharField(
        "where in the report", max_length=500, blank=True, help_text="A section or a quote."
    )
    # Suggestions: the claim and where it appeared.
    claim = models.CharField(max_length=500, blank=True)
    claim_url = models.URLField("where the claim appeared", max_length=2000, blank=True)
    message = models.TextField(
        max_length=2000, blank=True, help_text="What is wrong, or why the claim matters."
    )
    email = models.EmailField("reader's email", blank=True, help_text="Only if they want a reply.")
    # The newsroom's side.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    internal_note = models.TextField(
        blank=True, **limited(NOTE_LENGTH, "For the newsroom; never shown.")
    )
    created_at = models.DateTimeField("received", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "reader message"
        indexes = [models.Index(fields=["status", "-created_at"], name="reader_message_queue")]

    def __str__(self):
        text = self.claim if self.kind == self.Kind.SUGGESTION else self.message
        return f"{self.get_kind_display()}: {text[:80]}"


class ShareImage(models.Model):
    """The site's default image for link previews, uploaded in the admin (at most one).

    Kept in the database, not on disk: app servers share no disk. Checked on upload to be
    a PNG or JPEG of a sane size (reports.admin.sharing); served by
    reports.public.sharing_views.
    """

    image = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=20, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    digest = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the image.")
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "default share image"

    def __str__(self):
        return f"Default share image ({self.width}×{self.height} {self.content_type})"


class SearchEntry(models.Model):
    """One live version as search reads it: a narrow row, kept by `reports.public.search_index`.

    On PostgreSQL the table also has a `search_vector` column (claim A, summary B, body C),
    added by migration and GIN-indexed; it is not a field so that SQLite shares the model.
    """

    version = models.OneToOneField(
        "reports.PublishedVersion",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_entry",
    )
    report = models.OneToOneField(
        "reports.Report", on_delete=models.CASCADE, related_name="search_entry"
    )
    checked_on = models.DateField()
    published_at = models.DateTimeField()
    verdict = models.ForeignKey("reports.Verdict", on_delete=models.CASCADE, related_name="+")
    claim = models.CharField(max_length=500)
    # What snippets are cut from: the summary and the start of the body, bounded.
    excerpt = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["-checked_on", "-published_at"], name="search_entry_order")]

    def __str__(self):
        return self.claim


class SearchWord(models.Model):
    """A word (an English-stemmed lexeme) found in the archive: what typos are corrected to.

    Publishing counts the words of what goes live and of what it replaces; `rebuild_search`
    also drops words no live report holds. On PostgreSQL a trigram index serves the look-up.
    """

    word = models.CharField(max_length=100, primary_key=True)
    # How many live reports hold it: search walks the date index for a word in many of them.
    documents = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.word
