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
records a `PendingPurge` of the surrogate keys of those pages (`page-<slug>` and `list`, or
`site` for every page), purged after the commit once the app's cache has the change, and
retried by the same jobs until the front cache confirms (`apply_pending_purges`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from factually import frontcache, pagecache

logger = logging.getLogger(__name__)


def publication_changed(*, report=None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make cached public pages stale once the current transaction commits.

    With `report`, that report's publication changed (published, corrected, taken down):
    its own pages and the lists, feeds and searches go stale, and the pages of reports whose
    follow-up questions link to it; every other report page stays cached. Without, data
    shown on every page changed (a verdict, topic, source, flat page): every page goes stale.
    Outside a transaction it acts at once; calls in one transaction add up to one change.

    What must go stale is also recorded in the database, in the same transaction (a
    `PendingInvalidation`), and deleted only once the cache has it: if the cache fails at
    that moment, the change is retried (`apply_pending_invalidations`) rather than lost.
    """
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
    if report is None:
        pending.everything = True
        pending.record(None, everything=True)
    else:
        # Read now, inside the transaction: its addresses before and after the change.
        slugs = _affected_slugs(report)
        pending.slugs |= slugs
        pending.record(report, slugs=slugs)


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

    def record(self, report, *, everything: bool = False, slugs: Iterable[str] = ()) -> None:
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
        keys = frontcache.keys_for(everything=everything, names=slugs)
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
        logger.warning("Marked cached pages stale after an earlier failure: %s.", records)
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


def _changed(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    if kwargs.get("raw"):  # loading fixtures
        return
    publication_changed(using=using)
