"""Starting new reports: a follow-up question becomes a draft that answers it."""

from __future__ import annotations

import reversion
from django.db import transaction
from django.db.models import F

from reports import contributing
from reports.models import FollowUpQuestion, Report, create_with_free_slug


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
            draft = create_with_free_slug(
                claim=locked.question.strip(),
                author=by,
                created_by=by,
                last_edited_by=by,
                fallback="draft",
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
