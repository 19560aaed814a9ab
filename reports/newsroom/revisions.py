"""Revisions of a report's text, kept by django-reversion on every save, and restoring them.

Restoring brings back the claim, sections, references and questions as they were; the
workflow state (what is live, what is scheduled) never goes back with them.
"""

from __future__ import annotations

import reversion
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from reversion.models import Version

from reports import contributing
from reports.models import FollowUpQuestion, Reference, Report, Section
from sources.models import Source


class RestoreRefused(Exception):
    """The revision cannot be restored; the message says why."""


def snapshot(version: Version) -> dict:
    """What a revision holds, for showing it: the report's fields and its parts in order."""
    parts = {Section: [], Reference: [], FollowUpQuestion: []}
    report = {}
    for item in version.revision.version_set.all():
        model = item._model
        if model is Report:
            report = item.field_dict
        elif model in parts:
            parts[model].append(item.field_dict)
    titles = dict(
        Source.objects.filter(
            pk__in=[r["source_id"] for r in parts[Reference] if r["source_id"]]
        ).values_list("pk", "title")
    )
    for reference in parts[Reference]:
        reference["source_title"] = titles.get(reference["source_id"], "")
    return {
        "report": report,
        "sections": sorted(parts[Section], key=lambda s: (s["position"], s["id"])),
        "references": sorted(parts[Reference], key=lambda r: r["number"]),
        "questions": sorted(parts[FollowUpQuestion], key=lambda q: (q["position"], q["id"])),
    }


def restore(report: Report, version: Version, *, by) -> None:
    """Put the report's text back as it was in `version`, as a new revision by `by`."""
    if version.object_id != str(report.pk) or version._model is not Report:
        raise RestoreRefused("That revision belongs to another report.")
    try:
        with transaction.atomic(), reversion.create_revision():
            locked = Report.objects.select_for_update(of=("self",)).get(pk=report.pk)
            before = contributing.content(report.pk)
            # Reversion writes every field, defaults included for the ones it does not
            # keep; put the workflow state back exactly as it was.
            kept = {
                Report._meta.get_field(name).attname: getattr(
                    locked, Report._meta.get_field(name).attname
                )
                for name in Report.WORKFLOW_FIELDS | {"created_by"}
            }
            version.revision.revert(delete=True)
            Report.objects.filter(pk=report.pk).update(
                **kept,
                edit_version=locked.edit_version + 1,
                last_edited_by=by,
                updated_at=timezone.now(),
            )
            restored = Report.objects.get(pk=report.pk)
            reversion.add_to_revision(restored)  # follows its sections, references, questions
            reversion.set_user(by)
            when = timezone.localtime(version.revision.date_created)
            reversion.set_comment(
                f"Restored the text saved on {date_format(when, 'DATETIME_FORMAT')}."
            )
            saved_on = date_format(when)
            contributing.record_if_changed(
                report, by=by, what=f"Restored the text saved on {saved_on}.", before=before
            )
    except IntegrityError as error:
        raise RestoreRefused(
            "This revision cannot be restored: it cites a source that has since been deleted, "
            f"or its slug is now used by another report ({error})."
        ) from None
