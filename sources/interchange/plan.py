"""What an import will do with each entry, decided before anything is saved.

`build_plan` reads the library (never writes): each entry is to be created, matched to a
record that exists (same URL, http and https alike, or the same DOI, ISBN, PMID, arXiv ID or
handle: `SourceQuerySet.matching_many`) or to an earlier entry of the same file, or refused
with the reason. `ImportPlan.apply` then saves the whole file in one transaction: by
default only if no entry is refused; or, if the curator chooses, the good entries with the
refused left out. Matched records are left as they are, unless the curator asks to fill
their empty fields from the entry (`filling`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import transaction

from sources.interchange import filling
from sources.interchange.common import Entry, FieldError, ImportRefused, says_nothing_of_publisher
from sources.interchange.filling import Fill
from sources.models import MATCHED_FIELDS, Publisher, Source
from sources.normalisation import clean_domain, domain_of

# Lookups by URL or identifier go in batches of this many, to keep each query's parameters few.
BATCH = 500
# How a match is named to the curator, by the field shared.
SAME = {
    "url": "URL",
    "doi": "DOI",
    "isbn": "ISBN",
    "pmid": "PubMed ID",
    "arxiv_id": "arXiv ID",
    "handle": "handle",
}


def no_progress(iterable: Iterable, **kwargs) -> Iterable:
    return iterable


Progress = Callable[..., Iterable]


class Action(enum.StrEnum):
    CREATE = "create"
    MATCH = "match"
    REFUSE = "refuse"


@dataclass
class NewPublisher:
    """A publisher the import will create, shared by every entry that names it."""

    name: str
    domain: str
    instance: Publisher | None = None

    def save(self) -> Publisher:
        if self.instance is None:
            self.instance = Publisher.objects.create(name=self.name, domain=self.domain)
        return self.instance

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})" if self.domain else self.name


@dataclass
class PlannedEntry:
    """One entry and what the import does with it."""

    entry: Entry
    action: Action
    reason: str = ""
    existing: Source | None = None  # the library's record this entry matches
    same_as: PlannedEntry | None = None  # the earlier entry of the file it repeats
    publisher: Publisher | NewPublisher | None = None
    # Why the publisher the file names is left out, when it is.
    publisher_left_out: str = ""
    # Empty fields of the matched record this entry can fill, if the curator asks.
    fills: list[Fill] = field(default_factory=list)
    source: Source | None = None  # set once applied: the record created or matched
    position: int = 0  # 1-based, in the file: how the preview names the rows to fill

    @property
    def errors(self):
        return self.entry.errors

    @property
    def new_publisher(self) -> bool:
        return isinstance(self.publisher, NewPublisher)


@dataclass
class ImportPlan:
    filename: str
    format: str
    entries: list[PlannedEntry] = field(default_factory=list)
    applied: bool = False  # set by `apply`
    filled: list[Source] = field(default_factory=list)  # records `apply` filled

    def count(self, action: Action) -> int:
        return sum(1 for planned in self.entries if planned.action == action)

    @property
    def created(self) -> int:
        return self.count(Action.CREATE)

    @property
    def matched(self) -> int:
        return self.count(Action.MATCH)

    @property
    def refused(self) -> int:
        return self.count(Action.REFUSE)

    @property
    def ok(self) -> bool:
        """Whether the file can be imported: all or nothing, so no entry may be refused."""
        return not self.refused

    def summary(self) -> str:
        return f"{self.created} created, {self.matched} matched existing, {self.refused} refused"

    @property
    def importable(self) -> int:
        """How many entries would be saved (created or matched) if the refused are left out."""
        return self.created + self.matched

    def refusals(self) -> list[tuple[str, str, str]]:
        """(entry, field, problem) for each problem of the refused entries."""
        return [
            (planned.entry.where, problem.field, problem.message)
            for planned in self.entries
            if planned.action == Action.REFUSE
            for problem in (planned.errors or [FieldError("", planned.reason)])
        ]

    def problems(self) -> list[str]:
        """One line per problem: file, entry, field and what is wrong."""
        return [
            f"{self.filename}, {planned.entry.where}, {problem}"
            for planned in self.entries
            if planned.action == Action.REFUSE
            for problem in (planned.errors or [planned.reason])
        ]

    def apply(
        self,
        *,
        by=None,
        progress: Progress = no_progress,
        leave_refused: bool = False,
        fill: Collection[int] = (),
    ) -> list[Source]:
        """Save the plan in one transaction and return the sources created.

        Raises `ImportRefused` if any entry is refused, unless `leave_refused`: then the
        good entries are saved and the refused left out. `fill` holds the positions of
        matched entries whose record gets its empty fields filled (see `filling`).
        """
        if not self.ok and not leave_refused:
            raise ImportRefused(
                self.filename, f"{self.refused} entries are refused; nothing was saved."
            )
        created, self.filled = [], []
        with transaction.atomic():
            for planned in progress(self.entries, desc=f"{self.filename}: saving", unit="entry"):
                if planned.action == Action.REFUSE:
                    continue
                if planned.action == Action.MATCH:
                    planned.source = planned.existing or planned.same_as.source
                    if planned.position in fill and planned.fills and planned.existing:
                        self._fill(planned, by)
                    continue
                planned.source = Source.objects.create(
                    publisher=_saved(planned.publisher), **planned.entry.source_fields()
                )
                created.append(planned.source)
            if by is not None and created:
                LogEntry.objects.log_actions(
                    user_id=by.pk,
                    queryset=created,
                    action_flag=ADDITION,
                    change_message=f"Imported from {self.filename}.",
                )
        self.applied = True
        return created

    def _fill(self, planned: PlannedEntry, by) -> None:
        source = Source.objects.select_for_update().get(pk=planned.existing.pk)
        done = filling.fill(source, planned.entry, planned.fills, _saved(planned.publisher))
        if not done:
            return
        self.filled.append(source)
        if by is not None:
            LogEntry.objects.log_actions(
                user_id=by.pk,
                queryset=[source],
                action_flag=CHANGE,
                change_message=f"Filled {', '.join(done)} from {self.filename}.",
            )


def build_plan(
    entries: list[Entry],
    *,
    filename: str,
    format: str,
    progress: Progress = no_progress,
    create_publishers: bool = True,
) -> ImportPlan:
    """Decide, without saving anything, what importing `entries` does with each one.

    With `create_publishers` off (for someone who may not add publishers), a publisher not
    in the library is left out rather than planned.
    """
    plan = ImportPlan(filename=filename, format=format)
    good = [entry for entry in entries if entry.ok]
    existing = Source.objects.matching_many(
        {name: {getattr(entry, name) for entry in good} for name in MATCHED_FIELDS},
        batch=BATCH,
    )
    seen: dict[tuple[str, str], PlannedEntry] = {}
    publishers = PublisherResolver(create=create_publishers)
    for position, entry in enumerate(
        progress(entries, desc=f"{filename}: checking", unit="entry"), start=1
    ):
        planned = _plan_entry(entry, existing, seen)
        planned.position = position
        if planned.action == Action.CREATE:
            planned.publisher, planned.publisher_left_out = publishers.resolve(entry)
        elif planned.action == Action.MATCH and planned.existing and not planned.same_as:
            if planned.existing.publisher_id is None:
                planned.publisher, planned.publisher_left_out = publishers.resolve(entry)
            planned.fills = filling.fills_for(entry, planned.existing, planned.publisher)
        if planned.action != Action.REFUSE:
            for key in entry.match_keys.items():
                seen.setdefault(key, planned)
        plan.entries.append(planned)
    return plan


def _plan_entry(entry, existing, seen) -> PlannedEntry:
    if not entry.ok:
        return PlannedEntry(entry, Action.REFUSE)
    keys = entry.match_keys
    found = {name: existing[name, key] for name, key in keys.items() if (name, key) in existing}
    if len({source.pk for source in found.values()}) > 1:
        return PlannedEntry(
            entry,
            Action.REFUSE,
            reason="it matches more than one record of the library: "
            + "; ".join(f"its {SAME[name]} “{source}”" for name, source in found.items())
            + ".",
        )
    if found:
        name, source = next(iter(found.items()))
        return PlannedEntry(entry, Action.MATCH, reason=f"same {SAME[name]}", existing=source)
    earlier = {name: seen[name, key] for name, key in keys.items() if (name, key) in seen}
    if len({id(planned) for planned in earlier.values()}) > 1:
        return PlannedEntry(
            entry,
            Action.REFUSE,
            reason="it repeats more than one entry of this file: "
            + "; ".join(f"its {SAME[name]} {p.entry.where}" for name, p in earlier.items())
            + ".",
        )
    if earlier:
        name, first = next(iter(earlier.items()))
        return PlannedEntry(
            entry, Action.MATCH, reason=f"same {SAME[name]}", existing=first.existing, same_as=first
        )
    return PlannedEntry(entry, Action.CREATE)


def _saved(publisher: Publisher | NewPublisher | None) -> Publisher | None:
    return publisher.save() if isinstance(publisher, NewPublisher) else publisher


def _comparable(name: str) -> str:
    words = re.findall(r"\w+", name.lower())
    return " ".join(words[1:] if words[:1] == ["the"] else words)


class PublisherResolver:
    """Finds each entry's publisher, or plans a new one, remembering what it found.

    What the file says comes first: the publisher domain it gives (our own exports do), then
    a publisher of the name it gives (its journal, newspaper, publisher or institution), in
    any case. Only then the URL's domain (or a parent domain), and only if the file names no
    other publisher: a Nature Energy article is not Nature Reviews Materials's because both
    are on nature.com. A new publisher takes the URL's domain unless another publisher holds
    it, the host serves many publishers (doi.org, handle.net, archive.org: see
    `sources.normalisation.GENERIC_HOSTS`) or the entry is a paper (journals share hosts);
    else it is known by name alone.
    """

    def __init__(self, *, create: bool = True):
        self.create = create
        self._by_domain: dict[str, Publisher | NewPublisher | None] = {}
        self._by_name: dict[str, Publisher | NewPublisher | None] = {}

    def resolve(self, entry: Entry) -> tuple[Publisher | NewPublisher | None, str]:
        """The publisher, or None and why the one the file names is left out."""
        name = " ".join(entry.publisher_name.split())[
            : Publisher._meta.get_field("name").max_length
        ]
        given_domain = clean_domain(entry.publisher_domain)
        url_domain = "" if says_nothing_of_publisher(entry.url) else domain_of(entry.url)
        if given_domain and (publisher := self._for_domain(given_domain)):
            return publisher, ""
        # A domain the file gives is the publisher's identity (two may share a name).
        if name and not given_domain and (publisher := self._for_name(name)):
            return publisher, ""
        of_domain = self._for_domain(url_domain) if url_domain else None
        if of_domain and (not name or _comparable(of_domain.name) == _comparable(name)):
            return of_domain, ""
        if not name:
            return None, ""
        if not self.create:
            return None, f"“{name}” is not in the library, and you may not add publishers"
        domain = given_domain
        if not domain and not of_domain and entry.kind != Source.Kind.ACADEMIC_PAPER:
            domain = url_domain
        if len(domain) > Publisher._meta.get_field("domain").max_length:
            domain = ""
        publisher = NewPublisher(name=name, domain=domain)
        if domain:
            self._by_domain[domain] = publisher
        self._by_name[name.lower()] = publisher
        return publisher, ""

    def _for_domain(self, domain: str):
        if domain not in self._by_domain:
            self._by_domain[domain] = (
                Publisher.objects.for_domain(domain)
                or Publisher.objects.filter(domain=domain).first()
            )
        return self._by_domain[domain]

    def _for_name(self, name: str):
        key = name.lower()
        if key not in self._by_name:
            self._by_name[key] = Publisher.objects.filter(name__iexact=name).order_by("pk").first()
        return self._by_name[key]
