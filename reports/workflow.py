"""The editorial workflow: every change of a report's state goes through this module.

Draft → In review → Published (now, or Scheduled for later); In review → Draft ("returned");
a live report can be withdrawn (readers see a notice) or unpublished (back to draft).
Each step is recorded as a `Transition`. The admin, the commands and the tests call these
functions; they check the user's permissions and the four-eyes rule themselves. `STEPS` is
the one table of which permission each step needs and from which states: the functions,
the list of available steps and the admin's forms all read it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from reports import caching, contributing, publishing, rendering
from reports.models import ChangeKind, PublishedVersion, Report, Transition
from reports.public import search_index
from reports.publishing import Problem
from sources.models import Source

Status = Report.Status
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """What a workflow step asks of who takes it and of the report it is taken on."""

    permission: str
    from_states: frozenset[str]
    # Only while readers see a version: a live report may be in any state (e.g. its changes
    # in review), so the state alone does not say.
    live_only: bool = False
    # The four-eyes rule applies: see `four_eyes_conflict`.
    four_eyes: bool = False

    def starts_from(self, report: Report) -> bool:
        """Whether `report`'s state allows this step (its other checks aside)."""
        return report.status in self.from_states and (report.is_live or not self.live_only)


STEPS: dict[str, Step] = {
    "submit": Step(
        "reports.change_report", frozenset({Status.DRAFT, Status.PUBLISHED, Status.WITHDRAWN})
    ),
    "return_to_editor": Step(
        "reports.review_report", frozenset({Status.IN_REVIEW, Status.SCHEDULED})
    ),
    "publish": Step("reports.publish_report", frozenset({Status.IN_REVIEW}), four_eyes=True),
    "schedule": Step("reports.publish_report", frozenset({Status.IN_REVIEW}), four_eyes=True),
    "withdraw": Step("reports.withdraw_report", frozenset(Status.values), live_only=True),
    "unpublish": Step("reports.withdraw_report", frozenset(Status.values), live_only=True),
}


class TransitionRefused(Exception):
    """The report cannot make this step now; the message says why, in an editor's words."""


class ChangedSinceOpened(TransitionRefused):
    """The report or a source it cites changed after the reviewer opened it; `changes` says how."""

    def __init__(self, changes: list[str]):
        self.changes = changes
        super().__init__(" ".join(changes))


class PublishRefused(TransitionRefused):
    """Raised by `publish` with every problem the publish checks found, never just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def submit(report: Report, *, by, comment: str = "") -> Transition:
    """Send a draft (or the changed working copy of a live report) to the reviewers."""
    with transaction.atomic():
        locked = _lock(report)
        _require(by, "submit")
        if not STEPS["submit"].starts_from(locked):
            raise TransitionRefused(f"A report that is {_status(locked)} cannot be submitted.")
        if _nothing_to_review(locked):
            raise TransitionRefused(
                "Nothing to review: the report has not changed since it went live."
            )
        record = _move(locked, Status.IN_REVIEW, by=by, comment=comment)
    _mirror(report, locked)
    return record


def return_to_editor(report: Report, *, by, comment: str) -> Transition:
    """Send a report in review (or scheduled) back to draft, saying what to change."""
    if not comment.strip():
        raise TransitionRefused("Say what needs to change: a returned report needs a comment.")
    with transaction.atomic():
        locked = _lock(report)
        _require(by, "return_to_editor")
        if not STEPS["return_to_editor"].starts_from(locked):
            raise TransitionRefused(
                f"Only a report in review can be returned; this one is {_status(locked)}."
            )
        record = _move(locked, Status.DRAFT, by=by, comment=comment, **_NOT_SCHEDULED)
    _mirror(report, locked)
    return record


def schedule(
    report: Report,
    *,
    by,
    at: datetime.datetime,
    note: str = "",
    kind: str = "",
    expected: publishing.Approval | None = None,
) -> Transition:
    """Approve a report in review to go live at `at`; `publish_due` publishes it then.

    `expected` is what the reviewer was shown (`publishing.approval`); what goes live then
    must still be exactly that.
    """
    with transaction.atomic():
        locked = _lock(report)
        _require(by, "schedule")
        if at <= timezone.now():
            raise TransitionRefused("The scheduled time has passed: choose a time in the future.")
        approved = _check_still_as_approved(locked, expected)
        _check_publishable(locked, "schedule", by=by, note=note, kind=kind)
        record = _move(
            locked,
            Status.SCHEDULED,
            by=by,
            comment=f"Scheduled for {date_format(timezone.localtime(at), 'DATETIME_FORMAT')}.",
            publish_at=at,
            scheduled_by=by,
            scheduled_note=note,
            scheduled_note_kind=kind,
            scheduled_edit_version=approved.edit_version,
            scheduled_fingerprint=approved.sources,
        )
    _mirror(report, locked)
    return record


def publish(
    report: Report,
    *,
    by,
    note: str = "",
    kind: str = "",
    expected: publishing.Approval | None = None,
) -> PublishedVersion:
    """Check a report in review and make it the live version, or raise `TransitionRefused`.

    `expected` is what the reviewer was shown (`publishing.approval`): if the report or a
    source it cites changed since, `ChangedSinceOpened` says what and nothing goes live.
    Every entry point passes it; only callers that read the report in the same breath (the
    demo loader, tests) may leave it out. `by=None` is the system (demo loading); it skips
    the permission and four-eyes checks.
    """
    with transaction.atomic():
        locked = _lock(report)
        _require(by, "publish")
        _check_still_as_approved(locked, expected)
        _check_publishable(locked, "publish", by=by, note=note, kind=kind)
        version = _go_live(locked, by=by, note=note, kind=kind)
    _mirror(report, locked)
    return version


def publish_due(*, now: datetime.datetime | None = None) -> list[tuple[Report, str]]:
    """Publish every scheduled report whose time has come; safe to run twice at once.

    Returns (report, outcome) pairs; a report that can no longer be published goes back
    to review with the reason recorded, so it is not retried on every run.
    """
    now = now or timezone.now()
    outcomes = []
    while True:
        with transaction.atomic():
            # skip_locked: a concurrent run takes the other due reports instead of waiting.
            report = (
                Report.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("verdict", "scheduled_by")
                .filter(status=Status.SCHEDULED, publish_at__lte=now)
                .exclude(pk__in=[r.pk for r, _ in outcomes])
                .order_by("publish_at", "pk")
                .first()
            )
            if report is None:
                return outcomes
            outcomes.append((report, _isolated(_publish_scheduled, report)))


def _publish_scheduled(report: Report) -> str:
    """Publish one due report (locked by the caller), or send it back to review and say why."""
    problems = publishing.check(report)
    problems[:0] = _changes_since_scheduled(report)
    conflict = four_eyes_conflict(report, report.scheduled_by)
    if conflict:
        problems.insert(0, Problem(conflict))
    if problems:
        reason = "Not published as scheduled: " + "; ".join(map(str, problems))
        _move(report, Status.IN_REVIEW, by=None, comment=reason, **_NOT_SCHEDULED)
        return reason
    version = _go_live(
        report,
        by=report.scheduled_by,
        note=report.scheduled_note,
        kind=report.scheduled_note_kind,
    )
    return f"Published version {version.number}."


def _isolated(step, report: Report) -> str:
    """Run `step` on one due report in its own savepoint: whatever fails, the others go on.

    A failure is logged, undone, and recorded in the report's timeline as it goes back to
    review, so the next run does not retry it.
    """
    try:
        with transaction.atomic():
            return step(report)
    except Exception as error:
        logger.exception("Scheduled publication of report %s failed", report.pk)
        report.refresh_from_db(fields=sorted(Report.WORKFLOW_FIELDS))  # as the rollback left it
        reason = f"Not published as scheduled: it failed ({type(error).__name__}: {error})."
        _move(report, Status.IN_REVIEW, by=None, comment=reason, **_NOT_SCHEDULED)
        return reason


def withdraw(report: Report, *, by, reason: str) -> Transition:
    """Take a live report down, leaving a public notice with `reason` at its address."""
    if not reason.strip():
        raise TransitionRefused("Give the reason for withdrawing: readers will see it.")
    return _take_down(report, "withdraw", Status.WITHDRAWN, by=by, comment=reason)


def unpublish(report: Report, *, by, comment: str) -> Transition:
    """Take a live report down without a notice (published by mistake); it becomes a draft."""
    if not comment.strip():
        raise TransitionRefused("Say why the report is unpublished.")
    return _take_down(report, "unpublish", Status.DRAFT, by=by, comment=comment)


def submission(report: Report) -> Transition | None:
    """The step that sent `report` to review now, with the editor's comment; None if it is not
    waiting for a reviewer (in review or scheduled)."""
    if report.status not in {Status.IN_REVIEW, Status.SCHEDULED}:
        return None
    return report.transitions.filter(to_status=Status.IN_REVIEW).select_related("by").first()


def available(report: Report, user) -> list[str]:
    """The transitions `user` may attempt on `report` now, by function name (`STEPS` order)."""
    perms = user.get_all_permissions() if not user.is_superuser else None
    conflict = None  # the four-eyes rule costs a query: asked once, and only if it matters
    names = []
    for name, step in STEPS.items():
        if perms is not None and step.permission not in perms:
            continue
        if not step.starts_from(report) or (name == "submit" and _nothing_to_review(report)):
            continue
        if step.four_eyes:
            if conflict is None:
                conflict = four_eyes_conflict(report, user)
            if conflict:
                continue
        names.append(name)
    return names


# Internals -----------------------------------------------------------------------------

_NOT_SCHEDULED = {
    "publish_at": None,
    "scheduled_by": None,
    "scheduled_note": "",
    "scheduled_note_kind": "",
    "scheduled_edit_version": None,
    "scheduled_fingerprint": "",
}


def _lock(report: Report) -> Report:
    """The report's row, locked until the transaction ends, so transitions never interleave."""
    return (
        Report.objects.select_for_update(of=("self",)).select_related("verdict").get(pk=report.pk)
    )


def _require(user, step: str) -> None:
    """Refuse `user` (None is the system) without the permission `step` needs (`STEPS`)."""
    permission = STEPS[step].permission
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(f"{user} lacks the permission {permission}.")


def _status(report: Report) -> str:
    return report.get_status_display().lower()


def _nothing_to_review(report: Report) -> bool:
    """A live report submitted again must have changed since it went live."""
    return report.status == Status.PUBLISHED and not report.has_unpublished_changes


def _check_publishable(report: Report, step: str, *, by, note: str, kind: str) -> None:
    if not STEPS[step].starts_from(report):
        raise TransitionRefused(
            f"Only a report in review can be published; this one is {_status(report)}."
        )
    conflict = four_eyes_conflict(report, by)
    if conflict:
        raise TransitionRefused(conflict)
    if report.versions.exists():
        if not note.strip():
            raise TransitionRefused("A republished report needs a change note for readers.")
        if kind not in ChangeKind.values:
            raise TransitionRefused(
                "Say what kind of change this is: correction, update or clarification."
            )
    problems = publishing.check(report)
    if problems:
        raise PublishRefused(problems)


def four_eyes_conflict(report: Report, user) -> str:
    """Why the four-eyes rule forbids `user` from publishing or scheduling `report`, or "".

    Whoever created the report, is named its author, or changed its content since it last
    went live (`reports.contributing`) may not; the system (`user=None`) always may.
    """
    if user is None or not settings.FACTUALLY_FOUR_EYES:
        return ""
    if user.pk == report.created_by_id:
        why = "created this report"
    elif user.pk == report.author_id:
        why = "is named as its author"
    elif contributing.changed_since_live(report, user):
        why = "wrote or changed it since it last went live"
    else:
        return ""
    return f"Four-eyes rule: {user.get_username()} {why}, so another reviewer must publish it."


def _go_live(report: Report, *, by, note: str, kind: str) -> PublishedVersion:
    now = timezone.now()
    previous = report.versions.order_by("-number").only("number", "verdict_id").first()
    before = caching.shown(report)  # the lists it leaves, if the new version moves it
    report.versions.filter(is_live=True).update(is_live=False)
    version = publishing.freeze(report)
    version.number = (previous.number if previous else 0) + 1
    version.is_live = True
    version.published_at = now
    version.published_by = by
    version.change_note = note
    version.change_kind = kind if previous else ""
    version.verdict_changed = previous is not None and previous.verdict_id != report.verdict_id
    version.save()
    version.topics.set(report.topics.all())
    version.sources.set(
        {reference.source_id for reference in report.references.all() if reference.source_id}
    )
    # Rendered once, now, from the version alone: the page readers get (reports.rendering).
    # A page that cannot be rendered must not stop a publication: its first view tries again.
    try:
        with transaction.atomic():
            rendering.store_page(version.pk)
    except Exception:
        logger.exception("Could not render the article of %s at publishing.", version)
    _move(
        report,
        Status.PUBLISHED,
        by=by,
        comment=note or f"Published version {version.number}.",
        at=now,
        published_at=now,
        withdrawn_at=None,
        withdrawal_reason="",
        **_NOT_SCHEDULED,
    )
    _publication_changed(report, before)
    return version


def _take_down(report: Report, step: str, to: str, *, by, comment: str) -> Transition:
    withdrawn = to == Status.WITHDRAWN  # else unpublished: no notice for readers
    with transaction.atomic():
        locked = _lock(report)
        _require(by, step)
        if not STEPS[step].starts_from(locked):
            raise TransitionRefused("The report is not live, so there is nothing to take down.")
        now = timezone.now()
        before = caching.shown(locked)
        locked.versions.filter(is_live=True).update(is_live=False)
        record = _move(
            locked,
            to,
            by=by,
            comment=comment,
            at=now,
            published_at=None,
            withdrawn_at=now if withdrawn else None,
            withdrawal_reason=comment if withdrawn else "",
            **_NOT_SCHEDULED,
        )
        _publication_changed(locked, before)
    _mirror(report, locked)
    return record


def _publication_changed(report: Report, before: caching.Shown) -> None:
    """What follows a change of the live version (published, corrected, taken down): search
    finds the new one or none, the stored pages of versions no longer live go, and cached
    pages go stale once the transaction commits (those showing it `before` the change too)."""
    search_index.refresh([report.pk])
    rendering.delete_superseded(report.pk)
    caching.publication_changed(report=report, before=before)


def _move(report: Report, to: str, *, by, comment: str, at=None, **fields) -> Transition:
    """Record the transition and set the new state, without touching `updated_at`."""
    at = at or timezone.now()
    record = Transition.objects.create(
        report=report, from_status=report.status, to_status=to, by=by, at=at, comment=comment
    )
    fields["status"] = to
    # update(), not save(): the edit time must stay older than the publish time.
    Report.objects.filter(pk=report.pk).update(**fields)
    for name, value in fields.items():
        setattr(report, name, value)
    return record


def _mirror(target: Report, source: Report) -> None:
    """Give the caller's instance the state the locked copy reached."""
    if target is not source:
        for name in Report.WORKFLOW_FIELDS:
            setattr(target, name, getattr(source, name))


def _check_still_as_approved(
    report: Report, expected: publishing.Approval | None
) -> publishing.Approval:
    """What `report` (locked) is now; raises `ChangedSinceOpened` if not what was `expected`.

    The cited sources are locked too, so no curator can change one between this check and
    the commit.
    """
    _lock_cited_sources(report)
    now = publishing.approval(report)
    if expected is not None and expected != now:
        changes = []
        if expected.edit_version != now.edit_version:
            changes.append(
                f"The report was edited {_edited_by(report)}, after you opened this page."
            )
        changes += publishing.source_changes(
            expected.sources, publishing.working_references(report)
        )
        raise ChangedSinceOpened(
            changes or ["The cited sources changed after you opened this page."]
        )
    return now


def _changes_since_scheduled(report: Report) -> list[Problem]:
    """Why `report` (locked) is no longer what the reviewer approved when scheduling it."""
    _lock_cited_sources(report)
    if report.scheduled_edit_version is None:
        return [Problem("What was approved was not recorded: schedule it again.")]
    problems = []
    if report.edit_version != report.scheduled_edit_version:
        problems.append(Problem(f"It was edited after it was approved ({_edited_by(report)})."))
    references = publishing.working_references(report)
    if publishing.sources_fingerprint(references) != report.scheduled_fingerprint:
        changes = publishing.source_changes(report.scheduled_fingerprint, references)
        problems += [Problem(change) for change in changes]
    return problems


def _lock_cited_sources(report: Report) -> None:
    # In ID order, as merges lock them, so the two cannot deadlock.
    ids = report.references.exclude(source=None).values("source_id")
    list(Source.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def _edited_by(report: Report) -> str:
    who = (
        report.last_edited_by.get_username()
        if report.last_edited_by_id and report.last_edited_by
        else "someone"
    )
    at = timezone.localtime(report.updated_at)
    return f"by {who} on {date_format(at, 'DATETIME_FORMAT')}"
