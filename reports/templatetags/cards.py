"""A report's card in a list (home, lists, search results, a source's page) and the verdict
badge it shows, written once here for every page that shows them.

Python, not template markup: a page of twenty cards through the template engine cost about
2 ms, most of a search page's own time; these tags write the same cards in a quarter of it.
"""

from __future__ import annotations

import datetime
from functools import lru_cache

from django import template
from django.utils.formats import date_format
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

_HEADINGS = {"h2", "h3"}


@register.simple_tag
def verdict_badge(verdict) -> SafeString:
    """The verdict's name as a badge coloured by its slug ("No verdict yet" without one)."""
    if not verdict:
        return mark_safe('<span class="verdict verdict--none">No verdict yet</span>')  # constant
    return mark_safe(  # both parts escaped
        f'<span class="verdict verdict--{escape(verdict.slug)}">'
        f'<span class="visually-hidden">Verdict: </span>{escape(verdict.name)}</span>'
    )


@register.simple_tag
def report_card(
    version,
    *,
    url: str,
    claim=None,
    summary=None,
    heading: str = "h2",
    topics=(),
) -> SafeString:
    """The card of `version` (a published version or a search hit) linking to `url`:
    verdict, `claim` (its own claim unless given, as HTML if marked safe), the date it was
    checked on, `summary` if given, `topics` as (name, address) pairs."""
    if heading not in _HEADINGS:
        raise ValueError(f"A card's heading is one of {sorted(_HEADINGS)}, not {heading!r}.")
    parts = [
        '<li class="report-card">',
        verdict_badge(version.verdict),
        f'<{heading} class="report-card__claim"><a href="{escape(url)}">'
        f"{conditional_escape(version.claim if claim is None else claim)}</a></{heading}>",
        f'<p class="report-card__meta">Checked on {checked_on(version.checked_on)}</p>',
    ]
    if summary is not None:
        parts.append(f'<p class="report-card__summary">{conditional_escape(summary)}</p>')
    if topics:
        links = "".join(
            f'<li><a href="{escape(link)}">{escape(name)}</a></li>' for name, link in topics
        )
        parts.append(f'<ul class="report-card__topics" aria-label="Topics">{links}</ul>')
    parts.append("</li>")
    return mark_safe("\n".join(parts))  # every value escaped above, or already safe HTML


def checked_on(day: datetime.date | None) -> str:
    """`<time>` for a checked-on date, shown in the active language's date format."""
    if day is None:
        return ""
    return _checked_on(day, get_language())


@lru_cache(maxsize=4096)
def _checked_on(day: datetime.date, language: str | None) -> str:
    # A pure function of the day and the language: formatting it was a third of a card.
    return f'<time datetime="{day.isoformat()}">{escape(date_format(day))}</time>'
