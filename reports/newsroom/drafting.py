"""Starting new reports: a follow-up question becomes a draft that answers it."""

from __future__ import annotations

import reversion
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.text import slugify

from reports import contributing
from reports.models import FollowUpQuestion, PublishedVersion, Report

_SLUG_LENGTH = Report._meta.get_field("slug").max_length


class AlreadyAnswered(Exception):
    """The question is already answered by a report: `report`."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"Already answered by “{report}”.")


def draft_from_question(question: FollowUpQuestion, *, by) -> Report:
    """A new draft checking `question`, linked as its answer; refuses an answered question."""
    with transaction.atomic():
        # Locked, so a double click cannot draft two reports for one question.
        locked = (
            FollowUpQuestion.objects.select_for_update(of=("self",))
            .select_related("answered_by", "report")
            .get(pk=question.pk)
        )
        if locked.answered_by is not None:
            raise AlreadyAnswered(locked.answered_by)
        with reversion.create_revision():
            draft = _create(
                claim=locked.question.strip(), author=by, created_by=by, last_edited_by=by
            )
            contributing.record(draft, by=by, what="Drafted it from a follow-up question.")
            reversion.set_user(by)
            reversion.set_comment(f"Drafted from a follow-up question of “{locked.report}”.")
        locked.answered_by = draft
        locked.save(update_fields=["answered_by"])
        # The parent changed under any form opened on it: a stale save must see a conflict
        # (reports.locking) rather than unlink the answer. updated_at stays, so a scheduled
        # parent is not treated as edited after approval.
        Report.objects.filter(pk=locked.report_id).update(edit_version=F("edit_version") + 1)
        # The question now links to the draft on the parent's page: a change of its content.
        contributing.record(
            locked.report_id, by=by, what=f"Linked the question “{locked}” to a new draft."
        )
    question.answered_by = draft
    return draft


def _create(**fields) -> Report:
    """Save a report under a free slug made from its claim, retrying if one is taken meanwhile."""
    base = slugify(fields["claim"])[:_SLUG_LENGTH].strip("-") or "draft"
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Report.objects.create(slug=unique_slug(base), **fields)
        except IntegrityError:
            continue
    raise IntegrityError(f"No free slug for “{fields['claim']}”.")


def unique_slug(base: str) -> str:
    """`base`, or `base-2`, `base-3`…: the first that no report and no live page uses."""
    base = base[:_SLUG_LENGTH]
    taken = set(Report.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    # A live page keeps the slug it was published with, even if its report's slug changed.
    taken |= set(
        PublishedVersion.objects.live().filter(slug__startswith=base).values_list("slug", flat=True)
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: _SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
    return slug
