"""The admin home panels: what each member of the newsroom should look at next.

One function per panel, each taking the signed-in user and returning a queryset of at most
`PANEL_SIZE` reports, annotated with everything its panel shows, so rendering a panel takes
one query (two for "Recently published", which fetches the live versions) however many
reports there are. A user without `reports.view_report` gets nothing from any of them.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.urls import reverse

from reports import publishing
from reports.content import CitedSource
from reports.models import PublishedVersion, Report, Transition, recheck_cutoff
from sources.models import Source

Status = Report.Status

PANEL_SIZE = 10

# A report goes back to its editor from review, or from the schedule (workflow.return_to_editor).
RETURNED_FROM = (Status.IN_REVIEW, Status.SCHEDULED)

# The working copy's fields the sources panel shows.
_PANEL_REPORT = ("id", "claim", "published_at")

# The working copy's long texts are never shown on the panels.
_UNSHOWN = ("summary", "conclusion", "scheduled_note", "withdrawal_reason")


def can_see_reports(user) -> bool:
    """Whether `user` may see the report panels at all."""
    return bool(user.is_active and user.has_perm("reports.view_report"))


def can_review(user) -> bool:
    """Whether `user` sees every report in review, not only their own."""
    return user.has_perm("reports.review_report") or user.has_perm("reports.publish_report")


def my_drafts(user) -> QuerySet[Report]:
    """Drafts `user` wrote or last edited, the most recently edited first."""
    return (
        _reports(user)
        .filter(_mine(user), status=Status.DRAFT)
        .order_by("-updated_at", "-pk")[:PANEL_SIZE]
    )


def awaiting_review(user) -> QuerySet[Report]:
    """Reports in review, the longest waiting first; only `user`'s own unless a reviewer.

    Annotated with `submitted_at` and `submitted_by` (a username, or None for the system)
    from the latest move to review.
    """
    submissions = _latest_transition(to_status=Status.IN_REVIEW)
    reports = _reports(user).filter(status=Status.IN_REVIEW)
    if not can_review(user):
        reports = reports.filter(_mine(user))
    return reports.annotate(
        submitted_at=Subquery(submissions.values("at")[:1]),
        submitted_by=Subquery(submissions.values("by__username")[:1]),
    ).order_by(F("submitted_at").asc(nulls_first=True), "pk")[:PANEL_SIZE]


def returned_to_me(user) -> QuerySet[Report]:
    """Drafts `user` wrote or last edited that a reviewer sent back, the latest first.

    A draft is "returned" while its latest transition is from review (or the schedule) back
    to draft; annotated with `returned_at`, `returned_by` (a username) and `returned_comment`.
    """
    latest = _latest_transition()
    return (
        _reports(user)
        .filter(_mine(user), status=Status.DRAFT)
        .annotate(
            latest_from=Subquery(latest.values("from_status")[:1]),
            latest_to=Subquery(latest.values("to_status")[:1]),
            returned_at=Subquery(latest.values("at")[:1]),
            returned_by=Subquery(latest.values("by__username")[:1]),
            returned_comment=Subquery(latest.values("comment")[:1]),
        )
        .filter(latest_from__in=RETURNED_FROM, latest_to=Status.DRAFT)
        .order_by("-returned_at", "-pk")[:PANEL_SIZE]
    )


def scheduled(user) -> QuerySet[Report]:
    """Reports approved to go live later, the soonest first."""
    return (
        _reports(user)
        .filter(status=Status.SCHEDULED)
        .select_related("scheduled_by")
        .order_by("publish_at", "pk")[:PANEL_SIZE]
    )


def recently_published(user) -> QuerySet[Report]:
    """The reports that went live last, the latest first.

    Each has `live_versions`: a list holding its live `PublishedVersion` (verdict loaded),
    which gives what readers see and its public address (`get_absolute_url`).
    """
    live_versions = (
        PublishedVersion.objects.live()
        .select_related("verdict")
        .only("pk", "report_id", "slug", "number", "published_at", "verdict__name")
    )
    return (
        _reports(user)
        .filter(published_at__isnull=False)
        .prefetch_related(Prefetch("versions", queryset=live_versions, to_attr="live_versions"))
        .order_by("-published_at", "-pk")[:PANEL_SIZE]
    )


def due_for_recheck(user, *, today: datetime.date | None = None) -> QuerySet[Report]:
    """Live reports checked more than `FACTUALLY_RECHECK_AFTER_DAYS` days ago, the oldest first."""
    return (
        _reports(user)
        .filter(published_at__isnull=False, checked_on__lt=recheck_cutoff(today))
        .order_by("checked_on", "pk")[:PANEL_SIZE]
    )


# Live versions whose sources were saved since are compared in full, the latest saved first;
# a save that changed nothing readers see (internal notes, say) leaves a version unlisted.
SOURCE_CANDIDATES = 5 * PANEL_SIZE


def sources_changed_since_publication(user) -> list[Report]:
    """Live reports whose cited sources readers would now see differently, latest change first.

    The live version froze its sources' details; a curator may have edited, retired or merged
    one since, so its public source page and the next publication differ from what was
    reviewed. Each report has `source_changes` (what changed, per reference) and
    `live_version`. Two queries: the candidates, and their sources as they are now.
    """
    if not can_see_reports(user) or not can_review(user):
        return []
    saved_since = Source.objects.filter(
        cited_in_versions=OuterRef("pk"), updated_at__gt=OuterRef("published_at")
    ).order_by("-updated_at")
    candidates = list(
        PublishedVersion.objects.live()
        .annotate(
            sources_saved_at=Subquery(saved_since.values("updated_at")[:1]),
            frozen_references=KeyTransform("references", "content"),
        )
        .filter(sources_saved_at__isnull=False)
        .select_related("report")
        .only("pk", "slug", "number", "published_at", *(f"report__{f}" for f in _PANEL_REPORT))
        .order_by("-sources_saved_at", "-pk")[:SOURCE_CANDIDATES]
    )
    frozen = {
        version.pk: publishing.frozen_references({"references": version.frozen_references})
        for version in candidates
    }
    ids = {r.source.id for references in frozen.values() for r in references if r.source}
    current = {s.pk: s for s in Source.objects.filter(pk__in=ids).select_related("publisher")}
    listed = []
    for version in candidates:
        changes = _source_changes(frozen[version.pk], current)
        if changes:
            report = version.report
            report.source_changes, report.live_version = changes, version
            listed.append(report)
            if len(listed) == PANEL_SIZE:
                break
    return listed


def _source_changes(frozen, current: dict[int, Source]) -> list[str]:
    cited = [r for r in frozen if r.source]
    changes = [
        f"Source [{r.number}] “{r.source.title}” was merged into another source or deleted."
        for r in cited
        if r.source.id not in current
    ]
    kept = [r for r in cited if r.source.id in current]
    now = [
        dataclasses.replace(r, source=CitedSource.from_source(current[r.source.id])) for r in kept
    ]
    return changes + publishing.source_changes(publishing.sources_fingerprint(kept), now)


@dataclass(frozen=True)
class Panel:
    """One panel of the admin home page, ready for the template."""

    key: str  # names the template's markup for the items, and the HTML ids
    title: str
    reports: list[Report]
    empty: str  # said when there are no reports
    see_all_url: str  # the report list, filtered as closely as the admin's filters allow
    see_all_label: str
    note: str = ""


def panels(user) -> list[Panel]:
    """The panels for `user`'s admin home page, each evaluated; none without report access."""
    if not can_see_reports(user):
        return []
    reviewer = can_review(user)
    return [
        Panel(
            "drafts",
            "My drafts",
            list(my_drafts(user)),
            "You have no drafts.",
            _changelist(status__exact=Status.DRAFT),
            "See all drafts",
        ),
        Panel(
            "review",
            "Awaiting review",
            list(awaiting_review(user)),
            "Nothing awaiting review.",
            _changelist(status__exact=Status.IN_REVIEW),
            "See all reports in review",
            note="" if reviewer else "Your reports only.",
        ),
        Panel(
            "returned",
            "Returned to me",
            list(returned_to_me(user)),
            "Nothing returned to you.",
            _changelist(status__exact=Status.DRAFT),
            "See all drafts",
        ),
        Panel(
            "scheduled",
            "Scheduled",
            list(scheduled(user)),
            "Nothing scheduled.",
            _changelist(status__exact=Status.SCHEDULED),
            "See all scheduled reports",
        ),
        Panel(
            "published",
            "Recently published",
            list(recently_published(user)),
            "Nothing published yet.",
            _changelist(live="yes"),
            "See all live reports",
        ),
        *(
            [
                Panel(
                    "sources",
                    "Live reports whose sources changed since publication",
                    sources_changed_since_publication(user),
                    "No cited source changed since its report went live.",
                    _changelist(live="yes"),
                    "See all live reports",
                    note="Readers of the live page still see the sources as published; "
                    "review the report and republish it, or fix the source.",
                )
            ]
            if reviewer
            else []
        ),
        Panel(
            "recheck",
            "Due for re-check",
            list(due_for_recheck(user)),
            "Nothing due for a re-check.",
            _changelist(live="yes", checked_on__lt=recheck_cutoff().isoformat()),
            "See all reports due for a re-check",
            note=f"Live reports checked more than {_recheck_days()} days ago.",
        ),
    ]


# Internals -----------------------------------------------------------------------------


def _reports(user) -> QuerySet[Report]:
    if not can_see_reports(user):
        return Report.objects.none()
    return Report.objects.defer(*_UNSHOWN)


def _mine(user) -> Q:
    if user.pk is None:
        return Q(pk__in=[])
    return Q(author_id=user.pk) | Q(last_edited_by_id=user.pk)


def _latest_transition(**filters) -> QuerySet[Transition]:
    """The transitions of the outer report matching `filters`, the latest first."""
    return Transition.objects.filter(report=OuterRef("pk"), **filters).order_by("-at", "-pk")


def _recheck_days() -> int:
    return settings.FACTUALLY_RECHECK_AFTER_DAYS


def _changelist(**filters) -> str:
    return f"{reverse('admin:reports_report_changelist')}?{urlencode(filters)}"
