"""Retiring sources that must no longer be cited, and reinstating them.

A report citing a retired source cannot be published again (`reports.publishing.check`)
until its reference points elsewhere. Reached through the reverse relations only: sources
never import reports. The source's cached public page shows the change once it commits:
reports/caching.py listens for the saves of sources.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from sources.models import Source


class RetireRefused(Exception):
    """The source cannot be retired or reinstated; the message says why."""


@transaction.atomic
def retire(source: Source, *, by, reason: str) -> Source:
    """Retire `source` for `reason` (required), recorded in its history as done by `by`."""
    reason = reason.strip()
    if not reason:
        raise RetireRefused("Say why the source is retired.")
    locked = Source.objects.select_for_update().get(pk=source.pk)
    if not locked.is_active:
        raise RetireRefused("This source is retired already.")
    _set(source, locked, Source.Status.RETIRED, timezone.now(), reason)
    _log(by, source, f"Retired: {reason}")
    return source


@transaction.atomic
def reinstate(source: Source, *, by) -> Source:
    """Make a retired `source` citable again; its retirement is kept in its history only."""
    locked = Source.objects.select_for_update().get(pk=source.pk)
    if locked.is_active:
        raise RetireRefused("This source is not retired.")
    _set(source, locked, Source.Status.ACTIVE, None, "")
    _log(by, source, f"Reinstated (had been retired: {locked.retired_reason})")
    return source


def _set(source: Source, locked: Source, status: str, at, reason: str) -> None:
    # Only these fields are written, so an edit of the other fields is never overwritten.
    fields = {"status": status, "retired_at": at, "retired_reason": reason}
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*fields, "updated_at"])
    for name in [*fields, "updated_at"]:
        setattr(source, name, getattr(locked, name))


def _log(by, source: Source, message: str) -> None:
    if by is not None:
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[source],
            action_flag=CHANGE,
            change_message=message,
            single_object=True,
        )


def published_reports_citing(source: Source) -> list:
    """The live reports whose references cite `source`, for review when it is retired."""
    Reference = Source._meta.get_field("references").related_model
    Report = Reference._meta.get_field("report").related_model
    PublishedVersion = Report._meta.get_field("versions").related_model
    return list(
        Report.objects.filter(published_at__isnull=False, references__source=source)
        .annotate(
            # The public URL is the live version's: the working copy's slug may have changed.
            live_slug=Subquery(
                PublishedVersion.objects.live().filter(report=OuterRef("pk")).values("slug")[:1]
            )
        )
        .distinct()
        .order_by("claim", "pk")
    )
