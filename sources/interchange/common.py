"""What every format reads into: one `Entry` per source, with its problems named by field.

Each reader (CSL-JSON, BibTeX, CSV) turns its entries into `Entry` objects in the library's
terms, naming fields as the file names them; `Entry.finish` then applies the rules shared by
all formats (a URL from the DOI, normalisation, the model's own validation).

Partial dates: the library stores whole dates, so a date known only to the month is stored
as the first of that month, and one known only to the year as 1 January, with a line in the
internal notes saying so ("Publication date known to the month only: 2020-03."). Exporting
reads that line back, so the file says "2020-03" again rather than a made-up day. A date
the library holds less of than the file says (a range, a season, an approximate or
uncertain date, a literal such as "(in press)") keeps its first day, month or year and a note
with what the file says ("Publication date given as “1829--1830”; the library keeps 1829.").
"""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from sources.models import Source
from sources.normalisation import (
    IDENTIFIER_PARSERS,
    InvalidIdentifier,
    domain_of,
    is_generic_host,
    match_keys,
    normalise_url,
)

DAY, MONTH, YEAR = "day", "month", "year"

# Model date fields and how the notes name them.
DATE_FIELDS = {
    "published_on": "Publication",
    "accessed_on": "Access",
    "archive_date": "Archive",
}
PRECISION_NOTE = re.compile(
    r"^(?P<label>Publication|Access|Archive) date known to the (?P<precision>month|year) "
    r"only: (?P<value>\d{4}(?:-\d{2})?)\.$"
)

# Hosts whose URLs resolve DOIs: their domain says nothing about the publisher.
DOI_RESOLVERS = frozenset({"doi.org", "dx.doi.org"})

# Seasons as CSL (months 13-16) and EDTF (21-24) number them.
SEASONS = {13: "Spring", 14: "Summer", 15: "Autumn", 16: "Winter"}
SEASONS |= {number + 8: name for number, name in SEASONS.items()}
SEASON_NAMES = {name.lower(): number for number, name in SEASONS.items() if number < 20} | {
    "fall": 15
}
MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
CIRCA = re.compile(r"^(?:circa|ca\.?|c\.|approx\.?|about)\s*", re.IGNORECASE)
# Between the two ends of a range: EDTF "/", BibTeX "--", dashes, " to ".
RANGE = re.compile(r"\s*(?:/|--+|[\u2012-\u2015]|\s+to\s+)\s*")
# A time after the date ("2020-03-05T10:00:00Z", "2020-03-05 10:00"): dropped, no note.
TIME = re.compile(r"(?<=\d)(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
# The rich text CSL allows in titles (and "<sc>" some processors write).
CSL_MARKUP = re.compile(r"</?(?:i|b|sup|sub|sc|span(?:\s+[^<>]*)?)\s*>", re.IGNORECASE)

# Domains of governments (second-level labels such as gov.uk, gouv.fr, go.jp, gc.ca, and the
# .gov, .mil and .int top-level domains), and a few government sites without such a label.
GOVERNMENT_LABELS = frozenset({"gov", "gouv", "gob", "govt", "go", "gv", "gc", "mil", "int"})
GOVERNMENT_DOMAINS = ("europa.eu", "admin.ch", "bund.de")


class ImportRefused(Exception):
    """A whole file cannot be read; the message names the file and where it goes wrong."""

    def __init__(self, filename: str, message: str, *, where: str = "", field: str = ""):
        self.filename, self.message, self.where, self.field = filename, message, where, field
        super().__init__(str(self))

    def __str__(self) -> str:
        location = ", ".join(part for part in (self.filename, self.where) if part)
        if self.field:
            location += f", field “{self.field}”"
        return f"{location}: {self.message}"


@dataclass(frozen=True)
class FieldError:
    """One problem with an entry: the field as the file names it (or none), and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"field “{self.field}”: {self.message}" if self.field else self.message


@dataclass(frozen=True)
class PartialDate:
    """A date as the file gives it: to the day, the month or the year."""

    value: datetime.date
    precision: str = DAY

    @classmethod
    def from_parts(cls, year, month=None, day=None) -> PartialDate:
        """From numbers (or digit strings); raises ValueError with a readable message."""
        numbers = []
        for name, part in (("year", year), ("month", month), ("day", day)):
            if part is None:
                break
            if isinstance(part, str) and part.strip().isdigit():
                part = int(part.strip())
            if isinstance(part, bool) or not isinstance(part, int):
                raise ValueError(f"the {name} “{part}” is not a number")
            numbers.append(part)
        if not numbers:
            raise ValueError("no year is given")
        if not 1 <= numbers[0] <= 9999:
            raise ValueError(f"{numbers[0]} is not a year")
        if len(numbers) > 1 and not 1 <= numbers[1] <= 12:
            raise ValueError(f"{numbers[1]} is not a month (1 to 12)")
        try:
            value = datetime.date(*numbers, *[1] * (3 - len(numbers)))
        except ValueError:
            raise ValueError(f"{format_parts(numbers)} is not a day of the calendar") from None
        return cls(value, (YEAR, MONTH, DAY)[len(numbers) - 1])

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        """From "YYYY-MM-DD", "YYYY-MM" or "YYYY"."""
        match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text.strip())
        if not match:
            raise ValueError(f"“{text}” is not a date (write YYYY-MM-DD, YYYY-MM or YYYY)")
        return cls.from_parts(*(int(part) for part in match.groups() if part is not None))

    @property
    def parts(self) -> list[int]:
        """CSL date-parts: as many numbers as are known."""
        full = [self.value.year, self.value.month, self.value.day]
        return full[: {YEAR: 1, MONTH: 2, DAY: 3}[self.precision]]

    def isoformat(self) -> str:
        return format_parts(self.parts)

    @classmethod
    def from_text(cls, text: str) -> tuple[PartialDate | None, str]:
        """From a date as people and tools write it; with what it says beyond the date kept.

        "2011-05-25~", "circa 1850", "1829--1830", "2001/2002", "Spring 2001", "2001-21",
        "May 2011", "25 May 2011", "May 25, 2011", "2020-03-05T10:00:00Z". The second value
        is "" when the date says no more than the one kept. Raises ValueError.
        """
        original = " ".join(text.split())
        value = CIRCA.sub("", original)
        more = value != original
        value = TIME.sub("", value)
        # EDTF: "?" uncertain, "~" approximate, "%" both; open ends ".." or nothing.
        stripped = value.replace("?", "").replace("~", "").replace("%", "")
        more |= stripped != value
        ends = [end for end in RANGE.split(stripped) if end and end != ".."]
        if not ends:
            raise ValueError(f"“{original}” is not a date")
        more |= len(ends) > 1 or stripped != ends[0]
        if len(ends) == 1 and (match := re.fullmatch(r"(\d{4})-(\d{4})", ends[0])):
            ends, more = [match[1]], True  # "1829-1830": years, not a month 1830
        first, season = _one_date(ends[0], original)
        return first, original if (more or season) else ""

    def note(self, field_name: str) -> str:
        """The line in the notes that records a date known to the month or year only."""
        if self.precision == DAY:
            return ""
        label = DATE_FIELDS[field_name]
        return f"{label} date known to the {self.precision} only: {self.isoformat()}."


def _one_date(text: str, original: str) -> tuple[PartialDate, bool]:
    """One end of a date, and whether it named a season (kept as its year)."""
    text = text.strip().rstrip(".")
    iso = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if iso and iso[2] and int(iso[2]) in SEASONS and not iso[3]:
        return PartialDate.from_parts(int(iso[1])), True
    if iso:
        return PartialDate.from_parts(*(int(part) for part in iso.groups() if part)), False
    words = re.findall(r"[^\W\d_]+|\d+", text.lower())
    numbers = [int(word) for word in words if word.isdigit()]
    names = [word for word in words if not word.isdigit()]
    years = [number for number in numbers if number > 31]
    if len(years) == 1 and len(names) == 1 and names[0] in SEASON_NAMES and len(numbers) == 1:
        return PartialDate.from_parts(years[0]), True
    if len(years) == 1 and len(names) == 1 and names[0] in MONTH_NAMES and len(numbers) <= 2:
        days = [number for number in numbers if number != years[0]]
        return PartialDate.from_parts(years[0], MONTH_NAMES[names[0]], *days[:1]), False
    raise ValueError(
        f"“{original}” is not a date (write YYYY-MM-DD, YYYY-MM or YYYY, or a range of them)"
    )


def season_name(number) -> str:
    return SEASONS.get(number, "") if isinstance(number, int) else ""


def plain_title(text: str) -> str:
    """A CSL title without its rich-text tags ("<i>Homo sapiens</i>" → "Homo sapiens")."""
    return html.unescape(CSL_MARKUP.sub("", text)) if "<" in text or "&" in text else text


def format_parts(parts) -> str:
    return "-".join(f"{part:04d}" if i == 0 else f"{part:02d}" for i, part in enumerate(parts))


def stored_date(source: Source, field_name: str) -> PartialDate | None:
    """A source's date with the precision its notes record (see the module docstring)."""
    value = getattr(source, field_name)
    if value is None:
        return None
    label = DATE_FIELDS[field_name]
    for line in source.notes.splitlines():
        match = PRECISION_NOTE.match(line.strip())
        if not match or match["label"] != label:
            continue
        try:
            partial = PartialDate.from_iso(match["value"])
        except ValueError:
            continue
        if partial.precision == match["precision"] and partial.value == value:
            return partial
    return PartialDate(value)


def kind_for_report(url: str) -> str:
    """A report on a government domain is a government document, else an NGO report."""
    domain = domain_of(url)
    labels = domain.split(".")
    if set(labels[-2:]) & GOVERNMENT_LABELS or any(
        domain == d or domain.endswith("." + d) for d in GOVERNMENT_DOMAINS
    ):
        return Source.Kind.GOVERNMENT_DOCUMENT
    return Source.Kind.NGO_REPORT


def is_doi_link(url: str) -> bool:
    return domain_of(url) in DOI_RESOLVERS


def says_nothing_of_publisher(url: str) -> bool:
    """A link to a resolver, repository or archive: its domain names no publisher."""
    return is_doi_link(url) or is_generic_host(domain_of(url))


@dataclass
class Entry:
    """One source as read from a file, in the library's terms, before matching.

    `labels` maps model field names to the names the file uses ("url" → "URL"), so that
    problems are reported in the file's own words.
    """

    where: str
    labels: dict[str, str] = field(default_factory=dict)
    title: str = ""
    url: str = ""
    doi: str = ""
    isbn: str = ""
    pmid: str = ""
    arxiv_id: str = ""
    handle: str = ""
    where_to_find: str = ""
    authors: list[str] = field(default_factory=list)
    published: PartialDate | None = None
    accessed: PartialDate | None = None
    archive_date: PartialDate | None = None
    language: str = ""
    kind: str = Source.Kind.OTHER
    archive_url: str = ""
    url_status: str = Source.UrlStatus.LIVE
    notes: list[str] = field(default_factory=list)
    publisher_name: str = ""
    publisher_domain: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def label(self, model_field: str) -> str:
        return self.labels.get(model_field, model_field)

    def refuse(self, model_field: str | None, message: str) -> None:
        """Record a problem; `model_field` is named as the file names it."""
        self.errors.append(FieldError(self.label(model_field) if model_field else "", message))

    def note_date(self, model_field: str, said: str, kept: PartialDate | None) -> None:
        """Record in the notes what the file says of a date beyond the one kept."""
        label = DATE_FIELDS[model_field]
        what = f"the library keeps {kept.isoformat()}" if kept else "the library keeps no date"
        self.notes.append(f"{label} date given as “{said}”; {what}.")

    def read_date(self, model_field: str, text: str, label: str = "") -> PartialDate | None:
        """A date written as text, with a note for what it says beyond the date kept."""
        try:
            date, said = PartialDate.from_text(text)
        except ValueError as error:
            if label:
                self.errors.append(FieldError(label, f"{error}."))
            else:
                self.refuse(model_field, f"{error}.")
            return None
        if said:
            self.note_date(model_field, said, date)
        return date

    def has_error(self, model_field: str) -> bool:
        return any(error.field == self.label(model_field) for error in self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors

    def finish(self) -> Entry:
        """Apply the rules every format shares, recording what breaks them."""
        self.title = " ".join(plain_title(self.title).split())
        for name, parse in IDENTIFIER_PARSERS.items():
            try:
                setattr(self, name, parse(getattr(self, name)))
            except InvalidIdentifier as error:
                setattr(self, name, getattr(self, name).strip())
                self.refuse(name, str(error))
        self.url = normalise_url(self.url)
        # A DOI resolves: its link stands in for a missing URL, as the link checker can follow.
        if not self.url and self.doi and not self.has_error("doi"):
            self.url = f"https://doi.org/{self.doi}"
        if not self.title and not self.has_error("title"):
            self.refuse("title", "missing: every source needs a title.")
        # A URL is optional: books, print articles, filings and interviews often have none.
        self.where_to_find = " ".join(self.where_to_find.split())
        self.archive_url = normalise_url(self.archive_url)
        self.language = self.language.strip()
        for partial, field_name in (
            (self.published, "published_on"),
            (self.accessed, "accessed_on"),
            (self.archive_date, "archive_date"),
        ):
            line = partial.note(field_name) if partial else ""
            if line and line not in (existing.strip() for existing in self.notes):
                self.notes.append(line)
        self._validate()
        return self

    def _validate(self) -> None:
        """The model's own field checks (lengths, URLs, choices), in the file's words."""
        try:
            Source(**self.source_fields()).clean_fields(exclude=["publisher"])
        except ValidationError as error:
            for model_field, messages in error.message_dict.items():
                if self.has_error(model_field):
                    continue
                for message in messages:
                    value = getattr(self, model_field, "")
                    shown = f"“{value}”: " if model_field.endswith("url") and value else ""
                    self.refuse(model_field, shown + message)

    def source_fields(self) -> dict:
        """Keyword arguments for `Source`, publisher apart."""
        fields = {
            "title": self.title,
            "url": self.url,
            "doi": self.doi,
            "isbn": self.isbn,
            "pmid": self.pmid,
            "arxiv_id": self.arxiv_id,
            "handle": self.handle,
            "where_to_find": self.where_to_find,
            "authors": "\n".join(self.authors),
            "published_on": self.published.value if self.published else None,
            "language": self.language,
            "kind": self.kind,
            "archive_url": self.archive_url,
            "archive_date": self.archive_date.value if self.archive_date else None,
            "url_status": self.url_status,
            "notes": "\n".join(line.rstrip() for line in self.notes).strip(),
        }
        # No access date is made up: a file that gives none leaves the field empty.
        fields["accessed_on"] = self.accessed.value if self.accessed else None
        return fields

    @property
    def match_keys(self) -> dict[str, str]:
        """Field → key, as `Source.match_keys`: what a record must share to be this entry."""
        return match_keys(**{name: getattr(self, name) for name in ("url", *IDENTIFIER_PARSERS)})

    def take_identifiers(self, fields, names: dict[str, str]) -> None:
        """Read identifiers from `fields` (a mapping), `names` giving the file's name of each
        model field ("isbn" → "ISBN"); a field already set is kept."""
        for model_field, key in names.items():
            value = fields.get(key)
            if isinstance(value, list) and value:
                value = value[0]  # CSL may list several ISBNs; the first is the edition cited
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and value.strip() and not getattr(self, model_field):
                setattr(self, model_field, value.strip())
                self.labels = {**self.labels, model_field: key}

    @property
    def display_title(self) -> str:
        return self.title or "(no title)"


def choice_value(choices, text: str) -> str | None:
    """The stored value of a choice given by its value or label, in any case."""
    wanted = text.strip().lower()
    for value, label in choices:
        if wanted in (value.lower(), str(label).lower()):
            return value
    return None


def split_notes(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()] if text.strip() else []
