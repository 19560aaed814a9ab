"""Optimistic locking: an edit based on an older copy of a report is refused, not merged.

Every save of a report raises its `edit_version`; a form remembers the number it was
opened with and `conflict` compares the two under a row lock.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.timezone import localtime

from reports.models import Report


def conflict(report: Report, seen_version: int | None) -> str | None:
    """Why saving a form opened at `seen_version` would overwrite someone's work, or None.

    Call inside the transaction that saves: the row stays locked until it commits, so two
    saves of the same version cannot both pass.
    """
    current = (
        Report.objects.select_for_update(of=("self",))
        .select_related("last_edited_by")
        .only("edit_version", "updated_at", "last_edited_by__username")
        .filter(pk=report.pk)
        .first()
    )
    if current is None or current.edit_version == seen_version:
        return None
    who = current.last_edited_by.get_username() if current.last_edited_by else "Someone"
    when = date_format(localtime(current.updated_at), "DATETIME_FORMAT")
    return (
        f"{who} changed this report on {when}, after you opened it. "
        "Nothing was saved, and your changes are still in this form: copy what you need, "
        "open the report again to see the latest version, and make your changes there."
    )
