"""Which cached public pages a change makes stale, and the record that it reaches the cache.

The page cache itself (`public_page`, the counters, validators) is site infrastructure:
factually/pagecache.py. This module tells it when published data changed. The workflow's
`_go_live` and `_take_down` call `publication_changed(report=…)`: that report's pages (its
own counter, named by its slug), the pages of reports whose follow-up questions link to it,
and the lists, feeds and searches go stale. The model signals `connect_signals` connects
for verdicts, topics, sources (so source merges and retirements), publishers, flat pages
and deleted versions call it without a report: every page goes stale.

Each change is recorded in the database in its own transaction (a `PendingInvalidation`)
and deleted only once the cache has it: if the cache fails at that moment, the change is
retried (`apply_pending_invalidations`: the next publication, `publish_scheduled` every
minute, and the page cache itself in a process that saw the cache fail) rather than lost.

A front cache (Varnish, factually/frontcache.py) rides the same path: the same change
records a `PendingPurge` of the surrogate keys of the pages it changed, purged after the
commit once the app's cache has the change, and retried by the same jobs until the front
cache confirms (`apply_pending_purges`). Pages name what they show (README, "Front cache"):
a report's pages `page-<slug>`; the general lists, feeds and sitemap `list`; a topic's
page and feeds `topic-<slug>`, a verdict's `verdict-<slug>`, a source's `source-<id>`; the
topic and verdict pages also `filters` (their filter choices: the topics and years with
live reports). A publication purges, from what its report showed before the change and
after it, `list`, its pages, the pages of its topics, verdicts and cited sources, and
`filters` only when a topic or year gains its first live report or loses its last. A
source's change (edit, retirement, merge) purges that source's page, the addresses merged
into it and the pages of the live reports citing it. Curated data every page shows
(verdicts, topics, publishers, flat pages) purges `site`. The app's own cache keeps its
coarser counters: such a source change makes every one of its pages stale.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from factually import frontcache, pagecache

logger = logging.getLogger(__name__)


# The front cache keys of what pages show (besides `list`, `site` and a report's `page-<slug>`).
FILTERS_KEY = "filters"


def topic_key(slug: str) -> str:
    return frontcache.object_key("topic", slug)


def verdict_key(slug: str) -> str:
    return frontcache.object_key("verdict", slug)


def topic_page_keys(slug: str) -> list[str]:
    """What a topic's page shows: its live reports and the filter choices."""
    return [topic_key(slug), FILTERS_KEY]


def verdict_page_keys(slug: str) -> list[str]:
    """What a verdict's page shows: its live reports and the filter choices."""
    return [verdict_key(slug), FILTERS_KEY]


@dataclass(frozen=True)
class Shown:
    """Where a report's live version appears beside its own pages."""

    topics: frozenset[tuple[int, str]] = field(default_factory=frozenset)  # (pk, slug)
    verdicts: frozenset[str] = field(default_factory=frozenset)  # slugs
    sources: frozenset[int] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)  # checked on

    def keys(self) -> set[str]:
        from sources.views import page_key

        return {
            *(topic_key(slug) for _, slug in self.topics),
            *(verdict_key(slug) for slug in self.verdicts),
            *(page_key(pk) for pk in self.sources),
        }


def shown(report, *, using: str = DEFAULT_DB_ALIAS) -> Shown:
    """Where `report` appears now (nothing if it is not live): read before a change, it is
    what the change may remove it from (a correction may drop a topic)."""
    from reports.models import PublishedVersion

    if not frontcache.enabled():  # only a front cache purges by these
        return Shown()
    version = (
        PublishedVersion.objects.using(using)
        .live()
        .filter(report=report)
        .select_related("verdict")
        .only("checked_on", "verdict__slug")
        .first()
    )
    if version is None:
        return Shown()
    return Shown(
        topics=frozenset(version.topics.values_list("pk", "slug")),
        verdicts=frozenset([version.verdict.slug]),
        sources=frozenset(version.sources.values_list("pk", flat=True)),
        years=frozenset([version.checked_on.year] if version.checked_on else []),
    )


def publication_changed(
    *, report=None, before: Shown | None = None, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Make cached public pages stale once the current transaction commits.

    With `report`, that report's publication changed (published, corrected, taken down):
    its own pages and the lists, feeds and searches go stale, and the pages of reports whose
    follow-up questions link to it; every other report page stays cached. Without, data
    shown on every page changed (a verdict, topic, flat page): every page goes stale.
    `before`: where the report appeared before the change (`shown`, read before it).
    Outside a transaction it acts at once; calls in one transaction add up to one change.

    What must go stale is also recorded in the database, in the same transaction (a
    `PendingInvalidation`), and deleted only once the cache has it: if the cache fails at
    that moment, the change is retried (`apply_pending_invalidations`) rather than lost.
    """
    pending = _pending(using)
    if report is None:
        pending.everything = True
        pending.record(None, everything=True, keys=[frontcache.SITE_KEY])
    else:
        # Read now, inside the transaction: its addresses before and after the change.
        slugs = _affected_slugs(report)
        keys = _publication_keys(report, slugs, before or Shown(), using)
        pending.slugs |= slugs
        pending.record(report, slugs=slugs, keys=keys)


def _publication_keys(report, slugs: set[str], before: Shown, using: str) -> set[str]:
    """The front cache keys of the pages a publication of `report` changed."""
    if not frontcache.enabled():
        return set()
    after = shown(report, using=using)
    keys = {
        frontcache.LIST_KEY,
        *(frontcache.page_key(slug) for slug in slugs),
        *before.keys(),
        *after.keys(),
    }
    if _filters_changed(report, before, after, using):
        keys.add(FILTERS_KEY)
    # A source it starts or stops citing may gain or lose its page: so do the addresses
    # merged into it, which redirect to that page only while it has one.
    return keys | _merged_into(before.sources ^ after.sources, using)


def source_changed(source, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the pages showing `source` stale once the current transaction commits: its own,
    the addresses merged into it (they redirect to it), the pages of live reports citing it.

    For the app's cache, every page (its counters know reports' pages and the rest only).
    """
    from reports.models import PublishedVersion
    from sources.views import page_key

    pending = _pending(using)
    pending.everything = True
    if not frontcache.enabled():
        pending.record(None, everything=True)
        return
    citing = PublishedVersion.objects.using(using).live().filter(sources=source.pk)
    keys = {
        page_key(source.pk),
        *_merged_into({source.pk}, using),
        *(frontcache.page_key(slug) for slug in citing.values_list("slug", flat=True)),
    }
    pending.record(None, everything=True, keys=keys)


def _merged_into(sources: Iterable[int], using: str) -> set[str]:
    """The keys of the addresses of sources merged into `sources` (redirects to them)."""
    from sources.models import SourceMerge
    from sources.views import page_key

    if not sources:
        return set()
    merged = SourceMerge.objects.using(using).filter(kept_id__in=sources)
    return {page_key(pk) for pk in merged.values_list("merged_id", flat=True)}


def _pending(using: str) -> _AfterCommit:
    """The changes waiting for this transaction's commit (one callback per transaction)."""
    connection = transaction.get_connection(using)
    pending = None
    if connection.in_atomic_block:
        pending = next(
            (
                callback
                for _, callback, _ in connection.run_on_commit
                if isinstance(callback, _AfterCommit) and not callback.done
            ),
            None,
        )
    if pending is None:
        pending = _AfterCommit(using)
        transaction.on_commit(pending, using=using)
    return pending


def _filters_changed(report, before: Shown, after: Shown, using: str) -> bool:
    """Whether a topic or a year of the filter choices gains its first live report or loses
    its last: those the report entered or left that no other live report has."""
    from reports.models import PublishedVersion

    topics = {pk for pk, _ in before.topics} ^ {pk for pk, _ in after.topics}
    years = before.years ^ after.years
    others = PublishedVersion.objects.using(using).live().exclude(report=report)
    if topics:
        tagged = PublishedVersion.topics.through.objects.using(using)
        kept = (
            tagged.filter(topic__in=topics, publishedversion__is_live=True)
            .exclude(publishedversion__report=report)
            .values_list("topic", flat=True)
        )
        if topics - set(kept):
            return True
    return any(not others.filter(checked_on__year=year).exists() for year in years)


def _affected_slugs(report) -> set[str]:
    """The addresses whose pages show `report`: its own, and those of reports whose
    follow-up questions link to it."""
    from reports.models import FollowUpQuestion, PublishedVersion

    # Every address it was ever published at: the live one, and any old one, which now
    # answers 404 or the withdrawal notice.
    asking = FollowUpQuestion.objects.filter(answered_by=report).values("report")
    showing = Q(report=report) | Q(is_live=True, report__in=asking)
    return {report.slug, *PublishedVersion.objects.filter(showing).values_list("slug", flat=True)}


class _AfterCommit:
    """The increments waiting for a transaction's commit (discarded if it rolls back), and
    the records of them kept in that transaction until the cache has them."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS):
        self.done = False
        self.everything = False
        self.slugs: set[str] = set()
        self.using = using
        self.records: dict[int | None, object] = {}  # by report id; None: every page
        self.purges: dict[int | None, object] = {}  # the same, for the front cache

    def record(
        self,
        report,
        *,
        everything: bool = False,
        slugs: Iterable[str] = (),
        keys: Iterable[str] = (),
    ) -> None:
        from reports.models import PendingInvalidation, PendingPurge

        key = None if report is None else report.pk
        record = self.records.get(key)
        if record is None:
            self.records[key] = PendingInvalidation.objects.using(self.using).create(
                report=report, everything=everything, slugs=sorted(slugs)
            )
        elif not set(slugs) <= set(record.slugs):
            record.slugs = sorted({*record.slugs, *slugs})
            record.save(using=self.using, update_fields=["slugs"])
        if not frontcache.enabled():
            return
        keys = sorted(set(keys))
        purge = self.purges.get(key)
        if purge is None:
            self.purges[key] = PendingPurge.objects.using(self.using).create(
                report=report, keys=keys
            )
        elif not set(keys) <= set(purge.keys):
            purge.keys = sorted({*purge.keys, *keys})
            purge.save(using=self.using, update_fields=["keys"])

    def __call__(self) -> None:
        self.done = True
        if pagecache.mark_stale(everything=self.everything, names=self.slugs):
            _forget([record.pk for record in self.records.values()], self.using)
            # The cache answers again: what an earlier failure left pending goes now too.
            apply_pending_invalidations(using=self.using)
            # Then the front cache, which refills from the app's (now fresh) pages.
            apply_pending_purges(using=self.using)
        else:
            pagecache.suspect()


# Invalidations the cache missed ----------------------------------------------------------


# How old a pending record must be before catching up with it counts as a missed change.
MISSED_AFTER = datetime.timedelta(seconds=30)


def apply_pending_invalidations(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Tell the cache what earlier changes could not, oldest first; each record is deleted
    once the cache has it. Returns how many remain pending."""
    from reports.models import PendingInvalidation

    records = list(PendingInvalidation.objects.using(using).order_by("pk"))
    if not records:
        pagecache.caught_up()
        return 0
    everything = any(record.everything for record in records)
    slugs = {slug for record in records for slug in record.slugs}
    if pagecache.mark_stale(everything=everything, names=slugs):
        _forget([record.pk for record in records], using)
        pagecache.caught_up()
        # A young record is most likely another transaction's, committed a moment ago with
        # its own callback about to run (two publications at once, parallel bulk loads):
        # applying it here is harmless, and only an older one means the cache missed a change.
        missed_before = timezone.now() - MISSED_AFTER
        if missed := [record for record in records if record.created_at < missed_before]:
            logger.warning("Marked cached pages stale after an earlier failure: %s.", missed)
        return 0
    pagecache.missed(everything=everything, names=slugs)
    return len(records)


def apply_pending_purges(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Purge from the front cache every key still pending, in one purge; the records are
    deleted once every front cache confirmed. Returns how many remain pending.

    Not while the app's own cache misses a change: a front cache purged then would refill
    from the app's stale pages and keep them, with nothing left to purge them again.
    """
    from reports.models import PendingInvalidation, PendingPurge

    records = list(PendingPurge.objects.using(using).order_by("pk"))
    if not records:
        return 0
    if PendingInvalidation.objects.using(using).exists():
        return len(records)
    keys = {key for record in records for key in record.keys}
    if frontcache.SITE_KEY in keys:  # every page: the other keys add nothing
        keys = {frontcache.SITE_KEY}
    try:
        frontcache.purge(keys)
    except frontcache.PurgeFailed as error:
        logger.warning("The front cache did not confirm a purge (retried later): %s", error)
        return len(records)
    PendingPurge.objects.using(using).filter(pk__in=[record.pk for record in records]).delete()
    return 0


def invalidation_pending(report) -> bool:
    """Whether the cache, or the front cache, may still hold pages of `report` that should
    be gone."""
    from reports.models import PendingInvalidation, PendingPurge

    return (
        PendingInvalidation.objects.filter(Q(report=report) | Q(everything=True)).exists()
        or PendingPurge.objects.filter(Q(report=report) | Q(report=None)).exists()
    )


def _forget(pks: list[int], using: str) -> None:
    from reports.models import PendingInvalidation

    if pks:
        PendingInvalidation.objects.using(using).filter(pk__in=pks).delete()


# What else changes public pages -----------------------------------------------------------


def connect_signals() -> None:
    """Mark pages stale when curated data shown on them is saved or deleted (admin edits),
    and have the page cache retry what it missed through `apply_pending_invalidations`.

    Publishing and taking down go through reports.workflow, which calls
    `publication_changed` itself; a deleted report takes its versions with it.
    """
    from django.contrib.flatpages.models import FlatPage

    from reports.models import PublishedVersion, Topic, Verdict
    from sources.models import Publisher, Source

    pagecache.catch_up_with(apply_pending_invalidations)
    for model in (Verdict, Topic, Source, Publisher, FlatPage):
        post_save.connect(_changed, sender=model, dispatch_uid=f"caching.saved.{model.__name__}")
    for model in (Verdict, Topic, Source, Publisher, FlatPage, PublishedVersion):
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"caching.deleted.{model.__name__}"
        )


def _changed(sender, instance=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    from sources.models import Source

    if kwargs.get("raw"):  # loading fixtures
        return
    if sender is Source:  # saved, retired, merged (the kept one saved, the other deleted)
        source_changed(instance, using=using)
    else:
        publication_changed(using=using)
