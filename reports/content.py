"""The structured content of a report, detached from the database.

A `ReportContent` is what publishing checks and freezes, what previews render and what
the text format reads and writes: one shape for the working copy and for published versions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from reports.models import Report
from sources.models import Source, identifier_links


@dataclass(frozen=True)
class CitedSource:
    """The details of a library source as a reference resolves them."""

    id: int
    title: str
    url: str
    publisher: str
    authors: tuple[str, ...]
    published_on: date | None
    kind: str
    archive_url: str
    is_active: bool
    # Versions frozen before sources had identifiers read back with these empty.
    doi: str = ""
    isbn: str = ""
    pmid: str = ""
    arxiv_id: str = ""
    handle: str = ""
    where_to_find: str = ""

    @property
    def identifier_links(self) -> list[tuple[str, str, str]]:
        """(label, identifier, resolver link or "") as `Source.identifier_links`."""
        return identifier_links(self)

    @property
    def identifiers(self) -> dict[str, str]:
        """The identifiers it carries, by field: what the approval fingerprint covers."""
        return {
            name: getattr(self, name)
            for name in ("doi", "isbn", "pmid", "arxiv_id", "handle")
            if getattr(self, name)
        }

    @property
    def can_be_consulted(self) -> bool:
        """Whether readers are told where to find it: a URL, an identifier or a note."""
        return bool(self.url or self.identifiers or self.where_to_find.strip())

    @classmethod
    def from_source(cls, source: Source) -> CitedSource:
        return cls(
            id=source.pk,
            title=source.title,
            url=source.url,
            publisher=source.publisher.name if source.publisher else "",
            authors=tuple(source.author_list),
            published_on=source.published_on,
            kind=source.get_kind_display(),
            archive_url=source.archive_url,
            is_active=source.is_active,
            doi=source.doi,
            isbn=source.isbn,
            pmid=source.pmid,
            arxiv_id=source.arxiv_id,
            handle=source.handle,
            where_to_find=source.where_to_find,
        )


@dataclass(frozen=True)
class ReferenceContent:
    number: int
    source: CitedSource | None = None
    pinpoint: str = ""

    @classmethod
    def from_json(cls, data: dict) -> ReferenceContent:
        source = data["source"]
        return cls(
            number=data["number"],
            pinpoint=data["pinpoint"],
            source=CitedSource(
                **{
                    **source,
                    "authors": tuple(source["authors"]),
                    "published_on": _date(source["published_on"]),
                }
            )
            if source
            else None,
        )


@dataclass(frozen=True)
class SectionContent:
    heading: str
    body: str


@dataclass(frozen=True)
class QuestionContent:
    question: str
    answered_by_id: int | None = None


@dataclass(frozen=True)
class ReportContent:
    claim: str
    checked_on: date | None = None
    summary: str = ""
    sections: tuple[SectionContent, ...] = ()
    conclusion_heading: str = "Conclusion"
    conclusion: str = ""
    questions: tuple[QuestionContent, ...] = ()
    references: tuple[ReferenceContent, ...] = ()

    @classmethod
    def from_report(cls, report: Report) -> ReportContent:
        """Read a working copy: four queries, whatever its size."""
        return cls(
            claim=report.claim,
            checked_on=report.checked_on,
            summary=report.summary,
            sections=tuple(
                SectionContent(heading=s.heading, body=s.body) for s in report.sections.all()
            ),
            conclusion_heading=report.conclusion_heading,
            conclusion=report.conclusion,
            questions=tuple(
                QuestionContent(question=q.question, answered_by_id=q.answered_by_id)
                for q in report.questions.all()
            ),
            references=cls.references_of(report),
        )

    @staticmethod
    def references_of(report: Report) -> tuple[ReferenceContent, ...]:
        """The working copy's references with their sources' details: one query."""
        return tuple(
            ReferenceContent(
                number=r.number,
                source=CitedSource.from_source(r.source) if r.source else None,
                pinpoint=r.pinpoint,
            )
            for r in report.references.select_related("source__publisher")
        )

    @property
    def cited_texts(self) -> list[tuple[str, str, str]]:
        """Each part that carries citations: its name for editors, its form field, its text."""
        parts = [("Executive summary", "summary", self.summary)]
        parts += [
            (f"Section {n}", "sections", s.body) for n, s in enumerate(self.sections, start=1)
        ]
        parts.append(("Conclusion", "conclusion", self.conclusion))
        return parts

    @property
    def conclusion_number(self) -> int:
        """The conclusion is numbered as the section after the last one."""
        return len(self.sections) + 1

    def to_json(self) -> dict:
        return dataclasses.asdict(self, dict_factory=_json_dict)

    @classmethod
    def from_json(cls, data: dict) -> ReportContent:
        return cls(
            claim=data["claim"],
            checked_on=_date(data["checked_on"]),
            summary=data["summary"],
            sections=tuple(SectionContent(**s) for s in data["sections"]),
            conclusion_heading=data["conclusion_heading"],
            conclusion=data["conclusion"],
            questions=tuple(QuestionContent(**q) for q in data["questions"]),
            references=tuple(ReferenceContent.from_json(r) for r in data["references"]),
        )


def _json_dict(items: list[tuple[str, object]]) -> dict:
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in items}


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
