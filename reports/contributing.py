"""Who wrote a report: whoever created it, and every save that changed its content.

The four-eyes rule (`reports.workflow.four_eyes_conflict`) keeps these people from
publishing it. A save counts when the report's content differs before and after it: its
fields (the `author` field too: naming someone else is itself a change), its topics,
sections, references and follow-up questions. Saving a form unchanged is not writing.
Each path that changes content records here, in the transaction that changes it: the
admin change form with its inlines, citing, text and JSON import, drafting from a
question and restoring a revision. The system (`by=None`: demo loading) is not recorded.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager

from django.db.models import DateTimeField, Subquery, Value
from django.db.models.functions import Coalesce

from reports.models import Contribution, PublishedVersion, Report

# Bookkeeping, not content: saving never "writes" these.
_NOT_CONTENT = Report.WORKFLOW_FIELDS | {
    "id",
    "edit_version",
    "last_edited_by",
    "created_by",
    "created_at",
    "updated_at",
}
_CONTENT_FIELDS = [f.attname for f in Report._meta.concrete_fields if f.name not in _NOT_CONTENT]


def content(report_id: int) -> tuple:
    """The saved content of a report, comparable between two moments: five queries."""
    fields = Report.objects.filter(pk=report_id).values_list(*_CONTENT_FIELDS).first()
    report = Report(pk=report_id)
    return (
        fields,
        tuple(sorted(report.topics.values_list("pk", flat=True))),
        tuple(report.sections.values_list("position", "heading", "body")),
        tuple(report.references.values_list("number", "source_id", "pinpoint")),
        tuple(report.questions.values_list("position", "question", "answered_by_id")),
    )


def record(report: Report | int, *, by, what: str) -> None:
    """Record that `by` changed the report's content (call only when it did)."""
    if by is not None:
        Contribution.objects.create(report_id=getattr(report, "pk", report), by=by, what=what)


def record_if_changed(report: Report | int, *, by, what: str, before: tuple) -> bool:
    """Record `by` as a contributor if the content differs from `before`; whether it did."""
    changed = content(getattr(report, "pk", report)) != before
    if changed:
        record(report, by=by, what=what)
    return changed


@contextmanager
def recording(report: Report | int, *, by, what: str):
    """Record `by` as a contributor if the content changed inside the `with` block."""
    before = content(getattr(report, "pk", report))
    yield
    record_if_changed(report, by=by, what=what, before=before)


_NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def changed_since_live(report: Report, user) -> bool:
    """Whether `user` changed the content since the report last went live (or ever): one query."""
    last_live = (
        PublishedVersion.objects.filter(report=report.pk)
        .order_by("-published_at")
        .values("published_at")[:1]
    )
    since = Coalesce(Subquery(last_live), Value(_NEVER), output_field=DateTimeField())
    return report.contributions.filter(by=user, at__gt=since).exists()
