"""Realistic published reports in bulk, for benchmarks and scale tests (`generate_reports`).

Reports, their parts and their published versions are built in memory and written with
bulk inserts, a batch at a time: 100,000 reports take minutes, not hours. Each version is
what `publishing.freeze` makes of its report, as when an editor publishes one.
"""

from __future__ import annotations

import datetime
import multiprocessing
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial

from django.db import connections, reset_queries, transaction
from django.utils import timezone
from django.utils.text import slugify

from reports import citations, publishing
from reports.content import (
    CitedSource,
    QuestionContent,
    ReferenceContent,
    ReportContent,
    SectionContent,
)
from reports.models import (
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Transition,
    Verdict,
)
from reports.public import search_index
from sources.models import Publisher, Source

SUBJECTS = [
    "The city council",
    "A viral video",
    "The health ministry",
    "A popular podcast",
    "The new vaccine",
    "Wind turbines",
    "The central bank",
    "Electric cars",
    "A former minister",
    "The national census",
    "Tap water",
    "Mobile phone masts",
    "The school curriculum",
    "Imported grain",
    "The opposition party",
    "A celebrity chef",
]
PREDICATES = [
    "doubled crime in the capital",
    "causes memory loss in children",
    "was banned in twelve countries",
    "cut the price of bread by half",
    "secretly funds foreign campaigns",
    "made unemployment fall to a record low",
    "contains microchips that track people",
    "was invented in the nineteenth century",
    "raised taxes on pensioners last year",
    "kills more birds than cats do",
    "is responsible for the drought",
    "hid the real inflation figures",
]
CLAIMANTS = [
    "A social media post",
    "A campaign leaflet",
    "A television interview",
    "A newspaper column",
    "A parliamentary question",
    "A chain message",
]
WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a list of strings
    "evidence record report figures official statement data survey archive study "
    "minister agency analysis claim context source historians researchers document "
    "interview registry budget statistics decade region council committee testimony "
    "review audit period trend estimate sample court ruling publication journal"
).split()
TOPIC_NAMES = [
    "Health",
    "Politics",
    "Economy",
    "Climate",
    "Science",
    "History",
    "Technology",
    "Education",
    "Crime",
    "Food",
    "Energy",
    "Migration",
]


@dataclass
class Pools:
    """What generated reports share: verdicts, topics and a library of cited sources."""

    verdicts: list[Verdict]
    topics: list[Topic]
    sources: list[Source]
    cited: dict[int, CitedSource]


def generate(
    count: int,
    *,
    seed: int = 0,
    batch_size: int = 500,
    sources: int | None = None,
    workers: int = 1,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Create `count` published reports; returns how many were made.

    With `workers` > 1, rendering (most of the cost) runs in forked processes.
    """
    rng = random.Random(seed)
    if workers > 1:
        # Forked before this process holds a connection, and they never open one, so no
        # database socket is ever shared.
        connections.close_all()
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        render_all = partial(pool.map, publishing.rendered, chunksize=25)
    else:
        pool, render_all = None, partial(map, publishing.rendered)
    try:
        pools = _pools(rng, sources or max(200, min(count * 2, 20_000)))
        made = 0
        for start in range(0, count, batch_size):
            size = min(batch_size, count - start)
            drafts = list(_contents(rng, pools, size))
            renderings = list(render_all([content for content, _ in drafts]))
            with transaction.atomic():
                _batch(rng, pools, drafts, renderings)
            # With DEBUG on, Django keeps every query's SQL, and a batch's inserts carry
            # megabytes of rendered HTML: a run of 100,000 would hold gigabytes.
            reset_queries()
            made += size
            progress(size)
    finally:
        if pool is not None:
            pool.shutdown()
    # The words of every batch at once, then statistics describing the tables as they are.
    search_index.add_words()
    search_index.analyze()
    return made


def _pools(rng: random.Random, source_count: int) -> Pools:
    verdicts = list(Verdict.objects.all())
    topics = [
        Topic.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
        for name in TOPIC_NAMES
    ]
    publishers = list(Publisher.objects.filter(domain__endswith=".generated.example"))
    for n in range(len(publishers), 60):
        publishers.append(
            Publisher.objects.create(name=f"Outlet {n}", domain=f"outlet{n}.generated.example")
        )
    existing = list(
        Source.objects.filter(url__contains=".generated.example/").select_related("publisher")
    )
    run = timezone.now().strftime("%Y%m%d%H%M%S%f")
    new = [
        Source(
            title=f"{rng.choice(SUBJECTS)}: {' '.join(rng.choices(WORDS, k=5))}",
            url=f"https://{publisher.domain}/{run}/{n}",
            publisher=publisher,
            authors="\n".join(f"Author {rng.randint(1, 5000)}" for _ in range(rng.randint(0, 3))),
            published_on=datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randint(0, 9000)),
            kind=rng.choice(Source.Kind.values),
        )
        for n in range(max(0, source_count - len(existing)))
        for publisher in [rng.choice(publishers)]
    ]
    created = Source.objects.bulk_create(new, batch_size=1000)
    for source in created:
        source.publisher = next(p for p in publishers if p.pk == source.publisher_id)
    library = existing + created
    return Pools(
        verdicts=[v for v in verdicts if v.rating is not None] or verdicts,
        topics=topics,
        sources=library,
        cited={source.pk: CitedSource.from_source(source) for source in library},
    )


def _paragraph(rng: random.Random, reference_count: int) -> str:
    sentences = []
    for _ in range(rng.randint(2, 4)):
        words = rng.choices(WORDS, k=rng.randint(8, 16))
        words[0] = words[0].capitalize()
        marker = f" [{rng.randint(1, reference_count)}]"
        sentences.append(" ".join(words) + marker + ".")
    return " ".join(sentences)


def _text(rng: random.Random, reference_count: int, paragraphs: tuple[int, int]) -> str:
    return "\n\n".join(_paragraph(rng, reference_count) for _ in range(rng.randint(*paragraphs)))


def _contents(rng: random.Random, pools: Pools, n: int) -> Iterator[tuple[ReportContent, list]]:
    for _ in range(n):
        reference_count = rng.randint(10, 40)
        cited = rng.sample(pools.sources, reference_count)
        body = [
            SectionContent(
                heading=" ".join(rng.choices(WORDS, k=rng.randint(3, 7))).capitalize(),
                body=_text(rng, reference_count, (2, 5)),
            )
            for _ in range(rng.randint(5, 8))
        ]
        summary = _text(rng, reference_count, (1, 2))
        conclusion = _text(rng, reference_count, (1, 2))
        used = {
            n
            for text in [summary, conclusion, *(s.body for s in body)]
            for n in citations.markers(text)
        }
        # Every reference is cited at least once, as publishing demands.
        unused = sorted(set(range(1, reference_count + 1)) - used)
        if unused:
            conclusion += "\n\nFurther sources " + " ".join(f"[{n}]" for n in unused) + "."
        content = ReportContent(
            claim=f"{rng.choice(SUBJECTS)} {rng.choice(PREDICATES)}.",
            checked_on=datetime.date.today() - datetime.timedelta(days=rng.randint(0, 1500)),
            summary=summary,
            sections=tuple(body),
            conclusion_heading="Conclusion",
            conclusion=conclusion,
            questions=tuple(
                QuestionContent(question=f"What about {' '.join(rng.choices(WORDS, k=4))}?")
                for _ in range(rng.randint(2, 4))
            ),
            references=tuple(
                ReferenceContent(number=number, source=pools.cited[source.pk])
                for number, source in enumerate(cited, start=1)
            ),
        )
        yield content, cited


def _batch(rng: random.Random, pools: Pools, drafts: list, renderings: list) -> None:
    now = timezone.now()
    token = f"{now:%Y%m%d%H%M%S%f}-{rng.randrange(10**6)}"
    reports = Report.objects.bulk_create(
        [
            Report(
                claim=content.claim,
                slug=f"{slugify(content.claim)[:80]}-{token}-{i}",
                verdict=rng.choice(pools.verdicts),
                checked_on=content.checked_on,
                claimant=rng.choice(CLAIMANTS),
                claim_date=content.checked_on - datetime.timedelta(days=rng.randint(1, 60)),
                claim_url=f"https://posts.generated.example/{token}/{i}",
                summary=content.summary,
                conclusion_heading=content.conclusion_heading,
                conclusion=content.conclusion,
                status=Report.Status.PUBLISHED,
                published_at=now,
                is_demo=True,
            )
            for i, (content, _) in enumerate(drafts)
        ]
    )
    Section.objects.bulk_create(
        Section(report=report, position=p, heading=s.heading, body=s.body)
        for report, (content, _) in zip(reports, drafts, strict=True)
        for p, s in enumerate(content.sections, start=1)
    )
    Reference.objects.bulk_create(
        Reference(report=report, number=number, source=source)
        for report, (_, cited) in zip(reports, drafts, strict=True)
        for number, source in enumerate(cited, start=1)
    )
    FollowUpQuestion.objects.bulk_create(
        FollowUpQuestion(report=report, position=p, question=q.question)
        for report, (content, _) in zip(reports, drafts, strict=True)
        for p, q in enumerate(content.questions, start=1)
    )
    topics = {report.pk: rng.sample(pools.topics, rng.randint(1, 3)) for report in reports}
    Report.topics.through.objects.bulk_create(
        Report.topics.through(report_id=pk, topic_id=topic.pk)
        for pk, chosen in topics.items()
        for topic in chosen
    )
    # What publishing freezes, from the content built here and the rendering made by the
    # workers: no query per report, nothing left out that an editor's publication keeps.
    versions = []
    for report, (content, _), rendering in zip(reports, drafts, renderings, strict=True):
        version = publishing.freeze(report, content=content, rendering=rendering)
        version.number, version.is_live, version.published_at = 1, True, now
        versions.append(version)
    versions = PublishedVersion.objects.bulk_create(versions)
    search_index.add_versions(PublishedVersion.objects.filter(pk__in=[v.pk for v in versions]))
    PublishedVersion.topics.through.objects.bulk_create(
        PublishedVersion.topics.through(publishedversion_id=version.pk, topic_id=topic.pk)
        for version in versions
        for topic in topics[version.report_id]
    )
    PublishedVersion.sources.through.objects.bulk_create(
        PublishedVersion.sources.through(publishedversion_id=version.pk, source_id=source.pk)
        for version, (_, cited) in zip(versions, drafts, strict=True)
        for source in cited
    )
    Transition.objects.bulk_create(
        Transition(
            report=report,
            from_status=Report.Status.IN_REVIEW,
            to_status=Report.Status.PUBLISHED,
            at=now,
            comment="Generated for benchmarking.",
        )
        for report in reports
    )
