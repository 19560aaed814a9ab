"""Demo content: published reports cited to real public sources, and the example as a draft.

Each demo report is a text file in the Factually layout beside a JSON file giving its
verdict, topics and sources. Loading goes through the real importer and publisher.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from reports import workflow
from reports.formats.importing import import_report
from reports.models import Reference, Report, Topic, Verdict
from sources.models import Publisher, Source
from sources.normalisation import normalise_url

DEMO_DIR = Path(__file__).resolve().parent
# The example report stays a draft, so the publish check can be seen refusing it.
DRAFT_EXAMPLE = "destalinisation"
DRAFT_EXAMPLE_VERDICT = "false"


def load(*, say: Callable[[str], None] = print) -> int:
    """Load every demo report not loaded yet; returns how many were added."""
    added = 0
    for text_file in sorted(DEMO_DIR.glob("*.txt")):
        slug = text_file.stem
        if Report.objects.filter(slug=slug).exists():
            say(f"Already loaded: {slug}")
            continue
        with transaction.atomic():
            report = _import(text_file, slug)
            metadata_file = text_file.with_suffix(".json")
            if metadata_file.exists():
                _describe(report, json.loads(metadata_file.read_text(encoding="utf-8")))
                workflow.submit(report, by=None, comment="Demo content.")
                workflow.publish(report, by=None)
                say(f"Published demo report: {slug}")
            else:
                say(f"Loaded demo draft (references still to link): {slug}")
        added += 1
    return added


def _import(text_file: Path, slug: str) -> Report:
    report = import_report(text_file.read_text(encoding="utf-8"), filename=text_file.name)
    report.slug = slug
    report.is_demo = True
    if slug == DRAFT_EXAMPLE:
        report.verdict = Verdict.objects.get(slug=DRAFT_EXAMPLE_VERDICT)
    report.save()
    return report


def _describe(report: Report, metadata: dict) -> None:
    report.verdict = Verdict.objects.get(slug=metadata["verdict"])
    report.claimant = metadata.get("claimant", "")
    report.claim_url = metadata.get("claim_url", "")
    report.save()
    for name in metadata.get("topics", []):
        topic, _ = Topic.objects.get_or_create(slug=slugify(name), defaults={"name": name})
        report.topics.add(topic)
    for number, details in metadata["references"].items():
        Reference.objects.filter(report=report, number=int(number)).update(
            source=_source(details), pinpoint=details.get("pinpoint", "")
        )


def _source(details: dict) -> Source:
    publisher_details = details["publisher"]
    publisher, _ = Publisher.objects.get_or_create(
        domain=publisher_details["domain"].lower().removeprefix("www."),
        defaults={"name": publisher_details["name"]},
    )
    source, _ = Source.objects.get_or_create(
        url=normalise_url(details["url"]),
        defaults={
            "title": details["title"],
            "publisher": publisher,
            "authors": "\n".join(details.get("authors", [])),
            "published_on": date.fromisoformat(details["published_on"])
            if details.get("published_on")
            else None,
            "kind": details.get("kind", Source.Kind.OTHER),
            "is_demo": True,
        },
    )
    return source
